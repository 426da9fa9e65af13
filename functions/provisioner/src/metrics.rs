//! The provisioner's outcomes per batch as one CloudWatch Embedded Metric
//! Format line, namespace [`NAMESPACE`], dimension `Service` = [`SERVICE`],
//! written to stdout in Lambda (CloudWatch Logs extracts it):
//!
//! - `Provisioned`: Orders provisioned in this batch;
//! - `Skipped`: messages acknowledged with nothing to do (already provisioned,
//!   in flight elsewhere, no longer Activating);
//! - `Failed`: Orders failed permanently (written to Salesforce as Failed);
//! - `Retried`: messages given back to SQS for a transient failure, plus the
//!   later messages of the batch given back unseen (FIFO) and bodies that are
//!   not provisioning messages (they reach the DLQ after five receives).
//!
//! The dashboard in `template.yaml` shows these four.

use chrono::{DateTime, Utc};
use portal_aws::emf::{self, Metric};

/// The CloudWatch namespace.
pub const NAMESPACE: &str = "CustomerPortal/Provisioner";
/// The `Service` dimension's value.
pub const SERVICE: &str = "provisioner";
/// The metrics of every line, in order.
pub const METRICS: [&str; 4] = ["Provisioned", "Skipped", "Failed", "Retried"];

/// What happened to the messages of one batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    /// Provisioned now.
    pub provisioned: u64,
    /// Acknowledged with nothing to do.
    pub skipped: u64,
    /// Failed permanently.
    pub failed: u64,
    /// Given back to SQS (transient failure, unseen after one, or malformed).
    pub retried: u64,
}

/// The EMF line of `counts`, stamped `now`.
pub fn emf_line(counts: &BatchCounts, now: DateTime<Utc>) -> String {
    let values = [
        counts.provisioned,
        counts.skipped,
        counts.failed,
        counts.retried,
    ];
    let metrics: Vec<Metric<'_>> = METRICS
        .iter()
        .zip(values)
        .map(|(name, value)| Metric::count(name, value))
        .collect();
    emf::line(NAMESPACE, &[("Service", SERVICE)], &metrics, now)
}

/// Writes the EMF line of `counts` to `out` (a closed stdout must not fail the batch).
pub fn write(out: &mut impl std::io::Write, counts: &BatchCounts, now: DateTime<Utc>) {
    let _ = writeln!(out, "{}", emf_line(counts, now));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn a_batch_line_carries_every_outcome_under_the_service_dimension() {
        let counts = BatchCounts {
            provisioned: 2,
            skipped: 1,
            failed: 0,
            retried: 3,
        };
        let now = DateTime::from_timestamp(1_714_557_600, 0).unwrap_or_default();
        let line: Value = serde_json::from_str(&emf_line(&counts, now)).unwrap_or_default();
        let cw = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], NAMESPACE);
        assert_eq!(cw["Dimensions"], json!([["Service"]]));
        assert_eq!(line["Service"], SERVICE);
        assert_eq!(line["Provisioned"], 2);
        assert_eq!(line["Skipped"], 1);
        assert_eq!(line["Failed"], 0);
        assert_eq!(line["Retried"], 3);
    }
}
