//! [`Runner`]: starts every component over [`Shared`] in-memory state.

use std::sync::Arc;

use portal_core::ports::memory::{InMemoryIdempotencyStore, InMemoryQueue, QueueConfig};
use portal_core::ports::{Clock, SystemClock};

use crate::components::api::{self, ApiError, RunningApi};
use crate::components::org::{self, OrgError, RunningOrg};
use crate::config::{LocalConfig, SalesforceTarget};

/// Why the system did not start.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The org.
    #[error(transparent)]
    Org(#[from] OrgError),
    /// The API.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// The in-memory state the components share (in AWS: DynamoDB and SQS).
#[derive(Clone)]
pub struct Shared {
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// HTTP idempotency records.
    pub idempotency: Arc<InMemoryIdempotencyStore>,
    /// The provisioning queue the subscriber and the reconciler will feed.
    pub queue: Arc<InMemoryQueue>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    /// Empty state on the system clock.
    pub fn new() -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Self {
            queue: Arc::new(InMemoryQueue::new(
                Arc::clone(&clock),
                QueueConfig::default(),
            )),
            idempotency: Arc::new(InMemoryIdempotencyStore::new()),
            clock,
        }
    }
}

impl Default for Shared {
    fn default() -> Self {
        Self::new()
    }
}

/// The running system; dropping it stops every component.
#[derive(Debug)]
pub struct Runner {
    /// The org.
    pub org: RunningOrg,
    /// The API.
    pub api: RunningApi,
    /// The shared state.
    pub shared: Shared,
}

impl Runner {
    /// Starts the org (or connects to a real one), then the API.
    pub async fn start(config: LocalConfig) -> Result<Self, RunnerError> {
        let shared = Shared::new();
        let org = match config.salesforce {
            SalesforceTarget::Emulator { bind, admin_token } => {
                org::start_emulator(bind, admin_token).await?
            }
            SalesforceTarget::Real(sf) => org::connect(*sf)?,
        };
        let api = api::start(
            config.api_bind,
            org.client.clone(),
            config.price_book,
            config.settings,
            &shared,
        )
        .await?;
        Ok(Self { org, api, shared })
    }

    /// What to print at start: every URL, and the staff token of an emulated org.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = vec![
            "portal-local is running".to_owned(),
            format!("  API:             {}", self.api.url),
            format!("  local tokens:    POST {}/_local/token", self.api.url),
        ];
        match &self.org.admin_token {
            Some(token) => {
                lines.push(format!("  Salesforce org:  {} (emulated)", self.org.url));
                lines.push(format!("  admin token:     {token}"));
            }
            None => lines.push(format!("  Salesforce org:  {} (real)", self.org.url)),
        }
        lines
    }
}
