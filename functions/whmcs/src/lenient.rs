//! Lenient reading of WHMCS's numbers: ids arrive as JSON numbers or as
//! strings (`"orderid":"12"`), lists as comma-separated strings
//! (`"serviceids":"31,32"`), and "none" as an empty string.

use serde_json::Value;

/// A value that should have been a number or a list of numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field '{field}' is not a number: {found}")]
pub struct NotANumber {
    /// JSON field name.
    pub field: String,
    /// A short description of what was found (never long).
    pub found: String,
}

fn not_a_number(field: &str, value: &Value) -> NotANumber {
    let mut found = value.to_string();
    if found.len() > 40 {
        let mut cut = 40;
        while !found.is_char_boundary(cut) {
            cut -= 1;
        }
        found.truncate(cut);
        found.push('…');
    }
    NotANumber {
        field: field.to_owned(),
        found,
    }
}

/// An optional id: a non-negative integer or a string holding one;
/// `null`, an absent field or an empty string mean none.
///
/// # Errors
/// [`NotANumber`] for anything else (negative, fractional, text).
pub fn opt_u64(field: &str, value: Option<&Value>) -> Result<Option<u64>, NotANumber> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| not_a_number(field, &Value::Number(n.clone()))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| not_a_number(field, &Value::String(s.clone()))),
        Some(other) => Err(not_a_number(field, other)),
    }
}

/// A required id (see [`opt_u64`]).
///
/// # Errors
/// [`NotANumber`] when absent, empty or not a number.
pub fn req_u64(field: &str, value: Option<&Value>) -> Result<u64, NotANumber> {
    opt_u64(field, value)?.ok_or_else(|| not_a_number(field, value.unwrap_or(&Value::Null)))
}

/// A list of ids: `"31,32"`, `"31"`, `31`, `[31,"32"]`; empty string or absent means empty.
///
/// # Errors
/// [`NotANumber`] when an element is not a number.
pub fn u64_list(field: &str, value: Option<&Value>) -> Result<Vec<u64>, NotANumber> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<u64>()
                    .map_err(|_| not_a_number(field, &Value::String(s.clone())))
            })
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| req_u64(field, Some(item)))
            .collect(),
        Some(number @ Value::Number(_)) => Ok(vec![req_u64(field, Some(number))?]),
        Some(other) => Err(not_a_number(field, other)),
    }
}

/// A string field; numbers are turned into their text, absent or null into empty.
#[must_use]
pub fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn when_ids_are_numbers_or_strings_should_read_both() {
        assert_eq!(opt_u64("orderid", Some(&json!(12))), Ok(Some(12)));
        assert_eq!(opt_u64("orderid", Some(&json!("12"))), Ok(Some(12)));
        assert_eq!(opt_u64("orderid", Some(&json!(" 12 "))), Ok(Some(12)));
        assert_eq!(opt_u64("orderid", Some(&json!(""))), Ok(None));
        assert_eq!(opt_u64("orderid", Some(&Value::Null)), Ok(None));
        assert_eq!(opt_u64("orderid", None), Ok(None));
    }

    #[test]
    fn when_ids_are_not_numbers_should_refuse() {
        for bad in [json!(-1), json!(1.5), json!("12a"), json!(true), json!({})] {
            assert!(opt_u64("orderid", Some(&bad)).is_err(), "accepted {bad}");
        }
        assert!(req_u64("orderid", Some(&json!(""))).is_err());
        assert!(req_u64("orderid", None).is_err());
    }

    #[test]
    fn when_lists_come_in_any_shape_should_read_them() {
        assert_eq!(
            u64_list("serviceids", Some(&json!("31,32"))),
            Ok(vec![31, 32])
        );
        assert_eq!(
            u64_list("serviceids", Some(&json!("31, 32,"))),
            Ok(vec![31, 32])
        );
        assert_eq!(u64_list("serviceids", Some(&json!("31"))), Ok(vec![31]));
        assert_eq!(u64_list("serviceids", Some(&json!(31))), Ok(vec![31]));
        assert_eq!(
            u64_list("serviceids", Some(&json!([31, "32"]))),
            Ok(vec![31, 32])
        );
        assert_eq!(u64_list("serviceids", Some(&json!(""))), Ok(vec![]));
        assert_eq!(u64_list("serviceids", None), Ok(vec![]));
        assert!(u64_list("serviceids", Some(&json!("31,x"))).is_err());
    }

    #[test]
    fn when_reporting_a_long_value_should_keep_it_short() {
        let long = "é".repeat(100);
        let err = opt_u64("orderid", Some(&json!(long))).unwrap_err();
        assert!(err.found.len() < 50);
    }
}
