//! Mapping between Salesforce's wire form and the domain, both ways.
//!
//! Reading: [`Row`] reads one query record (a JSON object, parents nested
//! under their relationship name) field by field into domain types. Ids arrive
//! with 18 characters, numbers as `12.0`, dates as `YYYY-MM-DD`, datetimes as
//! `2026-11-27T15:40:46.000+0000`; a value that does not parse is a
//! [`MappingError`] naming the object and field, never a panic, and never the
//! value itself (it may be personal data).
//!
//! Writing: record bodies are the composite builder's
//! [`Body`](crate::composite::Body), built from schema constants and domain
//! values, leaving out absent optional values.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::Id;
use crate::composite::{CompositeResults, Ref};
use crate::schema::{self, FieldType};

use super::error::MappingError;

/// `Id`, a system field every object has (`schema::SYSTEM_FIELDS`; the
/// schema has no per-object constant for it).
pub const ID: &str = "Id";
/// `CreatedDate`, a system field every object has (`schema::SYSTEM_FIELDS`).
pub const CREATED_DATE: &str = "CreatedDate";

/// A query record as Salesforce returns it.
pub type Record = Map<String, Value>;

/// The relationship path `reference.field` of `object` (e.g. `Product2.Name`
/// for `PricebookEntry`, `Product2Id`, `Name`), derived from the schema.
pub fn path(
    object: &'static str,
    reference: &'static str,
    field: &str,
) -> Result<String, MappingError> {
    Ok(format!("{}.{field}", relationship(object, reference)?))
}

/// The relationship name of the lookup `reference` of `object` (e.g. `Product2`
/// for `PricebookEntry.Product2Id`), from the schema.
pub fn relationship(
    object: &'static str,
    reference: &'static str,
) -> Result<&'static str, MappingError> {
    let not_a_relationship = || MappingError::NotARelationship {
        object,
        field: reference,
    };
    match schema::object(object)
        .and_then(|o| o.field(reference))
        .map(|f| f.kind)
    {
        Some(FieldType::Reference { relationship, .. }) => Ok(relationship),
        _ => Err(not_a_relationship()),
    }
}

/// One record of `object`, read field by field.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    object: &'static str,
    record: &'a Record,
}

impl<'a> Row<'a> {
    /// Reads `record`, a record of `object`.
    pub fn new(object: &'static str, record: &'a Record) -> Self {
        Self { object, record }
    }

    fn invalid(&self, field: &str, reason: impl ToString) -> MappingError {
        MappingError::invalid(self.object, field, reason)
    }

    /// The raw value; `None` when absent or null.
    fn value(&self, field: &str) -> Option<&'a Value> {
        self.record.get(field).filter(|v| !v.is_null())
    }

    /// A text field; `None` when null.
    pub fn opt_text(&self, field: &str) -> Result<Option<&'a str>, MappingError> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(self.invalid(field, "is not text")),
        }
    }

    /// A text field that must be set.
    pub fn text(&self, field: &str) -> Result<&'a str, MappingError> {
        self.opt_text(field)?
            .ok_or_else(|| self.invalid(field, "is missing"))
    }

    /// A field parsed by `parse` (ids, picklists, newtypes); `None` when null.
    pub fn opt_parsed<T, E: ToString>(
        &self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, MappingError> {
        self.opt_text(field)?
            .map(|raw| parse(raw).map_err(|e| self.invalid(field, e)))
            .transpose()
    }

    /// A field parsed by `parse` that must be set.
    pub fn parsed<T, E: ToString>(
        &self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, MappingError> {
        self.opt_parsed(field, parse)?
            .ok_or_else(|| self.invalid(field, "is missing"))
    }

    /// A typed id (`Id` and lookups) that must be set.
    pub fn id<T: TryFrom<Id, Error = E>, E: ToString>(
        &self,
        field: &str,
    ) -> Result<T, MappingError> {
        self.parsed(field, |raw| {
            Id::parse(raw)
                .map_err(|e| e.to_string())
                .and_then(|id| T::try_from(id).map_err(|e| e.to_string()))
        })
    }

    /// A typed lookup; `None` when null.
    pub fn opt_id<T: TryFrom<Id, Error = E>, E: ToString>(
        &self,
        field: &str,
    ) -> Result<Option<T>, MappingError> {
        self.opt_parsed(field, |raw| {
            Id::parse(raw)
                .map_err(|e| e.to_string())
                .and_then(|id| T::try_from(id).map_err(|e| e.to_string()))
        })
    }

    /// A value of an open (unrestricted) picklist: a value the domain does not
    /// know is legitimate org data and reads as `None`.
    pub fn open_picklist<T>(
        &self,
        field: &str,
        from_salesforce: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, MappingError> {
        Ok(self.opt_text(field)?.and_then(from_salesforce))
    }

    /// A number field (`12.0`); `None` when null.
    pub fn opt_number(&self, field: &str) -> Result<Option<f64>, MappingError> {
        match self.value(field) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|n| n.is_finite())
                .map(Some)
                .ok_or_else(|| self.invalid(field, "is not a number")),
        }
    }

    /// A number field that must be set.
    pub fn number(&self, field: &str) -> Result<f64, MappingError> {
        self.opt_number(field)?
            .ok_or_else(|| self.invalid(field, "is missing"))
    }

    /// A number field that must hold a whole number (`31.0` → 31); `None` when null.
    pub fn opt_whole(&self, field: &str) -> Result<Option<i64>, MappingError> {
        self.opt_number(field)?
            .map(|n| {
                // A whole f64 within ±2^53 converts exactly.
                const EXACT: f64 = 9_007_199_254_740_992.0;
                if n.fract() == 0.0 && n.abs() <= EXACT {
                    Ok(n as i64)
                } else {
                    Err(self.invalid(field, "is not a whole number"))
                }
            })
            .transpose()
    }

    /// A checkbox (never null in Salesforce).
    pub fn bool(&self, field: &str) -> Result<bool, MappingError> {
        match self.value(field) {
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.invalid(field, "is not a boolean")),
            None => Err(self.invalid(field, "is missing")),
        }
    }

    /// A date field (`YYYY-MM-DD`) that must be set.
    pub fn date(&self, field: &str) -> Result<NaiveDate, MappingError> {
        self.parsed(field, |raw| NaiveDate::parse_from_str(raw, "%Y-%m-%d"))
    }

    /// A datetime field (`2026-11-27T15:40:46.000+0000`, or RFC 3339); `None` when null.
    pub fn opt_datetime(&self, field: &str) -> Result<Option<DateTime<Utc>>, MappingError> {
        self.opt_parsed(field, parse_datetime)
    }

    /// A datetime field that must be set.
    pub fn datetime(&self, field: &str) -> Result<DateTime<Utc>, MappingError> {
        self.parsed(field, parse_datetime)
    }

    /// The parent record nested under the relationship of lookup `reference`,
    /// a record of `parent_object`; `None` when the lookup is empty.
    pub fn parent(
        &self,
        reference: &'static str,
        parent_object: &'static str,
    ) -> Result<Option<Row<'a>>, MappingError> {
        let name = relationship(self.object, reference)?;
        match self.value(name) {
            None => Ok(None),
            Some(Value::Object(record)) => Ok(Some(Row::new(parent_object, record))),
            Some(_) => Err(self.invalid(name, "is not a record")),
        }
    }
}

/// Parses a Salesforce datetime.
pub fn parse_datetime(raw: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(raw))
        .map(|t| t.with_timezone(&Utc))
}

/// The wire form of a datetime Salesforce accepts: `2026-11-27T15:40:46.000Z`.
pub fn format_datetime(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The wire form of a date: `YYYY-MM-DD`.
pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The typed id of the record subrequest `r` created.
pub fn created_id<T: TryFrom<Id>>(
    results: &CompositeResults,
    r: &Ref,
    what: &'static str,
) -> Result<T, MappingError> {
    results
        .id(r)
        .and_then(|id| T::try_from(id).ok())
        .ok_or(MappingError::MissingResult(what))
}

/// The records query subrequest `r` found.
pub fn found(
    results: &CompositeResults,
    r: &Ref,
    what: &'static str,
) -> Result<Vec<Record>, MappingError> {
    results
        .records::<Record>(r)
        .map_err(|_| MappingError::MissingResult(what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{opportunity, order, pricebook_entry, product};
    use chrono::TimeZone;
    use portal_core::domain::{AccountId, OpportunityStage};
    use serde_json::json;

    fn record(value: Value) -> Record {
        match value {
            Value::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn when_reading_wire_values_should_parse_them_into_domain_types() {
        let r = record(json!({
            "Id": "006000000000001AAA",
            "AccountId": "001000000000001",
            "StageName": "△Cancelling",
            "ScheduledCancellationDateAndTime__c": "2026-11-27T15:40:46.000+0000",
            "CloseDate": "2026-12-01",
            "WHMCS_Service_ID__c": 31.0,
            "Name": null,
        }));
        let row = Row::new(opportunity::OBJECT, &r);
        let account: AccountId = row.id(opportunity::ACCOUNT_ID).unwrap();
        assert_eq!(account.as_str(), "001000000000001AAA");
        assert_eq!(
            row.parsed(opportunity::STAGE, str::parse::<OpportunityStage>)
                .unwrap(),
            OpportunityStage::Cancelling
        );
        assert_eq!(
            row.datetime(opportunity::SCHEDULED_CANCELLATION).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 27, 15, 40, 46).unwrap()
        );
        assert_eq!(
            row.date(opportunity::CLOSE_DATE).unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
        assert_eq!(
            row.opt_whole(opportunity::WHMCS_SERVICE_ID).unwrap(),
            Some(31)
        );
        assert_eq!(row.opt_text(opportunity::NAME).unwrap(), None);
        assert!(row.text(opportunity::NAME).is_err());
    }

    #[test]
    fn when_a_value_does_not_parse_should_name_the_field_but_not_the_value() {
        let r = record(json!({
            "Id": "001000000000001AAA",
            "StageName": "Secret Stage",
            "WHMCS_Service_ID__c": 31.5,
            "CloseDate": "01/12/2026",
        }));
        let row = Row::new(opportunity::OBJECT, &r);
        let wrong_object = row.id::<portal_core::domain::OpportunityId, _>("Id");
        assert!(wrong_object.is_err());
        let err = row
            .parsed(opportunity::STAGE, str::parse::<OpportunityStage>)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Opportunity.StageName"), "{err}");
        assert!(!err.contains("Secret Stage"), "{err}");
        assert!(row.opt_whole(opportunity::WHMCS_SERVICE_ID).is_err());
        assert!(row.date(opportunity::CLOSE_DATE).is_err());
    }

    #[test]
    fn when_following_a_relationship_should_use_the_schemas_name() {
        assert_eq!(
            path(
                pricebook_entry::OBJECT,
                pricebook_entry::PRODUCT_ID,
                product::NAME
            )
            .unwrap(),
            "Product2.Name"
        );
        assert!(relationship(order::OBJECT, order::STATUS).is_err());
        let r = record(json!({
            "Product2Id": "01t000000000001AAA",
            "Product2": {"attributes": {"type": "Product2"}, "Name": "SIM"},
        }));
        let row = Row::new(pricebook_entry::OBJECT, &r);
        let parent = row
            .parent(pricebook_entry::PRODUCT_ID, product::OBJECT)
            .unwrap()
            .unwrap();
        assert_eq!(parent.text(product::NAME).unwrap(), "SIM");
    }

    #[test]
    fn system_field_names_are_the_schemas() {
        for name in [ID, CREATED_DATE] {
            assert!(
                schema::SYSTEM_FIELDS.iter().any(|f| f.name == name),
                "{name}"
            );
        }
    }

    #[test]
    fn when_writing_datetimes_should_use_utc_with_milliseconds() {
        let t = Utc.with_ymd_and_hms(2026, 4, 4, 15, 0, 0).unwrap();
        assert_eq!(format_datetime(t), "2026-04-04T15:00:00.000Z");
        assert_eq!(parse_datetime(&format_datetime(t)).unwrap(), t);
    }
}
