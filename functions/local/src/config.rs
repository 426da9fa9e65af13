//! The runner's settings, all optional, read once from the environment.
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `PORT` | `3000` | the API's port on 127.0.0.1 (`0`: any free port) |
//! | `SF_EMULATOR_BIND` | `127.0.0.1:8081` | where the emulated org listens |
//! | `SF_EMULATOR_ADMIN_TOKEN` | `local-admin` | the org's static staff token |
//! | `SF_LOGIN_URL` (+ the other `SF_*`) | unset | use this real org instead of the emulator |
//! | `PORTAL_TIMEZONE` | `Asia/Tokyo` | where "today" is judged |
//! | `PORTAL_PRICEBOOK_ID` | the standard price book | the price book the portal sells from |

use std::net::{Ipv4Addr, SocketAddr};

use portal_core::portal::PortalSettings;
use portal_http::config::{PRICEBOOK_ID, settings_from_lookup};
use salesforce::SalesforceConfig;
use salesforce::portal::PriceBook;
use salesforce_emulator::config::DEFAULT_ADMIN_TOKEN;

/// The API's default port.
pub const DEFAULT_PORT: u16 = 3000;
/// The emulated org's default address.
pub const DEFAULT_ORG_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8081);

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
}

/// Which org the API talks to.
#[derive(Debug)]
pub enum SalesforceTarget {
    /// An emulated org started in-process.
    Emulator {
        /// Where it listens.
        bind: SocketAddr,
        /// Its static staff token.
        admin_token: String,
    },
    /// A real org (sandbox or production), from the `SF_*` settings.
    Real(Box<SalesforceConfig>),
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
}

impl LocalConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, LocalConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (empty values count as unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LocalConfigError> {
        let get = |name: &str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.trim().to_owned())
        };
        let port = match get("PORT") {
            None => DEFAULT_PORT,
            Some(v) => v.parse().map_err(|_| LocalConfigError::Invalid {
                var: "PORT",
                reason: format!("expected a port number, got {v:?}"),
            })?,
        };
        let salesforce = if get(salesforce::config::LOGIN_URL).is_some() {
            SalesforceTarget::Real(Box::new(SalesforceConfig::from_lookup(&lookup)?))
        } else {
            let bind = match get("SF_EMULATOR_BIND") {
                None => DEFAULT_ORG_BIND,
                Some(v) => v.parse().map_err(|_| LocalConfigError::Invalid {
                    var: "SF_EMULATOR_BIND",
                    reason: format!("expected host:port, got {v:?}"),
                })?,
            };
            SalesforceTarget::Emulator {
                bind,
                admin_token: get("SF_EMULATOR_ADMIN_TOKEN")
                    .unwrap_or_else(|| DEFAULT_ADMIN_TOKEN.to_owned()),
            }
        };
        let price_book = PriceBook::from_setting(get(PRICEBOOK_ID).as_deref()).map_err(|e| {
            LocalConfigError::Invalid {
                var: PRICEBOOK_ID,
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            api_bind: SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            salesforce,
            settings: settings_from_lookup(&lookup)?,
            price_book,
        })
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
            SalesforceTarget::Emulator { bind, admin_token } => {
                assert_eq!(bind.to_string(), "127.0.0.1:8081");
                assert_eq!(admin_token, "local-admin");
            }
            SalesforceTarget::Real(_) => panic!("expected the emulator"),
        }
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
