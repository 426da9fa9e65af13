//! Every timing of the pipeline, set through the crates' own settings:
//! [`Timings::compressed`] squeezes a seed into seconds (small timeouts,
//! small reconciler thresholds), [`Timings::production`] keeps the defaults
//! the functions run with (the latency bench).

use std::time::Duration;

use chrono::TimeDelta;
use portal_core::reconcile::ReconcileSettings;
use portal_core::workers::BackoffPolicy;
use salesforce::RetryPolicy;

/// The pipeline's timings.
#[derive(Debug, Clone)]
pub struct Timings {
    /// Every Salesforce request (`SF_REQUEST_TIMEOUT_MS`).
    pub salesforce_timeout: Duration,
    /// The Salesforce client's own retries.
    pub salesforce_retry: RetryPolicy,
    /// Every WHMCS request (`WHMCS_TIMEOUT_MS`).
    pub whmcs_timeout: Duration,
    /// How long a committed write's answer is held by a stall fault (longer
    /// than both timeouts).
    pub stall: Duration,
    /// The provisioner's invocation (the Lambda's timeout).
    pub invocation: Duration,
    /// How long before the invocation's end the provisioning lease ends.
    pub lease_margin: Duration,
    /// Lease time needed to start AddOrder (more than the WHMCS timeout).
    pub order_headroom: Duration,
    /// The provisioner worker's wait after an empty receive.
    pub idle_wait: Duration,
    /// How long a receive from an empty queue waits for a message to be
    /// sent (SQS long polling, as the Lambda's event source mapping does);
    /// zero: it answers at once.
    pub receive_wait: Duration,
    /// Provisioner workers side by side (Lambda concurrency).
    pub provisioners: usize,
    /// The queue's visibility timeout (at least the invocation).
    pub visibility_timeout: Duration,
    /// Receives before a message goes to the dead-letter queue.
    pub max_receives: u32,
    /// The reconciler's schedule.
    pub reconcile_every: Duration,
    /// The reconciler's thresholds.
    pub reconcile: ReconcileSettings,
    /// The subscriber's lease.
    pub lease_ttl: Duration,
    /// How often a waiting subscriber asks for the lease.
    pub lease_poll: Duration,
    /// A partial batch is sent once no event arrived for this long.
    pub flush_after: Duration,
    /// The subscriber's reconnect backoff.
    pub backoff: BackoffPolicy,
    /// The subscriber's stop budget.
    pub stop_timeout: Duration,
    /// No event nor keepalive for this long: the stream is stalled.
    pub watchdog: Duration,
    /// The org's keepalive on a quiet stream.
    pub keepalive: Duration,
    /// How long an API idempotency claim holds.
    pub in_flight: Duration,
    /// After the fault window: how long the system may take to settle.
    pub settle: Duration,
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

impl Timings {
    /// A seed in seconds: every timeout and threshold in milliseconds.
    pub fn compressed() -> Self {
        let reconcile = ReconcileSettings {
            stuck_after: delta(Duration::from_millis(1_500)),
            unsettled_after: delta(Duration::from_millis(800)),
            backoff_base: delta(Duration::from_millis(400)),
            backoff_cap: delta(Duration::from_millis(1_600)),
            max_attempts: 30,
            order_limit: 3,
            sweep_pages: 2,
            ..ReconcileSettings::default()
        };
        Self {
            salesforce_timeout: Duration::from_millis(600),
            salesforce_retry: RetryPolicy {
                max_attempts: 3,
                base: Duration::from_millis(20),
                cap: Duration::from_millis(150),
            },
            whmcs_timeout: Duration::from_millis(600),
            stall: Duration::from_millis(1_500),
            invocation: Duration::from_millis(2_500),
            lease_margin: Duration::from_millis(200),
            order_headroom: Duration::from_millis(800),
            idle_wait: Duration::from_millis(20),
            receive_wait: Duration::ZERO,
            provisioners: 2,
            visibility_timeout: Duration::from_millis(3_000),
            max_receives: 5,
            reconcile_every: Duration::from_millis(300),
            reconcile,
            lease_ttl: Duration::from_millis(900),
            lease_poll: Duration::from_millis(100),
            flush_after: Duration::from_millis(10),
            backoff: BackoffPolicy {
                base: Duration::from_millis(50),
                cap: Duration::from_millis(400),
                healthy_after: Duration::from_secs(1),
            },
            stop_timeout: Duration::from_millis(500),
            watchdog: Duration::from_millis(1_000),
            keepalive: Duration::from_millis(250),
            in_flight: Duration::from_secs(4),
            settle: Duration::from_secs(40),
        }
    }

    /// These timings with the reconciler's sweep reading production's pages
    /// (`order_limit` and `sweep_pages` of [`ReconcileSettings::default`]):
    /// for a backlog the size production's would be.
    pub fn with_production_sweep(mut self) -> Self {
        let production = ReconcileSettings::default();
        self.reconcile.order_limit = production.order_limit;
        self.reconcile.sweep_pages = production.sweep_pages;
        self
    }

    /// The functions' own defaults (Lambda timeouts, 60 s schedule…), but
    /// one provisioner worker.
    pub fn production() -> Self {
        Self {
            salesforce_timeout: salesforce::config::DEFAULT_REQUEST_TIMEOUT,
            salesforce_retry: RetryPolicy::default(),
            whmcs_timeout: whmcs::config::DEFAULT_TIMEOUT,
            stall: Duration::from_secs(30),
            invocation: Duration::from_secs(60),
            lease_margin: Duration::from_secs(2),
            order_headroom: Duration::from_secs(20),
            idle_wait: Duration::from_millis(100),
            receive_wait: Duration::from_secs(20),
            provisioners: 1,
            visibility_timeout: Duration::from_secs(360),
            max_receives: 5,
            reconcile_every: Duration::from_secs(60),
            reconcile: ReconcileSettings::default(),
            lease_ttl: Duration::from_secs(30),
            lease_poll: Duration::from_secs(5),
            flush_after: Duration::ZERO,
            backoff: BackoffPolicy::default(),
            stop_timeout: Duration::from_secs(5),
            watchdog: salesforce::pubsub::config::DEFAULT_WATCHDOG,
            keepalive: Duration::from_secs(60),
            in_flight: portal_http::idempotency::IN_FLIGHT,
            settle: Duration::from_secs(120),
        }
    }
}
