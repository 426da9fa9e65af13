//! The provisioner's configuration, read once at cold start from the
//! environment; a missing or malformed variable fails the start with its name.
//!
//! | variable | what |
//! | --- | --- |
//! | `SF_*` | the Salesforce connection (see `salesforce::SalesforceConfig`) |
//! | `WHMCS_*` | the WHMCS API (see `whmcs::WhmcsConfig`) |
//! | `WHMCS_PAYMENT_METHOD` | the payment gateway of new orders (system name, e.g. `banktransfer`) |
//! | `STATE_TABLE` | the DynamoDB table of the provisioning records |
//!
//! Deployed, the secrets are not environment values: `SF_PRIVATE_KEY_SECRET_ARN`
//! and `WHMCS_CREDENTIALS_SECRET_ARN` name Secrets Manager secrets, read once at
//! cold start and laid over the environment ([`SECRETS`]).

use portal_aws::SecretVariable;
use portal_core::config::Env;
use salesforce::SalesforceConfig;
use whmcs::WhmcsConfig;

/// The payment gateway variable.
pub const PAYMENT_METHOD_VAR: &str = "WHMCS_PAYMENT_METHOD";
/// The state table variable.
pub const STATE_TABLE_VAR: &str = "STATE_TABLE";
/// The provisioner's own variables.
pub const VARIABLES: &[&str] = &[PAYMENT_METHOD_VAR, STATE_TABLE_VAR];
/// The secret holding `SF_PRIVATE_KEY_BASE64`.
pub const SF_PRIVATE_KEY_SECRET_ARN: &str = "SF_PRIVATE_KEY_SECRET_ARN";
/// The secret holding the WHMCS credentials as JSON:
/// `{"identifier": "…", "secret": "…", "accessKey": "…"}`.
pub const WHMCS_CREDENTIALS_SECRET_ARN: &str = "WHMCS_CREDENTIALS_SECRET_ARN";

const fn whmcs_secret(variable: &'static str, json_key: &'static str) -> SecretVariable {
    SecretVariable {
        variable,
        arn_variable: WHMCS_CREDENTIALS_SECRET_ARN,
        json_key: Some(json_key),
    }
}

/// The variables that may come from Secrets Manager, read at cold start by
/// [`portal_aws::SecretOverlay::from_env`] (tests/deploy checks that the
/// template gives each one its secret's ARN, never the value).
pub const SECRETS: &[SecretVariable] = &[
    SecretVariable {
        variable: salesforce::config::PRIVATE_KEY_BASE64,
        arn_variable: SF_PRIVATE_KEY_SECRET_ARN,
        json_key: None,
    },
    whmcs_secret("WHMCS_API_IDENTIFIER", "identifier"),
    whmcs_secret("WHMCS_API_SECRET", "secret"),
    whmcs_secret("WHMCS_ACCESS_KEY", "accessKey"),
];

/// Every variable [`ProvisionerConfig::from_lookup`] reads, its own and the
/// nested clients' (tests/deploy checks that the SAM template sets them).
pub const ALL_VARIABLES: &[&[&str]] = &[
    VARIABLES,
    salesforce::config::VARIABLES,
    whmcs::config::VARIABLES,
];

/// Everything the provisioner needs to start.
#[derive(Debug)]
pub struct ProvisionerConfig {
    /// The Salesforce connection.
    pub salesforce: SalesforceConfig,
    /// The WHMCS API.
    pub whmcs: WhmcsConfig,
    /// The payment gateway of new WHMCS orders.
    pub payment_method: String,
    /// The DynamoDB table of the provisioning records.
    pub state_table: String,
}

/// A variable is missing or malformed; the message names it (never its value).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A Salesforce variable.
    #[error(transparent)]
    Salesforce(#[from] salesforce::ConfigError),
    /// A WHMCS variable.
    #[error(transparent)]
    Whmcs(#[from] whmcs::ConfigError),
    /// Another required variable is unset or empty.
    #[error("{var} is not set")]
    Missing {
        /// The variable.
        var: &'static str,
    },
}

impl ProvisionerConfig {
    /// Reads the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`; empty values count as unset.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(&lookup);
        let required =
            |var: &'static str| env.required(var).map_err(|_| ConfigError::Missing { var });
        let payment_method = required(PAYMENT_METHOD_VAR)?;
        let state_table = required(STATE_TABLE_VAR)?;
        let whmcs = WhmcsConfig::from_lookup(&lookup)?;
        let salesforce = SalesforceConfig::from_lookup(&lookup)?;
        Ok(Self {
            salesforce,
            whmcs,
            payment_method,
            state_table,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----";

    fn env(without: &str) -> HashMap<&'static str, String> {
        let mut vars: HashMap<&'static str, String> = [
            ("WHMCS_PAYMENT_METHOD", "banktransfer"),
            ("STATE_TABLE", "state"),
            (
                "WHMCS_API_URL",
                "https://billing.example.com/includes/api.php",
            ),
            ("WHMCS_API_IDENTIFIER", "id"),
            ("WHMCS_API_SECRET", "secret"),
            ("SF_LOGIN_URL", "https://login.salesforce.com"),
            ("SF_CLIENT_ID", "client"),
            ("SF_USERNAME", "integration@example.com"),
            ("SF_PRIVATE_KEY_BASE64", KEY),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect();
        vars.remove(without);
        vars
    }

    fn error_without(var: &str) -> String {
        let vars = env(var);
        ProvisionerConfig::from_lookup(|name| vars.get(name).cloned())
            .expect_err("a variable is missing")
            .to_string()
    }

    #[test]
    fn when_a_variable_is_missing_the_error_should_name_it() {
        for var in [
            "WHMCS_PAYMENT_METHOD",
            "STATE_TABLE",
            "WHMCS_API_URL",
            "WHMCS_API_SECRET",
            "SF_CLIENT_ID",
        ] {
            let message = error_without(var);
            assert!(message.contains(var), "{message} should name {var}");
            assert!(
                !message.contains("secret"),
                "{message} must not show a value"
            );
        }
    }

    #[test]
    fn all_variables_should_list_exactly_what_from_lookup_reads() {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD.encode(include_str!(
            "../../salesforce/tests/fixtures/unit-test-key.pem"
        ));
        let mut vars = env("");
        vars.insert("SF_PRIVATE_KEY_BASE64", key);
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        ProvisionerConfig::from_lookup(|name| {
            asked.borrow_mut().insert(name.to_owned());
            vars.get(name).cloned()
        })
        .expect("a complete environment");
        let listed: std::collections::BTreeSet<String> = ALL_VARIABLES
            .iter()
            .flat_map(|list| list.iter().map(|v| (*v).to_owned()))
            .collect();
        assert_eq!(asked.into_inner(), listed);
    }

    #[test]
    fn every_secret_should_feed_a_variable_the_config_reads() {
        for secret in SECRETS {
            assert!(
                ALL_VARIABLES.iter().any(|l| l.contains(&secret.variable)),
                "{} is not read by ProvisionerConfig",
                secret.variable
            );
        }
    }
}
