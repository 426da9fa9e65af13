//! How request bodies read JSON where serde's defaults are stricter than
//! JSON Schema (which the OpenAPI document speaks): an `integer` there is
//! any number with a zero fraction, so `2.0` and `1e2` are integers too.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Unexpected, Visitor};

/// An optional whole number: `null`/absent is `None`; `2`, `2.0` and `2e0`
/// are `Some(2)`; `2.5`, a string or a number beyond `i64` is the
/// deserializer's error ("expected an integer").
pub fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    deserializer.deserialize_option(OptionalWhole)
}

struct OptionalWhole;
struct Whole;

impl<'de> Visitor<'de> for OptionalWhole {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(Whole).map(Some)
    }
}

impl Visitor<'_> for Whole {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    #[allow(
        clippy::cast_possible_truncation,
        reason = "checked: whole and within i64"
    )]
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        // i64::MAX as f64 rounds up to 2^63, itself out of range: hence `<`.
        if v.fract() == 0.0 && v >= i64::MIN as f64 && v < i64::MAX as f64 {
            Ok(v as i64)
        } else {
            Err(E::invalid_type(Unexpected::Float(v), &self))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::whole_number")]
        n: Option<i64>,
    }

    fn n(json: &str) -> Result<Option<i64>, String> {
        serde_json::from_str::<Body>(json)
            .map(|b| b.n)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn when_a_number_has_no_fraction_should_be_an_integer_as_json_schema_says() {
        assert_eq!(n(r#"{"n": 2}"#), Ok(Some(2)));
        assert_eq!(n(r#"{"n": 2.0}"#), Ok(Some(2)));
        assert_eq!(n(r#"{"n": 1e2}"#), Ok(Some(100)));
        assert_eq!(n(r#"{"n": -3}"#), Ok(Some(-3)));
        assert_eq!(n(r#"{"n": null}"#), Ok(None));
        assert_eq!(n("{}"), Ok(None));
        for bad in [
            r#"{"n": 2.5}"#,
            r#"{"n": "2"}"#,
            r#"{"n": 1e30}"#,
            r#"{"n": 18446744073709551615}"#,
        ] {
            let err = n(bad).unwrap_err();
            assert!(err.contains("expected an integer"), "{bad}: {err}");
        }
    }
}
