//! [`Settings`]: what the loop needs besides its ports, with production
//! defaults; tests shrink the timings to milliseconds and may seed the jitter.

use std::sync::Arc;
use std::time::Duration;

use crate::ports::LeaseOwner;
use crate::schema::order_provision_requested::TOPIC;
use crate::workers::{BackoffPolicy, Jitter, ThreadJitter};

/// Where to start when no replay id is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartFrom {
    /// Only events published from now on (the default).
    #[default]
    Latest,
    /// Every retained event (up to 72 hours back).
    Earliest,
}

/// Events per `SendMessageBatch` (SQS's limit).
pub const SQS_BATCH: usize = 10;

/// The loop's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The topic, `/event/OrderProvisionRequested__e`.
    pub topic: String,
    /// Events kept requested from the source (1..=100).
    pub flow_batch: u32,
    /// Where to start without a saved replay id.
    pub start_from: StartFrom,
    /// The lease's name (one active subscriber per name).
    pub lease_name: String,
    /// This instance.
    pub instance: LeaseOwner,
    /// How long the lease lasts unless renewed (renewed every third of it).
    pub lease_ttl: Duration,
    /// How often a waiting instance asks for the lease again.
    pub lease_poll: Duration,
    /// From the stop request to the return of [`super::run()`]: the batch in
    /// hand is sent within four fifths of it, the rest saves and releases.
    pub stop_timeout: Duration,
    /// A partial batch is sent once no event arrived for this long; when
    /// zero (the default), as soon as the source has no further event ready.
    /// The events of one Pub/Sub `FetchResponse` are buffered by the client
    /// and ready at once, so they still go together, and so do events that
    /// arrive while a send is in flight; every millisecond of a wait is added
    /// to a lone event's approval → Provisioned latency (20 ms was two thirds
    /// of the pipeline's own p50; 2 ms cost 3.2 ms with tokio's millisecond
    /// timer: BENCHMARKS.md).
    pub flush_after: Duration,
    /// Reconnects and retries.
    pub backoff: BackoffPolicy,
    /// Where the backoff's random waits come from.
    pub jitter: Arc<dyn Jitter>,
    /// How often the metrics (and the heartbeat) are printed.
    pub metrics_interval: Duration,
}

impl Settings {
    /// The production defaults for `instance`.
    pub fn new(instance: LeaseOwner) -> Self {
        Self {
            topic: TOPIC.to_owned(),
            flow_batch: 100,
            start_from: StartFrom::Latest,
            lease_name: format!("subscriber#{TOPIC}"),
            instance,
            lease_ttl: Duration::from_secs(30),
            lease_poll: Duration::from_secs(5),
            stop_timeout: Duration::from_secs(25),
            flush_after: Duration::ZERO,
            backoff: BackoffPolicy::default(),
            jitter: Arc::new(ThreadJitter),
            metrics_interval: Duration::from_secs(60),
        }
    }

    /// How often the lease is renewed: a third of its length.
    pub fn renew_every(&self) -> Duration {
        self.lease_ttl / 3
    }

    /// How long after the stop request the batch in hand may still be sent.
    pub fn drain_budget(&self) -> Duration {
        self.stop_timeout.mul_f64(0.8)
    }
}
