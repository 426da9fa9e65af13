//! [`Runner`]: starts every component over [`Shared`] in-memory state.

use std::sync::Arc;
use std::time::Duration;

use portal_core::ports::memory::{
    InMemoryAccountStatuses, InMemoryDeadLetters, InMemoryIdempotencyStore, InMemoryLoginLimits,
    InMemoryLoginLinks, InMemoryProvisioningRecords, InMemoryQueue, InMemoryReconcileAttempts,
    InMemoryReplayStore, InMemorySubscriberLease, QueueConfig,
};
use portal_core::ports::{Clock, SystemClock};
use portal_core::workers::subscriber::StartFrom;
use portal_core::workers::{ShutdownTrigger, shutdown_channel};

use crate::components::api::{self, ApiError, RunningApi};
use crate::components::org::{self, OrgError, RunningOrg};
use crate::components::provisioner::{self, RunningProvisioner};
use crate::components::reconciler::{self, RunningReconciler};
use crate::components::subscriber::{self as events, RunningSubscriber, SubscriberStartError};
use crate::components::whmcs::{self, RunningWhmcs, WhmcsComponentError};
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
    /// The WHMCS.
    #[error(transparent)]
    Whmcs(#[from] WhmcsComponentError),
    /// The subscriber.
    #[error(transparent)]
    Subscriber(#[from] SubscriberStartError),
}

/// The in-memory state the components share (in AWS: DynamoDB and SQS).
#[derive(Clone)]
pub struct Shared {
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// HTTP idempotency records.
    pub idempotency: Arc<InMemoryIdempotencyStore>,
    /// Login → Account links.
    pub login_links: Arc<InMemoryLoginLinks>,
    /// Per-login request counters.
    pub login_limits: Arc<InMemoryLoginLimits>,
    /// Accounts staff deactivated (the reconciler's sync writes, the API reads).
    pub account_statuses: Arc<InMemoryAccountStatuses>,
    /// The provisioning queue the subscriber and the reconciler feed.
    pub queue: Arc<InMemoryQueue>,
    /// The subscriber's replay position and gaps.
    pub replay: Arc<InMemoryReplayStore>,
    /// The subscriber's lease.
    pub lease: Arc<InMemorySubscriberLease>,
    /// Events the subscriber could not turn into messages.
    pub dead_letters: Arc<InMemoryDeadLetters>,
    /// The provisioner's per-Order records.
    pub records: Arc<InMemoryProvisioningRecords>,
    /// The reconciler's per-Order attempts.
    pub reconcile_attempts: Arc<InMemoryReconcileAttempts>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    /// Empty in-memory state on the system clock.
    pub fn in_memory() -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Self {
            queue: Arc::new(InMemoryQueue::new(
                Arc::clone(&clock),
                QueueConfig::default(),
            )),
            idempotency: Arc::new(InMemoryIdempotencyStore::new()),
            login_links: Arc::new(InMemoryLoginLinks::new()),
            login_limits: Arc::new(InMemoryLoginLimits::new()),
            account_statuses: Arc::new(InMemoryAccountStatuses::new()),
            replay: Arc::new(InMemoryReplayStore::new()),
            lease: Arc::new(InMemorySubscriberLease::new()),
            dead_letters: Arc::new(InMemoryDeadLetters::new()),
            records: Arc::new(InMemoryProvisioningRecords::new()),
            reconcile_attempts: Arc::new(InMemoryReconcileAttempts::new()),
            clock,
        }
    }
}

impl Default for Shared {
    fn default() -> Self {
        Self::in_memory()
    }
}

/// The running system; [`Runner::shutdown`] stops it cleanly, dropping it
/// stops every component at once.
#[derive(Debug)]
pub struct Runner {
    /// The org.
    pub org: RunningOrg,
    /// The API.
    pub api: RunningApi,
    /// The WHMCS.
    pub whmcs: RunningWhmcs,
    /// The Pub/Sub subscriber.
    pub subscriber: RunningSubscriber,
    /// The provisioner worker.
    pub provisioner: RunningProvisioner,
    /// The reconciler schedule.
    pub reconciler: RunningReconciler,
    /// The shared state.
    pub shared: Shared,
    trigger: ShutdownTrigger,
    deadline: Duration,
}

impl Runner {
    /// Starts the org (or connects to a real one), the API, the WHMCS
    /// emulator (or connects to a real WHMCS), the provisioner worker, the
    /// reconciler schedule and the subscriber.
    pub async fn start(config: LocalConfig) -> Result<Self, RunnerError> {
        let shared = Shared::in_memory();
        let (org, start_from) = match config.salesforce {
            SalesforceTarget::Emulator {
                bind,
                pubsub_bind,
                admin_token,
                daily_api_limit,
                request_timeout,
            } => (
                org::start_emulator(
                    bind,
                    pubsub_bind,
                    admin_token,
                    daily_api_limit,
                    request_timeout,
                )
                .await?,
                StartFrom::Earliest,
            ),
            SalesforceTarget::Real(sf, pubsub) => (org::connect(*sf, pubsub)?, StartFrom::Latest),
        };
        let api = api::start(
            config.api_bind,
            org.client.clone(),
            config.price_book,
            config.settings,
            config.identity,
            &shared,
        )
        .await?;
        let whmcs = whmcs::start(config.whmcs).await?;
        let (trigger, shutdown) = shutdown_channel();
        let provisioner = provisioner::start(
            org.client.clone(),
            whmcs.client.clone(),
            config.payment_method,
            config.provisioner_deadline,
            &shared,
            shutdown.clone(),
        );
        let reconciler = reconciler::start(
            org.client.clone(),
            config.reconcile_every,
            &shared,
            shutdown.clone(),
        );
        let subscriber = events::start(
            org.pubsub.clone(),
            org.client.clone(),
            start_from,
            &shared,
            shutdown,
        )
        .await?;
        Ok(Self {
            org,
            api,
            whmcs,
            subscriber,
            provisioner,
            reconciler,
            shared,
            trigger,
            deadline: config.provisioner_deadline,
        })
    }

    /// What to print at start: every URL, the WHMCS credentials of the
    /// emulator and, last, the staff token of an emulated org.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = vec![
            "portal-local is running".to_owned(),
            format!("  API:             {}", self.api.url),
            format!("  local tokens:    POST {}/_local/token", self.api.url),
        ];
        let kind = |emulated: bool| if emulated { "emulated" } else { "real" };
        lines.push(format!(
            "  Salesforce org:  {} ({})",
            self.org.url,
            kind(self.org.emulator.is_some())
        ));
        lines.push(format!("  Pub/Sub API:     {}", self.subscriber.endpoint));
        lines.push(format!(
            "  WHMCS API:       {} ({})",
            self.whmcs.url,
            kind(self.whmcs.emulator.is_some())
        ));
        if let Some((identifier, secret)) = &self.whmcs.credentials {
            lines.push(format!("  WHMCS login:     {identifier} / {secret}"));
        }
        lines.push(format!(
            "  subscriber:      {} → the in-memory provisioning queue",
            self.subscriber.topic
        ));
        lines.push("  provisioner:     the in-memory queue → WHMCS → Salesforce".to_owned());
        lines.push(format!(
            "  reconciler:      every {} s: stuck Orders and unsettled records → the in-memory queue",
            self.reconciler.every.as_secs()
        ));
        if let Some(token) = &self.org.admin_token {
            lines.push(format!("  admin token:     {token}"));
        }
        lines
    }

    /// Stops cleanly: the subscriber sends its batch in hand, saves its replay
    /// position and releases its lease; the provisioner finishes the message
    /// in hand and the reconciler its run; then every server stops.
    pub async fn shutdown(self) {
        self.trigger.trigger();
        let Self {
            subscriber,
            provisioner,
            reconciler,
            deadline,
            ..
        } = self;
        match subscriber.stop().await {
            Ok(stopped) => tracing::info!(
                saved = stopped.saved.is_some(),
                "the subscriber stopped cleanly"
            ),
            Err(error) => tracing::warn!(%error, "the subscriber did not stop cleanly"),
        }
        provisioner.stop(deadline).await;
        reconciler.stop(deadline).await;
    }
}
