//! The reconciler: the local stand-in for the EventBridge schedule.
//!
//! Every `every` (60 s by default) it runs the reconciliation use case
//! (`portal_core::reconcile`) once, with the same Salesforce adapter as the
//! Lambda (`SalesforceStuckOrders`) over the shared in-memory state:
//! provisioning records, attempt records, replay gaps, the provisioning
//! queue, and the dead letters of both queues. The first run comes one
//! period after the start. A run in progress is finished before it stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use portal_core::ports::Clock;
use portal_core::ports::memory::{
    InMemoryAccountStatuses, InMemoryDeadLetters, InMemoryProvisioningRecords, InMemoryQueue,
    InMemoryReconcileAttempts, InMemoryReplayStore,
};
use portal_core::reconcile::{ReconcilePorts, ReconcileSettings, Reconciler};
use salesforce::SalesforceClient;
use salesforce::reconcile::{SalesforcePortalStatuses, SalesforceStuckOrders};
use subscriber::Shutdown;
use tokio::task::JoinHandle;

use crate::runner::Shared;

/// The use case as the local runner wires it.
pub type LocalReconciler = Reconciler<
    SalesforceStuckOrders,
    Arc<InMemoryProvisioningRecords>,
    Arc<InMemoryReconcileAttempts>,
    Arc<InMemoryReplayStore>,
    Arc<InMemoryQueue>,
    (Arc<InMemoryQueue>, Arc<InMemoryDeadLetters>),
    Arc<dyn Clock>,
    SalesforcePortalStatuses,
    Arc<InMemoryAccountStatuses>,
>;

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
pub fn start(
    salesforce: SalesforceClient,
    every: Duration,
    shared: &Shared,
    shutdown: Shutdown,
) -> RunningReconciler {
    let ports = ReconcilePorts {
        orders: SalesforceStuckOrders::new(salesforce.clone()),
        portal_statuses: SalesforcePortalStatuses::new(salesforce),
        account_statuses: Arc::clone(&shared.account_statuses),
        records: Arc::clone(&shared.records),
        attempts: Arc::clone(&shared.reconcile_attempts),
        gaps: Arc::clone(&shared.replay),
        queue: Arc::clone(&shared.queue),
        depths: (Arc::clone(&shared.queue), Arc::clone(&shared.dead_letters)),
        clock: Arc::clone(&shared.clock),
    };
    let reconciler: LocalReconciler = Reconciler::new(ports, ReconcileSettings::default());
    let runs = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&runs);
    let task = tokio::spawn(async move {
        tracing::info!(
            every_secs = every.as_secs(),
            "the reconciler schedule is running"
        );
        let mut run = 0_u64;
        loop {
            tokio::select! {
                () = shutdown.requested() => break,
                () = tokio::time::sleep(every) => {}
            }
            run += 1;
            // Boxed: the use case's future is deep (HTTP client).
            let report = Box::pin(reconciler.run(&format!("local-{run}"))).await;
            if !report.is_clean() {
                tracing::warn!(
                    failed_steps = report.failures.len(),
                    "a reconciliation run failed a step"
                );
            }
            counter.fetch_add(1, Ordering::Relaxed);
        }
        tracing::info!("the reconciler schedule stopped");
    });
    RunningReconciler {
        runs,
        every,
        task: Some(task),
    }
}
