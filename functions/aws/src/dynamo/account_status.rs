//! `DynamoAccountStatuses`: the Accounts staff deactivated, item
//! `pk = ACCOUNT#<18-char Account id>`, `sk = PORTAL_STATUS`, with
//! `status` S (`Inactive`) and `modified_at` N (the Account's
//! `LastModifiedDate`, epoch ms); no item means "not deactivated". The
//! reconciler's sync writes them (`PutItem` when `Inactive`, `DeleteItem`
//! otherwise) and keeps its cursor in `pk = ACCOUNT#SYNC`, `sk = CURSOR`
//! (`cursor` N, epoch ms); the API only reads (`GetItem`).

use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use portal_core::domain::AccountId;
use portal_core::ports::{AccountStatusSync, InactiveAccounts, StoreError, epoch_millis};

use super::{millis_to_time, n, req_n, s};
use crate::errors::store_error;

const SK: &str = "PORTAL_STATUS";
const INACTIVE: &str = "Inactive";
const CURSOR_PK: &str = "SYNC";
const CURSOR_SK: &str = "CURSOR";

/// [`InactiveAccounts`] and [`AccountStatusSync`] on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoAccountStatuses {
    client: Client,
    table: String,
}

impl DynamoAccountStatuses {
    /// The account-status items of `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn pk(account: &AccountId) -> String {
    format!("{}{}", super::prefix::ACCOUNT_STATUS, account.as_str())
}

fn cursor_pk() -> String {
    format!("{}{CURSOR_PK}", super::prefix::ACCOUNT_STATUS)
}

impl InactiveAccounts for DynamoAccountStatuses {
    #[tracing::instrument(skip_all, fields(table = %self.table, account_id = %account))]
    async fn is_inactive(&self, account: &AccountId) -> Result<bool, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk(account)))
            .key("sk", s(SK))
            .projection_expression("#status")
            .expression_attribute_names("#status", "status")
            .send()
            .await
            .map_err(store_error)?;
        Ok(out
            .item()
            .and_then(|item| item.get("status"))
            .and_then(|v| v.as_s().ok())
            .is_some_and(|status| status == INACTIVE))
    }
}

impl AccountStatusSync for DynamoAccountStatuses {
    #[tracing::instrument(skip_all, fields(table = %self.table, account_id = %account, inactive))]
    async fn record(
        &self,
        account: &AccountId,
        inactive: bool,
        modified_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if inactive {
            self.client
                .put_item()
                .table_name(&self.table)
                .item("pk", s(pk(account)))
                .item("sk", s(SK))
                .item("status", s(INACTIVE))
                .item("modified_at", n(epoch_millis(modified_at)))
                .send()
                .await
                .map_err(store_error)?;
        } else {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", s(pk(account)))
                .key("sk", s(SK))
                .send()
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(table = %self.table))]
    async fn cursor(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(cursor_pk()))
            .key("sk", s(CURSOR_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        out.item()
            .map(|item| millis_to_time(req_n(item, "cursor")?, "cursor"))
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(table = %self.table))]
    async fn save_cursor(&self, cursor: DateTime<Utc>) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(cursor_pk()))
            .item("sk", s(CURSOR_SK))
            .item("cursor", n(epoch_millis(cursor)))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
