//! `InMemoryReconcileAttempts`.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::lock;
use crate::domain::OrderId;
use crate::ports::{ReconcileAttempt, ReconcileAttempts, StoreError, expired};

/// [`ReconcileAttempts`] in memory.
#[derive(Debug, Default)]
pub struct InMemoryReconcileAttempts {
    attempts: Mutex<HashMap<OrderId, ReconcileAttempt>>,
}

impl InMemoryReconcileAttempts {
    /// No records.
    pub fn new() -> Self {
        Self::default()
    }
}

impl ReconcileAttempts for InMemoryReconcileAttempts {
    async fn attempt(
        &self,
        order_id: &OrderId,
        now: DateTime<Utc>,
    ) -> Result<Option<ReconcileAttempt>, StoreError> {
        Ok(lock(&self.attempts)
            .get(order_id)
            .filter(|a| !expired(a.expires_at, now))
            .cloned())
    }

    async fn record_attempt(
        &self,
        order_id: &OrderId,
        attempt: &ReconcileAttempt,
    ) -> Result<(), StoreError> {
        lock(&self.attempts).insert(order_id.clone(), attempt.clone());
        Ok(())
    }
}
