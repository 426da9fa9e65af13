//! The subscriber's counters: kept in memory (tests and benches read
//! [`MetricsSnapshot`]s) and handed, one window at a time, to a
//! [`MetricsSink`] (the `subscriber` crate prints them as CloudWatch EMF
//! lines). Each window carries the counts since the previous one, up to
//! 100 lag samples, and whether this instance holds the lease.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Most lag samples kept per window (EMF's limit of values per metric).
const MAX_SAMPLES: usize = 100;

/// Cumulative counts since the process started (or of one window).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Events received from the stream (decodable or not).
    pub events_received: u64,
    /// Events the provisioning queue accepted.
    pub events_forwarded: u64,
    /// Events the dead-letter destination accepted.
    pub events_dead_lettered: u64,
    /// Events whose payload did not decode (or lacked `OrderId__c`).
    pub decode_failures: u64,
    /// Resubscriptions after a failed or stalled stream.
    pub reconnects: u64,
    /// Gaps recorded (replay id refused as corrupted or expired).
    pub gap_records: u64,
    /// Times the lease was found held by another instance.
    pub lease_waits: u64,
    /// Times this instance lost the lease while active.
    pub leases_lost: u64,
    /// Replay positions saved.
    pub positions_saved: u64,
    /// Nanoseconds of the subscriber's own work (event to message, batch
    /// building, position bookkeeping), excluding I/O and decoding.
    pub own_work_nanos: u64,
}

/// The counts of one window, handed to the sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsWindow {
    /// The counts since the previous window.
    pub counts: MetricsSnapshot,
    /// Milliseconds from publication to receipt, up to 100 events.
    pub lag_samples: Vec<i64>,
    /// Whether this instance holds the lease.
    pub active: bool,
    /// When the window closed.
    pub at: DateTime<Utc>,
}

/// Where the windows go.
pub trait MetricsSink: Send + Sync + fmt::Debug {
    /// Publishes one window (never fails the loop).
    fn publish(&self, window: &MetricsWindow);
}

/// A sink that drops every window.
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl MetricsSink for Discard {
    fn publish(&self, _window: &MetricsWindow) {}
}

#[derive(Debug, Default)]
struct State {
    total: MetricsSnapshot,
    window: MetricsSnapshot,
    lag_samples: Vec<i64>,
    active: bool,
}

/// The metrics of one subscriber; clones share the counters.
#[derive(Debug, Clone)]
pub struct Metrics {
    state: Arc<Mutex<State>>,
    sink: Arc<dyn MetricsSink>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::discard()
    }
}

impl Metrics {
    /// Counters publishing to `sink`.
    pub fn new(sink: impl MetricsSink + 'static) -> Self {
        Self {
            state: Arc::default(),
            sink: Arc::new(sink),
        }
    }

    /// Counters whose windows go nowhere (tests, local runs).
    pub fn discard() -> Self {
        Self::new(Discard)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn count(&self, f: impl Fn(&mut MetricsSnapshot)) {
        let mut state = self.lock();
        f(&mut state.total);
        f(&mut state.window);
    }

    /// The counts since the process started.
    pub fn snapshot(&self) -> MetricsSnapshot {
        self.lock().total
    }

    /// An event arrived; `lag_ms` is now minus its `CreatedDate` when decoded.
    pub fn received(&self, lag_ms: Option<i64>) {
        let mut state = self.lock();
        state.total.events_received += 1;
        state.window.events_received += 1;
        if let Some(lag) = lag_ms
            && state.lag_samples.len() < MAX_SAMPLES
        {
            state.lag_samples.push(lag.max(0));
        }
    }

    /// `n` events were accepted by the queue.
    pub fn forwarded(&self, n: u64) {
        self.count(|c| c.events_forwarded += n);
    }

    /// `n` events were accepted by the dead-letter destination.
    pub fn dead_lettered(&self, n: u64) {
        self.count(|c| c.events_dead_lettered += n);
    }

    /// An event did not decode.
    pub fn decode_failure(&self) {
        self.count(|c| c.decode_failures += 1);
    }

    /// The stream is being resubscribed.
    pub fn reconnect(&self) {
        self.count(|c| c.reconnects += 1);
    }

    /// A gap was recorded; published at once.
    pub fn gap_recorded(&self, now: DateTime<Utc>) {
        self.count(|c| c.gap_records += 1);
        self.flush(now);
    }

    /// The lease was held by another instance.
    pub fn lease_wait(&self) {
        self.count(|c| c.lease_waits += 1);
    }

    /// The lease was lost while active.
    pub fn lease_lost(&self) {
        self.count(|c| c.leases_lost += 1);
    }

    /// A replay position was saved.
    pub fn position_saved(&self) {
        self.count(|c| c.positions_saved += 1);
    }

    /// Whether this instance holds the lease.
    pub fn set_active(&self, active: bool) {
        self.lock().active = active;
    }

    /// Adds time spent on the subscriber's own work.
    pub fn own_work(&self, spent: Duration) {
        let nanos = u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX);
        self.count(|c| c.own_work_nanos = c.own_work_nanos.saturating_add(nanos));
    }

    /// Publishes the counts since the last window, then starts a new one.
    pub fn flush(&self, now: DateTime<Utc>) {
        let window = {
            let mut state = self.lock();
            let window = MetricsWindow {
                counts: state.window,
                lag_samples: std::mem::take(&mut state.lag_samples),
                active: state.active,
                at: now,
            };
            state.window = MetricsSnapshot::default();
            window
        };
        self.sink.publish(&window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default)]
    struct Kept(Mutex<Vec<MetricsWindow>>);

    impl MetricsSink for Arc<Kept> {
        fn publish(&self, window: &MetricsWindow) {
            self.0.lock().unwrap().push(window.clone());
        }
    }

    #[test]
    fn when_flushed_should_hand_over_the_window_and_start_over_keeping_totals() {
        let kept = Arc::new(Kept::default());
        let metrics = Metrics::new(Arc::clone(&kept));
        metrics.received(Some(40));
        metrics.received(None);
        metrics.forwarded(1);
        metrics.set_active(true);
        let now = DateTime::from_timestamp(1_714_557_600, 0).unwrap();
        metrics.flush(now);
        metrics.flush(now);
        let windows = kept.0.lock().unwrap().clone();
        assert_eq!(windows.len(), 2);
        assert_eq!(windows[0].counts.events_received, 2);
        assert_eq!(windows[0].lag_samples, [40]);
        assert!(windows[0].active);
        assert_eq!(windows[1].counts, MetricsSnapshot::default());
        assert!(windows[1].lag_samples.is_empty());
        assert_eq!(metrics.snapshot().events_received, 2, "totals are kept");
    }
}
