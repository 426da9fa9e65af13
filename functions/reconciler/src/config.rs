//! The reconciler's configuration, read once at cold start: the Salesforce
//! client's settings (`SF_*`, the key from Secrets Manager when deployed:
//! [`SECRETS`]) and [`VARIABLES`]:
//!
//! | variable | what |
//! | --- | --- |
//! | `STATE_TABLE` | the DynamoDB table (provisioning records, attempts, replay gaps) |
//! | `PROVISIONING_QUEUE_URL` | the FIFO queue Orders are re-enqueued to |
//! | `PROVISIONING_DLQ_URL` / `EVENT_DLQ_URL` | the dead-letter queues (depth only) |
//! | `RECONCILER_STUCK_AFTER_MINUTES` | an Order `Activating` (or a record unclaimed) this long is stuck (15) |
//! | `RECONCILER_BACKOFF_BASE_MINUTES` / `…_CAP_MINUTES` | the wait after the first re-enqueue, doubled each time (15), and the longest (360) |
//! | `RECONCILER_MAX_ATTEMPTS` | re-enqueues per Order before it is reported instead (8) |

use chrono::TimeDelta;
use portal_core::config::{Config, ConfigError, Env, SecretVariable};
use portal_core::reconcile::ReconcileSettings;
use salesforce::SalesforceConfig;

/// The reconciler's own variables.
pub const VARIABLES: &[&str] = &[
    "STATE_TABLE",
    "PROVISIONING_QUEUE_URL",
    "PROVISIONING_DLQ_URL",
    "EVENT_DLQ_URL",
    "RECONCILER_STUCK_AFTER_MINUTES",
    "RECONCILER_BACKOFF_BASE_MINUTES",
    "RECONCILER_BACKOFF_CAP_MINUTES",
    "RECONCILER_MAX_ATTEMPTS",
];
/// Every variable it reads, its own and the client's (tests/deploy checks the template).
pub const ALL_VARIABLES: &[&[&str]] = &[VARIABLES, salesforce::config::VARIABLES];
/// The variables read from Secrets Manager at cold start.
pub const SECRETS: &[SecretVariable] = &[salesforce::config::PRIVATE_KEY_SECRET];

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

impl Config for AwsTargets {
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            state_table: env.required("STATE_TABLE")?,
            provisioning_queue_url: env.required("PROVISIONING_QUEUE_URL")?,
            provisioning_dlq_url: env.required("PROVISIONING_DLQ_URL")?,
            event_dlq_url: env.required("EVENT_DLQ_URL")?,
        })
    }
}

impl Config for ReconcilerConfig {
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let targets = AwsTargets::read(env)?;
        let minutes = |var, default: u32, max: u32| {
            env.number(var, default, 1..=max)
                .map(|m| TimeDelta::minutes(i64::from(m)))
        };
        let stuck_after = minutes("RECONCILER_STUCK_AFTER_MINUTES", 15, 24 * 60)?;
        let backoff_base = minutes("RECONCILER_BACKOFF_BASE_MINUTES", 15, 24 * 60)?;
        let backoff_cap = minutes("RECONCILER_BACKOFF_CAP_MINUTES", 360, 7 * 24 * 60)?;
        let max_attempts = env.number("RECONCILER_MAX_ATTEMPTS", 8, 1..=100)?;
        if backoff_cap < backoff_base {
            return Err(ConfigError::invalid(
                "RECONCILER_BACKOFF_CAP_MINUTES",
                "must not be below RECONCILER_BACKOFF_BASE_MINUTES",
            ));
        }
        Ok(Self {
            salesforce: SalesforceConfig::read(env)?,
            targets,
            settings: ReconcileSettings {
                stuck_after,
                unsettled_after: stuck_after,
                backoff_base,
                backoff_cap,
                max_attempts,
                ..ReconcileSettings::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use portal_core::config::{names, read_recording};

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
        assert_eq!(
            read(&vars).unwrap_err().var(),
            "RECONCILER_BACKOFF_CAP_MINUTES"
        );
    }

    #[test]
    fn all_variables_should_list_exactly_what_it_reads() {
        let vars = env();
        let (config, read) = read_recording::<ReconcilerConfig>(|name| vars.get(name).cloned());
        config.expect("a complete environment");
        assert_eq!(read, names(ALL_VARIABLES));
        for secret in SECRETS {
            assert!(read.contains(secret.variable));
        }
    }
}
