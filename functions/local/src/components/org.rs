//! The Salesforce org the API talks to: the emulated one (REST, OAuth JWT
//! bearer, Pub/Sub gRPC, the Order Approval Flow, the seeded catalog, the
//! static staff token), or a real one.

use std::net::SocketAddr;

use portal_core::config::ConfigError;
use salesforce::pubsub::PubSubConfig;
use salesforce::{SalesforceClient, SalesforceConfig, SalesforceError};
use salesforce_emulator::config::{DEFAULT_CLIENT_ID, DEFAULT_USERNAME};
use salesforce_emulator::{Emulator, EmulatorConfig, EmulatorError, fixtures};

/// Why the org could not be reached or started.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// The emulator did not start (e.g. its port is taken).
    #[error("starting the Salesforce emulator failed")]
    Emulator(#[from] EmulatorError),
    /// The client configuration for the emulator is invalid.
    #[error("configuring the Salesforce or Pub/Sub client failed")]
    Config(#[from] ConfigError),
    /// The client could not be built.
    #[error("building the Salesforce client failed")]
    Client(#[from] SalesforceError),
}

/// The org in use, with a client logged in to it as the integration user.
#[derive(Debug)]
pub struct RunningOrg {
    /// The emulator, when the org is emulated (dropping it stops it).
    pub emulator: Option<Emulator>,
    /// The org's base URL (the emulator's) or login URL (a real org).
    pub url: String,
    /// The static staff token of the emulated org.
    pub admin_token: Option<String>,
    /// The client the API's adapters use.
    pub client: SalesforceClient,
    /// Where the subscriber reaches the org's Pub/Sub API.
    pub pubsub: PubSubConfig,
}

/// Starts the emulated org with its REST API on `bind` and its Pub/Sub API
/// on `pubsub_bind`, its client authenticating with the JWT bearer flow and
/// the emulator's fixture key, each call timing out after `request_timeout`.
/// `daily_api_limit` calls are allowed over a rolling 24 hours.
pub async fn start_emulator(
    bind: SocketAddr,
    pubsub_bind: SocketAddr,
    admin_token: String,
    daily_api_limit: u64,
    request_timeout: std::time::Duration,
) -> Result<RunningOrg, OrgError> {
    let emulator = Emulator::start(EmulatorConfig {
        bind,
        pubsub_bind,
        admin_token: Some(admin_token.clone()),
        daily_api_limit,
        ..EmulatorConfig::default()
    })
    .await?;
    let config = SalesforceConfig::new(
        &emulator.base_url(),
        DEFAULT_CLIENT_ID,
        DEFAULT_USERNAME,
        fixtures::CLIENT_PRIVATE_KEY_PEM.as_bytes(),
    )?
    .with_request_timeout(request_timeout);
    Ok(RunningOrg {
        pubsub: PubSubConfig::new(&emulator.pubsub_url())?,
        url: emulator.base_url(),
        emulator: Some(emulator),
        admin_token: Some(admin_token),
        client: SalesforceClient::new(config)?,
    })
}

/// A real org from its settings.
pub fn connect(config: SalesforceConfig, pubsub: PubSubConfig) -> Result<RunningOrg, OrgError> {
    Ok(RunningOrg {
        pubsub,
        url: config.login_url().to_owned(),
        emulator: None,
        admin_token: None,
        client: SalesforceClient::new(config)?,
    })
}
