//! Per-field validation errors, collected so that a request lists every bad
//! field at once.

use std::fmt;

use serde::Serialize;

/// One bad field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's path in the JSON body, e.g. `address.postalCode` or `items[1].quantity`.
    pub field: String,
    /// What is wrong, readable by a customer, e.g. `must be at most 40 characters`.
    pub message: String,
}

impl FieldError {
    /// An error on `field`.
    pub fn new(field: impl Into<String>, message: impl fmt::Display) -> Self {
        Self {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

/// The message of a required field that is missing.
pub const REQUIRED: &str = "is required";

/// Collects the errors of a body while each field is parsed.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error on `field`.
    pub fn push(&mut self, field: impl Into<String>, message: impl fmt::Display) {
        self.0.push(FieldError::new(field, message));
    }

    /// Keeps the value of `result`, or records its error on `field`.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.push(field, e);
                None
            }
        }
    }

    /// Parses a required field; a missing one is recorded as [`REQUIRED`].
    pub fn required<R, T, E: fmt::Display>(
        &mut self,
        field: &str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, E>,
    ) -> Option<T> {
        match raw {
            Some(raw) => self.check(field, parse(raw)),
            None => {
                self.push(field, REQUIRED);
                None
            }
        }
    }

    /// Parses an optional text field: missing, `null` or empty (`""`) is
    /// `Some(None)`; anything else is parsed (so only spaces are refused like
    /// any bad value, as the OpenAPI patterns say); an error is recorded and
    /// gives `None`.
    pub fn optional<T, E: fmt::Display>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<Option<T>> {
        match raw {
            Some(raw) if !raw.is_empty() => self.check(field, parse(raw)).map(Some),
            _ => Some(None),
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors recorded, in the order of the fields.
    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_a_required_field_is_missing_should_record_it_by_name() {
        let mut errors = FieldErrors::new();
        let value: Option<u8> = errors.required("firstName", None::<&str>, |s| s.parse::<u8>());
        assert_eq!(value, None);
        assert_eq!(
            errors.into_vec(),
            vec![FieldError::new("firstName", "is required")]
        );
    }

    #[test]
    fn when_an_optional_field_is_empty_should_treat_it_as_absent_and_parse_anything_else() {
        let mut errors = FieldErrors::new();
        let value = errors.optional("phone", Some(""), |s| s.parse::<u8>());
        assert_eq!(value, Some(None));
        assert!(errors.is_empty());
        let spaces = errors.optional("phone", Some("  "), |s| s.parse::<u8>());
        assert_eq!(spaces, None, "only spaces is a value, and a bad one");
        errors = FieldErrors::new();
        let bad = errors.optional("phone", Some("x"), |s| s.parse::<u8>());
        assert_eq!(bad, None);
        assert_eq!(errors.into_vec().len(), 1);
    }
}
