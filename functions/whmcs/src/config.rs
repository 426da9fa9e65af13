//! The WHMCS client's settings, read once from the environment ([`VARIABLES`]):
//! `WHMCS_API_URL` (`…/includes/api.php`), `WHMCS_API_IDENTIFIER`,
//! `WHMCS_API_SECRET`, `WHMCS_ACCESS_KEY` (optional) and `WHMCS_TIMEOUT_MS`
//! (default 15000). Deployed, the three credentials come from one JSON
//! secret ([`SECRETS`]).

use std::time::Duration;

use portal_core::config::{Config, ConfigError, Env, SecretVariable};
use secrecy::SecretString;
use url::Url;

/// Every variable [`WhmcsConfig`] reads (tests/deploy holds the SAM template to it).
pub const VARIABLES: &[&str] = &[
    "WHMCS_API_URL",
    "WHMCS_API_IDENTIFIER",
    "WHMCS_API_SECRET",
    "WHMCS_ACCESS_KEY",
    "WHMCS_TIMEOUT_MS",
];

const fn credential(variable: &'static str, json_key: &'static str) -> SecretVariable {
    SecretVariable {
        variable,
        arn_variable: "WHMCS_CREDENTIALS_SECRET_ARN",
        json_key: Some(json_key),
    }
}

/// The credentials, deployed as one JSON secret
/// `{"identifier": "…", "secret": "…", "accessKey": "…"}`.
pub const SECRETS: &[SecretVariable] = &[
    credential("WHMCS_API_IDENTIFIER", "identifier"),
    credential("WHMCS_API_SECRET", "secret"),
    credential("WHMCS_ACCESS_KEY", "accessKey"),
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

impl Config for WhmcsConfig {
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let var = "WHMCS_API_URL";
        let api_url = Url::parse(&env.required(var)?)
            .map_err(|e| ConfigError::unparsable(var, "expected an absolute URL", e))?;
        if !matches!(api_url.scheme(), "http" | "https") {
            return Err(ConfigError::invalid(
                var,
                "the scheme must be http or https",
            ));
        }
        if !api_url.path().ends_with("/includes/api.php") {
            return Err(ConfigError::invalid(
                var,
                "the path must end with /includes/api.php",
            ));
        }
        // The credentials are kept exactly as set (not trimmed).
        Ok(Self {
            api_url,
            identifier: env.required_raw("WHMCS_API_IDENTIFIER")?,
            secret: SecretString::from(env.required_raw("WHMCS_API_SECRET")?),
            access_key: env.raw("WHMCS_ACCESS_KEY").map(SecretString::from),
            timeout: env.millis("WHMCS_TIMEOUT_MS", DEFAULT_TIMEOUT)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret as _;

    use super::*;

    fn missing_var(err: &ConfigError) -> Option<&'static str> {
        match err {
            ConfigError::Missing { var } => Some(var),
            _ => None,
        }
    }

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
            assert_eq!(missing_var(&err), Some(missing));
            assert!(err.to_string().contains(missing));
            vars.push((missing, "  "));
            let err = WhmcsConfig::from_lookup(lookup(&vars)).unwrap_err();
            assert_eq!(missing_var(&err), Some(missing));
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
            if var == "WHMCS_API_URL" {
                assert!(!err.to_string().contains(value), "value leaked: {err}");
            }
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
    fn variables_should_list_exactly_what_it_reads() {
        let (config, read) = portal_core::config::read_recording::<WhmcsConfig>(lookup(FULL));
        config.unwrap();
        assert_eq!(read, portal_core::config::names(&[VARIABLES]));
    }
}
