//! One seed's world: the whole pipeline in one process, over real HTTP and
//! gRPC on `127.0.0.1` as in `portal-local` — the org emulator (REST, the
//! Order Approval Flow, Pub/Sub), the WHMCS emulator, the portal API (the
//! Lambda's router), the subscriber, provisioner workers and the reconciler
//! (each supervised: killable at any await point, restarted with only the
//! state production keeps) — over the in-memory twins of DynamoDB and SQS
//! (the adapters' behaviour suites hold both to the same rules against
//! moto), with the queue wrapped in [`chaos::ChaosQueue`] and the replay
//! store in [`audit::AuditedReplayStore`].
//!
//! | part | module |
//! | --- | --- |
//! | the replay audit: events published, accepted, gaps | [`audit`] |
//! | the queue's delivery faults | [`chaos`] |
//! | killing and restarting workers | [`supervisor`] |
//! | the products' WHMCS mappings (removed and put back) | [`catalog`] |
//! | scenario `catalog-change-on-lost-order` | [`lost_order`] |
//! | scenario `reconciler-backlog`: the backlog seeded | [`backlog`] |
//! | the latency bench's observation of each hop | [`hops`] |

pub mod audit;
pub mod backlog;
pub mod catalog;
pub mod chaos;
pub mod hops;
pub mod lost_order;
pub mod supervisor;
mod workers;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use portal_core::config::Config as _;
use portal_core::ports::memory::{
    InMemoryAccountStatuses, InMemoryDeadLetters, InMemoryIdempotencyStore, InMemoryLoginLimits,
    InMemoryLoginLinks, InMemoryProvisioningRecords, InMemoryQueue, InMemoryReconcileAttempts,
    InMemorySubscriberLease, QueueConfig,
};
use portal_core::ports::{Clock, SystemClock};
use salesforce::SalesforceClient;
use salesforce_emulator::config::{DEFAULT_CLIENT_ID, DEFAULT_USERNAME};
use salesforce_emulator::{Emulator, EmulatorConfig, fixtures};
use whmcs::{WhmcsClient, WhmcsConfig};
use whmcs_emulator::{WhmcsEmulator, WhmcsEmulatorConfig};

use self::audit::{Accepted, AuditedDeadLetters, AuditedReplayStore, EventLog};
use self::backlog::Backlog;
use self::chaos::ChaosQueue;
use self::hops::Hops;
use self::supervisor::Supervised;
use crate::schedule::Worker;
use crate::timings::Timings;

/// Why a world could not be built.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The org emulator.
    #[error("the org emulator did not start")]
    Org(#[from] salesforce_emulator::EmulatorError),
    /// The WHMCS emulator.
    #[error("the WHMCS emulator did not start")]
    Whmcs(#[from] whmcs_emulator::EmulatorError),
    /// A Salesforce or WHMCS client's configuration.
    #[error("a client's configuration is not valid")]
    Config(#[from] portal_core::config::ConfigError),
    /// A Salesforce client.
    #[error("a Salesforce client could not be made")]
    Salesforce(#[from] salesforce::SalesforceError),
    /// A WHMCS client.
    #[error("a WHMCS client could not be made")]
    WhmcsClient(#[from] whmcs::WhmcsError),
    /// The API.
    #[error("the API did not start")]
    Api(#[from] std::io::Error),
    /// The API's token key.
    #[error("the API's token key could not be made")]
    Token(#[from] portal_local::token::KeyGenerationError),
    /// The API's authenticator.
    #[error("the API's authenticator could not be made")]
    Auth(#[from] portal_http::auth::KeyError),
    /// The seed's task panicked.
    #[error("the seed panicked: {0}")]
    Panicked(String),
    /// An Order of the reconciler's backlog could not be seeded.
    #[error("Order {0} of the reconciler's backlog could not be seeded")]
    Backlog(String),
}

/// The state production keeps in DynamoDB and SQS: it survives every kill.
#[derive(Debug)]
pub struct Stores {
    /// The API's idempotency records.
    pub idempotency: Arc<InMemoryIdempotencyStore>,
    /// Login → Account links.
    pub login_links: Arc<InMemoryLoginLinks>,
    /// Per-login counters.
    pub login_limits: Arc<InMemoryLoginLimits>,
    /// Accounts staff deactivated.
    pub account_statuses: Arc<InMemoryAccountStatuses>,
    /// The provisioning queue, with its delivery faults.
    pub queue: Arc<ChaosQueue>,
    /// The replay position and gaps, audited.
    pub replay: Arc<AuditedReplayStore>,
    /// The subscriber's lease.
    pub lease: Arc<InMemorySubscriberLease>,
    /// The subscriber's dead letters, audited.
    pub dead_letters: Arc<AuditedDeadLetters>,
    /// The provisioning records.
    pub records: Arc<InMemoryProvisioningRecords>,
    /// The reconciler's attempts per Order.
    pub attempts: Arc<InMemoryReconcileAttempts>,
}

/// One seed's running world.
#[derive(Debug)]
pub struct World {
    /// The seed (seeds the workers' jitter and the queue's shuffles).
    pub seed: u64,
    /// Its timings.
    pub timings: Timings,
    /// The org.
    pub org: Emulator,
    /// WHMCS.
    pub whmcs: WhmcsEmulator,
    /// The API's base URL.
    pub api_url: String,
    /// Every event the org published.
    pub events: Arc<EventLog>,
    /// When each message crossed the harness's seams (the latency bench).
    pub hops: Arc<Hops>,
    /// The stores.
    pub stores: Stores,
    /// The supervised workers.
    pub workers: BTreeMap<String, (Worker, Supervised)>,
    /// The reconciler's backlog (empty unless the scenario seeded one).
    pub backlog: Backlog,
    api: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(api) = &self.api {
            api.abort();
        }
    }
}

impl World {
    /// Starts the emulators, the API and every worker. `event_retention`
    /// shortens how long the org keeps events.
    pub async fn start(
        seed: u64,
        timings: Timings,
        event_retention: Option<Duration>,
    ) -> Result<Self, WorldError> {
        Self::start_with_backlog(seed, timings, event_retention, 0).await
    }

    /// [`Self::start`], with a reconciler's backlog of `backlog` Orders
    /// seeded before the workers start (see [`backlog`]).
    pub async fn start_with_backlog(
        seed: u64,
        timings: Timings,
        event_retention: Option<Duration>,
        backlog: usize,
    ) -> Result<Self, WorldError> {
        let mut org_config = EmulatorConfig {
            daily_api_limit: 10_000_000,
            pubsub_keepalive_interval: timings.keepalive,
            ..EmulatorConfig::default()
        };
        if let Some(kept) = event_retention {
            org_config.event_retention = kept;
        }
        let org = Emulator::start(org_config).await?;
        let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default()).await?;
        let events = Arc::new(EventLog::record(org.events()));
        let accepted = Arc::new(Accepted::default());
        let hops = Arc::new(Hops::default());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let queue = Arc::new(InMemoryQueue::new(
            clock,
            QueueConfig {
                visibility_timeout: chrono::TimeDelta::from_std(timings.visibility_timeout)
                    .unwrap_or(chrono::TimeDelta::MAX),
                max_receives: timings.max_receives,
                ..QueueConfig::default()
            },
        ));
        let stores = Stores {
            idempotency: Arc::new(InMemoryIdempotencyStore::new()),
            login_links: Arc::new(InMemoryLoginLinks::new()),
            login_limits: Arc::new(InMemoryLoginLimits::new()),
            account_statuses: Arc::new(InMemoryAccountStatuses::new()),
            queue: Arc::new(
                ChaosQueue::new(queue, Arc::clone(&accepted), Arc::clone(&hops), seed)
                    .with_receive_wait(timings.receive_wait),
            ),
            replay: Arc::new(AuditedReplayStore::new(
                Arc::clone(&events),
                Arc::clone(&accepted),
            )),
            lease: Arc::new(InMemorySubscriberLease::new()),
            dead_letters: Arc::new(AuditedDeadLetters::new(
                Arc::new(InMemoryDeadLetters::new()),
                accepted,
            )),
            records: Arc::new(InMemoryProvisioningRecords::new()),
            attempts: Arc::new(InMemoryReconcileAttempts::new()),
        };
        let backlog = backlog::seed(&org, &stores.attempts, backlog, &timings.reconcile).await?;
        let mut world = Self {
            seed,
            timings,
            org,
            whmcs,
            api_url: String::new(),
            events,
            hops,
            stores,
            workers: BTreeMap::new(),
            backlog,
            api: None,
        };
        let (url, api) = workers::start_api(&world).await?;
        world.api_url = url;
        world.api = Some(api);
        workers::start_all(&mut world);
        Ok(world)
    }

    /// A Salesforce client as every function makes one (its own session and
    /// connections), logging in to the org as the integration user.
    pub fn salesforce_client(&self) -> Result<SalesforceClient, WorldError> {
        salesforce_client(&self.org.base_url(), &self.timings)
    }

    /// A WHMCS client as the provisioner makes one.
    pub fn whmcs_client(&self) -> Result<WhmcsClient, WorldError> {
        whmcs_client(&self.whmcs.api_url(), &self.timings)
    }

    /// The supervised `worker`.
    pub fn worker(&self, worker: Worker) -> Option<&Supervised> {
        self.workers.get(&worker.to_string()).map(|(_, s)| s)
    }

    /// Stops every worker cleanly (each within its stop budget), then the
    /// API; the kills carried out and the restarts after a worker returned.
    pub async fn stop(&mut self) -> (u32, u32) {
        let kills = self.workers.values().map(|(_, s)| s.switch.kills()).sum();
        let exits = self.workers.values().map(|(_, s)| s.switch.exits()).sum();
        let limit = self.timings.invocation + self.timings.stop_timeout;
        let workers = std::mem::take(&mut self.workers);
        let stops = workers
            .into_values()
            .map(|(_, supervised)| supervised.stop(limit));
        futures::future::join_all(stops).await;
        if let Some(api) = self.api.take() {
            api.abort();
        }
        (kills, exits)
    }
}

/// A Salesforce client of the org at `base_url`, with `timings`' timeout and retries.
pub(crate) fn salesforce_client(
    base_url: &str,
    timings: &Timings,
) -> Result<SalesforceClient, WorldError> {
    let config = salesforce::SalesforceConfig::new(
        base_url,
        DEFAULT_CLIENT_ID,
        DEFAULT_USERNAME,
        fixtures::CLIENT_PRIVATE_KEY_PEM.as_bytes(),
    )?
    .with_request_timeout(timings.salesforce_timeout);
    Ok(SalesforceClient::with_retry_policy(
        config,
        timings.salesforce_retry,
    )?)
}

/// A WHMCS client of the API at `url`, with `timings`' timeout.
pub(crate) fn whmcs_client(url: &str, timings: &Timings) -> Result<WhmcsClient, WorldError> {
    let defaults = WhmcsEmulatorConfig::default();
    let url = url.to_owned();
    let timeout = timings.whmcs_timeout.as_millis().to_string();
    let config = WhmcsConfig::from_lookup(|name| match name {
        "WHMCS_API_URL" => Some(url.clone()),
        "WHMCS_API_IDENTIFIER" => Some(defaults.identifier.clone()),
        "WHMCS_API_SECRET" => Some(defaults.secret.clone()),
        "WHMCS_TIMEOUT_MS" => Some(timeout.clone()),
        _ => None,
    })?;
    Ok(WhmcsClient::new(config)?)
}
