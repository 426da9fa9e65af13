//! Starting the API and the supervised workers of a [`World`]: each worker
//! is the functions' own loop (`portal_core::workers`) over the use case the
//! Lambda or the Fargate task wires, with the world's timings. A new
//! generation (after a kill) makes new clients, as a new container would.

use std::sync::Arc;
use std::time::Duration;

use portal_core::ports::{LeaseOwner, SystemClock};
use portal_core::provisioning::{Provisioner, ProvisioningSettings};
use portal_core::reconcile::{ReconcilePorts, Reconciler};
use portal_core::workers::SeededJitter;
use portal_core::workers::provisioner::{PollCounters, PollSettings, poll};
use portal_core::workers::reconciler::every;
use portal_core::workers::subscriber::{self, Metrics, Ports, Settings, StartFrom};
use portal_http::{Api, ApiStores, Authenticator, IdentitySettings, Limits, SalesforcePorts};
use portal_local::token::TokenIssuer;
use salesforce::portal::PriceBook;
use salesforce::provisioning::SalesforceOrderLedger;
use salesforce::pubsub::{PubSubClient, PubSubConfig};
use salesforce::reconcile::{SalesforcePortalStatuses, SalesforceStuckOrders};
use tokio::task::JoinHandle;
use whmcs::billing::WhmcsBilling;

use super::hops::Noted;
use super::supervisor::supervise;
use super::{World, WorldError, salesforce_client, whmcs_client};
use crate::schedule::Worker;

/// Serves the portal API (and the local token issuer) on a free port.
pub(super) async fn start_api(world: &World) -> Result<(String, JoinHandle<()>), WorldError> {
    let issuer = TokenIssuer::generate()?;
    let authenticator = Authenticator::new(&issuer.auth_config())?;
    let stores = ApiStores {
        idempotency: Arc::clone(&world.stores.idempotency),
        links: Arc::clone(&world.stores.login_links),
        inactive: Arc::clone(&world.stores.account_statuses),
        limits: Arc::clone(&world.stores.login_limits),
    };
    let mut identity = IdentitySettings::default();
    // A customer retrying through an outage is not an abuser.
    identity.limits.posts_per_minute = 10_000;
    identity.limits.posts_per_day = 100_000;
    identity.limits.registrations_per_hour = 10_000;
    let api = Api::new(
        Arc::new(SalesforcePorts::new(
            world.salesforce_client()?,
            PriceBook::Standard,
        )),
        Arc::new(stores),
        Arc::new(authenticator),
    )
    .with_clock(Arc::new(SystemClock))
    .with_identity(identity)
    .with_limits(Limits {
        in_flight: world.timings.in_flight,
        ..Limits::default()
    });
    let app = issuer.router().merge(api.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the API server stopped");
        }
    });
    Ok((url, task))
}

/// Starts the subscriber, the provisioner workers and the reconciler.
pub(super) fn start_all(world: &mut World) {
    let subscriber = start_subscriber(world);
    world.workers.insert(
        Worker::Subscriber.to_string(),
        (Worker::Subscriber, subscriber),
    );
    for n in 0..world.timings.provisioners {
        let worker = Worker::Provisioner(n);
        let supervised = start_provisioner(world, n);
        world
            .workers
            .insert(worker.to_string(), (worker, supervised));
    }
    let reconciler = start_reconciler(world);
    world.workers.insert(
        Worker::Reconciler.to_string(),
        (Worker::Reconciler, reconciler),
    );
}

fn start_subscriber(world: &World) -> super::Supervised {
    let pubsub_url = world.org.pubsub_url();
    let timings = world.timings.clone();
    let seed = world.seed;
    let replay = Arc::clone(&world.stores.replay);
    let lease = Arc::clone(&world.stores.lease);
    let queue = Arc::clone(&world.stores.queue);
    let dead_letters = Arc::clone(&world.stores.dead_letters);
    let hops = Arc::clone(&world.hops);
    let org = Upstreams::of(world);
    supervise(
        Worker::Subscriber.to_string(),
        move |generation, shutdown| {
            let (replay, lease, queue, dead_letters) = (
                Arc::clone(&replay),
                Arc::clone(&lease),
                Arc::clone(&queue),
                Arc::clone(&dead_letters),
            );
            let (org, pubsub_url, timings) = (org.clone(), pubsub_url.clone(), timings.clone());
            let hops = Arc::clone(&hops);
            async move {
                let Ok(salesforce) = org.salesforce() else {
                    return;
                };
                let config = match PubSubConfig::new(&pubsub_url) {
                    Ok(config) => config.with_watchdog(timings.watchdog),
                    Err(error) => {
                        tracing::error!(%error, "no Pub/Sub configuration");
                        return;
                    }
                };
                let events = match PubSubClient::connect(config, salesforce).await {
                    Ok(inner) => Noted { inner, hops },
                    Err(error) => {
                        tracing::warn!(%error, "the Pub/Sub API could not be reached");
                        return;
                    }
                };
                let instance = LeaseOwner::new(format!("subscriber-{generation}"))
                    .expect("a word and a number make a lease owner");
                let mut settings = Settings::new(instance);
                settings.start_from = StartFrom::Earliest;
                settings.lease_ttl = timings.lease_ttl;
                settings.lease_poll = timings.lease_poll;
                settings.stop_timeout = timings.stop_timeout;
                settings.flush_after = timings.flush_after;
                settings.backoff = timings.backoff;
                settings.jitter = Arc::new(SeededJitter::new(seed ^ u64::from(generation) << 32));
                let ports = Ports {
                    events,
                    replay_store: replay,
                    lease,
                    queue,
                    dead_letters,
                    clock: SystemClock,
                };
                let metrics = Metrics::discard();
                if let Err(error) = subscriber::run(&ports, &settings, &metrics, &shutdown).await {
                    tracing::warn!(error = %portal_core::diagnostics::error_chain(&error), "the subscriber failed");
                }
            }
        },
    )
}

/// Where a worker's clients point: a restarted worker makes new ones (new
/// sessions, new connections, new caches), as a new container would.
#[derive(Debug, Clone)]
struct Upstreams {
    org: String,
    whmcs: String,
    timings: crate::timings::Timings,
}

impl Upstreams {
    fn of(world: &World) -> Self {
        Self {
            org: world.org.base_url(),
            whmcs: world.whmcs.api_url(),
            timings: world.timings.clone(),
        }
    }

    fn salesforce(&self) -> Result<salesforce::SalesforceClient, WorldError> {
        salesforce_client(&self.org, &self.timings)
    }

    fn whmcs(&self) -> Result<whmcs::WhmcsClient, WorldError> {
        whmcs_client(&self.whmcs, &self.timings)
    }
}

fn start_provisioner(world: &World, n: usize) -> super::Supervised {
    let timings = world.timings.clone();
    let org = Upstreams::of(world);
    let records = Arc::clone(&world.stores.records);
    let queue = Arc::clone(&world.stores.queue);
    let counters = Arc::new(PollCounters::default());
    supervise(
        Worker::Provisioner(n).to_string(),
        move |generation, shutdown| {
            let (org, timings, records, queue, counters) = (
                org.clone(),
                timings.clone(),
                Arc::clone(&records),
                Arc::clone(&queue),
                Arc::clone(&counters),
            );
            async move {
                let (Ok(salesforce), Ok(whmcs)) = (org.salesforce(), org.whmcs()) else {
                    return;
                };
                let provisioner = Provisioner::new(
                    SalesforceOrderLedger::new(salesforce),
                    WhmcsBilling::new(whmcs, "banktransfer"),
                    records,
                    SystemClock,
                    ProvisioningSettings {
                        lease_margin: delta(timings.lease_margin),
                        order_headroom: delta(timings.order_headroom),
                    },
                );
                let settings = PollSettings {
                    batch: 5,
                    invocation_time: timings.invocation,
                    idle_wait: timings.idle_wait,
                    name: format!("provisioner-{n}-{generation}"),
                };
                poll(
                    &provisioner,
                    &queue,
                    &SystemClock,
                    &settings,
                    &counters,
                    &shutdown,
                )
                .await;
            }
        },
    )
}

fn start_reconciler(world: &World) -> super::Supervised {
    let timings = world.timings.clone();
    let org = Upstreams::of(world);
    let stores = (
        Arc::clone(&world.stores.records),
        Arc::clone(&world.stores.attempts),
        Arc::clone(&world.stores.replay),
        Arc::clone(&world.stores.queue),
        Arc::clone(world.stores.queue.inner()),
        Arc::clone(&world.stores.dead_letters.inner),
        Arc::clone(&world.stores.account_statuses),
    );
    supervise(
        Worker::Reconciler.to_string(),
        move |generation, shutdown| {
            let (records, attempts, gaps, queue, provisioning, events, account_statuses) =
                stores.clone();
            let (org, timings) = (org.clone(), timings.clone());
            async move {
                let Ok(salesforce) = org.salesforce() else {
                    return;
                };
                let ports = ReconcilePorts {
                    orders: SalesforceStuckOrders::new(salesforce.clone()),
                    portal_statuses: SalesforcePortalStatuses::new(salesforce),
                    account_statuses,
                    records,
                    attempts,
                    gaps,
                    queue,
                    depths: (provisioning, events),
                    clock: SystemClock,
                };
                let reconciler = Reconciler::new(ports, timings.reconcile.clone());
                every(timings.reconcile_every, &shutdown, |run| {
                let reconciler = &reconciler;
                async move {
                    let event = reconciler::scheduled_event(chrono::Utc::now());
                    let report = Box::pin(reconciler::run_once(
                        reconciler,
                        &event,
                        &format!("reconciler-{generation}-{run}"),
                        &mut std::io::sink(),
                    ))
                    .await;
                    if let Err(failed) = reconciler::respond(report) {
                        tracing::debug!(error = %failed, "a reconciliation run had failed steps");
                    }
                }
            })
            .await;
            }
        },
    )
}

fn delta(d: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX)
}
