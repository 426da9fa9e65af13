//! `DynamoLoginLinks`: item `pk = LOGIN#<issuer>#<subject>`, `sk = LINK`, with
//! `account_id` S, `contact_id` S, `linked_at` N (epoch ms), `method` S
//! (`new-account`/`verified-email`), and `issuer`/`subject` S for operators.
//! No TTL: a link lives as long as the login.
//!
//! Written with `attribute_not_exists(pk)` (one login, one Account, never
//! overwritten); on failure `ReturnValuesOnConditionCheckFailure=ALL_OLD`
//! returns the link that stays, in the same call. Read strongly consistent.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use portal_core::domain::{AccountId, ContactId, Login};
use portal_core::ports::{
    LinkCreation, LinkMethod, LoginLink, LoginLinks, StoreError, epoch_millis,
};

use super::{Item, millis_to_time, n, req_n, req_s, s};
use crate::errors::store_error;

const SK: &str = "LINK";

/// [`LoginLinks`] on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoLoginLinks {
    client: Client,
    table: String,
}

impl DynamoLoginLinks {
    /// The link items of `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// The partition key of `login`'s items under `prefix`
/// (`LOGIN#<issuer>#<subject>`; an issuer has no `#`, so the key is unambiguous).
pub(crate) fn login_pk(prefix: &str, login: &Login) -> String {
    format!("{prefix}{}#{}", login.issuer(), login.subject())
}

fn link_of(item: &Item) -> Result<LoginLink, StoreError> {
    let login = Login::new(req_s(item, "issuer")?, req_s(item, "subject")?)
        .map_err(|e| StoreError::corrupt(format!("attribute issuer or subject: {e}")))?;
    Ok(LoginLink {
        login,
        account_id: AccountId::parse(req_s(item, "account_id")?)
            .map_err(|_| StoreError::corrupt("attribute account_id is not an Account id"))?,
        contact_id: ContactId::parse(req_s(item, "contact_id")?)
            .map_err(|_| StoreError::corrupt("attribute contact_id is not a Contact id"))?,
        linked_at: millis_to_time(req_n(item, "linked_at")?, "linked_at")?,
        method: LinkMethod::parse(req_s(item, "method")?)
            .ok_or_else(|| StoreError::corrupt("attribute method has an unknown value"))?,
    })
}

impl LoginLinks for DynamoLoginLinks {
    #[tracing::instrument(skip_all, fields(table = %self.table))]
    async fn link_of(&self, login: &Login) -> Result<Option<LoginLink>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(login_pk(super::prefix::LOGIN_LINK, login)))
            .key("sk", s(SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        out.item().map(link_of).transpose()
    }

    #[tracing::instrument(skip_all, fields(table = %self.table, account_id = %link.account_id))]
    async fn create(&self, link: &LoginLink) -> Result<LinkCreation, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(login_pk(super::prefix::LOGIN_LINK, &link.login)))
            .item("sk", s(SK))
            .item("issuer", s(link.login.issuer()))
            .item("subject", s(link.login.subject()))
            .item("account_id", s(link.account_id.as_str()))
            .item("contact_id", s(link.contact_id.as_str()))
            .item("linked_at", n(epoch_millis(link.linked_at)))
            .item("method", s(link.method.as_str()))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(LinkCreation::Created),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let item = failed.item().ok_or_else(|| {
                        StoreError::corrupt("conditional check failed without the current item")
                    })?;
                    Ok(LinkCreation::Exists(link_of(item)?))
                }
                _ => Err(store_error(err)),
            },
        }
    }
}
