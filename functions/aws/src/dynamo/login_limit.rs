//! `DynamoLoginLimits`: one item per login and window of the longest length
//! asked, `pk = LIMIT#<issuer>#<subject>`, `sk = <longest window name>#<its
//! index>` (`post-day#20544`), holding one counter per window, named
//! `<window name>#<window index>` (`post-day#20544`, `post-minute#29583372`),
//! and `ttl` (a minute after the longest window ends: DynamoDB deletes it
//! some time later).
//!
//! One `take` is ONE `UpdateItem`: `ADD` one to every counter (creating them
//! at 1) and `SET ttl` if absent, on condition that every counter is absent or
//! below its maximum. A failed condition is a limit, nothing was counted, and
//! the item returned (`ReturnValuesOnConditionCheckFailure=ALL_OLD`) says
//! which window is full. The shorter windows divide the longest, so each
//! lies in one item.

use std::fmt::Write as _;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Utc};
use portal_core::domain::Login;
use portal_core::ports::{LimitDecision, LimitWindow, LoginLimits, StoreError, epoch_seconds};

use super::login_link::login_pk;
use super::{n, opt_n, s};
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

/// The counter of `window` at `now`: `<name>#<index>`.
fn counter(window: &LimitWindow, now: DateTime<Utc>) -> String {
    format!("{}#{}", window.name, window.index(now))
}

impl LoginLimits for DynamoLoginLimits {
    #[tracing::instrument(skip_all, fields(table = %self.table, windows = windows.len()))]
    async fn take(
        &self,
        login: &Login,
        windows: &[LimitWindow],
        now: DateTime<Utc>,
    ) -> Result<LimitDecision, StoreError> {
        let Some(longest) = windows.iter().max_by_key(|w| w.length) else {
            return Ok(LimitDecision::Allowed);
        };
        // A window that allows nothing refuses without a write.
        let empty = LimitDecision::for_counts(windows, &vec![0; windows.len()], now);
        if empty != LimitDecision::Allowed {
            return Ok(empty);
        }
        let mut add = String::from("ADD ");
        let mut condition = String::new();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(login_pk(super::prefix::LOGIN_LIMIT, login)))
            .key("sk", s(counter(longest, now)))
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(epoch_seconds(longest.expires_at(now))));
        for (i, window) in windows.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let and = if i == 0 { "" } else { " AND " };
            let _ = write!(add, "{sep}#c{i} :one");
            let _ = write!(
                condition,
                "{and}(attribute_not_exists(#c{i}) OR #c{i} < :max{i})"
            );
            request = request
                .expression_attribute_names(format!("#c{i}"), counter(window, now))
                .expression_attribute_values(format!(":max{i}"), n(window.max));
        }
        let result = request
            .update_expression(format!("{add} SET #ttl = if_not_exists(#ttl, :ttl)"))
            .condition_expression(condition)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(LimitDecision::Allowed),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let item = failed.item().ok_or_else(|| {
                        StoreError::corrupt("conditional check failed without the current item")
                    })?;
                    let counts = windows
                        .iter()
                        .map(|w| {
                            opt_n::<u64>(item, &counter(w, now)).map(Option::unwrap_or_default)
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    match LimitDecision::for_counts(windows, &counts, now) {
                        LimitDecision::Allowed => Err(StoreError::corrupt(
                            "the counters refused a request none of them is full for",
                        )),
                        limited => Ok(limited),
                    }
                }
                _ => Err(store_error(err)),
            },
        }
    }
}
