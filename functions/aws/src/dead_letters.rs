//! `SqsDeadLetters`: dead letters (platform events the subscriber could not
//! forward) sent with `SendMessage` to an SQS queue, normally the
//! provisioning queue's dead-letter queue. On a FIFO queue (a URL ending in
//! `.fifo`) the group is [`GROUP_ID`] and the deduplication id the event's
//! (see [`DeadLetter::dedup_id`]). Bodies are kept within SQS's message size
//! by cutting the payload (the letter says so).

use aws_sdk_sqs::Client;
use portal_core::ports::{DeadLetter, DeadLetters, QueueError};

use crate::errors::queue_error;

/// The message group of dead letters on a FIFO queue.
pub const GROUP_ID: &str = "pubsub-dead-letters";

/// The largest body sent (SQS's classic limit, 256 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// [`DeadLetters`] on an SQS queue (standard or FIFO).
#[derive(Debug, Clone)]
pub struct SqsDeadLetters {
    client: Client,
    queue_url: String,
    fifo: bool,
}

impl SqsDeadLetters {
    /// Sends to the queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        let queue_url = queue_url.into();
        let fifo = queue_url.ends_with(".fifo");
        Self {
            client,
            queue_url,
            fifo,
        }
    }
}

impl DeadLetters for SqsDeadLetters {
    #[tracing::instrument(skip_all, fields(event_id = %letter.event_id, schema_id = %letter.schema_id))]
    async fn send(&self, letter: &DeadLetter) -> Result<(), QueueError> {
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(letter.to_json_within(MAX_BODY_BYTES));
        if self.fifo {
            request = request
                .message_group_id(GROUP_ID)
                .message_deduplication_id(letter.dedup_id());
        }
        request.send().await.map_err(queue_error)?;
        Ok(())
    }
}
