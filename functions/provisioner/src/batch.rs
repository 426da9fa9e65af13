//! One SQS batch in, one partial batch response out.
//!
//! Records are processed one after the other, in the order SQS gave them
//! (FIFO). A record whose outcome is [`ProvisioningOutcome::Retry`] is
//! reported as a batch item failure, and so is every record after it, unseen:
//! on a FIFO queue a later message of the same group must not overtake an
//! earlier one. Everything else (provisioned, skipped, failed permanently and
//! written to Salesforce) is acknowledged.
//!
//! A body that is not a valid provisioning message can never succeed; it is
//! reported as a failure too, so that after `maxReceiveCount` receives it is
//! kept in the dead-letter queue for inspection instead of being dropped.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use portal_core::messages::ProvisioningMessage;
use portal_core::ports::{Clock, LeaseOwner, ProvisioningRecords};
use portal_core::provisioning::{BillingGateway, OrderLedger, Provisioner, ProvisioningOutcome};
use tracing::Instrument as _;

use crate::metrics::BatchCounts;

/// The invocation a batch is processed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// The Lambda request id (part of every lease owner).
    pub request_id: String,
    /// When Lambda stops the invocation.
    pub deadline: DateTime<Utc>,
}

impl Invocation {
    /// The invocation of a Lambda context.
    pub fn from_context(context: &lambda_runtime::Context) -> Self {
        let deadline = i64::try_from(context.deadline)
            .ok()
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or_else(Utc::now);
        Self {
            request_id: context.request_id.clone(),
            deadline,
        }
    }
}

/// Processes `event` and says which messages SQS must deliver again.
pub async fn handle_batch<L, B, R, C>(
    provisioner: &Provisioner<L, B, R, C>,
    event: &SqsEvent,
    invocation: &Invocation,
) -> SqsBatchResponse
where
    L: OrderLedger,
    B: BillingGateway,
    R: ProvisioningRecords,
    C: Clock,
{
    process_batch(provisioner, event, invocation).await.0
}

/// [`handle_batch`], and what happened to the batch's messages (the Lambda
/// prints them as metrics, [`crate::metrics`]).
pub async fn process_batch<L, B, R, C>(
    provisioner: &Provisioner<L, B, R, C>,
    event: &SqsEvent,
    invocation: &Invocation,
) -> (SqsBatchResponse, BatchCounts)
where
    L: OrderLedger,
    B: BillingGateway,
    R: ProvisioningRecords,
    C: Clock,
{
    let mut response = SqsBatchResponse::default();
    let mut counts = BatchCounts::default();
    let mut stopped = false;
    for record in &event.records {
        let Some(message_id) = record.message_id.as_deref() else {
            tracing::error!("an SQS record without a messageId cannot be acknowledged or retried");
            continue;
        };
        if stopped {
            counts.retried += 1;
            response.add_failure(message_id);
            continue;
        }
        let span = tracing::info_span!(
            "message",
            message_id,
            order_id = tracing::field::Empty,
            correlation_id = tracing::field::Empty
        );
        let outcome = process(provisioner, record, message_id, invocation)
            .instrument(span)
            .await;
        match outcome {
            Some(ProvisioningOutcome::Provisioned(_)) => counts.provisioned += 1,
            Some(ProvisioningOutcome::Skipped(_)) => counts.skipped += 1,
            Some(ProvisioningOutcome::Failed(_)) => counts.failed += 1,
            Some(ProvisioningOutcome::Retry(_)) | None => {
                counts.retried += 1;
                stopped = true;
                response.add_failure(message_id);
            }
        }
    }
    if !response.batch_item_failures.is_empty() {
        tracing::warn!(
            records = event.records.len(),
            failures = response.batch_item_failures.len(),
            "reporting batch item failures"
        );
    }
    (response, counts)
}

/// One record's outcome; `None` when its body is not a provisioning message.
async fn process<L, B, R, C>(
    provisioner: &Provisioner<L, B, R, C>,
    record: &SqsMessage,
    message_id: &str,
    invocation: &Invocation,
) -> Option<ProvisioningOutcome>
where
    L: OrderLedger,
    B: BillingGateway,
    R: ProvisioningRecords,
    C: Clock,
{
    let message = match ProvisioningMessage::from_json(record.body.as_deref().unwrap_or_default()) {
        Ok(message) => message,
        Err(error) => {
            tracing::error!(%error, "not a provisioning message; leaving it to the dead-letter queue");
            return None;
        }
    };
    let span = tracing::Span::current();
    span.record("order_id", message.order_id.as_str());
    span.record("correlation_id", message.correlation_id.as_str());
    let owner = LeaseOwner::new(format!("{}/{message_id}", invocation.request_id))
        .or_else(|_| LeaseOwner::new(uuid::Uuid::new_v4().to_string()))
        .expect("a UUID is a valid lease owner");
    // Boxed: the use case's future is deep (HTTP clients, SDK calls) and
    // would otherwise be laid out inline in every caller's future.
    Some(Box::pin(provisioner.provision(&message, &owner, invocation.deadline)).await)
}
