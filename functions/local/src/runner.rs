//! [`Runner`]: starts every component over [`Shared`] state (in memory, or DynamoDB and SQS).

use std::time::Duration;

use portal_core::workers::subscriber::StartFrom;
use portal_core::workers::{ShutdownTrigger, shutdown_channel};

use crate::components::api::{self, ApiError, RunningApi};
use crate::components::org::{self, OrgError, RunningOrg};
use crate::components::provisioner::{self, RunningProvisioner};
use crate::components::reconciler::{self, RunningReconciler};
use crate::components::subscriber::{self as events, RunningSubscriber, SubscriberStartError};
use crate::components::whmcs::{self, RunningWhmcs, WhmcsComponentError};
use crate::config::{LocalConfig, SalesforceTarget};
use crate::state::{InMemory, Shared, State};

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

/// The running system; [`Runner::shutdown`] stops it cleanly, dropping it
/// stops every component at once.
#[derive(Debug)]
pub struct Runner<S: State = InMemory> {
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
    pub shared: Shared<S>,
    trigger: ShutdownTrigger,
    deadline: Duration,
}

impl Runner<InMemory> {
    /// [`Runner::start_over`] fresh in-memory state.
    pub async fn start(config: LocalConfig) -> Result<Self, RunnerError> {
        Self::start_over(config, Shared::in_memory()).await
    }
}

impl<S: State> Runner<S> {
    /// Starts the org (or connects to a real one), the API, the WHMCS
    /// emulator (or connects to a real WHMCS), the provisioner worker, the
    /// reconciler schedule and the subscriber, over `shared`.
    pub async fn start_over(config: LocalConfig, shared: Shared<S>) -> Result<Self, RunnerError> {
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
            "  subscriber:      {} → the provisioning queue",
            self.subscriber.topic
        ));
        lines.push("  provisioner:     the queue → WHMCS → Salesforce".to_owned());
        lines.push(format!(
            "  reconciler:      every {} s: stuck Orders and unsettled records → the queue",
            self.reconciler.every.as_secs()
        ));
        lines.push(format!("  state:           {}", self.shared.place));
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
