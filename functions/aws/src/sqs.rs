//! `SqsProvisioningQueue`: sends provisioning messages to the FIFO queue with
//! `SendMessageBatch`, ten entries a call, `MessageGroupId` = the Order id and
//! `MessageDeduplicationId` = the message's dedup id (event id or
//! idempotency key). Entries that fail for a reason on SQS's side are retried
//! a bounded number of times before being reported; entries SQS refuses as
//! the sender's fault are reported at once.
//!
//! Order within a group holds for messages accepted on the first attempt; a
//! retried entry may land after a later message of its group. The
//! provisioner's claim makes that harmless.
//!
//! It is also the receiving side ([`ProvisioningDeliveries`]) for a worker
//! that polls the queue (portal-local).

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, SendMessageBatchRequestEntry};
use portal_core::messages::ProvisioningMessage;
use portal_core::ports::{
    Delivery, ProvisioningDeliveries, ProvisioningQueue, QueueError, ReceiptHandle, SendFailure,
    SendOutcome,
};

use crate::errors::{code, is_retryable, queue_error};

/// SQS's limit of entries per `SendMessageBatch` (and messages per `ReceiveMessage`).
pub const BATCH_SIZE: usize = 10;

/// How long one `ReceiveMessage` waits for messages (long polling).
pub const RECEIVE_WAIT_SECS: i32 = 1;

/// How many times one chunk is sent before its failed entries are reported.
const DEFAULT_ATTEMPTS: u32 = 3;

/// The pause before the first retry; doubled on each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// [`ProvisioningQueue`] on an SQS FIFO queue.
#[derive(Debug, Clone)]
pub struct SqsProvisioningQueue {
    client: Client,
    queue_url: String,
    attempts: u32,
}

impl SqsProvisioningQueue {
    /// Sends to the queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            attempts: DEFAULT_ATTEMPTS,
        }
    }

    /// Sends each chunk at most `attempts` times (at least once).
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// Sends one chunk (indices into `messages`), filling `outcomes`. `Err`
    /// only when the whole request failed for good and nothing of the call
    /// was sent yet.
    async fn send_chunk(
        &self,
        messages: &[ProvisioningMessage],
        chunk: std::ops::Range<usize>,
        outcomes: &mut [Option<SendOutcome>],
    ) -> Result<(), QueueError> {
        let mut pending: Vec<usize> = chunk.collect();
        let mut last_code = String::new();
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(FIRST_BACKOFF * 2u32.pow(attempt - 1)).await;
            }
            let entries = pending
                .iter()
                .map(|&i| {
                    let message = &messages[i];
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(message.to_json())
                        .message_group_id(message.group_id())
                        .message_deduplication_id(message.dedup_id())
                        .build()
                        .expect("id and body are always set")
                })
                .collect();
            let result = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await;
            let output = match result {
                Ok(output) => output,
                Err(err) => {
                    let retryable = is_retryable(&err);
                    last_code = code(&err);
                    tracing::warn!(code = %last_code, attempt, retryable, "SendMessageBatch failed");
                    if retryable && attempt + 1 < self.attempts {
                        continue;
                    }
                    if outcomes.iter().all(Option::is_none) {
                        return Err(queue_error(err));
                    }
                    for &i in &pending {
                        outcomes[i] = Some(SendOutcome::Failed(SendFailure {
                            retryable,
                            code: last_code.clone(),
                        }));
                    }
                    return Ok(());
                }
            };
            for sent in output.successful() {
                if let Ok(i) = sent.id().parse::<usize>() {
                    outcomes[i] = Some(SendOutcome::Sent);
                }
            }
            let mut retry = Vec::new();
            for failed in output.failed() {
                let Ok(i) = failed.id().parse::<usize>() else {
                    continue;
                };
                last_code = failed.code().to_owned();
                if failed.sender_fault() {
                    tracing::warn!(code = %failed.code(), order_id = %messages[i].order_id, "SQS refused a message");
                    outcomes[i] = Some(SendOutcome::Failed(SendFailure {
                        retryable: false,
                        code: failed.code().to_owned(),
                    }));
                } else {
                    retry.push(i);
                }
            }
            // An entry SQS reported neither way is treated as not sent.
            let unreported: Vec<usize> = pending
                .iter()
                .copied()
                .filter(|&i| outcomes[i].is_none() && !retry.contains(&i))
                .collect();
            retry.extend(unreported);
            retry.sort_unstable();
            pending = retry;
            if pending.is_empty() {
                return Ok(());
            }
        }
        for &i in &pending {
            outcomes[i] = Some(SendOutcome::Failed(SendFailure {
                retryable: true,
                code: last_code.clone(),
            }));
        }
        Ok(())
    }
}

impl ProvisioningQueue for SqsProvisioningQueue {
    #[tracing::instrument(skip_all, fields(count = messages.len()))]
    async fn send(&self, messages: &[ProvisioningMessage]) -> Result<Vec<SendOutcome>, QueueError> {
        let mut outcomes: Vec<Option<SendOutcome>> = vec![None; messages.len()];
        let mut start = 0;
        while start < messages.len() {
            let end = (start + BATCH_SIZE).min(messages.len());
            self.send_chunk(messages, start..end, &mut outcomes).await?;
            start = end;
        }
        Ok(outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or(SendOutcome::Failed(SendFailure {
                    retryable: true,
                    code: "NotAttempted".to_owned(),
                }))
            })
            .collect())
    }
}

/// The receiving side of the same queue, for a worker polling it (portal-local;
/// in AWS the Lambda's SQS trigger receives). `receive` long-polls up to
/// [`RECEIVE_WAIT_SECS`]; a release makes the message visible at once.
impl ProvisioningDeliveries for SqsProvisioningQueue {
    #[tracing::instrument(skip_all, fields(max))]
    async fn receive(&self, max: usize) -> Result<Vec<Delivery>, QueueError> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(i32::try_from(max.clamp(1, BATCH_SIZE)).unwrap_or(1))
            .wait_time_seconds(RECEIVE_WAIT_SECS)
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(queue_error)?;
        Ok(output
            .messages()
            .iter()
            .filter_map(|message| {
                let attribute = |name| message.attributes().and_then(|a| a.get(&name)).cloned();
                Some(Delivery::from_body(
                    message.message_id()?,
                    ReceiptHandle::new(message.receipt_handle()?),
                    attribute(MessageSystemAttributeName::MessageGroupId),
                    attribute(MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(1),
                    message.body().unwrap_or_default(),
                ))
            })
            .collect())
    }

    async fn acknowledge(&self, receipt: &ReceiptHandle) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt.as_str())
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }

    async fn release(&self, receipt: &ReceiptHandle) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt.as_str())
            .visibility_timeout(0)
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }
}
