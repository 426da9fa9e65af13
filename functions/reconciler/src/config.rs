//! The reconciler's configuration, read once at cold start from the
//! environment; a missing or malformed variable fails the start with its name.
//!
//! | variable | what |
//! | --- | --- |
//! | `SF_*` | the Salesforce connection (see `salesforce::SalesforceConfig`) |
//! | `STATE_TABLE` | the DynamoDB table (provisioning records, attempts, replay gaps) |
//! | `PROVISIONING_QUEUE_URL` | the FIFO queue Orders are re-enqueued to |
//! | `PROVISIONING_DLQ_URL` | the provisioning queue's dead-letter queue (depth only) |
//! | `EVENT_DLQ_URL` | the subscriber's dead-letter queue (depth only) |
//! | `RECONCILER_STUCK_AFTER_MINUTES` | an Order `Activating` (or a record unclaimed) this long is stuck (15) |
//! | `RECONCILER_BACKOFF_BASE_MINUTES` | the wait after the first re-enqueue, doubled each time (15) |
//! | `RECONCILER_BACKOFF_CAP_MINUTES` | the longest wait (360) |
//! | `RECONCILER_MAX_ATTEMPTS` | re-enqueues per Order before it is reported instead (8) |
//!
//! Deployed, `SF_PRIVATE_KEY_BASE64` is not an environment value:
//! `SF_PRIVATE_KEY_SECRET_ARN` names the secret, read once at cold start ([`SECRETS`]).

use chrono::TimeDelta;
use portal_aws::SecretVariable;
use portal_core::config::Env;
use portal_core::reconcile::ReconcileSettings;
use salesforce::SalesforceConfig;

/// The state table variable.
pub const STATE_TABLE_VAR: &str = "STATE_TABLE";
/// The provisioning queue variable.
pub const PROVISIONING_QUEUE_URL_VAR: &str = "PROVISIONING_QUEUE_URL";
/// The provisioning dead-letter queue variable.
pub const PROVISIONING_DLQ_URL_VAR: &str = "PROVISIONING_DLQ_URL";
/// The event dead-letter queue variable.
pub const EVENT_DLQ_URL_VAR: &str = "EVENT_DLQ_URL";
/// The stuck threshold variable (minutes).
pub const STUCK_AFTER_VAR: &str = "RECONCILER_STUCK_AFTER_MINUTES";
/// The backoff base variable (minutes).
pub const BACKOFF_BASE_VAR: &str = "RECONCILER_BACKOFF_BASE_MINUTES";
/// The backoff cap variable (minutes).
pub const BACKOFF_CAP_VAR: &str = "RECONCILER_BACKOFF_CAP_MINUTES";
/// The attempts variable.
pub const MAX_ATTEMPTS_VAR: &str = "RECONCILER_MAX_ATTEMPTS";

/// The reconciler's own variables.
pub const VARIABLES: &[&str] = &[
    STATE_TABLE_VAR,
    PROVISIONING_QUEUE_URL_VAR,
    PROVISIONING_DLQ_URL_VAR,
    EVENT_DLQ_URL_VAR,
    STUCK_AFTER_VAR,
    BACKOFF_BASE_VAR,
    BACKOFF_CAP_VAR,
    MAX_ATTEMPTS_VAR,
];

/// The secret holding `SF_PRIVATE_KEY_BASE64`.
pub const SF_PRIVATE_KEY_SECRET_ARN: &str = "SF_PRIVATE_KEY_SECRET_ARN";

/// The variables that may come from Secrets Manager, read at cold start by
/// [`portal_aws::SecretOverlay::from_env`].
pub const SECRETS: &[SecretVariable] = &[SecretVariable {
    variable: salesforce::config::PRIVATE_KEY_BASE64,
    arn_variable: SF_PRIVATE_KEY_SECRET_ARN,
    json_key: None,
}];

/// Every variable [`ReconcilerConfig::from_lookup`] reads, its own and the
/// Salesforce client's (tests/deploy checks that the SAM template sets them).
pub const ALL_VARIABLES: &[&[&str]] = &[VARIABLES, salesforce::config::VARIABLES];

/// Everything the reconciler needs to start.
#[derive(Debug)]
pub struct ReconcilerConfig {
    /// The Salesforce connection.
    pub salesforce: SalesforceConfig,
    /// The AWS resources.
    pub targets: AwsTargets,
    /// Thresholds and backoff.
    pub settings: ReconcileSettings,
}

/// The AWS resources the reconciler uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsTargets {
    /// The DynamoDB table.
    pub state_table: String,
    /// The provisioning queue.
    pub provisioning_queue_url: String,
    /// The provisioning queue's dead-letter queue.
    pub provisioning_dlq_url: String,
    /// The subscriber's dead-letter queue.
    pub event_dlq_url: String,
}

/// A variable is missing or malformed; the message names it (never its value).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A Salesforce variable.
    #[error(transparent)]
    Salesforce(#[from] salesforce::ConfigError),
    /// A required variable is unset or empty.
    #[error("{var} is not set")]
    Missing {
        /// The variable.
        var: &'static str,
    },
    /// A number variable is not a whole number in its range.
    #[error("{var} must be a whole number from {min} to {max}")]
    Number {
        /// The variable.
        var: &'static str,
        /// The least value.
        min: u32,
        /// The greatest value.
        max: u32,
    },
    /// The backoff cap is below its base.
    #[error("{BACKOFF_CAP_VAR} must not be below {BACKOFF_BASE_VAR}")]
    BackoffCap,
}

impl ReconcilerConfig {
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
        let number = |var: &'static str, default: u32, min: u32, max: u32| {
            env.number(var, default, min..=max)
                .map_err(|_| ConfigError::Number { var, min, max })
        };
        let state_table = required(STATE_TABLE_VAR)?;
        let provisioning_queue_url = required(PROVISIONING_QUEUE_URL_VAR)?;
        let provisioning_dlq_url = required(PROVISIONING_DLQ_URL_VAR)?;
        let event_dlq_url = required(EVENT_DLQ_URL_VAR)?;
        let stuck_after = number(STUCK_AFTER_VAR, 15, 1, 24 * 60)?;
        let backoff_base = number(BACKOFF_BASE_VAR, 15, 1, 24 * 60)?;
        let backoff_cap = number(BACKOFF_CAP_VAR, 360, 1, 7 * 24 * 60)?;
        let max_attempts = number(MAX_ATTEMPTS_VAR, 8, 1, 100)?;
        if backoff_cap < backoff_base {
            return Err(ConfigError::BackoffCap);
        }
        let salesforce = SalesforceConfig::from_lookup(&lookup)?;
        let minutes = |m: u32| TimeDelta::minutes(i64::from(m));
        Ok(Self {
            salesforce,
            targets: AwsTargets {
                state_table,
                provisioning_queue_url,
                provisioning_dlq_url,
                event_dlq_url,
            },
            settings: ReconcileSettings {
                stuck_after: minutes(stuck_after),
                unsettled_after: minutes(stuck_after),
                backoff_base: minutes(backoff_base),
                backoff_cap: minutes(backoff_cap),
                max_attempts,
                ..ReconcileSettings::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env() -> HashMap<&'static str, String> {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD.encode(include_str!(
            "../../salesforce/tests/fixtures/unit-test-key.pem"
        ));
        [
            ("STATE_TABLE", "state".to_owned()),
            ("PROVISIONING_QUEUE_URL", "https://sqs/q.fifo".to_owned()),
            ("PROVISIONING_DLQ_URL", "https://sqs/dlq.fifo".to_owned()),
            ("EVENT_DLQ_URL", "https://sqs/events.fifo".to_owned()),
            ("SF_LOGIN_URL", "https://login.salesforce.com".to_owned()),
            ("SF_CLIENT_ID", "client".to_owned()),
            ("SF_USERNAME", "integration@example.com".to_owned()),
            ("SF_PRIVATE_KEY_BASE64", key),
        ]
        .into_iter()
        .collect()
    }

    fn read(vars: &HashMap<&'static str, String>) -> Result<ReconcilerConfig, ConfigError> {
        ReconcilerConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn when_a_required_variable_is_missing_the_error_should_name_it() {
        for var in [
            "STATE_TABLE",
            "PROVISIONING_QUEUE_URL",
            "PROVISIONING_DLQ_URL",
            "EVENT_DLQ_URL",
            "SF_CLIENT_ID",
        ] {
            let mut vars = env();
            vars.remove(var);
            let message = read(&vars).expect_err("a variable is missing").to_string();
            assert!(message.contains(var), "{message} should name {var}");
        }
    }

    #[test]
    fn the_knobs_should_default_and_be_checked() {
        let config = read(&env()).expect("a complete environment");
        assert_eq!(config.settings, ReconcileSettings::default());
        let mut vars = env();
        vars.insert("RECONCILER_MAX_ATTEMPTS", "3".into());
        vars.insert("RECONCILER_STUCK_AFTER_MINUTES", "30".into());
        let config = read(&vars).unwrap();
        assert_eq!(config.settings.max_attempts, 3);
        assert_eq!(config.settings.stuck_after, TimeDelta::minutes(30));
        assert_eq!(config.settings.unsettled_after, TimeDelta::minutes(30));
        vars.insert("RECONCILER_MAX_ATTEMPTS", "0".into());
        assert!(
            read(&vars)
                .unwrap_err()
                .to_string()
                .contains("RECONCILER_MAX_ATTEMPTS")
        );
        let mut vars = env();
        vars.insert("RECONCILER_BACKOFF_CAP_MINUTES", "5".into());
        assert!(matches!(read(&vars), Err(ConfigError::BackoffCap)));
    }

    #[test]
    fn all_variables_should_list_exactly_what_from_lookup_reads() {
        let vars = env();
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        ReconcilerConfig::from_lookup(|name| {
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
            assert!(ALL_VARIABLES.iter().any(|l| l.contains(&secret.variable)));
        }
    }
}
