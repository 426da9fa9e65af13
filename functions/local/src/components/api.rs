//! The portal HTTP API (the same router as in Lambda) plus the local-only
//! `POST /_local/token`, served with `axum::serve`.

use std::net::SocketAddr;
use std::sync::Arc;

use portal_core::portal::PortalSettings;
use portal_http::{Api, ApiStores, Authenticator, IdentitySettings, SalesforcePorts};
use salesforce::SalesforceClient;
use salesforce::portal::PriceBook;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::state::{Shared, State};
use crate::token::TokenIssuer;

/// Why the API did not start.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The address is taken or invalid.
    #[error("binding the API to {addr} failed")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The token key could not be used.
    #[error("loading the local token key failed")]
    Key(#[from] portal_http::auth::KeyError),
    /// The token key could not be generated.
    #[error(transparent)]
    KeyGeneration(#[from] crate::token::KeyGenerationError),
}

/// The running API; dropping it stops the server.
#[derive(Debug)]
pub struct RunningApi {
    /// The API's base URL.
    pub url: String,
    task: JoinHandle<()>,
}

impl Drop for RunningApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the API on `bind` over the Salesforce `client`.
pub async fn start<S: State>(
    bind: SocketAddr,
    client: SalesforceClient,
    price_book: PriceBook,
    settings: PortalSettings,
    identity: IdentitySettings,
    shared: &Shared<S>,
) -> Result<RunningApi, ApiError> {
    let issuer = TokenIssuer::generate()?;
    let authenticator = Authenticator::new(&issuer.auth_config())?;
    let stores = ApiStores {
        idempotency: Arc::clone(&shared.idempotency),
        links: Arc::clone(&shared.login_links),
        inactive: Arc::clone(&shared.account_statuses),
        limits: Arc::clone(&shared.login_limits),
    };
    let api = Api::new(
        Arc::new(SalesforcePorts::new(client, price_book)),
        Arc::new(stores),
        Arc::new(authenticator),
    )
    .with_clock(Arc::clone(&shared.clock))
    .with_settings(settings)
    .with_identity(identity);
    let app = issuer.router().merge(api.router());
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|source| ApiError::Bind { addr: bind, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ApiError::Bind { addr: bind, source })?;
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the API server stopped");
        }
    });
    Ok(RunningApi {
        url: format!("http://{addr}"),
        task,
    })
}
