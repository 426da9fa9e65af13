//! The reconciler: the local stand-in for the EventBridge schedule.
//!
//! Every `every` (60 s by default) it runs the reconciler Lambda's own
//! handler (`reconciler::run_once`, its EMF lines discarded) on the
//! reconciliation use case (`portal_core::reconcile`) with the same
//! Salesforce adapters as the Lambda (`SalesforceStuckOrders`,
//! `SalesforcePortalStatuses`) over the shared state: provisioning records,
//! attempt records, replay gaps, the provisioning queue, the dead letters of
//! both queues, and the deactivated Accounts the API reads. The schedule is
//! the core's `portal_core::workers::reconciler::every`: the first run comes
//! one period after the start; a run in progress is finished before it stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use portal_core::reconcile::{ReconcilePorts, ReconcileSettings, Reconciler};
use portal_core::workers::Shutdown;
use portal_core::workers::reconciler::every;
use salesforce::SalesforceClient;
use salesforce::reconcile::{SalesforcePortalStatuses, SalesforceStuckOrders};
use tokio::task::JoinHandle;

use crate::state::{Shared, State};

/// The running schedule; dropping it stops it at once.
#[derive(Debug)]
pub struct RunningReconciler {
    /// Runs finished so far.
    pub runs: Arc<AtomicU64>,
    /// The period.
    pub every: Duration,
    task: Option<JoinHandle<()>>,
}

impl RunningReconciler {
    /// Runs finished so far.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// Waits for a run in progress to finish after the shutdown was triggered
    /// (at most `limit`).
    pub async fn stop(mut self, limit: Duration) {
        if let Some(task) = self.task.take()
            && tokio::time::timeout(limit, task).await.is_err()
        {
            tracing::warn!("the reconciler did not stop in time");
        }
    }
}

impl Drop for RunningReconciler {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Starts the schedule over the org `salesforce` and `shared`, until `shutdown`.
pub fn start<S: State>(
    salesforce: SalesforceClient,
    period: Duration,
    shared: &Shared<S>,
    shutdown: Shutdown,
) -> RunningReconciler {
    let ports = ReconcilePorts {
        orders: SalesforceStuckOrders::new(salesforce.clone()),
        portal_statuses: SalesforcePortalStatuses::new(salesforce),
        account_statuses: shared.account_statuses.clone(),
        records: shared.records.clone(),
        attempts: shared.reconcile_attempts.clone(),
        gaps: shared.replay.clone(),
        queue: shared.queue.clone(),
        depths: shared.depths.clone(),
        clock: Arc::clone(&shared.clock),
    };
    let reconciler = Reconciler::new(ports, ReconcileSettings::default());
    let runs = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&runs);
    let clock = Arc::clone(&shared.clock);
    let task = tokio::spawn(async move {
        every(period, &shutdown, |run| {
            let event = reconciler::scheduled_event(clock.now());
            let reconciler = &reconciler;
            let counter = &counter;
            async move {
                // Boxed: the use case's future is deep (HTTP client).
                let report = Box::pin(reconciler::run_once(
                    reconciler,
                    &event,
                    &format!("local-{run}"),
                    &mut std::io::sink(),
                ))
                .await;
                if let Err(failed) = reconciler::respond(report) {
                    tracing::warn!(error = %failed, "a reconciliation run failed");
                }
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })
        .await;
    });
    RunningReconciler {
        runs,
        every: period,
        task: Some(task),
    }
}
