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
//! | `PORTAL_TIMEZONE` | `Asia/Tokyo` | where "today" is judged |
//! | `PORTAL_PRICEBOOK_ID` | the standard price book | the price book the portal sells from |

use std::net::{Ipv4Addr, SocketAddr};

use std::time::Duration;

use portal_core::config::{Env, VarError};
use portal_core::portal::PortalSettings;
use portal_http::IdentitySettings;
use portal_http::config::{PRICEBOOK_ID, identity_from_lookup, settings_from_lookup};
use salesforce::SalesforceConfig;
use salesforce::portal::PriceBook;
use salesforce::pubsub::{PubSubConfig, PubSubConfigError};
use salesforce_emulator::config::DEFAULT_ADMIN_TOKEN;
use whmcs::WhmcsConfig;

/// The API's default port.
pub const DEFAULT_PORT: u16 = 3000;
/// The emulated org's default address.
pub const DEFAULT_ORG_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8081);
/// The emulated org's default Pub/Sub gRPC address.
pub const DEFAULT_PUBSUB_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8082);
/// The setting of the emulated org's API allocation.
pub const DAILY_API_LIMIT: &str = "SF_EMULATOR_DAILY_API_LIMIT";
/// The emulated org's default API allocation over a rolling 24 hours (a Developer
/// Edition org's).
pub const DEFAULT_DAILY_API_LIMIT: u64 = 15_000;
/// The emulated WHMCS's default address.
pub const DEFAULT_WHMCS_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8083);
/// The default payment gateway of new WHMCS orders (active in the emulator).
pub const DEFAULT_PAYMENT_METHOD: &str = "banktransfer";
/// The default time one provisioning attempt may take.
pub const DEFAULT_PROVISIONER_DEADLINE: Duration = Duration::from_secs(60);
/// How often the reconciler runs by default.
pub const DEFAULT_RECONCILE_EVERY: Duration = Duration::from_secs(60);

/// A malformed setting; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum LocalConfigError {
    /// A value of the wrong form.
    #[error("{var} is not valid: {reason}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is expected.
        reason: String,
    },
    /// The API settings.
    #[error(transparent)]
    Api(#[from] portal_http::ConfigError),
    /// The real org's settings.
    #[error(transparent)]
    Salesforce(#[from] salesforce::ConfigError),
    /// The real org's Pub/Sub settings.
    #[error(transparent)]
    PubSub(#[from] PubSubConfigError),
    /// The real WHMCS's settings.
    #[error(transparent)]
    Whmcs(#[from] whmcs::ConfigError),
}

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
        /// Its API request allocation over a rolling 24 hours.
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
    /// How long one provisioning attempt may take (the Lambda's timeout in AWS).
    pub provisioner_deadline: Duration,
    /// How often the reconciler runs (the EventBridge schedule in AWS).
    pub reconcile_every: Duration,
}

impl LocalConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, LocalConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (empty values count as unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LocalConfigError> {
        let env = Env::new(&lookup).echo_values();
        let port = env
            .parsed("PORT", |v| {
                v.parse()
                    .map_err(|_| format!("expected a port number, got {v:?}"))
            })
            .map_err(invalid)?
            .unwrap_or(DEFAULT_PORT);
        let address = |var: &'static str, default: SocketAddr| {
            env.parsed(var, |v| {
                v.parse()
                    .map_err(|_| format!("expected host:port, got {v:?}"))
            })
            .map(|bind| bind.unwrap_or(default))
            .map_err(invalid)
        };
        let salesforce = if env.optional(salesforce::config::LOGIN_URL).is_some() {
            SalesforceTarget::Real(
                Box::new(SalesforceConfig::from_lookup(&lookup)?),
                PubSubConfig::from_lookup(&lookup)?,
            )
        } else {
            SalesforceTarget::Emulator {
                bind: address("SF_EMULATOR_BIND", DEFAULT_ORG_BIND)?,
                pubsub_bind: address("SF_EMULATOR_PUBSUB_BIND", DEFAULT_PUBSUB_BIND)?,
                admin_token: env
                    .optional("SF_EMULATOR_ADMIN_TOKEN")
                    .unwrap_or_else(|| DEFAULT_ADMIN_TOKEN.to_owned()),
                daily_api_limit: env
                    .parsed(DAILY_API_LIMIT, |v| {
                        v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                            format!("expected a positive number of calls, got {v:?}")
                        })
                    })
                    .map_err(invalid)?
                    .unwrap_or(DEFAULT_DAILY_API_LIMIT),
                request_timeout: env
                    .millis(
                        salesforce::config::REQUEST_TIMEOUT_MS,
                        salesforce::config::DEFAULT_REQUEST_TIMEOUT,
                    )
                    .map_err(invalid)?,
            }
        };
        let price_book =
            PriceBook::from_setting(env.optional(PRICEBOOK_ID).as_deref()).map_err(|e| {
                LocalConfigError::Invalid {
                    var: PRICEBOOK_ID,
                    reason: e.to_string(),
                }
            })?;
        let whmcs = if env.optional("WHMCS_API_URL").is_some() {
            WhmcsTarget::Real(WhmcsConfig::from_lookup(&lookup)?)
        } else {
            WhmcsTarget::Emulator {
                bind: address("WHMCS_EMULATOR_BIND", DEFAULT_WHMCS_BIND)?,
            }
        };
        let provisioner_deadline = env
            .seconds("PROVISIONER_DEADLINE_SECS", DEFAULT_PROVISIONER_DEADLINE)
            .map_err(invalid)?;
        let reconcile_every = env
            .seconds("RECONCILER_EVERY_SECS", DEFAULT_RECONCILE_EVERY)
            .map_err(invalid)?;
        Ok(Self {
            api_bind: SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            salesforce,
            settings: settings_from_lookup(&lookup)?,
            price_book,
            identity: identity_from_lookup(&lookup)?,
            whmcs,
            payment_method: env
                .optional("WHMCS_PAYMENT_METHOD")
                .unwrap_or_else(|| DEFAULT_PAYMENT_METHOD.to_owned()),
            provisioner_deadline,
            reconcile_every,
        })
    }
}

/// The error of a reader that cannot be missing (every setting here has a
/// default), so it is always `Invalid`.
fn invalid(err: VarError) -> LocalConfigError {
    let var = err.var();
    match err {
        VarError::Invalid { reason, .. } => LocalConfigError::Invalid { var, reason },
        VarError::Missing { .. } => LocalConfigError::Invalid {
            var,
            reason: "is not set".to_owned(),
        },
    }
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
