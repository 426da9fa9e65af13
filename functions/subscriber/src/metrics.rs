//! The subscriber's metrics: counters kept in memory (tests and benches read
//! [`MetricsSnapshot`]s) and printed as CloudWatch Embedded Metric Format
//! lines, one JSON object per line, namespace [`NAMESPACE`]:
//!
//! ```json
//! {"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[{"Namespace":"CustomerPortal/Subscriber",
//!   "Dimensions":[["Service"]],"Metrics":[{"Name":"EventsReceived","Unit":"Count"},…]}]},
//!  "Service":"subscriber","EventsReceived":12,"EventsForwarded":12,…,"LagMs":[35,41],"Heartbeat":1}
//! ```
//!
//! Each line carries the counts since the previous one (so CloudWatch sums
//! them), up to 100 lag samples, `Active` (1 while this instance holds the
//! lease) and `Heartbeat` (always 1: an alarm on its absence catches a dead task).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use portal_aws::emf::{self, Metric};
use serde_json::json;

/// The CloudWatch namespace.
pub const NAMESPACE: &str = "CustomerPortal/Subscriber";

/// The `Service` dimension's value.
pub const SERVICE: &str = "subscriber";

/// EMF's limit of values per metric in one line.
const MAX_SAMPLES: usize = 100;

/// Where the EMF lines go.
#[derive(Debug, Clone, Default)]
pub enum MetricsSink {
    /// Standard output (CloudWatch Logs picks EMF lines out of the stream).
    #[default]
    Stdout,
    /// Kept in memory (tests).
    Memory(Arc<Mutex<Vec<String>>>),
    /// Nowhere.
    Discard,
}

/// Cumulative counts since the process started.
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

#[derive(Debug, Default)]
struct State {
    total: MetricsSnapshot,
    window: MetricsSnapshot,
    lag_samples: Vec<i64>,
    active: bool,
}

/// The metrics of one subscriber; clones share the counters.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    state: Arc<Mutex<State>>,
    sink: MetricsSink,
}

impl Metrics {
    /// Counters printing to `sink`.
    pub fn new(sink: MetricsSink) -> Self {
        Self {
            state: Arc::default(),
            sink,
        }
    }

    /// Counters kept in memory and the list their EMF lines go to.
    pub fn in_memory() -> (Self, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        (Self::new(MetricsSink::Memory(Arc::clone(&lines))), lines)
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

    /// A gap was recorded; printed at once.
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

    /// Prints the counts since the last line (and the heartbeat), then starts a new window.
    pub fn flush(&self, now: DateTime<Utc>) {
        let line = {
            let mut state = self.lock();
            let line = emf_line(&state.window, &state.lag_samples, state.active, now);
            state.window = MetricsSnapshot::default();
            state.lag_samples.clear();
            line
        };
        match &self.sink {
            MetricsSink::Stdout => {
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                // A closed stdout must not stop the subscriber.
                let _ = writeln!(out, "{line}");
            }
            MetricsSink::Memory(lines) => lines
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line),
            MetricsSink::Discard => {}
        }
    }
}

/// One EMF line for the counts of `window`.
fn emf_line(window: &MetricsSnapshot, lags: &[i64], active: bool, now: DateTime<Utc>) -> String {
    let counts = [
        ("EventsReceived", window.events_received),
        ("EventsForwarded", window.events_forwarded),
        ("EventsDeadLettered", window.events_dead_lettered),
        ("DecodeFailures", window.decode_failures),
        ("Reconnects", window.reconnects),
        ("GapRecords", window.gap_records),
        ("LeaseLost", window.leases_lost),
        ("Active", u64::from(active)),
        ("Heartbeat", 1),
    ];
    let mut metrics: Vec<Metric<'_>> = counts
        .iter()
        .map(|(name, value)| Metric::count(name, *value))
        .collect();
    if !lags.is_empty() {
        metrics.push(Metric {
            name: "LagMs",
            unit: "Milliseconds",
            value: json!(lags),
        });
    }
    emf::line(NAMESPACE, &[("Service", SERVICE)], &metrics, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn when_flushed_should_print_an_emf_line_with_the_window_and_start_over() {
        let (metrics, lines) = Metrics::in_memory();
        metrics.received(Some(40));
        metrics.received(None);
        metrics.forwarded(1);
        metrics.decode_failure();
        metrics.dead_lettered(1);
        metrics.set_active(true);
        let now = DateTime::from_timestamp(1_714_557_600, 0).unwrap();
        metrics.flush(now);
        metrics.flush(now);
        let lines = lines.lock().unwrap().clone();
        assert_eq!(lines.len(), 2);
        let first: Value = serde_json::from_str(&lines[0]).unwrap();
        let aws = &first["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(aws["Namespace"], NAMESPACE);
        assert_eq!(first["_aws"]["Timestamp"], 1_714_557_600_000i64);
        let names: Vec<&str> = aws["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for name in [
            "EventsReceived",
            "Heartbeat",
            "LagMs",
            "GapRecords",
            "Reconnects",
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
            assert!(first.get(name).is_some(), "{name} has a value");
        }
        assert_eq!(first["EventsReceived"], 2);
        assert_eq!(first["LagMs"], json!([40]));
        assert_eq!(first["Active"], 1);
        let second: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(second["EventsReceived"], 0);
        assert_eq!(second["Heartbeat"], 1);
        assert!(second.get("LagMs").is_none());
        assert_eq!(metrics.snapshot().events_received, 2, "totals are kept");
    }
}
