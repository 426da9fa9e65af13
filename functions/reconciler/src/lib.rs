//! The reconciler Lambda, run by an EventBridge schedule: one pass of
//! `portal_core::reconcile` per invocation (re-enqueues Orders stuck in
//! `Activating` and unsettled provisioning records with backoff, sweeps the
//! replay gaps, reads the dead-letter queues' depth, copies staff
//! deactivations of Accounts for the API), its report logged and written as
//! EMF metrics.
//!
//! - [`config`]: [`ReconcilerConfig`], read once at cold start;
//! - [`wiring`]: the use case over Salesforce, DynamoDB and SQS;
//! - [`metrics`]: the report as EMF lines;
//! - [`handle`]: one scheduled event → one run ([`run_once`]) → its summary,
//!   or [`RunFailed`] when a step failed (so the Errors alarm sees it);
//!   generic over the use case's ports, so portal-local runs the same
//!   handler on its own schedule (`portal_core::workers::reconciler::every`).

pub mod config;
pub mod metrics;
pub mod wiring;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use portal_core::reconcile::ReconcileReport;
use portal_core::workers::reconciler::Reconcile;
use serde_json::{Value, json};

pub use config::{AwsTargets, ReconcilerConfig};
pub use wiring::{AwsReconciler, LambdaReconciler, assemble, build};

/// A run in which at least one step failed; what could be done was done.
#[derive(Debug, thiserror::Error)]
#[error("reconciliation steps failed: {}", self.steps().join(", "))]
pub struct RunFailed {
    /// The run's report (its `failures` name the steps and why).
    pub report: Box<ReconcileReport>,
}

impl RunFailed {
    /// The failed steps, in order (e.g. `salesforce`, `queue`).
    pub fn steps(&self) -> Vec<String> {
        self.report
            .failures
            .iter()
            .map(|f| f.step.to_string())
            .collect()
    }
}

impl From<RunFailed> for lambda_runtime::Diagnostic {
    fn from(error: RunFailed) -> Self {
        Self {
            error_type: "ReconcileStepsFailed".to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// One scheduled invocation: runs the use case (`run_id` = the Lambda
/// request id), writes its EMF lines to stdout, and answers with a summary of counts.
///
/// # Errors
/// [`RunFailed`] when a step failed (the rest of the run still happened).
pub async fn handle<R: Reconcile>(
    reconciler: &R,
    event: &EventBridgeEvent,
    run_id: &str,
) -> Result<Value, RunFailed> {
    respond(run_once(reconciler, event, run_id, &mut std::io::stdout()).await)
}

/// Runs the use case once for `event` and writes the report's EMF lines to
/// `metrics_out` (stdout in Lambda, where CloudWatch Logs extracts them).
pub async fn run_once<R: Reconcile>(
    reconciler: &R,
    event: &EventBridgeEvent,
    run_id: &str,
    metrics_out: &mut (impl std::io::Write + Send),
) -> ReconcileReport {
    tracing::info!(scheduled_at = ?event.time, detail_type = %event.detail_type, "reconciliation run starting");
    // Boxed: the use case's future is deep (HTTP and SDK calls).
    let report = Box::pin(reconciler.run(run_id)).await;
    metrics::write(
        metrics_out,
        &metrics::emf_lines(&report, chrono::Utc::now()),
    );
    report
}

/// The event an EventBridge schedule sends at `time` (portal-local's ticks).
pub fn scheduled_event(time: chrono::DateTime<chrono::Utc>) -> EventBridgeEvent {
    let mut event = EventBridgeEvent::default();
    event.detail_type = "Scheduled Event".to_owned();
    event.source = "aws.events".to_owned();
    event.time = Some(time);
    event
}

/// The invocation's answer: the summary of a clean run, else [`RunFailed`].
///
/// # Errors
/// [`RunFailed`] naming the failed steps.
pub fn respond(report: ReconcileReport) -> Result<Value, RunFailed> {
    if report.is_clean() {
        return Ok(summary(&report));
    }
    Err(RunFailed {
        report: Box::new(report),
    })
}

/// The counts of a run, as the invocation's answer.
pub fn summary(report: &ReconcileReport) -> Value {
    json!({
        "stuckOrders": report.stuck_orders,
        "moreStuckOrders": report.more_stuck_orders,
        "unsettledRecords": report.unsettled_records,
        "reenqueued": report.reenqueued,
        "alreadyProvisioned": report.already_provisioned,
        "inFlight": report.in_flight,
        "backingOff": report.backing_off,
        "attemptsExhausted": report.exhausted.len(),
        "sendFailures": report.send_failures,
        "gapsSwept": report.gaps_swept,
        "gapsPending": report.gaps_pending,
        "accountsSynced": report.accounts_synced,
        "accountsInactive": report.accounts_inactive,
        "moreAccounts": report.more_accounts,
        "deadLetters": report
            .dead_letters
            .iter()
            .map(|d| json!({"queue": d.queue, "visible": d.visible, "inFlight": d.in_flight}))
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use portal_core::reconcile::{NotTaken, ReconcileStep, StepFailure};

    use super::*;

    #[test]
    fn a_clean_run_answers_its_counts_and_a_failed_one_names_its_steps() {
        let clean = ReconcileReport {
            reenqueued: 2,
            ..ReconcileReport::default()
        };
        assert_eq!(respond(clean).unwrap()["reenqueued"], 2);
        let failed = ReconcileReport {
            failures: vec![
                StepFailure {
                    step: ReconcileStep::Salesforce,
                    error: Arc::new(std::io::Error::other("down")),
                },
                StepFailure {
                    step: ReconcileStep::Queue,
                    error: Arc::new(NotTaken(1)),
                },
            ],
            ..ReconcileReport::default()
        };
        let error = respond(failed).unwrap_err();
        assert_eq!(
            error.to_string(),
            "reconciliation steps failed: salesforce, queue"
        );
        let diagnostic = lambda_runtime::Diagnostic::from(error);
        assert_eq!(diagnostic.error_type, "ReconcileStepsFailed");
    }
}
