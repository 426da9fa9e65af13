//! The `ReconcileAttempts` port: the reconciler's small record per Order it
//! re-enqueued (how many times, when it may do so again), so an Order that
//! keeps failing transiently is re-enqueued with exponential backoff and,
//! after too many attempts, reported instead of re-enqueued forever.
//!
//! A record expires (`expires_at`, the TTL) some time after its last write,
//! so Orders long settled leave no trace; an expired record reads as absent.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::OrderId;

/// What the reconciler remembers about one Order.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ReconcileAttempt {
    /// How many times the reconciler re-enqueued the Order.
    pub attempts: u32,
    /// When it may re-enqueue it again.
    pub next_at: DateTime<Utc>,
    /// When it last re-enqueued it.
    pub last_at: DateTime<Utc>,
    /// The Order's `LastModifiedDate` when it was last re-enqueued, when
    /// known: a later modification (staff approved it again) starts over.
    pub order_modified_at: Option<DateTime<Utc>>,
    /// When the record expires (the TTL).
    pub expires_at: DateTime<Utc>,
}

/// The reconciler's per-Order attempt records.
pub trait ReconcileAttempts: Send + Sync {
    /// The Order's record, unless absent or expired at `now`.
    fn attempt(
        &self,
        order_id: &OrderId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<ReconcileAttempt>, StoreError>> + Send;

    /// Writes the Order's record (overwrites: writing the same attempt twice
    /// is harmless).
    fn record_attempt(
        &self,
        order_id: &OrderId,
        attempt: &ReconcileAttempt,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl<T: ReconcileAttempts> ReconcileAttempts for Arc<T> {
    fn attempt(
        &self,
        order_id: &OrderId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<ReconcileAttempt>, StoreError>> + Send {
        (**self).attempt(order_id, now)
    }

    fn record_attempt(
        &self,
        order_id: &OrderId,
        attempt: &ReconcileAttempt,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).record_attempt(order_id, attempt)
    }
}
