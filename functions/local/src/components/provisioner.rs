//! The provisioner worker: the local stand-in for the SQS → Lambda trigger.
//!
//! It receives up to ten messages at a time from the in-memory FIFO queue
//! and runs the provisioning use case (`portal_core::provisioning`) on each,
//! in order, with the same adapters as the Lambda (Salesforce
//! `SalesforceOrderLedger`, WHMCS `WhmcsBilling`) and the in-memory record
//! store. Each attempt gets a deadline `deadline` from its start (the
//! Lambda's timeout; the lease ends before it).
//!
//! Provisioned, Skipped and Failed acknowledge the message. Retry leaves it
//! in flight, so the queue delivers it again after its visibility timeout,
//! as SQS does with a batch item failure; later messages of the same group
//! in the same receive are returned unprocessed (nack), and the queue holds
//! the group back until the retried message is done: FIFO order is kept.
//! Between messages the worker watches the shutdown; a message in hand is
//! finished first.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::TimeDelta;
use portal_core::ports::memory::{Delivery, InMemoryProvisioningRecords, InMemoryQueue};
use portal_core::ports::{Clock, LeaseOwner};
use portal_core::provisioning::{Provisioner, ProvisioningOutcome, ProvisioningSettings};
use salesforce::SalesforceClient;
use salesforce::provisioning::SalesforceOrderLedger;
use subscriber::Shutdown;
use tokio::task::JoinHandle;
use whmcs::WhmcsClient;
use whmcs::billing::WhmcsBilling;

use crate::runner::Shared;

/// Messages taken per receive (the Lambda's batch size).
pub const BATCH: usize = 10;
/// How long the worker waits before asking an empty queue again.
pub const POLL: Duration = Duration::from_millis(100);

/// The use case as the local runner wires it.
pub type LocalProvisioner = Provisioner<
    SalesforceOrderLedger,
    WhmcsBilling,
    Arc<InMemoryProvisioningRecords>,
    Arc<dyn Clock>,
>;

/// What the worker did since it started.
#[derive(Debug, Default)]
pub struct WorkerCounters {
    settled: AtomicU64,
    retried: AtomicU64,
}

impl WorkerCounters {
    /// Messages acknowledged (provisioned, skipped or failed for good).
    pub fn settled(&self) -> u64 {
        self.settled.load(Ordering::Relaxed)
    }

    /// Attempts that ended in Retry (left for redelivery).
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }
}

/// The running worker; stop it with [`RunningProvisioner::stop`] (dropping
/// it aborts the task at once).
#[derive(Debug)]
pub struct RunningProvisioner {
    /// Its counters.
    pub counters: Arc<WorkerCounters>,
    task: Option<JoinHandle<()>>,
}

impl RunningProvisioner {
    /// Waits for the worker to finish the message in hand after the shutdown
    /// was triggered (at most `deadline` and a second).
    pub async fn stop(mut self, deadline: Duration) {
        if let Some(task) = self.task.take()
            && tokio::time::timeout(deadline + Duration::from_secs(1), task)
                .await
                .is_err()
        {
            tracing::warn!("the provisioner did not stop in time");
        }
    }
}

impl Drop for RunningProvisioner {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Starts the worker over the org `salesforce`, the WHMCS `whmcs` and
/// `shared`'s queue and records, until `shutdown`.
pub fn start(
    salesforce: SalesforceClient,
    whmcs: WhmcsClient,
    payment_method: String,
    deadline: Duration,
    shared: &Shared,
    shutdown: Shutdown,
) -> RunningProvisioner {
    let provisioner: LocalProvisioner = Provisioner::new(
        SalesforceOrderLedger::new(salesforce),
        WhmcsBilling::new(whmcs, payment_method),
        Arc::clone(&shared.records),
        Arc::clone(&shared.clock),
        ProvisioningSettings::default(),
    );
    let counters = Arc::new(WorkerCounters::default());
    let worker = Worker {
        provisioner,
        queue: Arc::clone(&shared.queue),
        clock: Arc::clone(&shared.clock),
        deadline: TimeDelta::from_std(deadline).unwrap_or(TimeDelta::MAX),
        counters: Arc::clone(&counters),
        shutdown,
    };
    RunningProvisioner {
        counters,
        task: Some(tokio::spawn(worker.run())),
    }
}

struct Worker {
    provisioner: LocalProvisioner,
    queue: Arc<InMemoryQueue>,
    clock: Arc<dyn Clock>,
    deadline: TimeDelta,
    counters: Arc<WorkerCounters>,
    shutdown: Shutdown,
}

impl Worker {
    async fn run(self) {
        tracing::info!("the provisioner worker is running");
        while !self.shutdown.is_requested() {
            let deliveries = self.queue.receive(BATCH);
            if deliveries.is_empty() {
                tokio::select! {
                    () = self.shutdown.requested() => break,
                    () = tokio::time::sleep(POLL) => continue,
                }
            }
            self.batch(deliveries).await;
        }
        tracing::info!("the provisioner worker stopped");
    }

    /// One receive's deliveries, in order.
    async fn batch(&self, deliveries: Vec<Delivery>) {
        let mut held_back: HashSet<String> = HashSet::new();
        for delivery in deliveries {
            let group = delivery.message.group_id().to_owned();
            if held_back.contains(&group) || self.shutdown.is_requested() {
                // Not attempted: visible again at once, behind its group.
                self.settle(&delivery, Settle::Return);
                continue;
            }
            if self.attempt(&delivery).await {
                self.counters.settled.fetch_add(1, Ordering::Relaxed);
                self.settle(&delivery, Settle::Ack);
            } else {
                self.counters.retried.fetch_add(1, Ordering::Relaxed);
                held_back.insert(group);
            }
        }
    }

    /// One message; `true` when it is done with.
    async fn attempt(&self, delivery: &Delivery) -> bool {
        let owner = LeaseOwner::new(format!(
            "portal-local/{}/{}",
            delivery.message_id, delivery.receipt
        ))
        .expect("queue ids make a valid lease owner");
        let deadline = self.clock.now() + self.deadline;
        // Boxed: the use case's future is deep (HTTP clients).
        let outcome = Box::pin(
            self.provisioner
                .provision(&delivery.message, &owner, deadline),
        )
        .await;
        let settled = outcome.is_settled();
        match &outcome {
            ProvisioningOutcome::Retry(reason) => tracing::warn!(
                message_id = %delivery.message_id,
                order_id = %delivery.message.order_id,
                %reason,
                "left for redelivery after the visibility timeout"
            ),
            _ => tracing::info!(
                message_id = %delivery.message_id,
                order_id = %delivery.message.order_id,
                "acknowledged"
            ),
        }
        settled
    }

    fn settle(&self, delivery: &Delivery, how: Settle) {
        let result = match how {
            Settle::Ack => self.queue.ack(&delivery.receipt),
            Settle::Return => self.queue.nack(&delivery.receipt),
        };
        if result.is_err() {
            // The visibility timeout lapsed first: the message is delivered
            // again, and the use case's records make that harmless.
            tracing::warn!(message_id = %delivery.message_id, "the delivery expired before it was settled");
        }
    }
}

#[derive(Clone, Copy)]
enum Settle {
    Ack,
    Return,
}
