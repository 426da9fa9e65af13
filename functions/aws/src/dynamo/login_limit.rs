//! `DynamoLoginLimits`: item `pk = LIMIT#<issuer>#<subject>`,
//! `sk = <window name>#<window index>`, with `count` N and `ttl` (a minute
//! after the window ends: DynamoDB deletes it some time later).
//!
//! One `take` is one `UpdateItem`: `ADD count :1` (creating the item at 1)
//! and `SET ttl` if absent, on condition `attribute_not_exists(count) OR
//! count < :max`. A failed condition is the limit: nothing was counted.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use chrono::{DateTime, Utc};
use portal_core::domain::Login;
use portal_core::ports::{LimitDecision, LimitWindow, LoginLimits, StoreError, epoch_seconds};

use super::login_link::login_pk;
use super::{n, s};
use crate::errors::store_error;

/// [`LoginLimits`] on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoLoginLimits {
    client: Client,
    table: String,
}

impl DynamoLoginLimits {
    /// The counters of `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl LoginLimits for DynamoLoginLimits {
    #[tracing::instrument(skip_all, fields(table = %self.table, window = window.name))]
    async fn take(
        &self,
        login: &Login,
        window: &LimitWindow,
        now: DateTime<Utc>,
    ) -> Result<LimitDecision, StoreError> {
        let limited = LimitDecision::Limited {
            retry_after: window.retry_after(now),
        };
        if window.max == 0 {
            return Ok(limited);
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(login_pk(super::prefix::LOGIN_LIMIT, login)))
            .key("sk", s(format!("{}#{}", window.name, window.index(now))))
            .update_expression("ADD #count :one SET #ttl = if_not_exists(#ttl, :ttl)")
            .condition_expression("attribute_not_exists(#count) OR #count < :max")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(window.max))
            .expression_attribute_values(":ttl", n(epoch_seconds(window.expires_at(now))))
            .send()
            .await;
        match result {
            Ok(_) => Ok(LimitDecision::Allowed),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => Ok(limited),
                _ => Err(store_error(err)),
            },
        }
    }
}
