//! One SQS batch in, one partial batch response out: the records become the
//! core's deliveries, [`settle`] decides each (the FIFO rule is there, one
//! function for the Lambda and portal-local), and every delivery not
//! acknowledged is reported as a batch item failure, which SQS delivers
//! again after the visibility timeout (and moves to the dead-letter queue
//! after `maxReceiveCount` receives).
//!
//! [`process_batch`] also counts what happened to the batch's messages for
//! the metrics ([`crate::metrics`]): the use case's outcomes as they pass
//! ([`Counting`]), and every delivery not acknowledged as retried.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use portal_core::messages::ProvisioningMessage;
use portal_core::ports::LeaseOwner;
use portal_core::ports::{Delivery, ReceiptHandle};
use portal_core::provisioning::ProvisioningOutcome;
use portal_core::workers::Shutdown;
use portal_core::workers::provisioner::{Invocation, Provision, settle};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::metrics::BatchCounts;

/// The invocation of a Lambda context.
pub fn invocation(context: &lambda_runtime::Context) -> Invocation {
    let deadline = i64::try_from(context.deadline)
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .unwrap_or_else(Utc::now);
    Invocation {
        request_id: context.request_id.clone(),
        deadline,
    }
}

/// The delivery of one SQS record (`None` without a message id, which can
/// be neither acknowledged nor retried).
pub fn delivery(record: &SqsMessage) -> Option<Delivery> {
    let message_id = record.message_id.clone()?;
    let attribute = |name: &str| record.attributes.get(name).cloned();
    Some(Delivery::from_body(
        message_id,
        ReceiptHandle::new(record.receipt_handle.clone().unwrap_or_default()),
        attribute("MessageGroupId"),
        attribute("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
        record.body.as_deref().unwrap_or_default(),
    ))
}

/// Processes `event` and says which messages SQS must deliver again.
pub async fn handle_batch<P: Provision>(
    provisioner: &P,
    event: &SqsEvent,
    invocation: &Invocation,
) -> SqsBatchResponse {
    process_batch(provisioner, event, invocation).await.0
}

/// [`handle_batch`], and what happened to the batch's messages (the Lambda
/// prints them as metrics, [`crate::metrics`]).
pub async fn process_batch<P: Provision>(
    provisioner: &P,
    event: &SqsEvent,
    invocation: &Invocation,
) -> (SqsBatchResponse, BatchCounts) {
    let deliveries: Vec<Delivery> = event
        .records
        .iter()
        .filter_map(|record| {
            let delivery = delivery(record);
            if delivery.is_none() {
                tracing::error!(
                    "an SQS record without a messageId cannot be acknowledged or retried"
                );
            }
            delivery
        })
        .collect();
    let counting = Counting::new(provisioner);
    let settlements = settle(&counting, &deliveries, invocation, &Shutdown::never()).await;
    let mut counts = counting.counts();
    let mut response = SqsBatchResponse::default();
    for (delivery, settlement) in deliveries.iter().zip(settlements) {
        if !settlement.is_acknowledged() {
            counts.retried += 1;
            response.add_failure(&delivery.message_id);
        }
    }
    (response, counts)
}

/// A [`Provision`] that counts the settled outcomes of the one it wraps
/// (provisioned, skipped, failed); retries are counted from the settlements.
struct Counting<'a, P> {
    inner: &'a P,
    provisioned: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
}

impl<'a, P: Provision> Counting<'a, P> {
    fn new(inner: &'a P) -> Self {
        Self {
            inner,
            provisioned: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    fn counts(&self) -> BatchCounts {
        BatchCounts {
            provisioned: self.provisioned.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            retried: 0,
        }
    }
}

impl<P: Provision> Provision for Counting<'_, P> {
    async fn provision(
        &self,
        message: &ProvisioningMessage,
        owner: &LeaseOwner,
        deadline: DateTime<Utc>,
    ) -> ProvisioningOutcome {
        let outcome = self.inner.provision(message, owner, deadline).await;
        let counter = match &outcome {
            ProvisioningOutcome::Provisioned(_) => Some(&self.provisioned),
            ProvisioningOutcome::Skipped(_) => Some(&self.skipped),
            ProvisioningOutcome::Failed(_) => Some(&self.failed),
            ProvisioningOutcome::Retry(_) => None,
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        outcome
    }
}
