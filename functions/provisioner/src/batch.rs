//! One SQS batch in, one partial batch response out: the records become the
//! core's deliveries, [`settle`] decides each (the FIFO rule is there, one
//! function for the Lambda and portal-local), and every delivery not
//! acknowledged is reported as a batch item failure, which SQS delivers
//! again after the visibility timeout (and moves to the dead-letter queue
//! after `maxReceiveCount` receives).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use portal_core::ports::{Delivery, ReceiptHandle};
use portal_core::workers::Shutdown;
use portal_core::workers::provisioner::{Invocation, Provision, settle};

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
    let settlements = settle(provisioner, &deliveries, invocation, &Shutdown::never()).await;
    let mut response = SqsBatchResponse::default();
    for (delivery, settlement) in deliveries.iter().zip(settlements) {
        if !settlement.is_acknowledged() {
            response.add_failure(&delivery.message_id);
        }
    }
    response
}
