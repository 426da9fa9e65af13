//! Configuration from the environment: one error type ([`ConfigError`]), one
//! reader ([`Env`]) and one loader pattern ([`Config`]) for every binary.
//!
//! A configuration type implements [`Config::read`] over an [`Env`], and gets
//! `from_env()` (the process environment) and `from_lookup(…)` (a map, in
//! tests; or the environment with secrets laid over it) from the trait. A
//! nested client's settings are read by calling its `read` with the same
//! `Env`. Each configuration module lists what it reads in `VARIABLES` (the
//! deploy tests hold the SAM template to those lists), and a variable that may
//! hold a secret is declared once, as a [`SecretVariable`], by the client that
//! reads it.
//!
//! Rules: a value that is empty or only whitespace counts as unset; values
//! are trimmed unless read with [`Env::raw`] / [`Env::required_raw`]; every
//! error names its variable. The typed readers (numbers, durations, words)
//! echo a bad value in the message (`…, got "ten"`); a value read as text
//! ([`Env::required`], a secret) never reaches a message. Only the variables
//! asked for are looked up.

use std::borrow::Cow;
use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

use crate::ports::BoxError;

/// A setting is missing or malformed; the message names the variable (never
/// a secret's value).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset, empty or only whitespace.
    #[error("{var} is not set")]
    Missing {
        /// The variable.
        var: &'static str,
    },
    /// Exactly one of two variables must be set, and it is not so.
    #[error("exactly one of {0} and {1} must be set")]
    OneOf(&'static str, &'static str),
    /// A value of the wrong form.
    #[error("{var} is not valid: {reason}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is wrong, or what is expected.
        reason: Cow<'static, str>,
        /// The parser's error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// A file named by the variable cannot be read.
    #[error("{var}: the file cannot be read")]
    Unreadable {
        /// The variable.
        var: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl ConfigError {
    /// `var`'s value is wrong: `reason` says how.
    pub fn invalid(var: &'static str, reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Invalid {
            var,
            reason: reason.into(),
            source: None,
        }
    }

    /// `var`'s value did not parse: `reason` says what was expected, `source` why.
    pub fn unparsable(
        var: &'static str,
        reason: impl Into<Cow<'static, str>>,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::Invalid {
            var,
            reason: reason.into(),
            source: Some(source.into()),
        }
    }

    /// The variable the error is about (the first one for [`ConfigError::OneOf`]).
    pub fn var(&self) -> &'static str {
        match self {
            Self::Missing { var } | Self::Invalid { var, .. } | Self::Unreadable { var, .. } => var,
            Self::OneOf(first, _) => first,
        }
    }
}

/// A variable whose value may come from a Secrets Manager secret: a deployed
/// function gets the secret's ARN in `arn_variable` and reads the value at
/// cold start (`portal_aws::SecretOverlay`); a local run sets `variable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretVariable {
    /// The variable the configuration reads (`SF_PRIVATE_KEY_BASE64`).
    pub variable: &'static str,
    /// The variable holding the secret's ARN (`SF_PRIVATE_KEY_SECRET_ARN`);
    /// several variables may share one secret.
    pub arn_variable: &'static str,
    /// The key of a JSON object secret holding the value, or `None` when the
    /// whole secret string is the value.
    pub json_key: Option<&'static str>,
}

/// A configuration read from the environment.
pub trait Config: Sized {
    /// Reads the settings; the first missing or malformed one is the error.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable.
    fn read(env: &Env<'_>) -> Result<Self, ConfigError>;

    /// Reads the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable.
    fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (a map in tests, or the
    /// environment with the secrets laid over it).
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(&Env::new(&lookup))
    }
}

/// Reads settings through a lookup; see the module documentation for the rules.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Env")
    }
}

impl<'a> Env<'a> {
    /// A reader over `lookup`.
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// The value as set, untouched, unless it is empty or only whitespace.
    pub fn raw(&self, var: &str) -> Option<String> {
        (self.lookup)(var).filter(|v| !v.trim().is_empty())
    }

    /// The trimmed value, unless it is empty or only whitespace.
    pub fn optional(&self, var: &str) -> Option<String> {
        self.raw(var).map(|v| v.trim().to_owned())
    }

    /// The trimmed value, or `default` when unset.
    pub fn or(&self, var: &str, default: &str) -> String {
        self.optional(var).unwrap_or_else(|| default.to_owned())
    }

    /// The trimmed value.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] when unset, empty or only whitespace.
    pub fn required(&self, var: &'static str) -> Result<String, ConfigError> {
        self.optional(var).ok_or(ConfigError::Missing { var })
    }

    /// The value as set, untouched (surrounding whitespace kept).
    ///
    /// # Errors
    /// [`ConfigError::Missing`] when unset, empty or only whitespace.
    pub fn required_raw(&self, var: &'static str) -> Result<String, ConfigError> {
        self.raw(var).ok_or(ConfigError::Missing { var })
    }

    /// The trimmed value read by `parse`, or `None` when unset; its error is
    /// the source, `expected` the reason.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when `parse` fails.
    pub fn parsed<T, E: Into<BoxError>>(
        &self,
        var: &'static str,
        expected: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, ConfigError> {
        self.optional(var)
            .map(|v| parse(&v).map_err(|e| ConfigError::unparsable(var, expected, e)))
            .transpose()
    }

    /// A positive whole number of seconds, or `default` when unset.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for anything else (`0` included).
    pub fn seconds(&self, var: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        Ok(self
            .positive(var, "seconds")?
            .map_or(default, Duration::from_secs))
    }

    /// A positive whole number of milliseconds, or `default` when unset.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for anything else (`0` included).
    pub fn millis(&self, var: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        Ok(self
            .positive(var, "milliseconds")?
            .map_or(default, Duration::from_millis))
    }

    /// A whole number within `range` (both ends included), or `default` when unset.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when it does not parse as `T` or is out of range.
    pub fn number<T>(
        &self,
        var: &'static str,
        default: T,
        range: RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Display,
    {
        let Some(raw) = self.raw(var) else {
            return Ok(default);
        };
        match raw.trim().parse::<T>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(invalid(
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
    /// [`ConfigError::Invalid`] for any other word.
    pub fn one_of<T: Copy>(
        &self,
        var: &'static str,
        default: T,
        choices: &[(&str, T)],
    ) -> Result<T, ConfigError> {
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
        Err(invalid(var, format!("expected {expected}"), &raw))
    }

    fn positive(&self, var: &'static str, unit: &str) -> Result<Option<u64>, ConfigError> {
        self.raw(var)
            .map(|raw| match raw.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(invalid(
                    var,
                    format!("expected a positive number of {unit}"),
                    &raw,
                )),
            })
            .transpose()
    }
}

/// Reads `C` through `lookup`, noting every variable looked up: a config
/// module's test holds its `VARIABLES` list to what it really reads.
pub fn read_recording<C: Config>(
    lookup: impl Fn(&str) -> Option<String>,
) -> (Result<C, ConfigError>, std::collections::BTreeSet<String>) {
    let read = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let recording = |name: &str| {
        read.borrow_mut().insert(name.to_owned());
        lookup(name)
    };
    let result = C::read(&Env::new(&recording));
    (result, read.into_inner())
}

/// The names of `lists`, as [`read_recording`] reports them.
pub fn names(lists: &[&[&str]]) -> std::collections::BTreeSet<String> {
    lists
        .iter()
        .flat_map(|list| list.iter().map(|v| (*v).to_owned()))
        .collect()
}

/// A typed reader's error: what was expected, and the value (never a secret).
fn invalid(var: &'static str, expected: String, raw: &str) -> ConfigError {
    ConfigError::invalid(var, format!("{expected}, got {raw:?}"))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::{BTreeSet, HashMap};

    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Runs `check` with a reader over `pairs`.
    fn with_env(pairs: &[(&str, &str)], check: impl FnOnce(&Env<'_>)) {
        let map = map(pairs);
        let lookup = |name: &str| map.get(name).cloned();
        check(&Env::new(&lookup));
    }

    #[test]
    fn when_blank_a_variable_should_count_as_unset() {
        with_env(&[("A", ""), ("B", " \t\n"), ("C", "  x ")], |env| {
            assert_eq!(env.optional("A"), None);
            assert_eq!(env.raw("B"), None);
            assert_eq!(env.optional("C").as_deref(), Some("x"));
            assert_eq!(env.raw("C").as_deref(), Some("  x "));
            assert_eq!(env.or("D", "d"), "d");
        });
    }

    #[test]
    fn when_required_is_unset_the_error_should_name_it_and_never_a_value() {
        with_env(&[("SET", " s3cret "), ("BLANK", "  ")], |env| {
            assert_eq!(env.required("SET").unwrap(), "s3cret");
            assert_eq!(env.required_raw("SET").unwrap(), " s3cret ");
            for var in ["BLANK", "UNSET"] {
                let err = env.required(var).unwrap_err();
                assert_eq!(err.to_string(), format!("{var} is not set"));
                assert_eq!(err.var(), var);
                assert!(matches!(
                    env.required_raw(var),
                    Err(ConfigError::Missing { .. })
                ));
            }
        });
    }

    #[test]
    fn typed_readers_should_say_what_they_expect_and_echo_the_value() {
        with_env(
            &[
                ("S", " 45 "),
                ("ZERO", "0"),
                ("WORD", "soon"),
                ("MS", "1500"),
            ],
            |env| {
                let default = Duration::from_secs(7);
                assert_eq!(env.seconds("S", default).unwrap(), Duration::from_secs(45));
                assert_eq!(env.seconds("UNSET", default).unwrap(), default);
                assert_eq!(
                    env.millis("MS", default).unwrap(),
                    Duration::from_millis(1500)
                );
                for var in ["ZERO", "WORD"] {
                    let err = env.seconds(var, default).unwrap_err().to_string();
                    assert!(
                        err.starts_with(&format!(
                            "{var} is not valid: expected a positive number of seconds, got "
                        )),
                        "{err}"
                    );
                }
            },
        );
    }

    #[test]
    fn number_should_keep_to_its_range_both_ends_included() {
        with_env(&[("LOW", "1"), ("HIGH", "100"), ("OVER", "101")], |env| {
            assert_eq!(env.number::<u32>("LOW", 50, 1..=100).unwrap(), 1);
            assert_eq!(env.number::<u32>("HIGH", 50, 1..=100).unwrap(), 100);
            assert_eq!(env.number::<u32>("UNSET", 50, 1..=100).unwrap(), 50);
            assert_eq!(
                env.number::<u32>("OVER", 50, 1..=100)
                    .unwrap_err()
                    .to_string(),
                r#"OVER is not valid: expected a number from 1 to 100, got "101""#
            );
        });
    }

    #[test]
    fn one_of_should_take_a_listed_word_in_any_case() {
        with_env(&[("UP", " EARLIEST "), ("BAD", "yesterday")], |env| {
            let choices = [("latest", 1), ("earliest", 2), ("never", 3)];
            assert_eq!(env.one_of("UP", 1, &choices).unwrap(), 2);
            assert_eq!(env.one_of("UNSET", 1, &choices).unwrap(), 1);
            assert_eq!(
                env.one_of("BAD", 1, &choices).unwrap_err().to_string(),
                r#"BAD is not valid: expected latest, earliest or never, got "yesterday""#
            );
        });
    }

    #[test]
    fn parsed_should_keep_the_parsers_error_as_the_source() {
        with_env(&[("PORT", " 80 "), ("BAD", "http")], |env| {
            let port = |v: &str| v.parse::<u16>();
            assert_eq!(env.parsed("PORT", "a port", port).unwrap(), Some(80));
            assert_eq!(env.parsed("UNSET", "a port", port).unwrap(), None);
            let err = env.parsed("BAD", "a port", port).unwrap_err();
            assert_eq!(err.to_string(), "BAD is not valid: a port");
            assert!(std::error::Error::source(&err).is_some());
        });
    }

    #[test]
    fn a_reader_should_look_up_only_what_it_is_asked_for() {
        let asked = RefCell::new(BTreeSet::new());
        let lookup = |name: &str| {
            asked.borrow_mut().insert(name.to_owned());
            None
        };
        let env = Env::new(&lookup);
        let _ = env.optional("A");
        let _ = env.seconds("B", Duration::ZERO);
        let _ = env.one_of("C", 0, &[("x", 1)]);
        let expected: BTreeSet<String> = ["A", "B", "C"].map(str::to_owned).into();
        assert_eq!(asked.into_inner(), expected);
    }
}
