//! The platform event subscriber, exactly as in Fargate (the core's
//! `portal_core::workers::subscriber::run` with the org's Pub/Sub gRPC API as
//! its event source), over the replay store, lease, dead letters and
//! provisioning queue of [`Shared`].
//!
//! Against the emulated org it starts from `EARLIEST` when no replay id is
//! saved (every event of this process's org, none missed while connecting);
//! against a real org from `LATEST`, as in production.

use std::sync::Arc;
use std::time::Duration;

use portal_core::ports::{Clock, LeaseOwner};
use portal_core::workers::Shutdown;
use portal_core::workers::subscriber::{
    Metrics, Ports, Settings, StartFrom, Stopped, SubscriberError,
};
use salesforce::SalesforceClient;
use salesforce::pubsub::{PubSubClient, PubSubConfig, PubSubError};
use tokio::task::JoinHandle;

use crate::state::{Shared, State};

/// How long the subscriber has to stop cleanly (batch sent, replay saved,
/// lease released) after Ctrl-C.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The subscriber's ports in the local runner.
pub type LocalPorts<S> = Ports<
    PubSubClient,
    Arc<<S as State>::Replay>,
    Arc<<S as State>::Lease>,
    Arc<<S as State>::Queue>,
    Arc<<S as State>::DeadLetters>,
    Arc<dyn Clock>,
>;

/// Why the subscriber did not start.
#[derive(Debug, thiserror::Error)]
pub enum SubscriberStartError {
    /// The Pub/Sub API could not be reached.
    #[error("connecting to the Pub/Sub API failed")]
    Connect(#[from] PubSubError),
}

/// The running subscriber; stop it with [`RunningSubscriber::stop`]
/// (dropping it aborts the task without the clean stop).
#[derive(Debug)]
pub struct RunningSubscriber {
    /// The Pub/Sub endpoint it subscribes through.
    pub endpoint: String,
    /// The topic.
    pub topic: String,
    /// Its counters (events received, forwarded, dead-lettered…).
    pub metrics: Arc<Metrics>,
    task: Option<JoinHandle<Result<Stopped, SubscriberError>>>,
}

impl RunningSubscriber {
    /// Waits for the loop to end after the shutdown was triggered: `Ok` after a
    /// clean stop, the loop's error if it failed, a timeout error otherwise.
    pub async fn stop(mut self) -> Result<Stopped, SubscriberStopError> {
        let Some(task) = self.task.take() else {
            return Err(SubscriberStopError::Gone);
        };
        match tokio::time::timeout(STOP_TIMEOUT + Duration::from_secs(1), task).await {
            Ok(Ok(result)) => Ok(result?),
            Ok(Err(_)) => Err(SubscriberStopError::Gone),
            Err(_) => Err(SubscriberStopError::Timeout),
        }
    }
}

impl Drop for RunningSubscriber {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The subscriber did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum SubscriberStopError {
    /// The loop failed.
    #[error(transparent)]
    Failed(#[from] SubscriberError),
    /// The loop did not end within its stop timeout.
    #[error("the subscriber did not stop in time")]
    Timeout,
    /// The task panicked or was aborted.
    #[error("the subscriber task is gone")]
    Gone,
}

/// Connects to `config`'s Pub/Sub API as `salesforce`'s integration user and
/// runs the loop in the background until `shutdown`.
pub async fn start<S: State>(
    config: PubSubConfig,
    salesforce: SalesforceClient,
    start_from: StartFrom,
    shared: &Shared<S>,
    shutdown: Shutdown,
) -> Result<RunningSubscriber, SubscriberStartError> {
    let endpoint = config.endpoint().to_owned();
    let pubsub = PubSubClient::connect(config, salesforce).await?;
    let instance = LeaseOwner::new(format!("portal-local-{}", std::process::id()))
        .expect("a fixed prefix and a number make a valid lease owner");
    let mut settings = Settings::new(instance);
    settings.start_from = start_from;
    settings.stop_timeout = STOP_TIMEOUT;
    let ports: LocalPorts<S> = Ports {
        events: pubsub,
        replay_store: Arc::clone(&shared.replay),
        lease: Arc::clone(&shared.lease),
        queue: Arc::clone(&shared.queue),
        dead_letters: Arc::clone(&shared.dead_letters),
        clock: Arc::clone(&shared.clock),
    };
    let metrics = Arc::new(Metrics::discard());
    let topic = settings.topic.clone();
    let task = tokio::spawn({
        let metrics = Arc::clone(&metrics);
        async move {
            portal_core::workers::subscriber::run(&ports, &settings, &metrics, &shutdown).await
        }
    });
    Ok(RunningSubscriber {
        endpoint,
        topic,
        metrics,
        task: Some(task),
    })
}
