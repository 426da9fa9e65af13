//! [`SubscriberConfig`]: every setting of the subscriber task, read once at
//! start: the Salesforce and Pub/Sub clients' (`SF_*`, `SF_PUBSUB_*`) and
//! [`VARIABLES`]:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `PROVISIONING_QUEUE_URL` | required; the SQS FIFO provisioning queue |
//! | `DEAD_LETTER_QUEUE_URL` | required; where undeliverable events go |
//! | `STATE_TABLE` | required; the DynamoDB table (replay position, gaps, lease) |
//! | `SUBSCRIBER_BATCH` | default `100`; events kept requested, 1 to 100 |
//! | `SUBSCRIBER_WATCHDOG_SECS` | default: `SF_PUBSUB_WATCHDOG_SECS` or 300; a silent stream is restarted after this long |
//! | `SUBSCRIBER_LEASE_SECS` / `SUBSCRIBER_LEASE_POLL_SECS` | default `30` / `5`; the lease length (renewed every third), how often a waiting instance asks |
//! | `SUBSCRIBER_START_FROM` | `latest` (default) or `earliest`; used when no replay id is saved |
//! | `SUBSCRIBER_STOP_TIMEOUT_SECS` | default `25` (under ECS's 30 s stop timeout) |
//! | `SUBSCRIBER_INSTANCE_ID` | default: host name and process id |
//!
//! AWS region, credentials and `AWS_ENDPOINT_URL` come from the usual AWS
//! environment; the key comes from the task definition's `Secrets`.

use std::time::Duration;

use portal_core::config::{Config, ConfigError, Env};
use portal_core::ports::LeaseOwner;
use portal_core::workers::subscriber::{Settings, StartFrom};
use salesforce::SalesforceConfig;
use salesforce::pubsub::PubSubConfig;

/// The subscriber's own variables.
pub const VARIABLES: &[&str] = &[
    "PROVISIONING_QUEUE_URL",
    "DEAD_LETTER_QUEUE_URL",
    "STATE_TABLE",
    "SUBSCRIBER_BATCH",
    "SUBSCRIBER_WATCHDOG_SECS",
    "SUBSCRIBER_LEASE_SECS",
    "SUBSCRIBER_LEASE_POLL_SECS",
    "SUBSCRIBER_START_FROM",
    "SUBSCRIBER_STOP_TIMEOUT_SECS",
    "SUBSCRIBER_INSTANCE_ID",
];
/// Every variable it reads, its own and the clients' (tests/deploy checks the template).
pub const ALL_VARIABLES: &[&[&str]] = &[
    VARIABLES,
    salesforce::config::VARIABLES,
    salesforce::pubsub::config::VARIABLES,
];

/// Everything the subscriber task needs, validated.
#[derive(Debug)]
pub struct SubscriberConfig {
    /// The Salesforce client (JWT bearer login).
    pub salesforce: SalesforceConfig,
    /// The Pub/Sub API endpoint and watchdog.
    pub pubsub: PubSubConfig,
    /// The SQS FIFO provisioning queue.
    pub provisioning_queue_url: String,
    /// The dead-letter destination.
    pub dead_letter_queue_url: String,
    /// The DynamoDB state table.
    pub state_table: String,
    /// The loop's settings.
    pub settings: Settings,
}

impl Config for SubscriberConfig {
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let salesforce = SalesforceConfig::read(env)?;
        let pubsub = PubSubConfig::read(env)?;
        let watchdog = env.seconds("SUBSCRIBER_WATCHDOG_SECS", pubsub.watchdog())?;
        let pubsub = pubsub.with_watchdog(watchdog);
        let provisioning_queue_url = env.required("PROVISIONING_QUEUE_URL")?;
        let dead_letter_queue_url = env.required("DEAD_LETTER_QUEUE_URL")?;
        let state_table = env.required("STATE_TABLE")?;
        let var = "SUBSCRIBER_INSTANCE_ID";
        let instance = LeaseOwner::new(env.optional(var).unwrap_or_else(default_instance_id))
            .map_err(|e| {
                ConfigError::unparsable(var, "expected 1 to 256 printable ASCII characters", e)
            })?;
        let mut settings = Settings::new(instance);
        settings.flow_batch = env.number("SUBSCRIBER_BATCH", 100, 1..=100)?;
        settings.start_from = env.one_of(
            "SUBSCRIBER_START_FROM",
            StartFrom::Latest,
            &[
                ("latest", StartFrom::Latest),
                ("earliest", StartFrom::Earliest),
            ],
        )?;
        settings.lease_ttl = env.seconds("SUBSCRIBER_LEASE_SECS", Duration::from_secs(30))?;
        settings.lease_poll = env.seconds("SUBSCRIBER_LEASE_POLL_SECS", Duration::from_secs(5))?;
        settings.stop_timeout =
            env.seconds("SUBSCRIBER_STOP_TIMEOUT_SECS", Duration::from_secs(25))?;
        Ok(Self {
            salesforce,
            pubsub,
            provisioning_queue_url,
            dead_letter_queue_url,
            state_table,
            settings,
        })
    }
}

/// The host name and process id, e.g. `ip-10-0-1-23.ec2.internal-7`,
/// limited to printable ASCII.
fn default_instance_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "subscriber".to_owned());
    let host: String = host
        .chars()
        .filter(char::is_ascii_graphic)
        .take(200)
        .collect();
    format!("{host}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use base64::Engine as _;

    use super::*;

    /// A throwaway key from the Salesforce crate's test fixtures.
    const KEY_PEM: &str = include_str!("../../salesforce/tests/fixtures/unit-test-key.pem");

    fn encode(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn base() -> HashMap<String, String> {
        [
            ("SF_LOGIN_URL", "https://test.salesforce.com".to_owned()),
            ("SF_CLIENT_ID", "3MVGabc".to_owned()),
            ("SF_USERNAME", "integration@example.com".to_owned()),
            ("SF_PRIVATE_KEY_BASE64", encode(KEY_PEM.as_bytes())),
            (
                "PROVISIONING_QUEUE_URL",
                "https://sqs/123/prov.fifo".to_owned(),
            ),
            (
                "DEAD_LETTER_QUEUE_URL",
                "https://sqs/123/dlq.fifo".to_owned(),
            ),
            ("STATE_TABLE", "state".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    fn load(map: HashMap<String, String>) -> Result<SubscriberConfig, ConfigError> {
        SubscriberConfig::from_lookup(move |k| map.get(k).cloned())
    }

    #[test]
    fn when_complete_should_take_the_defaults() {
        let config = load(base()).unwrap();
        let s = &config.settings;
        assert_eq!(s.flow_batch, 100);
        assert_eq!(s.start_from, StartFrom::Latest);
        assert_eq!(s.lease_ttl, Duration::from_secs(30));
        assert_eq!(s.stop_timeout, Duration::from_secs(25));
        assert!(
            s.instance
                .as_str()
                .ends_with(&format!("-{}", std::process::id()))
        );
        assert_eq!(config.state_table, "state");
        assert!(
            !format!("{config:?}").contains("MII"),
            "the key never prints"
        );
    }

    #[test]
    fn when_set_should_read_every_subscriber_variable() {
        let mut map = base();
        for (k, v) in [
            ("SUBSCRIBER_BATCH", "10"),
            ("SUBSCRIBER_WATCHDOG_SECS", "45"),
            ("SUBSCRIBER_LEASE_SECS", "12"),
            ("SUBSCRIBER_LEASE_POLL_SECS", "2"),
            ("SUBSCRIBER_START_FROM", "EARLIEST"),
            ("SUBSCRIBER_STOP_TIMEOUT_SECS", "20"),
            ("SUBSCRIBER_INSTANCE_ID", "task-1"),
        ] {
            map.insert(k.to_owned(), v.to_owned());
        }
        let config = load(map).unwrap();
        let s = &config.settings;
        assert_eq!(s.flow_batch, 10);
        assert_eq!(config.pubsub.watchdog(), Duration::from_secs(45));
        assert_eq!(s.lease_ttl, Duration::from_secs(12));
        assert_eq!(s.renew_every(), Duration::from_secs(4));
        assert_eq!(s.lease_poll, Duration::from_secs(2));
        assert_eq!(s.start_from, StartFrom::Earliest);
        assert_eq!(s.stop_timeout, Duration::from_secs(20));
        assert_eq!(s.instance.as_str(), "task-1");
    }

    #[test]
    fn when_missing_or_malformed_should_name_the_variable() {
        for var in [
            "PROVISIONING_QUEUE_URL",
            "DEAD_LETTER_QUEUE_URL",
            "STATE_TABLE",
        ] {
            let mut map = base();
            map.remove(var);
            assert_eq!(
                load(map).unwrap_err().to_string(),
                format!("{var} is not set")
            );
        }
        for (var, value) in [
            ("SUBSCRIBER_BATCH", "0"),
            ("SUBSCRIBER_BATCH", "101"),
            ("SUBSCRIBER_WATCHDOG_SECS", "never"),
            ("SUBSCRIBER_LEASE_SECS", "0"),
            ("SUBSCRIBER_START_FROM", "yesterday"),
            ("SUBSCRIBER_STOP_TIMEOUT_SECS", "-1"),
            ("SUBSCRIBER_INSTANCE_ID", "has space"),
        ] {
            let mut map = base();
            map.insert(var.to_owned(), value.to_owned());
            let err = load(map).unwrap_err().to_string();
            assert!(err.contains(var), "{var}: {err}");
        }
        let mut map = base();
        map.remove("SF_USERNAME");
        assert!(load(map).unwrap_err().to_string().contains("SF_USERNAME"));
    }

    #[test]
    fn all_variables_should_list_exactly_what_it_reads() {
        let map = base();
        let (config, read) =
            portal_core::config::read_recording::<SubscriberConfig>(|name| map.get(name).cloned());
        config.unwrap();
        assert_eq!(read, portal_core::config::names(ALL_VARIABLES));
    }
}
