//! The WHMCS the provisioner orders in: the emulator (credentials
//! `local`/`local`, the seeded catalog, `banktransfer` active), or a real one.

use std::net::SocketAddr;

use portal_core::config::{Config as _, ConfigError};
use whmcs::{WhmcsClient, WhmcsConfig, WhmcsError};
use whmcs_emulator::{EmulatorError, WhmcsEmulator, WhmcsEmulatorConfig};

use crate::config::WhmcsTarget;

/// Why the WHMCS could not be started or reached.
#[derive(Debug, thiserror::Error)]
pub enum WhmcsComponentError {
    /// The emulator did not start (e.g. its port is taken).
    #[error("starting the WHMCS emulator failed")]
    Emulator(#[from] EmulatorError),
    /// The emulator's URL did not make a client configuration.
    #[error("configuring the WHMCS client failed")]
    Config(#[from] ConfigError),
    /// The client could not be built.
    #[error("building the WHMCS client failed")]
    Client(#[from] WhmcsError),
}

/// The WHMCS in use, with a client of its API.
#[derive(Debug)]
pub struct RunningWhmcs {
    /// The emulator, when WHMCS is emulated (dropping it stops it).
    pub emulator: Option<WhmcsEmulator>,
    /// The API URL (`…/includes/api.php`).
    pub url: String,
    /// The emulator's API identifier and secret (never set for a real WHMCS).
    pub credentials: Option<(String, String)>,
    /// The client the provisioner uses.
    pub client: WhmcsClient,
}

/// Starts the emulator or connects to the configured WHMCS.
pub async fn start(target: WhmcsTarget) -> Result<RunningWhmcs, WhmcsComponentError> {
    match target {
        WhmcsTarget::Emulator { bind } => start_emulator(bind).await,
        WhmcsTarget::Real(config) => Ok(RunningWhmcs {
            url: config.api_url.to_string(),
            emulator: None,
            credentials: None,
            client: WhmcsClient::new(config)?,
        }),
    }
}

async fn start_emulator(bind: SocketAddr) -> Result<RunningWhmcs, WhmcsComponentError> {
    let emulator = WhmcsEmulator::start(WhmcsEmulatorConfig {
        bind,
        ..WhmcsEmulatorConfig::default()
    })
    .await?;
    let defaults = WhmcsEmulatorConfig::default();
    let url = emulator.api_url();
    let (identifier, secret) = (defaults.identifier, defaults.secret);
    let config = WhmcsConfig::from_lookup(|name| match name {
        "WHMCS_API_URL" => Some(url.clone()),
        "WHMCS_API_IDENTIFIER" => Some(identifier.clone()),
        "WHMCS_API_SECRET" => Some(secret.clone()),
        _ => None,
    })?;
    Ok(RunningWhmcs {
        client: WhmcsClient::new(config)?,
        emulator: Some(emulator),
        credentials: Some((identifier, secret)),
        url,
    })
}
