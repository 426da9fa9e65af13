//! `DynamoReconcileAttempts`: item `pk = RECONCILE#<18-char Order id>`,
//! `sk = ATTEMPTS`, under the reconciler's own key prefix, so its role may
//! write these and only read the provisioner's `ORDER#` records: `attempts` N,
//! `next_at` N, `last_at` N, `order_modified_at` N (when known), all epoch
//! ms, and `ttl` (epoch seconds). An item whose `ttl` has passed reads as
//! absent (DynamoDB deletes expired items late).

use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use portal_core::domain::OrderId;
use portal_core::ports::{
    ReconcileAttempt, ReconcileAttempts, StoreError, epoch_millis, epoch_seconds,
};

use super::{Item, millis_to_time, n, opt_n, req_n, s};
use crate::errors::store_error;

const SK: &str = "ATTEMPTS";

/// [`ReconcileAttempts`] on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoReconcileAttempts {
    client: Client,
    table: String,
}

impl DynamoReconcileAttempts {
    /// The reconciler items of `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn pk(order_id: &OrderId) -> String {
    format!("{}{}", super::prefix::RECONCILE, order_id.as_str())
}

fn attempt_of(item: &Item) -> Result<ReconcileAttempt, StoreError> {
    let time = |name: &str| millis_to_time(req_n(item, name)?, name);
    let ttl: i64 = req_n(item, "ttl")?;
    Ok(ReconcileAttempt {
        attempts: req_n(item, "attempts")?,
        next_at: time("next_at")?,
        last_at: time("last_at")?,
        order_modified_at: opt_n(item, "order_modified_at")?
            .map(|ms| millis_to_time(ms, "order_modified_at"))
            .transpose()?,
        expires_at: DateTime::from_timestamp(ttl, 0)
            .ok_or_else(|| StoreError::corrupt("attribute ttl is not a valid instant"))?,
    })
}

impl ReconcileAttempts for DynamoReconcileAttempts {
    #[tracing::instrument(skip(self, now), fields(table = %self.table, order_id = %order_id))]
    async fn attempt(
        &self,
        order_id: &OrderId,
        now: DateTime<Utc>,
    ) -> Result<Option<ReconcileAttempt>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk(order_id)))
            .key("sk", s(SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let attempt = attempt_of(item)?;
        Ok((epoch_seconds(attempt.expires_at) > epoch_seconds(now)).then_some(attempt))
    }

    #[tracing::instrument(skip(self, attempt), fields(table = %self.table, order_id = %order_id, attempts = attempt.attempts))]
    async fn record_attempt(
        &self,
        order_id: &OrderId,
        attempt: &ReconcileAttempt,
    ) -> Result<(), StoreError> {
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(pk(order_id)))
            .item("sk", s(SK))
            .item("attempts", n(attempt.attempts))
            .item("next_at", n(epoch_millis(attempt.next_at)))
            .item("last_at", n(epoch_millis(attempt.last_at)))
            .item("ttl", n(epoch_seconds(attempt.expires_at)));
        if let Some(modified) = attempt.order_modified_at {
            request = request.item("order_modified_at", n(epoch_millis(modified)));
        }
        request.send().await.map_err(store_error)?;
        Ok(())
    }
}
