//! The transaction every write runs in: its own version of the org's data (an
//! O(1) copy-on-write clone) on which creates, updates and upserts are validated
//! and applied (with the Order rules and the Order Approval Flow), plus the
//! platform events to publish on commit.

use chrono::{DateTime, Utc};
use salesforce::schema::{
    self, FieldDef, FieldType, ObjectDef, order, order_item, pricebook_entry, product,
};
use serde_json::{Map, Value};

use super::validation::{self, bad_picklist, no_such_column};
use super::{Actor, Record, Role, Sequences, Store, object_of_id};
use crate::error::ApiError;
use crate::events::EventPayload;
use crate::faults::Faults;
use crate::flow;
use crate::flow::OrderFlowSetup;
use crate::gaps::{NO_GAPS, SchemaGaps};

/// What an upsert by external id did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// No record matched: one was created with this id.
    Created(String),
    /// One record matched and was updated.
    Updated(String),
    /// Several records matched; nothing was written.
    Multiple(Vec<String>),
}

/// A point to roll a [`Txn`] back to (one composite subrequest, for instance).
#[derive(Debug, Clone)]
pub struct Savepoint {
    data: Store,
    events: usize,
    writes: usize,
}

/// A transaction: the working copy of the data, who writes, and the events to publish on commit.
#[derive(Debug)]
pub struct Txn<'a> {
    data: Store,
    sequences: &'a Sequences,
    faults: &'a Faults,
    actor: Actor,
    now: DateTime<Utc>,
    events: Vec<EventPayload>,
    /// Records created or updated so far.
    writes: usize,
    /// Skip required-field, content, reference and uniqueness checks (test set-ups only).
    unchecked: bool,
    /// What the org's schema lacks.
    gaps: &'a SchemaGaps,
    /// Whether the Order Approval Flow runs and publishes.
    order_flow: OrderFlowSetup,
}

enum Write {
    Create,
    Update,
}

impl<'a> Txn<'a> {
    /// Starts a transaction on a copy of `data`.
    pub fn new(
        data: Store,
        sequences: &'a Sequences,
        faults: &'a Faults,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Self {
        Txn {
            data,
            sequences,
            faults,
            actor,
            now,
            events: Vec::new(),
            writes: 0,
            unchecked: false,
            gaps: &NO_GAPS,
            order_flow: OrderFlowSetup::Active,
        }
    }

    /// Makes the transaction run the Order Approval Flow as `setup` says.
    pub(crate) fn with_order_flow(mut self, setup: OrderFlowSetup) -> Self {
        self.order_flow = setup;
        self
    }

    /// Makes the transaction see an org lacking `gaps`.
    pub(crate) fn with_gaps(mut self, gaps: &'a SchemaGaps) -> Self {
        self.gaps = gaps;
        self
    }

    /// What the org's schema lacks.
    pub fn gaps(&self) -> &SchemaGaps {
        self.gaps
    }

    /// The data as this transaction sees it.
    pub fn data(&self) -> &Store {
        &self.data
    }

    /// The writing user.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Makes `user_id` the writing user from now on (seeding the first users).
    pub(crate) fn set_user(&mut self, user_id: &str) {
        self.actor.user_id = user_id.to_owned();
    }

    /// The transaction's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Marks the current state, to roll back to with [`Txn::rollback_to`] (O(1)).
    pub fn savepoint(&self) -> Savepoint {
        Savepoint {
            data: self.data.clone(),
            events: self.events.len(),
            writes: self.writes,
        }
    }

    /// Undoes every write since `savepoint`.
    pub fn rollback_to(&mut self, savepoint: Savepoint) {
        self.data = savepoint.data;
        self.events.truncate(savepoint.events);
        self.writes = savepoint.writes;
    }

    /// Has the transaction created or updated a record (and kept it)?
    pub fn wrote(&self) -> bool {
        self.writes > 0
    }

    /// The final data and the events to publish, for commit.
    pub fn into_parts(self) -> (Store, Vec<EventPayload>) {
        (self.data, self.events)
    }

    fn check_lock(&self, id: &str) -> Result<(), ApiError> {
        if self.faults.take_lock_row() {
            return Err(ApiError::bad_request(
                "UNABLE_TO_LOCK_ROW",
                format!("unable to obtain exclusive access to this record or 1 records: {id}"),
                vec![],
            ));
        }
        Ok(())
    }

    /// Creates a record of `object` from a request body; returns its 18-character id.
    pub fn create(
        &mut self,
        object: &'static ObjectDef,
        body: &Map<String, Value>,
    ) -> Result<String, ApiError> {
        if self.gaps.hides_object(object.name) {
            return Err(missing_type(object));
        }
        if !self.actor.role.can_create(object) {
            return Err(insufficient_access(object, "inserted"));
        }
        let id = self.sequences.ids.next(object.key_prefix);
        self.check_lock(&id)?;
        let given = self.parse_body(object, body, &Write::Create)?;

        let mut record = Record::new();
        for f in object.all_fields() {
            let initial = match (f.default, f.kind) {
                (Some(schema::DefaultValue::Text(t)), _) => Value::String(t.to_owned()),
                (Some(schema::DefaultValue::Bool(b)), _) => Value::Bool(b),
                (None, FieldType::Boolean) => Value::Bool(false),
                _ => Value::Null,
            };
            record.insert(f.name.to_owned(), initial);
        }
        for (f, v) in &given {
            record.insert(f.name.to_owned(), v.clone());
        }
        let missing: Vec<String> = object
            .all_fields()
            .filter(|f| f.required && record.get(f.name).is_none_or(Value::is_null))
            .map(|f| f.name.to_owned())
            .collect();
        if !missing.is_empty() && !self.unchecked {
            return Err(required_missing(missing));
        }
        if !self.unchecked {
            self.check_values(object, &given, None)?;
        }
        let stamp = Value::String(validation::format_datetime(self.now));
        let user = Value::String(self.actor.user_id.clone());
        record.insert("Id".to_owned(), Value::String(id.clone()));
        record.insert("CreatedDate".to_owned(), stamp.clone());
        record.insert("LastModifiedDate".to_owned(), stamp);
        record.insert("CreatedById".to_owned(), user.clone());
        record.insert("LastModifiedById".to_owned(), user);
        if !self.unchecked {
            self.apply_object_rules(object, None, &mut record)?;
        }
        for f in object.all_fields() {
            if let FieldType::AutoNumber { digits } = f.kind {
                let n = self.sequences.next_autonumber(object.name, f.name, digits);
                record.insert(f.name.to_owned(), Value::String(n));
            }
        }
        if object.name == order::OBJECT {
            record.insert(order::TOTAL_AMOUNT.to_owned(), number(0.0));
            if self.order_flow.runs()
                && let Some(event) =
                    flow::order_approval(None, &mut record, &self.actor.user_id, self.now)
                && self.order_flow.publishes()
            {
                self.events.push(event);
            }
        }
        let parent = parent_order(object, &record);
        self.data.insert(object, id.clone(), record);
        self.writes += 1;
        if let Some(order_id) = parent {
            self.roll_up_order_total(&order_id);
        }
        Ok(id)
    }

    /// Updates the record `id` of `object` from a request body.
    pub fn update(
        &mut self,
        object: &'static ObjectDef,
        id: &str,
        body: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        if self.gaps.hides_object(object.name) {
            return Err(missing_type(object));
        }
        let old = match self.data.get(id) {
            Some(r) if object_of_id(id).is_some_and(|o| o.name == object.name) => r.clone(),
            _ => return Err(ApiError::not_found()),
        };
        if !self.actor.role.can_update(object) {
            return Err(insufficient_access(object, "updated"));
        }
        self.check_lock(id)?;
        let given = self.parse_body(object, body, &Write::Update)?;
        let missing: Vec<String> = given
            .iter()
            .filter(|(f, v)| f.required && v.is_null())
            .map(|(f, _)| f.name.to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(required_missing(missing));
        }
        self.check_values(object, &given, Some(id))?;
        let mut record = old.clone();
        for (f, v) in &given {
            record.insert(f.name.to_owned(), v.clone());
        }
        record.insert(
            "LastModifiedDate".to_owned(),
            Value::String(validation::format_datetime(self.now)),
        );
        record.insert(
            "LastModifiedById".to_owned(),
            Value::String(self.actor.user_id.clone()),
        );
        self.apply_object_rules(object, Some(&old), &mut record)?;
        if object.name == order::OBJECT
            && self.order_flow.runs()
            && let Some(event) =
                flow::order_approval(Some(&old), &mut record, &self.actor.user_id, self.now)
            && self.order_flow.publishes()
        {
            self.events.push(event);
        }
        let parent = parent_order(object, &record);
        self.data.replace(id, record);
        self.writes += 1;
        if let Some(order_id) = parent {
            self.roll_up_order_total(&order_id);
        }
        Ok(())
    }

    /// Upserts by the external id `field_name` = `value` (as written in the URL).
    pub fn upsert(
        &mut self,
        object: &'static ObjectDef,
        field_name: &str,
        value: &str,
        body: &Map<String, Value>,
    ) -> Result<UpsertOutcome, ApiError> {
        let field = object
            .field(field_name)
            .filter(|f| f.external_id && !self.gaps.hides_field(object.name, f.name))
            .ok_or_else(|| {
            ApiError::new(
                404,
                "NOT_FOUND",
                format!("Provided external ID field does not exist or is not accessible: {field_name}"),
            )
        })?;
        let key = match field.kind {
            FieldType::Number { .. } | FieldType::Currency => value
                .parse::<f64>()
                .ok()
                .map(number)
                .ok_or_else(|| {
                    ApiError::new(
                        400,
                        "JSON_PARSER_ERROR",
                        format!(
                            "Cannot deserialize instance of double from VALUE_STRING value {value} or request may be missing a required field"
                        ),
                    )
                })?,
            _ => Value::String(value.to_owned()),
        };
        if let Some(given) = body
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(field.name))
            .map(|(_, v)| v)
        {
            let given = validation::coerce(field, given)?;
            if !validation::same_unique_value(&given, &key) {
                return Err(ApiError::bad_request(
                    "INVALID_FIELD",
                    format!(
                        "The value for the External ID field in the body does not match the value in the URL: {}",
                        field.name
                    ),
                    vec![field.name.to_owned()],
                ));
            }
        }
        let matches: Vec<String> = self
            .with_value(object, field, &key)
            .into_iter()
            .filter_map(|r| r.get("Id").and_then(Value::as_str).map(str::to_owned))
            .collect();
        match matches.as_slice() {
            [] => {
                let mut body = body.clone();
                body.retain(|k, _| !k.eq_ignore_ascii_case(field.name));
                body.insert(field.name.to_owned(), key);
                self.create(object, &body).map(UpsertOutcome::Created)
            }
            [id] => {
                let id = id.clone();
                let mut body = body.clone();
                body.retain(|k, _| !k.eq_ignore_ascii_case(field.name));
                self.update(object, &id, &body)
                    .map(|()| UpsertOutcome::Updated(id))
            }
            _ => Ok(UpsertOutcome::Multiple(matches)),
        }
    }

    /// Inserts a record as the platform (seed data): no permissions, no validation beyond types.
    pub(crate) fn insert_system(
        &mut self,
        object: &'static ObjectDef,
        fields: &Map<String, Value>,
    ) -> Result<String, ApiError> {
        let role = std::mem::replace(&mut self.actor.role, Role::System);
        let result = self.create(object, fields);
        self.actor.role = role;
        result
    }

    /// Inserts a record without required-field, content, reference, uniqueness or Order
    /// checks (types are still checked): sets up states the API cannot reach, such as
    /// legacy duplicates of an external id.
    pub(crate) fn insert_unchecked(
        &mut self,
        object: &'static ObjectDef,
        fields: &Map<String, Value>,
    ) -> Result<String, ApiError> {
        let role = std::mem::replace(&mut self.actor.role, Role::System);
        self.unchecked = true;
        let result = self.create(object, fields);
        self.unchecked = false;
        self.actor.role = role;
        result
    }

    /// Parses and type-checks a body into (field, stored value) pairs, refusing
    /// unknown and non-writable fields.
    fn parse_body(
        &self,
        object: &'static ObjectDef,
        body: &Map<String, Value>,
        write: &Write,
    ) -> Result<Vec<(&'static FieldDef, Value)>, ApiError> {
        let mut given = Vec::with_capacity(body.len());
        for (name, value) in body {
            if name == "attributes" {
                continue;
            }
            if name.eq_ignore_ascii_case("Id") {
                return Err(ApiError::new(
                    400,
                    "INVALID_FIELD",
                    "The Id field should not be specified in the sobject data.",
                ));
            }
            let field = object
                .field(name)
                .filter(|f| !self.gaps.hides_field(object.name, f.name))
                .ok_or_else(|| no_such_column(object, name))?;
            given.push((field, value));
        }
        let mut coerced = Vec::with_capacity(given.len());
        for (field, value) in given {
            coerced.push((field, validation::coerce(field, value)?));
        }
        if self.actor.role != Role::System {
            let refused: Vec<String> = coerced
                .iter()
                .filter(|(f, _)| match write {
                    Write::Create => !f.createable,
                    Write::Update => !f.updateable,
                })
                .map(|(f, _)| f.name.to_owned())
                .collect();
            if !refused.is_empty() {
                return Err(ApiError::bad_request(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    format!(
                        "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                        refused.join(", ")
                    ),
                    refused,
                ));
            }
        }
        for (field, value) in &coerced {
            if value.is_null()
                && field.required
                && matches!(
                    field.kind,
                    FieldType::Picklist {
                        restricted: true,
                        ..
                    }
                )
            {
                return Err(bad_picklist(field, "null"));
            }
        }
        Ok(coerced)
    }

    /// Content checks of given values: picklists, lengths, e-mails, references, uniqueness.
    fn check_values(
        &self,
        object: &'static ObjectDef,
        given: &[(&'static FieldDef, Value)],
        self_id: Option<&str>,
    ) -> Result<(), ApiError> {
        for (field, value) in given {
            if value.is_null() {
                continue;
            }
            validation::check_content(field, value)?;
            if let (
                FieldType::Picklist {
                    restricted: true, ..
                },
                Some(text),
            ) = (field.kind, value.as_str())
                && self.gaps.hides_value(object.name, field.name, text)
            {
                return Err(bad_picklist(field, text));
            }
            if let (FieldType::Reference { to, .. }, Some(target)) = (field.kind, value.as_str()) {
                let exists = self.data.get(target).is_some()
                    && object_of_id(target).is_some_and(|o| o.name == to);
                if !exists {
                    return Err(ApiError::bad_request(
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id",
                        vec![field.name.to_owned()],
                    ));
                }
            }
            if field.unique
                && let Some(other) = self
                    .with_value(object, field, value)
                    .into_iter()
                    .find(|r| r.get("Id").and_then(Value::as_str) != self_id)
            {
                let other_id = other.get("Id").and_then(Value::as_str).unwrap_or_default();
                return Err(ApiError::bad_request(
                    "DUPLICATE_VALUE",
                    format!(
                        "duplicate value found: {} duplicates value on record with id: {other_id}",
                        field.name
                    ),
                    vec![],
                ));
            }
        }
        Ok(())
    }

    /// The records of `object` whose unique or external-id `field` holds `value`
    /// (compared as Salesforce compares unique values), through the field's index.
    fn with_value(
        &self,
        object: &'static ObjectDef,
        field: &'static FieldDef,
        value: &Value,
    ) -> Vec<&Record> {
        let same = |r: &&Record| {
            r.get(field.name)
                .is_some_and(|v| validation::same_unique_value(v, value))
        };
        match self.data.find(object, field, value) {
            Some(candidates) => candidates.into_iter().filter(same).collect(),
            None => self.data.of(object).filter(same).collect(),
        }
    }

    /// Rules of particular objects: OrderItem price book integrity and totals.
    fn apply_object_rules(
        &self,
        object: &ObjectDef,
        old: Option<&Record>,
        record: &mut Record,
    ) -> Result<(), ApiError> {
        if object.name != order_item::OBJECT {
            return Ok(());
        }
        if old.is_none() {
            let get = |r: &Record, f: &str| r.get(f).and_then(Value::as_str).map(str::to_owned);
            let order = get(record, order_item::ORDER_ID).and_then(|id| self.data.get(&id));
            let entry =
                get(record, order_item::PRICEBOOK_ENTRY_ID).and_then(|id| self.data.get(&id));
            let (Some(order), Some(entry)) = (order, entry) else {
                return Err(ApiError::bad_request(
                    "INVALID_CROSS_REFERENCE_KEY",
                    "invalid cross reference id",
                    vec![],
                ));
            };
            let order_book = get(order, order::PRICEBOOK_ID);
            if order_book.is_none() || order_book != get(entry, pricebook_entry::PRICEBOOK_ID) {
                return Err(integrity(
                    "field integrity exception: PricebookEntryId (pricebook entry is in a different pricebook than the one assigned to the Order, or Order has no pricebook assigned)",
                    vec![order_item::PRICEBOOK_ENTRY_ID],
                ));
            }
            let product_id = get(entry, pricebook_entry::PRODUCT_ID);
            let product_active = product_id
                .as_deref()
                .and_then(|id| self.data.get(id))
                .and_then(|p| p.get(product::IS_ACTIVE))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let entry_active = entry
                .get(pricebook_entry::IS_ACTIVE)
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if !entry_active || !product_active {
                return Err(integrity(
                    "field integrity exception: PricebookEntryId (pricebook entry is inactive)",
                    vec![order_item::PRICEBOOK_ENTRY_ID],
                ));
            }
            match get(record, order_item::PRODUCT_ID) {
                None => {
                    record.insert(
                        order_item::PRODUCT_ID.to_owned(),
                        product_id.map_or(Value::Null, Value::String),
                    );
                }
                Some(given) if Some(&given) != product_id.as_ref() => {
                    return Err(integrity(
                        "field integrity exception: Product2Id (the product does not match the pricebook entry)",
                        vec![order_item::PRODUCT_ID, order_item::PRICEBOOK_ENTRY_ID],
                    ));
                }
                Some(_) => {}
            }
        }
        let num = |f: &str| record.get(f).and_then(Value::as_f64).unwrap_or(0.0);
        let total = num(order_item::QUANTITY) * num(order_item::UNIT_PRICE);
        record.insert(order_item::TOTAL_PRICE.to_owned(), number(total));
        Ok(())
    }

    fn roll_up_order_total(&mut self, order_id: &str) {
        let Some(items) = schema::object(order_item::OBJECT) else {
            return;
        };
        let Some(order_ref) = items.field(order_item::ORDER_ID) else {
            return;
        };
        let order_value = Value::String(order_id.to_owned());
        let total: f64 = self
            .data
            .find(items, order_ref, &order_value)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.get(order_item::ORDER_ID).and_then(Value::as_str) == Some(order_id))
            .filter_map(|r| r.get(order_item::TOTAL_PRICE).and_then(Value::as_f64))
            .sum();
        if let Some(mut order) = self.data.get(order_id).cloned() {
            order.insert(order::TOTAL_AMOUNT.to_owned(), number(total));
            self.data.replace(order_id, order);
        }
    }
}

fn parent_order(object: &ObjectDef, record: &Record) -> Option<String> {
    (object.name == order_item::OBJECT)
        .then(|| {
            record
                .get(order_item::ORDER_ID)
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .flatten()
}

fn number(value: f64) -> Value {
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

fn integrity(message: &str, fields: Vec<&str>) -> ApiError {
    ApiError::bad_request(
        "FIELD_INTEGRITY_EXCEPTION",
        message,
        fields.into_iter().map(str::to_owned).collect(),
    )
}

fn required_missing(fields: Vec<String>) -> ApiError {
    ApiError::bad_request(
        "REQUIRED_FIELD_MISSING",
        format!("Required fields are missing: [{}]", fields.join(", ")),
        fields,
    )
}

/// `INVALID_TYPE` for an object the org lacks (see [`SchemaGaps`]).
fn missing_type(object: &ObjectDef) -> ApiError {
    ApiError::new(
        400,
        "INVALID_TYPE",
        format!("sObject type '{}' is not supported.", object.name),
    )
}

fn insufficient_access(object: &ObjectDef, verb: &str) -> ApiError {
    ApiError::new(
        400,
        "INSUFFICIENT_ACCESS_OR_READONLY",
        format!("entity type cannot be {verb}: {}", object.label),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn when_an_external_id_matches_several_records_upsert_should_report_them_all() {
        let (seq, faults) = (Sequences::default(), Faults::default());
        let actor = Actor {
            user_id: "005Em0000000001AAA".to_owned(),
            role: Role::Integration,
        };
        let mut txn = Txn::new(Store::default(), &seq, &faults, actor, Utc::now());
        let account = schema::object("Account").unwrap();
        let a = txn
            .insert_unchecked(
                account,
                &body(json!({"Name": "A", "SF_Account_No__c": "C-1"})),
            )
            .unwrap();
        let b = txn
            .insert_unchecked(
                account,
                &body(json!({"Name": "B", "SF_Account_No__c": "c-1"})),
            )
            .unwrap();
        let outcome = txn
            .upsert(
                account,
                "SF_Account_No__c",
                "C-1",
                &body(json!({"Name": "X"})),
            )
            .unwrap();
        assert_eq!(outcome, UpsertOutcome::Multiple(vec![a, b]));
        let err = txn
            .create(
                account,
                &body(json!({"Name": "C", "SF_Account_No__c": "C-1"})),
            )
            .unwrap_err();
        assert_eq!(err.error_code, "DUPLICATE_VALUE");
    }
}
