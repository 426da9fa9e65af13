//! The `ProvisioningQueue` port: sending provisioning messages to the FIFO
//! queue (group = Order id, deduplication id = [`ProvisioningMessage::dedup_id`]).

use std::future::Future;
use std::sync::Arc;

use super::QueueError;
use crate::messages::ProvisioningMessage;

/// What happened to one message of a [`ProvisioningQueue::send`] call.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SendOutcome {
    /// The queue accepted it (or dropped it as a duplicate within the
    /// deduplication window, which counts as accepted).
    Sent,
    /// The queue did not take it, after the adapter's own bounded retries.
    Failed(SendFailure),
}

impl SendOutcome {
    /// Whether the queue took the message.
    pub fn is_sent(&self) -> bool {
        matches!(self, Self::Sent)
    }
}

/// Why one message was not sent.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SendFailure {
    /// Whether sending it again later may succeed.
    pub retryable: bool,
    /// The queue's error code (e.g. `InternalError`), for logs.
    pub code: String,
}

/// Sends provisioning messages.
pub trait ProvisioningQueue: Send + Sync {
    /// Sends `messages` in order and reports one outcome per message, in the
    /// same order. `Err` means the queue failed as a whole and no message was
    /// sent. A caller that must know "everything before X was accepted" (the
    /// subscriber saving its replay id) looks for the first non-`Sent` outcome.
    fn send(
        &self,
        messages: &[ProvisioningMessage],
    ) -> impl Future<Output = Result<Vec<SendOutcome>, QueueError>> + Send;
}

impl<T: ProvisioningQueue> ProvisioningQueue for Arc<T> {
    fn send(
        &self,
        messages: &[ProvisioningMessage],
    ) -> impl Future<Output = Result<Vec<SendOutcome>, QueueError>> + Send {
        (**self).send(messages)
    }
}
