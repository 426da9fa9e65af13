//! Index keys: how the store files the values of indexed fields and how a
//! query's literal finds them, so that a selective filter reads only its
//! candidates instead of every record of the object.
//!
//! Salesforce indexes the Id, lookup (reference) fields, and fields marked
//! External ID or Unique by default (SF docs "Working with Very Large SOQL
//! Queries", `langCon_apex_SOQL_VLSQ`: "Salesforce maintains indexes on …
//! primary keys (Id, Name and Owner fields), foreign keys (lookup or
//! master-detail relationship fields), audit dates …, custom fields marked as
//! External ID or Unique"); the emulator indexes the same fields (except
//! Name, Owner and the dates, which the product never filters by equality).
//!
//! A key never misses a match: two values SOQL calls equal always have the
//! same key (ids on their 15 case-sensitive characters, text lower-cased
//! character by character as SOQL compares it, numbers by their value). A
//! key may gather values SOQL tells apart, so the full filter always runs on
//! the candidates.

use salesforce::schema::{FieldDef, FieldType};
use serde_json::Value;

use super::resolve::{Kind, Literal, kind_of};

/// Does the store keep an index of `field`?
pub fn is_indexed(field: &FieldDef) -> bool {
    matches!(field.kind, FieldType::Reference { .. }) || field.external_id || field.unique
}

/// The key of a stored value of `field`; `None` for null or a type never indexed.
pub fn index_key(field: &FieldDef, value: &Value) -> Option<String> {
    match (kind_of(field), value) {
        (Kind::Id, Value::String(id)) => id.get(..15).map(str::to_owned),
        (Kind::Text, Value::String(text)) if !text.is_empty() => Some(text_key(text)),
        (Kind::Number, Value::Number(n)) => n.as_f64().map(number_key),
        _ => None,
    }
}

/// The key a literal of a query looks up; `None` when it cannot use an index.
pub(crate) fn literal_key(literal: &Literal) -> Option<String> {
    match literal {
        Literal::Id(id) => Some(id.clone()),
        Literal::Text(text) if !text.is_empty() => Some(text_key(text)),
        Literal::Number(n) => Some(number_key(*n)),
        _ => None,
    }
}

fn text_key(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

fn number_key(n: f64) -> String {
    // `+ 0.0` makes -0 and 0 one key.
    format!("{}", n + 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(object: &str, name: &str) -> &'static FieldDef {
        salesforce::schema::object(object)
            .and_then(|o| o.field(name))
            .unwrap()
    }

    #[test]
    fn values_soql_calls_equal_share_a_key() {
        let account = field("Order", "AccountId");
        assert_eq!(
            index_key(account, &json!("001Em0000000001AAA")),
            literal_key(&Literal::Id("001Em0000000001".to_owned()))
        );
        let customer_number = field("Account", "SF_Account_No__c");
        assert_eq!(
            index_key(customer_number, &json!("Ab-ÉΣ1")),
            literal_key(&Literal::Text("aB-éσ1".to_owned()))
        );
        assert_eq!(index_key(account, &Value::Null), None);
        assert_eq!(number_key(-0.0), number_key(0.0));
        assert!(is_indexed(account));
        assert!(is_indexed(customer_number));
        assert!(!is_indexed(field("Account", "Phone")));
    }
}
