//! Client settings, read once from the environment.

use std::time::Duration;

use portal_core::config::Env;
use secrecy::SecretString;
use url::Url;

/// Every variable [`WhmcsConfig::from_lookup`] reads (tests/deploy checks
/// that the SAM template sets them).
pub const VARIABLES: &[&str] = &[
    "WHMCS_API_URL",
    "WHMCS_API_IDENTIFIER",
    "WHMCS_API_SECRET",
    "WHMCS_ACCESS_KEY",
    "WHMCS_TIMEOUT_MS",
];

/// Default request timeout when `WHMCS_TIMEOUT_MS` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(15_000);

/// How to reach the WHMCS External API.
#[derive(Debug, Clone)]
pub struct WhmcsConfig {
    /// Full API URL, ending in `/includes/api.php`.
    pub api_url: Url,
    /// API credential identifier.
    pub identifier: String,
    /// API credential secret (never printed).
    pub secret: SecretString,
    /// Access key that lets calls past WHMCS's IP allow-list, if used.
    pub access_key: Option<SecretString>,
    /// Timeout of one whole request (connect, send, answer).
    pub timeout: Duration,
}

/// A setting that is missing or malformed; names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{var} is not set")]
    Missing {
        /// The variable.
        var: &'static str,
    },
    /// A variable does not parse.
    #[error("{var} is invalid: {reason}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is wrong (never the value itself).
        reason: &'static str,
    },
}

impl WhmcsConfig {
    /// Reads `WHMCS_API_URL`, `WHMCS_API_IDENTIFIER`, `WHMCS_API_SECRET`,
    /// `WHMCS_ACCESS_KEY` (optional) and `WHMCS_TIMEOUT_MS` (default 15000).
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`WhmcsConfig::from_env`], reading variables through `lookup`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let env = Env::new(lookup);
        // Only `required_raw` is used, and it fails only with `Missing`.
        let required = |var: &'static str| {
            env.required_raw(var)
                .map_err(|_| ConfigError::Missing { var })
        };

        let var = "WHMCS_API_URL";
        let api_url = Url::parse(required(var)?.trim()).map_err(|_| ConfigError::Invalid {
            var,
            reason: "not an absolute URL",
        })?;
        if !matches!(api_url.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid {
                var,
                reason: "the scheme must be http or https",
            });
        }
        if !api_url.path().ends_with("/includes/api.php") {
            return Err(ConfigError::Invalid {
                var,
                reason: "the path must end with /includes/api.php",
            });
        }
        // The credentials are kept exactly as set (not trimmed).
        let identifier = required("WHMCS_API_IDENTIFIER")?;
        let secret = SecretString::from(required("WHMCS_API_SECRET")?);
        let access_key = env.raw("WHMCS_ACCESS_KEY").map(SecretString::from);
        let var = "WHMCS_TIMEOUT_MS";
        let timeout = env
            .millis(var, DEFAULT_TIMEOUT)
            .map_err(|_| ConfigError::Invalid {
                var,
                reason: "not a positive whole number of milliseconds",
            })?;
        Ok(Self {
            api_url,
            identifier,
            secret,
            access_key,
            timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret as _;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const FULL: &[(&str, &str)] = &[
        ("WHMCS_API_URL", "https://billing.example/includes/api.php"),
        ("WHMCS_API_IDENTIFIER", "id"),
        ("WHMCS_API_SECRET", "s3cret"),
    ];

    #[test]
    fn when_all_required_are_set_should_use_defaults_for_the_rest() {
        let config = WhmcsConfig::from_lookup(lookup(FULL)).unwrap();
        assert_eq!(config.timeout, DEFAULT_TIMEOUT);
        assert!(config.access_key.is_none());
        assert_eq!(config.secret.expose_secret(), "s3cret");
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn when_a_variable_is_missing_or_empty_should_name_it() {
        for missing in ["WHMCS_API_URL", "WHMCS_API_IDENTIFIER", "WHMCS_API_SECRET"] {
            let mut vars: Vec<(&str, &str)> = FULL
                .iter()
                .copied()
                .filter(|(k, _)| *k != missing)
                .collect();
            let err = WhmcsConfig::from_lookup(lookup(&vars)).unwrap_err();
            assert_eq!(err, ConfigError::Missing { var: missing });
            assert!(err.to_string().contains(missing));
            vars.push((missing, "  "));
            let err = WhmcsConfig::from_lookup(lookup(&vars)).unwrap_err();
            assert_eq!(err, ConfigError::Missing { var: missing });
        }
    }

    #[test]
    fn when_a_variable_is_malformed_should_name_it() {
        let cases = [
            ("WHMCS_API_URL", "not a url"),
            ("WHMCS_API_URL", "ftp://billing.example/includes/api.php"),
            ("WHMCS_API_URL", "https://billing.example/api"),
            ("WHMCS_TIMEOUT_MS", "15s"),
            ("WHMCS_TIMEOUT_MS", "0"),
        ];
        for (var, value) in cases {
            let mut vars: Vec<(&str, &str)> =
                FULL.iter().copied().filter(|(k, _)| *k != var).collect();
            vars.push((var, value));
            let err = WhmcsConfig::from_lookup(lookup(&vars)).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { var: v, .. } if v == var),
                "{var}={value}: {err}"
            );
            assert!(!err.to_string().contains(value), "value leaked: {err}");
        }
    }

    #[test]
    fn when_optional_values_are_set_should_read_them() {
        let mut vars = FULL.to_vec();
        vars.push(("WHMCS_ACCESS_KEY", "k"));
        vars.push(("WHMCS_TIMEOUT_MS", "2500"));
        let config = WhmcsConfig::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(config.timeout, Duration::from_millis(2500));
        assert_eq!(config.access_key.unwrap().expose_secret(), "k");
    }

    #[test]
    fn variables_should_list_exactly_what_from_lookup_reads() {
        let full = lookup(FULL);
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        WhmcsConfig::from_lookup(|name| {
            asked.borrow_mut().insert(name.to_owned());
            full(name)
        })
        .unwrap();
        let listed: std::collections::BTreeSet<String> =
            VARIABLES.iter().map(|v| (*v).to_owned()).collect();
        assert_eq!(asked.into_inner(), listed);
    }
}
