//! The runner's settings, all optional, read once from the environment.
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `PORT` | `3000` | the API's port on 127.0.0.1 (`0`: any free port) |
//! | `SF_EMULATOR_BIND` | `127.0.0.1:8081` | where the emulated org listens |
//! | `SF_EMULATOR_PUBSUB_BIND` | `127.0.0.1:8082` | where the emulated org's Pub/Sub gRPC API listens |
//! | `SF_EMULATOR_ADMIN_TOKEN` | `local-admin` | the org's static staff token |
//! | `SF_EMULATOR_DAILY_API_LIMIT` | `15000` | the emulated org's API allocation over a rolling 24 hours |
//! | `SF_REQUEST_TIMEOUT_MS` | `20000` | the API's timeout of each call to the emulated org too |
//! | `SF_LOGIN_URL` (+ the other `SF_*`) | unset | use this real org instead of the emulator |
//! | `SF_PUBSUB_ENDPOINT` (+ `SF_PUBSUB_*`) | the global endpoint | the real org's Pub/Sub API |
//! | `WHMCS_EMULATOR_BIND` | `127.0.0.1:8083` | where the emulated WHMCS listens |
//! | `WHMCS_API_URL` (+ the other `WHMCS_*`) | unset | use this WHMCS instead of the emulator |
//! | `WHMCS_PAYMENT_METHOD` | `banktransfer` | the payment gateway of new WHMCS orders |
//! | `PROVISIONER_DEADLINE_SECS` | `60` | how long one receive of up to five messages may take (the Lambda's timeout; leases end 2 s before) |
//! | `RECONCILER_EVERY_SECS` | `60` | how often the reconciler runs (the EventBridge schedule in AWS) |
//! | `STATE_TABLE` | unset: state in memory | keep the state in this DynamoDB table and the queues in SQS (below), at `AWS_ENDPOINT_URL` (a moto server) or in AWS; created when missing |
//! | `PROVISIONING_QUEUE` / `PROVISIONING_DLQ` / `EVENT_DLQ` | `portal-provisioning.fifo` / `portal-provisioning-dlq.fifo` / `portal-events-dlq.fifo` | the SQS queue names, with `STATE_TABLE` |
//! | `PORTAL_*` | as in Lambda | the API's settings (`PORTAL_TIMEZONE`, `PORTAL_PRICEBOOK_ID`, limits…) |

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use portal_core::config::{Config, ConfigError, Env};
use portal_core::portal::PortalSettings;
use portal_http::IdentitySettings;
use portal_http::config::{portal_settings, price_book};
use salesforce::SalesforceConfig;
use salesforce::portal::PriceBook;
use salesforce::pubsub::PubSubConfig;
use salesforce_emulator::config::DEFAULT_ADMIN_TOKEN;
use whmcs::WhmcsConfig;

/// The setting of the emulated org's API allocation.
pub const DAILY_API_LIMIT: &str = "SF_EMULATOR_DAILY_API_LIMIT";

/// Which org the API talks to.
#[derive(Debug)]
pub enum SalesforceTarget {
    /// An emulated org started in-process.
    Emulator {
        /// Where its REST API listens.
        bind: SocketAddr,
        /// Where its Pub/Sub gRPC API listens.
        pubsub_bind: SocketAddr,
        /// Its static staff token.
        admin_token: String,
        /// Its API allocation over a rolling 24 hours.
        daily_api_limit: u64,
        /// The timeout of each call to it (`SF_REQUEST_TIMEOUT_MS`).
        request_timeout: Duration,
    },
    /// A real org (sandbox or production), from the `SF_*` settings.
    Real(Box<SalesforceConfig>, PubSubConfig),
}

/// Which WHMCS the provisioner orders in.
#[derive(Debug)]
pub enum WhmcsTarget {
    /// The WHMCS emulator started in-process (credentials `local`/`local`).
    Emulator {
        /// Where it listens.
        bind: SocketAddr,
    },
    /// A real WHMCS, from the `WHMCS_*` settings.
    Real(WhmcsConfig),
}

/// Where the state lives: in memory, or in DynamoDB and SQS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateTarget {
    /// In-memory twins of the table and the queues (gone when it stops).
    InMemory,
    /// A DynamoDB table and SQS queues at the AWS SDK's endpoint.
    Aws {
        /// The table.
        table: String,
        /// The provisioning queue's name (FIFO).
        provisioning_queue: String,
        /// Its dead-letter queue's name.
        provisioning_dlq: String,
        /// The subscriber's dead-letter queue's name.
        event_dlq: String,
    },
}

/// Everything the runner reads at start.
#[derive(Debug)]
pub struct LocalConfig {
    /// The API's address.
    pub api_bind: SocketAddr,
    /// The org.
    pub salesforce: SalesforceTarget,
    /// The use cases' settings.
    pub settings: PortalSettings,
    /// The price book the portal sells from.
    pub price_book: PriceBook,
    /// Login links and per-login limits (`PORTAL_LINK_CACHE_SECS`, `PORTAL_POSTS_PER_*`, …).
    pub identity: IdentitySettings,
    /// The WHMCS.
    pub whmcs: WhmcsTarget,
    /// The payment gateway of new WHMCS orders.
    pub payment_method: String,
    /// How long one receive of the provisioner may take (the Lambda's timeout in AWS).
    pub provisioner_deadline: Duration,
    /// How often the reconciler runs (the EventBridge schedule in AWS).
    pub reconcile_every: Duration,
    /// Where the state lives.
    pub state: StateTarget,
}

impl Config for LocalConfig {
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let address = |var: &'static str, default: u16| {
            env.parsed(var, "expected host:port", str::parse::<SocketAddr>)
                .map(|bind| bind.unwrap_or_else(|| localhost(default)))
        };
        let salesforce = if env.optional(salesforce::config::LOGIN_URL).is_some() {
            SalesforceTarget::Real(
                Box::new(SalesforceConfig::read(env)?),
                PubSubConfig::read(env)?,
            )
        } else {
            SalesforceTarget::Emulator {
                bind: address("SF_EMULATOR_BIND", 8081)?,
                pubsub_bind: address("SF_EMULATOR_PUBSUB_BIND", 8082)?,
                admin_token: env.or("SF_EMULATOR_ADMIN_TOKEN", DEFAULT_ADMIN_TOKEN),
                daily_api_limit: env.number(DAILY_API_LIMIT, 15_000, 1..=u64::MAX)?,
                request_timeout: env.millis(
                    "SF_REQUEST_TIMEOUT_MS",
                    salesforce::config::DEFAULT_REQUEST_TIMEOUT,
                )?,
            }
        };
        let whmcs = if env.optional("WHMCS_API_URL").is_some() {
            WhmcsTarget::Real(WhmcsConfig::read(env)?)
        } else {
            WhmcsTarget::Emulator {
                bind: address("WHMCS_EMULATOR_BIND", 8083)?,
            }
        };
        let state = match env.optional("STATE_TABLE") {
            None => StateTarget::InMemory,
            Some(table) => StateTarget::Aws {
                table,
                provisioning_queue: env.or("PROVISIONING_QUEUE", "portal-provisioning.fifo"),
                provisioning_dlq: env.or("PROVISIONING_DLQ", "portal-provisioning-dlq.fifo"),
                event_dlq: env.or("EVENT_DLQ", "portal-events-dlq.fifo"),
            },
        };
        Ok(Self {
            api_bind: localhost(env.number("PORT", 3000, 0..=u16::MAX)?),
            salesforce,
            settings: portal_settings(env)?,
            price_book: price_book(env)?,
            identity: IdentitySettings::read(env)?,
            whmcs,
            payment_method: env.or("WHMCS_PAYMENT_METHOD", "banktransfer"),
            provisioner_deadline: env
                .seconds("PROVISIONER_DEADLINE_SECS", Duration::from_secs(60))?,
            reconcile_every: env.seconds("RECONCILER_EVERY_SECS", Duration::from_secs(60))?,
            state,
        })
    }
}

fn localhost(port: u16) -> SocketAddr {
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_nothing_is_set_should_run_everything_on_the_documented_defaults() {
        let config = LocalConfig::from_lookup(|_| None).unwrap();
        assert_eq!(config.api_bind.to_string(), "127.0.0.1:3000");
        match config.salesforce {
            SalesforceTarget::Emulator {
                bind,
                pubsub_bind,
                admin_token,
                daily_api_limit,
                ..
            } => {
                assert_eq!(bind.to_string(), "127.0.0.1:8081");
                assert_eq!(pubsub_bind.to_string(), "127.0.0.1:8082");
                assert_eq!(admin_token, "local-admin");
                assert_eq!(daily_api_limit, 15_000);
            }
            SalesforceTarget::Real(..) => panic!("expected the emulator"),
        }
        match config.whmcs {
            WhmcsTarget::Emulator { bind } => assert_eq!(bind.to_string(), "127.0.0.1:8083"),
            WhmcsTarget::Real(_) => panic!("expected the WHMCS emulator"),
        }
        assert_eq!(config.payment_method, "banktransfer");
        assert_eq!(config.provisioner_deadline, Duration::from_secs(60));
        assert_eq!(config.reconcile_every, Duration::from_secs(60));
    }

    #[test]
    fn the_emulated_orgs_api_allocation_is_a_setting() {
        let lookup = |value: &'static str| {
            move |name: &str| (name == DAILY_API_LIMIT).then(|| value.to_owned())
        };
        match LocalConfig::from_lookup(lookup("1000000"))
            .unwrap()
            .salesforce
        {
            SalesforceTarget::Emulator {
                daily_api_limit, ..
            } => assert_eq!(daily_api_limit, 1_000_000),
            SalesforceTarget::Real(..) => panic!("expected the emulator"),
        }
        for bad in ["0", "-1", "many"] {
            let err = LocalConfig::from_lookup(lookup(bad)).unwrap_err();
            assert!(err.to_string().contains(DAILY_API_LIMIT), "{err}");
        }
    }

    #[test]
    fn when_a_real_whmcs_is_named_should_use_it_and_need_its_credentials() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let err = LocalConfig::from_lookup(env(&[(
            "WHMCS_API_URL",
            "https://billing.example.jp/includes/api.php",
        )]))
        .unwrap_err();
        assert!(err.to_string().contains("WHMCS_API_IDENTIFIER"), "{err}");
        let config = LocalConfig::from_lookup(env(&[
            (
                "WHMCS_API_URL",
                "https://billing.example.jp/includes/api.php",
            ),
            ("WHMCS_API_IDENTIFIER", "id"),
            ("WHMCS_API_SECRET", "secret"),
        ]))
        .unwrap();
        match config.whmcs {
            WhmcsTarget::Real(whmcs) => {
                assert_eq!(whmcs.api_url.host_str(), Some("billing.example.jp"))
            }
            WhmcsTarget::Emulator { .. } => panic!("expected the real WHMCS"),
        }
        let err = LocalConfig::from_lookup(env(&[("PROVISIONER_DEADLINE_SECS", "0")])).unwrap_err();
        assert!(
            err.to_string().contains("PROVISIONER_DEADLINE_SECS"),
            "{err}"
        );
        let err = LocalConfig::from_lookup(env(&[("RECONCILER_EVERY_SECS", "soon")])).unwrap_err();
        assert!(err.to_string().contains("RECONCILER_EVERY_SECS"), "{err}");
        let config = LocalConfig::from_lookup(env(&[("RECONCILER_EVERY_SECS", "5")])).unwrap();
        assert_eq!(config.reconcile_every, Duration::from_secs(5));
    }

    #[test]
    fn when_a_state_table_is_named_should_keep_the_state_in_aws() {
        let config = LocalConfig::from_lookup(|_| None).unwrap();
        assert_eq!(config.state, StateTarget::InMemory);
        let config = LocalConfig::from_lookup(|name| {
            (name == "STATE_TABLE").then(|| "portal-local".to_owned())
        })
        .unwrap();
        assert_eq!(
            config.state,
            StateTarget::Aws {
                table: "portal-local".into(),
                provisioning_queue: "portal-provisioning.fifo".into(),
                provisioning_dlq: "portal-provisioning-dlq.fifo".into(),
                event_dlq: "portal-events-dlq.fifo".into(),
            }
        );
    }

    #[test]
    fn when_a_real_org_is_named_should_need_its_settings() {
        let err = LocalConfig::from_lookup(|name| {
            (name == "SF_LOGIN_URL").then(|| "https://test.salesforce.com".to_owned())
        })
        .unwrap_err();
        assert!(err.to_string().contains("SF_CLIENT_ID"), "{err}");
        let err = LocalConfig::from_lookup(|name| (name == "PORT").then(|| "http".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("PORT"), "{err}");
    }
}
