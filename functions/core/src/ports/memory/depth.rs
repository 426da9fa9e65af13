//! [`QueueDepths`] of the in-memory queues: the provisioning queue's dead
//! letters ([`PROVISIONING_DLQ`]) and the subscriber's ([`EVENT_DLQ`]).

use super::{InMemoryDeadLetters, InMemoryQueue};
use crate::ports::{EVENT_DLQ, PROVISIONING_DLQ, QueueDepth, QueueDepths, QueueError};

fn depth(queue: &str, visible: usize) -> QueueDepth {
    QueueDepth {
        queue: queue.to_owned(),
        visible: u64::try_from(visible).unwrap_or(u64::MAX),
        in_flight: 0,
    }
}

impl QueueDepths for InMemoryQueue {
    async fn depths(&self) -> Result<Vec<QueueDepth>, QueueError> {
        Ok(vec![depth(PROVISIONING_DLQ, self.dead_letters().len())])
    }
}

impl QueueDepths for InMemoryDeadLetters {
    async fn depths(&self) -> Result<Vec<QueueDepth>, QueueError> {
        Ok(vec![depth(EVENT_DLQ, self.letters().len())])
    }
}
