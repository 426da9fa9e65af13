//! The reconciler worker: one [`Reconcile::run`] per tick of a schedule (in
//! AWS the EventBridge rule invokes the Lambda, which runs one pass;
//! portal-local runs [`every`] around the reconciler crate's own handler).

use std::future::Future;
use std::time::Duration;

use super::Shutdown;
use crate::ports::StuckOrders;
use crate::ports::{
    AccountStatusSync, Clock, GapSweeps, PortalStatusChanges, ProvisioningQueue,
    ProvisioningRecords, QueueDepths, ReconcileAttempts,
};
use crate::reconcile::{ReconcileReport, Reconciler};

/// The reconciliation use case as a worker sees it: one run, one report.
pub trait Reconcile: Send + Sync {
    /// One pass; `run_id` names it in the logs.
    fn run(&self, run_id: &str) -> impl Future<Output = ReconcileReport> + Send;
}

impl<S, R, A, G, Q, D, C, P, T> Reconcile for Reconciler<S, R, A, G, Q, D, C, P, T>
where
    S: StuckOrders,
    R: ProvisioningRecords,
    A: ReconcileAttempts,
    G: GapSweeps,
    Q: ProvisioningQueue,
    D: QueueDepths,
    C: Clock,
    P: PortalStatusChanges,
    T: AccountStatusSync,
{
    fn run(&self, run_id: &str) -> impl Future<Output = ReconcileReport> + Send {
        Reconciler::run(self, run_id)
    }
}

/// Calls `tick` with the run number (1, 2, …) every `period`, the first one
/// period after the start, until `shutdown`; a tick in progress is finished
/// first.
pub async fn every<F, Fut>(period: Duration, shutdown: &Shutdown, mut tick: F)
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = ()>,
{
    tracing::info!(
        every_secs = period.as_secs(),
        "the reconciler schedule is running"
    );
    let mut run = 0_u64;
    loop {
        tokio::select! {
            () = shutdown.requested() => break,
            () = tokio::time::sleep(period) => {}
        }
        run += 1;
        tick(run).await;
    }
    tracing::info!("the reconciler schedule stopped");
}
