//! The run's report as CloudWatch Embedded Metric Format lines, namespace
//! [`NAMESPACE`], written to stdout in Lambda (CloudWatch Logs extracts them):
//!
//! - one line with dimension `Service` = [`SERVICE`] and the counts of the run:
//!   `StuckOrders`, `MoreStuckOrders` (1 when a page was not enough),
//!   `UnsettledRecords`, `Reenqueued`, `AlreadyProvisioned`, `InFlight`,
//!   `BackingOff`, `AttemptsExhausted`, `SendFailures`, `GapsSwept`,
//!   `GapsPending`, `AccountsSynced`, `AccountsInactive`, `MoreAccounts`,
//!   `FailedSteps`;
//! - one line per dead-letter queue with dimensions `Service`, `Queue` and
//!   `DeadLetterDepth` (waiting) and `DeadLetterInFlight`.
//!
//! The template alarms on `AttemptsExhausted > 0`.

use chrono::{DateTime, Utc};
use portal_aws::emf::{self, Metric};
use portal_core::reconcile::ReconcileReport;

/// The CloudWatch namespace.
pub const NAMESPACE: &str = "CustomerPortal/Reconciler";
/// The `Service` dimension's value.
pub const SERVICE: &str = "reconciler";
/// The metric the "attempts exhausted" alarm watches.
pub const ATTEMPTS_EXHAUSTED: &str = "AttemptsExhausted";

/// The EMF lines of one run.
pub fn emf_lines(report: &ReconcileReport, now: DateTime<Utc>) -> Vec<String> {
    let counts: [(&str, u64); 15] = [
        ("StuckOrders", report.stuck_orders.into()),
        ("MoreStuckOrders", u64::from(report.more_stuck_orders)),
        ("UnsettledRecords", report.unsettled_records.into()),
        ("Reenqueued", report.reenqueued.into()),
        ("AlreadyProvisioned", report.already_provisioned.into()),
        ("InFlight", report.in_flight.into()),
        ("BackingOff", report.backing_off.into()),
        (
            ATTEMPTS_EXHAUSTED,
            u64::try_from(report.exhausted.len()).unwrap_or(u64::MAX),
        ),
        ("SendFailures", report.send_failures.into()),
        ("GapsSwept", report.gaps_swept.into()),
        ("GapsPending", report.gaps_pending.into()),
        ("AccountsSynced", report.accounts_synced.into()),
        ("AccountsInactive", report.accounts_inactive.into()),
        ("MoreAccounts", u64::from(report.more_accounts)),
        (
            "FailedSteps",
            u64::try_from(report.failures.len()).unwrap_or(u64::MAX),
        ),
    ];
    let mut lines = vec![line(&[], &counts, now)];
    for depth in &report.dead_letters {
        lines.push(line(
            &[("Queue", depth.queue.as_str())],
            &[
                ("DeadLetterDepth", depth.visible),
                ("DeadLetterInFlight", depth.in_flight),
            ],
            now,
        ));
    }
    lines
}

fn line(dimensions: &[(&str, &str)], counts: &[(&str, u64)], now: DateTime<Utc>) -> String {
    let mut all = vec![("Service", SERVICE)];
    all.extend_from_slice(dimensions);
    let metrics: Vec<Metric<'_>> = counts
        .iter()
        .map(|(name, value)| Metric::count(name, *value))
        .collect();
    emf::line(NAMESPACE, &all, &metrics, now)
}

/// Writes `lines` to `out`, one per line (a closed stdout must not fail the run).
pub fn write(out: &mut impl std::io::Write, lines: &[String]) {
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use portal_core::domain::OrderId;
    use portal_core::ports::QueueDepth;
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn the_report_becomes_one_service_line_and_one_line_per_queue() {
        let report = ReconcileReport {
            stuck_orders: 3,
            reenqueued: 2,
            exhausted: vec![OrderId::parse("801000000000001").unwrap()],
            dead_letters: vec![QueueDepth {
                queue: "ProvisioningDeadLetterQueue".into(),
                visible: 4,
                in_flight: 1,
            }],
            ..ReconcileReport::default()
        };
        let now = DateTime::from_timestamp(1_714_557_600, 0).unwrap();
        let lines = emf_lines(&report, now);
        assert_eq!(lines.len(), 2);
        let service: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(service["Service"], "reconciler");
        assert_eq!(service["StuckOrders"], 3);
        assert_eq!(service["Reenqueued"], 2);
        assert_eq!(service[ATTEMPTS_EXHAUSTED], 1);
        assert_eq!(
            service["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            NAMESPACE
        );
        assert_eq!(
            service["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Service"]])
        );
        assert_eq!(service["_aws"]["Timestamp"], 1_714_557_600_000_i64);
        assert!(
            !lines[0].contains("801000000000001"),
            "ids are logged, not put in metrics"
        );
        let queue: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(queue["Queue"], "ProvisioningDeadLetterQueue");
        assert_eq!(queue["DeadLetterDepth"], 4);
        assert_eq!(queue["DeadLetterInFlight"], 1);
        assert_eq!(
            queue["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Service", "Queue"]])
        );
    }
}
