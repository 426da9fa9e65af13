//! Errors shared by the ports: a store or queue that is unavailable (retry)
//! versus one that refused the request for good, and the typed "your lease
//! is gone" outcome of every owner-conditional write.

use std::error::Error as StdError;

/// The cause of an adapter failure, kept as a typed error chain.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A state store (DynamoDB, memory) failed to answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Network failure, timeout, throttling or a server error: retrying later may succeed.
    #[error("the state store is unavailable or throttling; retry later")]
    Unavailable(#[source] BoxError),
    /// The store refused the request (missing table, access denied, bad request): retrying will not help.
    #[error("the state store refused the request")]
    Permanent(#[source] BoxError),
    /// A stored item does not have the shape this code writes.
    #[error("a stored record is malformed: {detail}")]
    Corrupt {
        /// Which attribute is wrong and how (never the attribute's value).
        detail: String,
    },
}

impl StoreError {
    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// A [`StoreError::Corrupt`] naming what is wrong.
    pub fn corrupt(detail: impl Into<String>) -> Self {
        Self::Corrupt {
            detail: detail.into(),
        }
    }
}

/// An owner-conditional write (complete, renew, release…) did not happen.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The caller no longer owns the record: its lease lapsed and another owner
    /// took it, or the record was settled or released. Nothing was written.
    #[error("the lease is held by another owner or no longer exists; nothing was written")]
    LeaseLost,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LeaseError {
    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_retryable())
    }
}

/// A queue (SQS, memory) failed as a whole: no message of the call was sent.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Network failure, timeout, throttling or a server error: retrying later may succeed.
    #[error("the queue is unavailable or throttling; retry later")]
    Unavailable(#[source] BoxError),
    /// The queue refused the request (missing queue, access denied): retrying will not help.
    #[error("the queue refused the request")]
    Permanent(#[source] BoxError),
}

impl QueueError {
    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}
