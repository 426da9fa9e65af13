//! Field-level validation of written values, with Salesforce's error codes and
//! wording: JSON types, dates and datetimes, ids, picklists, lengths, e-mails.

use chrono::{DateTime, NaiveDate, Utc};
use salesforce::schema::{FieldDef, FieldType, ObjectDef};
use serde_json::{Number, Value};

use crate::error::ApiError;
use crate::ids;

/// The wire form of a stored datetime: `YYYY-MM-DDThh:mm:ss.sss+0000`.
pub fn format_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Jackson's token name for a JSON value, as Salesforce's parser errors quote it.
fn token(value: &Value) -> &'static str {
    match value {
        Value::Null => "VALUE_NULL",
        Value::Bool(true) => "VALUE_TRUE",
        Value::Bool(false) => "VALUE_FALSE",
        Value::Number(n) if n.is_f64() => "VALUE_NUMBER_FLOAT",
        Value::Number(_) => "VALUE_NUMBER_INT",
        Value::String(_) => "VALUE_STRING",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(_) => "[".to_owned(),
        Value::Object(_) => "{".to_owned(),
        other => other.to_string(),
    }
}

fn parser_error(java_type: &str, value: &Value) -> ApiError {
    ApiError::new(
        400,
        "JSON_PARSER_ERROR",
        format!(
            "Cannot deserialize instance of {java_type} from {} value {} or request may be missing a required field",
            token(value),
            shown(value)
        ),
    )
}

/// Parses a datetime as Salesforce accepts it: ISO 8601 with `Z` or an offset
/// (`+09:00` or `+0900`), optional fraction.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if text.len() < 20 || text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    if text.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

fn round_to(value: f64, scale: u8) -> f64 {
    let factor = 10f64.powi(i32::from(scale));
    (value * factor).round() / factor
}

fn number(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// Turns a JSON value into the stored wire form of `field`, or the parser-level
/// error Salesforce gives (`JSON_PARSER_ERROR`, `MALFORMED_ID`). Empty strings are null.
pub fn coerce(field: &FieldDef, value: &Value) -> Result<Value, ApiError> {
    if value.is_null() {
        return Ok(match field.kind {
            FieldType::Boolean => Value::Bool(false),
            _ => Value::Null,
        });
    }
    match field.kind {
        FieldType::Text { .. }
        | FieldType::TextArea { .. }
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Picklist { .. }
        | FieldType::AutoNumber { .. } => match value {
            Value::String(s) if s.is_empty() => Ok(Value::Null),
            Value::String(_) => Ok(value.clone()),
            other => Err(parser_error("string", other)),
        },
        FieldType::Id | FieldType::Reference { .. } => match value {
            Value::String(s) if s.is_empty() => Ok(Value::Null),
            Value::String(s) => ids::normalize(s).map(Value::String).ok_or_else(|| {
                ApiError::bad_request(
                    "MALFORMED_ID",
                    format!("{}: id value of incorrect type: {s}", field.label),
                    vec![field.name.to_owned()],
                )
            }),
            other => Err(parser_error("string", other)),
        },
        FieldType::Date => match value {
            Value::String(s) if s.is_empty() => Ok(Value::Null),
            Value::String(s) => parse_date(s)
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                .ok_or_else(|| parser_error("date", value)),
            other => Err(parser_error("date", other)),
        },
        FieldType::DateTime => match value {
            Value::String(s) if s.is_empty() => Ok(Value::Null),
            Value::String(s) => parse_datetime(s)
                .map(|t| Value::String(format_datetime(t)))
                .ok_or_else(|| parser_error("datetime", value)),
            other => Err(parser_error("datetime", other)),
        },
        FieldType::Number { scale, .. } => match value.as_f64() {
            Some(n) if value.is_number() => Ok(number(round_to(n, scale))),
            _ => Err(parser_error("double", value)),
        },
        FieldType::Currency => match value.as_f64() {
            Some(n) if value.is_number() => Ok(number(round_to(n, 2))),
            _ => Err(parser_error("double", value)),
        },
        FieldType::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            other => Err(parser_error("boolean", other)),
        },
    }
}

fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(char::is_whitespace)
}

/// Checks a coerced, non-null value against its field: restricted picklist,
/// maximum length, e-mail shape.
pub fn check_content(field: &FieldDef, value: &Value) -> Result<(), ApiError> {
    let Some(text) = value.as_str() else {
        return Ok(());
    };
    let max_len = match field.kind {
        FieldType::Picklist { values, restricted } => {
            if restricted && !values.contains(&text) {
                return Err(bad_picklist(field, text));
            }
            Some(255)
        }
        FieldType::Text { length } | FieldType::TextArea { length } => Some(length),
        FieldType::Email => {
            if !looks_like_email(text) {
                return Err(ApiError::bad_request(
                    "INVALID_EMAIL_ADDRESS",
                    format!("{}: invalid email address: {text}", field.label),
                    vec![field.name.to_owned()],
                ));
            }
            Some(80)
        }
        FieldType::Phone => Some(40),
        _ => None,
    };
    // Salesforce counts UTF-16 code units (help article 005166849): a
    // character outside the BMP (𠮷, emoji) is a surrogate pair, two.
    let units: usize = text.chars().map(char::len_utf16).sum();
    match max_len {
        Some(max) if units > max as usize => Err(ApiError::bad_request(
            "STRING_TOO_LONG",
            format!(
                "{}: data value too large: {text} (max length={max})",
                field.label
            ),
            vec![field.name.to_owned()],
        )),
        _ => Ok(()),
    }
}

/// `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST` for `value` (`"null"` for a null).
pub fn bad_picklist(field: &FieldDef, value: &str) -> ApiError {
    ApiError::bad_request(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        format!(
            "{}: bad value for restricted picklist field: {value}",
            field.label
        ),
        vec![field.name.to_owned()],
    )
}

/// `INVALID_FIELD` for a body key that is no field of `object`.
pub fn no_such_column(object: &ObjectDef, name: &str) -> ApiError {
    ApiError::new(
        400,
        "INVALID_FIELD",
        format!("No such column '{name}' on sobject of type {}", object.name),
    )
}

/// True when two stored values are the same for a uniqueness check (text is case-insensitive).
pub fn same_unique_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salesforce::schema;
    use serde_json::json;

    fn field(object: &str, name: &str) -> &'static FieldDef {
        schema::object(object).unwrap().field(name).unwrap()
    }

    #[test]
    fn datetimes_are_stored_in_utc_wire_form() {
        let f = field("Order", "Activation_Error_DateTime__c");
        for input in [
            "2024-05-01T09:00:00+09:00",
            "2024-05-01T00:00:00Z",
            "2024-05-01T00:00:00.000+0000",
        ] {
            assert_eq!(
                coerce(f, &json!(input)).unwrap(),
                json!("2024-05-01T00:00:00.000+0000"),
                "{input}"
            );
        }
        let err = coerce(f, &json!("2024-05-01")).unwrap_err();
        assert_eq!(err.error_code, "JSON_PARSER_ERROR");
    }

    #[test]
    fn wrong_json_types_are_parser_errors() {
        assert_eq!(
            coerce(field("Order", "WHMCS_Order_Id__c"), &json!("12"))
                .unwrap_err()
                .error_code,
            "JSON_PARSER_ERROR"
        );
        assert_eq!(
            coerce(field("Account", "Name"), &json!(12))
                .unwrap_err()
                .error_code,
            "JSON_PARSER_ERROR"
        );
        assert_eq!(
            coerce(field("Product2", "IsActive"), &json!("true"))
                .unwrap_err()
                .error_code,
            "JSON_PARSER_ERROR"
        );
        assert_eq!(
            coerce(field("Order", "EffectiveDate"), &json!("2024-13-01"))
                .unwrap_err()
                .error_code,
            "JSON_PARSER_ERROR"
        );
        assert_eq!(
            coerce(field("Order", "WHMCS_Order_Id__c"), &json!(12)).unwrap(),
            json!(12.0)
        );
    }

    #[test]
    fn ids_are_normalized_to_18_characters() {
        let f = field("Contact", "AccountId");
        assert_eq!(
            coerce(f, &json!("0015000000VALDt")).unwrap(),
            json!("0015000000VALDtAAP")
        );
        assert_eq!(
            coerce(f, &json!("not-an-id")).unwrap_err().error_code,
            "MALFORMED_ID"
        );
        assert_eq!(
            coerce(f, &json!("0015000000VALDtAAA"))
                .unwrap_err()
                .error_code,
            "MALFORMED_ID"
        );
    }

    #[test]
    fn content_checks_follow_salesforce() {
        let status = field("Order", "Status");
        let err = check_content(status, &json!("Foo")).unwrap_err();
        assert_eq!(
            err.message,
            "Status: bad value for restricted picklist field: Foo"
        );
        assert!(check_content(field("Contact", "Email"), &json!("a@b.example")).is_ok());
        assert_eq!(
            check_content(field("Contact", "Email"), &json!("nope"))
                .unwrap_err()
                .error_code,
            "INVALID_EMAIL_ADDRESS"
        );
        let long = "x".repeat(256);
        let err = check_content(field("Account", "Name"), &json!(long)).unwrap_err();
        assert_eq!(err.error_code, "STRING_TOO_LONG");
        assert!(err.message.ends_with("(max length=255)"));
    }

    #[test]
    fn lengths_count_utf16_code_units_as_salesforce_does() {
        let first_name = field("Contact", "FirstName");
        assert!(check_content(first_name, &json!("𠮷".repeat(20))).is_ok());
        let err = check_content(first_name, &json!("𠮷".repeat(21))).unwrap_err();
        assert_eq!(err.error_code, "STRING_TOO_LONG");
        assert_eq!(err.fields, Some(vec!["FirstName".to_owned()]));
        assert!(check_content(first_name, &json!("吉".repeat(40))).is_ok());
    }
}
