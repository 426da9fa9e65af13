//! The provisioner's configuration, read once at cold start: the Salesforce
//! (`SF_*`) and WHMCS (`WHMCS_*`) clients' settings, plus [`VARIABLES`]:
//! `WHMCS_PAYMENT_METHOD` (the gateway of new orders, e.g. `banktransfer`)
//! and `STATE_TABLE` (the DynamoDB table of the provisioning records).
//! Deployed, the secrets come from Secrets Manager ([`SECRETS`]).

use portal_core::config::{Config, ConfigError, Env, SecretVariable};
use salesforce::SalesforceConfig;
use whmcs::WhmcsConfig;

/// The provisioner's own variables.
pub const VARIABLES: &[&str] = &["WHMCS_PAYMENT_METHOD", "STATE_TABLE"];
/// Every variable it reads, its own and the clients' (tests/deploy checks the template).
pub const ALL_VARIABLES: &[&[&str]] = &[
    VARIABLES,
    salesforce::config::VARIABLES,
    whmcs::config::VARIABLES,
];
/// The variables read from Secrets Manager at cold start.
pub const SECRETS: &[SecretVariable] = &[
    salesforce::config::PRIVATE_KEY_SECRET,
    whmcs::config::SECRETS[0],
    whmcs::config::SECRETS[1],
    whmcs::config::SECRETS[2],
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

impl Config for ProvisionerConfig {
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            payment_method: env.required("WHMCS_PAYMENT_METHOD")?,
            state_table: env.required("STATE_TABLE")?,
            whmcs: WhmcsConfig::read(env)?,
            salesforce: SalesforceConfig::read(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use base64::Engine as _;
    use portal_core::config::{names, read_recording};

    use super::*;

    fn env() -> HashMap<&'static str, String> {
        let key = base64::engine::general_purpose::STANDARD.encode(include_str!(
            "../../salesforce/tests/fixtures/unit-test-key.pem"
        ));
        [
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
            ("SF_PRIVATE_KEY_BASE64", &key),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect()
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
            let mut vars = env();
            vars.remove(var);
            let message = ProvisionerConfig::from_lookup(|name| vars.get(name).cloned())
                .expect_err("a variable is missing")
                .to_string();
            assert!(message.contains(var), "{message} should name {var}");
            assert!(
                !message.contains("secret"),
                "{message} must not show a value"
            );
        }
    }

    #[test]
    fn all_variables_should_list_exactly_what_it_reads() {
        let vars = env();
        let (config, read) = read_recording::<ProvisionerConfig>(|name| vars.get(name).cloned());
        config.expect("a complete environment");
        assert_eq!(read, names(ALL_VARIABLES));
        for secret in SECRETS {
            assert!(
                read.contains(secret.variable),
                "{} is read",
                secret.variable
            );
        }
    }
}
