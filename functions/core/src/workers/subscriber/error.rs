//! [`SubscriberError`]: why the loop stopped for good (the task exits
//! non-zero and ECS starts another). Everything worth retrying is retried
//! inside the loop and never surfaces here.

use crate::ports::{QueueError, SourceError, StoreError};

/// A failure the subscriber cannot work around.
#[derive(Debug, thiserror::Error)]
pub enum SubscriberError {
    /// The topic is missing or the integration user may not read it.
    #[error(
        "topic {topic} cannot be subscribed to; check the platform event and the integration user's permission set"
    )]
    Topic {
        /// The topic.
        topic: String,
        /// The source's answer (`None` when it said the topic may not be subscribed to).
        #[source]
        source: Option<SourceError>,
    },
    /// The event source refused for good (auth after retries, a bad request, a bad endpoint).
    #[error("the event source refused the subscription for good")]
    Source(#[source] SourceError),
    /// A replay id was refused right after resuming at `LATEST` (or `EARLIEST`): not retried, to never loop.
    #[error("the event source refused the replay position again right after resuming without one")]
    ReplayLoop(#[source] SourceError),
    /// The replay store refused the request (missing table, access denied).
    #[error("the replay store refused the request")]
    ReplayStore(#[source] StoreError),
    /// The lease store refused the request.
    #[error("the lease store refused the request")]
    Lease(#[source] StoreError),
    /// The provisioning queue refused the request (missing queue, access denied).
    #[error("the provisioning queue refused the request")]
    Queue(#[source] QueueError),
    /// The dead-letter destination refused the request.
    #[error("the dead-letter destination refused the request")]
    DeadLetters(#[source] QueueError),
}
