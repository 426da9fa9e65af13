//! [`EmfMetrics`]: the subscriber's metric windows as CloudWatch Embedded
//! Metric Format lines, one JSON object per line, namespace [`NAMESPACE`]:
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

use std::sync::{Arc, Mutex, PoisonError};

use portal_aws::emf::{self, Metric};
use portal_core::workers::subscriber::{MetricsSink, MetricsWindow};
use serde_json::json;

/// The CloudWatch namespace.
pub const NAMESPACE: &str = "CustomerPortal/Subscriber";

/// The `Service` dimension's value.
pub const SERVICE: &str = "subscriber";

/// Where the EMF lines go.
#[derive(Debug, Clone, Default)]
pub enum EmfMetrics {
    /// Standard output (CloudWatch Logs picks EMF lines out of the stream).
    #[default]
    Stdout,
    /// Kept in memory (tests).
    Memory(Arc<Mutex<Vec<String>>>),
}

impl EmfMetrics {
    /// Lines kept in memory, and the list they go to.
    pub fn in_memory() -> (Self, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        (Self::Memory(Arc::clone(&lines)), lines)
    }
}

impl MetricsSink for EmfMetrics {
    fn publish(&self, window: &MetricsWindow) {
        let line = emf_line(window);
        match self {
            Self::Stdout => {
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                // A closed stdout must not stop the subscriber.
                let _ = writeln!(out, "{line}");
            }
            Self::Memory(lines) => lines
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line),
        }
    }
}

/// One EMF line for `window`.
pub fn emf_line(window: &MetricsWindow) -> String {
    let c = &window.counts;
    let counts = [
        ("EventsReceived", c.events_received),
        ("EventsForwarded", c.events_forwarded),
        ("EventsDeadLettered", c.events_dead_lettered),
        ("DecodeFailures", c.decode_failures),
        ("Reconnects", c.reconnects),
        ("GapRecords", c.gap_records),
        ("LeaseLost", c.leases_lost),
        ("Active", u64::from(window.active)),
        ("Heartbeat", 1),
    ];
    let mut metrics: Vec<Metric<'_>> = counts
        .iter()
        .map(|(name, value)| Metric::count(name, *value))
        .collect();
    if !window.lag_samples.is_empty() {
        metrics.push(Metric {
            name: "LagMs",
            unit: "Milliseconds",
            value: json!(window.lag_samples),
        });
    }
    emf::line(NAMESPACE, &[("Service", SERVICE)], &metrics, window.at)
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use portal_core::workers::subscriber::Metrics;
    use serde_json::Value;

    use super::*;

    #[test]
    fn when_flushed_should_print_an_emf_line_with_the_window_and_start_over() {
        let (sink, lines) = EmfMetrics::in_memory();
        let metrics = Metrics::new(sink);
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
