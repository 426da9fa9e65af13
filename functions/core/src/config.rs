//! Reading settings from the environment: the rules every `*Config::from_lookup`
//! shares, in one place.
//!
//! [`Env`] wraps a lookup (`std::env::var`, or a map in tests). A value that is
//! empty or only whitespace counts as unset; values are trimmed unless read
//! with [`Env::raw`] / [`Env::required_raw`]. Every error is a [`VarError`]
//! naming the variable. Its value is shown only by a reader built with
//! [`Env::echo_values`], and only by the typed readers (numbers, durations,
//! words), so a secret read with [`Env::required`] never reaches a message.
//! Only the variables asked for are looked up: `VARIABLES` lists can be
//! checked against what a loader reads.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

/// A variable is missing or malformed; the message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    /// A required variable is unset, empty or only whitespace.
    #[error("{var} is not set")]
    Missing {
        /// The variable.
        var: &'static str,
    },
    /// A value of the wrong form.
    #[error("{var} is not valid: {reason}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is expected (with the value only when the reader echoes values).
        reason: String,
    },
}

impl VarError {
    /// The variable the error is about.
    pub fn var(&self) -> &'static str {
        match self {
            Self::Missing { var } | Self::Invalid { var, .. } => var,
        }
    }
}

/// Reads settings through a lookup; see the module documentation for the rules.
#[derive(Debug, Clone, Copy)]
pub struct Env<F> {
    lookup: F,
    echo_values: bool,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// A reader over `lookup` whose errors never show a value.
    pub fn new(lookup: F) -> Self {
        Self {
            lookup,
            echo_values: false,
        }
    }

    /// The same reader, but the typed readers ([`Env::seconds`],
    /// [`Env::millis`], [`Env::number`], [`Env::one_of`]) add the value to an
    /// [`VarError::Invalid`] reason (`…, got "ten"`). Only for variables that
    /// never hold a secret.
    #[must_use]
    pub fn echo_values(mut self) -> Self {
        self.echo_values = true;
        self
    }

    /// The value as set, untouched, unless it is empty or only whitespace.
    pub fn raw(&self, var: &str) -> Option<String> {
        (self.lookup)(var).filter(|v| !v.trim().is_empty())
    }

    /// The trimmed value, unless it is empty or only whitespace.
    pub fn optional(&self, var: &str) -> Option<String> {
        self.raw(var).map(|v| v.trim().to_owned())
    }

    /// The trimmed value.
    ///
    /// # Errors
    /// [`VarError::Missing`] when unset, empty or only whitespace.
    pub fn required(&self, var: &'static str) -> Result<String, VarError> {
        self.optional(var).ok_or(VarError::Missing { var })
    }

    /// The value as set, untouched (surrounding whitespace kept).
    ///
    /// # Errors
    /// [`VarError::Missing`] when unset, empty or only whitespace.
    pub fn required_raw(&self, var: &'static str) -> Result<String, VarError> {
        self.raw(var).ok_or(VarError::Missing { var })
    }

    /// The trimmed value read by `parse`, or `None` when unset. `parse`'s
    /// error is the reason; it is never extended with the value.
    ///
    /// # Errors
    /// [`VarError::Invalid`] with `parse`'s reason.
    pub fn parsed<T>(
        &self,
        var: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, VarError> {
        self.optional(var)
            .map(|v| parse(&v).map_err(|reason| VarError::Invalid { var, reason }))
            .transpose()
    }

    /// A positive whole number of seconds, or `default` when unset.
    ///
    /// # Errors
    /// [`VarError::Invalid`] for anything else (`0` included).
    pub fn seconds(&self, var: &'static str, default: Duration) -> Result<Duration, VarError> {
        Ok(self
            .positive(var, "seconds")?
            .map_or(default, Duration::from_secs))
    }

    /// A positive whole number of milliseconds, or `default` when unset.
    ///
    /// # Errors
    /// [`VarError::Invalid`] for anything else (`0` included).
    pub fn millis(&self, var: &'static str, default: Duration) -> Result<Duration, VarError> {
        Ok(self
            .positive(var, "milliseconds")?
            .map_or(default, Duration::from_millis))
    }

    /// A whole number within `range` (both ends included), or `default` when unset.
    ///
    /// # Errors
    /// [`VarError::Invalid`] when it does not parse as `T` or is out of range.
    pub fn number<T>(
        &self,
        var: &'static str,
        default: T,
        range: RangeInclusive<T>,
    ) -> Result<T, VarError>
    where
        T: FromStr + PartialOrd + Display,
    {
        let Some(raw) = self.raw(var) else {
            return Ok(default);
        };
        match raw.trim().parse::<T>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(self.invalid(
                var,
                format!(
                    "expected a number from {} to {}",
                    range.start(),
                    range.end()
                ),
                &raw,
            )),
        }
    }

    /// One of the `choices` words (ASCII case ignored), or `default` when unset.
    ///
    /// # Errors
    /// [`VarError::Invalid`] for any other word.
    pub fn one_of<T: Copy>(
        &self,
        var: &'static str,
        default: T,
        choices: &[(&str, T)],
    ) -> Result<T, VarError> {
        let Some(raw) = self.raw(var) else {
            return Ok(default);
        };
        let word = raw.trim();
        if let Some((_, value)) = choices
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
        {
            return Ok(*value);
        }
        let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
        let expected = match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            Some((only, _)) => (*only).to_owned(),
            None => "nothing".to_owned(),
        };
        Err(self.invalid(var, format!("expected {expected}"), &raw))
    }

    fn positive(&self, var: &'static str, unit: &str) -> Result<Option<u64>, VarError> {
        self.raw(var)
            .map(|raw| match raw.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(self.invalid(var, format!("expected a positive number of {unit}"), &raw)),
            })
            .transpose()
    }

    fn invalid(&self, var: &'static str, expected: String, raw: &str) -> VarError {
        let reason = if self.echo_values {
            format!("{expected}, got {raw:?}")
        } else {
            expected
        };
        VarError::Invalid { var, reason }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::{BTreeSet, HashMap};

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn reason(err: VarError) -> String {
        match err {
            VarError::Invalid { reason, .. } => reason,
            VarError::Missing { var } => panic!("expected Invalid, got Missing({var})"),
        }
    }

    #[test]
    fn when_blank_a_variable_should_count_as_unset() {
        let env = Env::new(lookup(&[("A", ""), ("B", " \t\n"), ("C", "  x ")]));
        assert_eq!(env.optional("A"), None);
        assert_eq!(env.raw("B"), None);
        assert_eq!(env.optional("C").as_deref(), Some("x"));
        assert_eq!(env.raw("C").as_deref(), Some("  x "));
        assert_eq!(env.optional("D"), None);
    }

    #[test]
    fn when_required_is_unset_the_error_should_name_it_and_never_a_value() {
        let env = Env::new(lookup(&[("SET", " s3cret "), ("BLANK", "  ")])).echo_values();
        assert_eq!(env.required("SET").unwrap(), "s3cret");
        assert_eq!(env.required_raw("SET").unwrap(), " s3cret ");
        for var in ["BLANK", "UNSET"] {
            let err = env.required(var).unwrap_err();
            assert_eq!(err, VarError::Missing { var });
            assert_eq!(err.to_string(), format!("{var} is not set"));
            assert_eq!(err.var(), var);
            assert_eq!(
                env.required_raw(var).unwrap_err(),
                VarError::Missing { var }
            );
        }
    }

    #[test]
    fn seconds_and_millis_should_be_positive_whole_numbers_with_a_default() {
        let env = Env::new(lookup(&[
            ("S", " 45 "),
            ("ZERO", "0"),
            ("NEG", "-1"),
            ("WORD", "soon"),
            ("MS", "1500"),
        ]));
        let default = Duration::from_secs(7);
        assert_eq!(env.seconds("S", default), Ok(Duration::from_secs(45)));
        assert_eq!(env.seconds("UNSET", default), Ok(default));
        assert_eq!(env.millis("MS", default), Ok(Duration::from_millis(1500)));
        assert_eq!(env.millis("UNSET", default), Ok(default));
        for var in ["ZERO", "NEG", "WORD"] {
            let err = env.seconds(var, default).unwrap_err();
            assert_eq!(err.var(), var);
            assert_eq!(reason(err), "expected a positive number of seconds");
            let err = env.millis(var, default).unwrap_err();
            assert_eq!(reason(err), "expected a positive number of milliseconds");
        }
    }

    #[test]
    fn number_should_keep_to_its_range_both_ends_included() {
        let env = Env::new(lookup(&[("LOW", "1"), ("HIGH", "100"), ("OVER", "101")]));
        assert_eq!(env.number::<u32>("LOW", 50, 1..=100), Ok(1));
        assert_eq!(env.number::<u32>("HIGH", 50, 1..=100), Ok(100));
        assert_eq!(env.number::<u32>("UNSET", 50, 1..=100), Ok(50));
        let err = env.number::<u32>("OVER", 50, 1..=100).unwrap_err();
        assert_eq!(
            err.to_string(),
            "OVER is not valid: expected a number from 1 to 100"
        );
        assert!(env.number::<u64>("LOW", 5, 2..=9).is_err());
        assert_eq!(env.number::<u64>("LOW", 5, 0..=9), Ok(1));
    }

    #[test]
    fn one_of_should_take_a_listed_word_in_any_case() {
        #[derive(Debug, Clone, Copy, PartialEq)]
        enum Start {
            Latest,
            Earliest,
        }
        let choices = [("latest", Start::Latest), ("earliest", Start::Earliest)];
        let env = Env::new(lookup(&[("UP", " EARLIEST "), ("BAD", "yesterday")]));
        assert_eq!(
            env.one_of("UP", Start::Latest, &choices),
            Ok(Start::Earliest)
        );
        assert_eq!(
            env.one_of("UNSET", Start::Latest, &choices),
            Ok(Start::Latest)
        );
        let err = env.one_of("BAD", Start::Latest, &choices).unwrap_err();
        assert_eq!(reason(err), "expected latest or earliest");
        let three = [("a", 1), ("b", 2), ("c", 3)];
        let err = env.one_of("BAD", 1, &three).unwrap_err();
        assert_eq!(reason(err), "expected a, b or c");
    }

    #[test]
    fn only_an_echoing_reader_should_show_the_value() {
        let pairs = [("N", " ten ")];
        let quiet = Env::new(lookup(&pairs));
        let loud = Env::new(lookup(&pairs)).echo_values();
        for env in [&quiet, &loud] {
            let messages = [
                env.seconds("N", Duration::ZERO).unwrap_err().to_string(),
                env.millis("N", Duration::ZERO).unwrap_err().to_string(),
                env.number::<u8>("N", 0, 0..=9).unwrap_err().to_string(),
                env.one_of("N", 0, &[("one", 1)]).unwrap_err().to_string(),
            ];
            for message in messages {
                assert!(
                    message.starts_with("N is not valid: expected "),
                    "{message}"
                );
                assert_eq!(
                    message.ends_with(r#", got " ten ""#),
                    std::ptr::eq(env, &loud),
                    "{message}"
                );
            }
        }
    }

    #[test]
    fn parsed_should_give_the_parsers_reason_and_none_when_unset() {
        let env = Env::new(lookup(&[("PORT", " 80 "), ("BAD", "http")])).echo_values();
        let port = |v: &str| v.parse::<u16>().map_err(|_| "expected a port".to_owned());
        assert_eq!(env.parsed("PORT", port), Ok(Some(80)));
        assert_eq!(env.parsed("UNSET", port), Ok(None));
        assert_eq!(
            env.parsed("BAD", port),
            Err(VarError::Invalid {
                var: "BAD",
                reason: "expected a port".to_owned()
            })
        );
    }

    #[test]
    fn a_reader_should_look_up_only_what_it_is_asked_for() {
        let asked = RefCell::new(BTreeSet::new());
        let env = Env::new(|name: &str| {
            asked.borrow_mut().insert(name.to_owned());
            None
        });
        let _ = env.optional("A");
        let _ = env.seconds("B", Duration::ZERO);
        let _ = env.one_of("C", 0, &[("x", 1)]);
        let expected: BTreeSet<String> = ["A", "B", "C"].map(str::to_owned).into();
        assert_eq!(asked.into_inner(), expected);
    }
}
