//! The `QueueDepths` port: how many messages wait in the dead-letter queues
//! (the provisioning DLQ and the subscriber's event DLQ), which the
//! reconciler reports as metrics on every run.

use std::future::Future;
use std::sync::Arc;

use super::QueueError;

/// The label of the provisioning queue's dead-letter queue.
pub const PROVISIONING_DLQ: &str = "ProvisioningDeadLetterQueue";
/// The label of the subscriber's dead-letter queue of platform events.
pub const EVENT_DLQ: &str = "EventDeadLetterQueue";

/// The depth of one queue.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct QueueDepth {
    /// Which queue (e.g. [`PROVISIONING_DLQ`]); the metric's `Queue` dimension.
    pub queue: String,
    /// Messages waiting (SQS `ApproximateNumberOfMessages`).
    pub visible: u64,
    /// Messages received but not yet deleted (`ApproximateNumberOfMessagesNotVisible`).
    pub in_flight: u64,
}

/// Reads the depth of the watched queues.
pub trait QueueDepths: Send + Sync {
    /// One depth per watched queue, in a stable order.
    fn depths(&self) -> impl Future<Output = Result<Vec<QueueDepth>, QueueError>> + Send;
}

impl<T: QueueDepths> QueueDepths for Arc<T> {
    fn depths(&self) -> impl Future<Output = Result<Vec<QueueDepth>, QueueError>> + Send {
        (**self).depths()
    }
}

/// Two sets of queues read one after the other.
impl<A: QueueDepths, B: QueueDepths> QueueDepths for (A, B) {
    async fn depths(&self) -> Result<Vec<QueueDepth>, QueueError> {
        let mut all = self.0.depths().await?;
        all.extend(self.1.depths().await?);
        Ok(all)
    }
}
