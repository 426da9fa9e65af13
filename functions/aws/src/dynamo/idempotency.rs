//! `DynamoIdempotencyStore`: item `pk = IDEMP#<scope>`, `sk = KEY#<key>`.
//!
//! The claim is the Powertools conditional write: a `PutItem` that succeeds
//! when the item is absent, expired (`ttl <= now`, seconds: DynamoDB deletes
//! expired items lazily, so the condition cannot rely on deletion), or has
//! the same fingerprint and is `UNKNOWN` or `IN_PROGRESS` with a lapsed
//! in-flight deadline (`in_flight_until <= now`, milliseconds); on failure
//! `ReturnValuesOnConditionCheckFailure=ALL_OLD` returns the live record in
//! the same call, and on success `ReturnValues=ALL_OLD` the record it
//! replaced: a live one means the claim resumes an attempt whose outcome is
//! unknown. Unlike Powertools, a request that may have written is never
//! deleted: it becomes `UNKNOWN` (see `portal_core::ports::IdempotencyStore`).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use portal_core::ports::{
    IdempotencyClaim, IdempotencyId, IdempotencyOutcome, IdempotencyStore, LeaseError, LeaseOwner,
    StoreError, StoredResponse, epoch_millis, epoch_seconds,
};

use super::{Item, b, n, opt_b, req_n, req_s, s};
use crate::errors::store_error;

const IN_PROGRESS: &str = "IN_PROGRESS";
const COMPLETED: &str = "COMPLETED";
const UNKNOWN: &str = "UNKNOWN";

/// [`IdempotencyStore`] on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoIdempotencyStore {
    client: Client,
    table: String,
}

impl DynamoIdempotencyStore {
    /// The idempotency items of `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl DynamoIdempotencyStore {
    /// An `UpdateItem` of `id`'s record that holds only while `owner` holds
    /// it `IN_PROGRESS`, with `:ttl` = `expires_at` (the caller adds its
    /// update expression and values).
    fn update_held(
        &self,
        id: &IdempotencyId,
        owner: &LeaseOwner,
        expires_at: DateTime<Utc>,
    ) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(id)))
            .key("sk", s(sk(id)))
            .condition_expression("#status = :in_progress AND #owner = :me")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":me", s(owner.as_str()))
            .expression_attribute_values(":ttl", n(epoch_seconds(expires_at)))
    }
}

/// What a [`DynamoIdempotencyStore::update_held`] answered: a failed
/// condition means the caller no longer holds the record.
fn held_result<R: std::fmt::Debug + Send + Sync + 'static>(
    result: Result<UpdateItemOutput, SdkError<UpdateItemError, R>>,
) -> Result<(), LeaseError> {
    match result {
        Ok(_) => Ok(()),
        Err(err) => match err.as_service_error() {
            Some(UpdateItemError::ConditionalCheckFailedException(_)) => Err(LeaseError::LeaseLost),
            _ => Err(store_error(err).into()),
        },
    }
}

fn pk(id: &IdempotencyId) -> String {
    format!("{}{}", super::prefix::IDEMPOTENCY, id.scope.as_str())
}

fn sk(id: &IdempotencyId) -> String {
    format!("KEY#{}", id.key.as_str())
}

/// What a live record that refused the claim says.
fn outcome_of(item: &Item, claim: &IdempotencyClaim) -> Result<IdempotencyOutcome, StoreError> {
    if req_s(item, "fingerprint")? != claim.fingerprint.as_str() {
        return Ok(IdempotencyOutcome::Mismatch);
    }
    match req_s(item, "status")? {
        // UNKNOWN with this fingerprint passes the condition: only a record
        // changed between the read and the write gets here; it is someone's.
        IN_PROGRESS | UNKNOWN => Ok(IdempotencyOutcome::InFlight),
        COMPLETED => Ok(IdempotencyOutcome::Replay(StoredResponse {
            status: req_n(item, "response_status")?,
            content_type: req_s(item, "response_content_type")?.to_owned(),
            body: opt_b(item, "response_body")?.unwrap_or_default().to_vec(),
        })),
        _ => Err(StoreError::corrupt("attribute status has an unknown value")),
    }
}

impl IdempotencyStore for DynamoIdempotencyStore {
    #[tracing::instrument(skip_all, fields(table = %self.table))]
    async fn claim(&self, claim: &IdempotencyClaim) -> Result<IdempotencyOutcome, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(pk(&claim.id)))
            .item("sk", s(sk(&claim.id)))
            .item("status", s(IN_PROGRESS))
            .item("fingerprint", s(claim.fingerprint.as_str()))
            .item("owner", s(claim.owner.as_str()))
            .item("in_flight_until", n(epoch_millis(claim.in_flight_until)))
            .item("ttl", n(epoch_seconds(claim.expires_at)))
            .condition_expression(
                "attribute_not_exists(pk) OR #ttl <= :now_s \
                 OR (fingerprint = :fingerprint AND (#status = :unknown \
                     OR (#status = :in_progress AND in_flight_until <= :now_ms)))",
            )
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now_s", n(epoch_seconds(claim.now)))
            .expression_attribute_values(":now_ms", n(epoch_millis(claim.now)))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":unknown", s(UNKNOWN))
            .expression_attribute_values(":fingerprint", s(claim.fingerprint.as_str()))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(put) => {
                // The record replaced, if it was live: an attempt whose outcome is unknown.
                let now_s = epoch_seconds(claim.now);
                let live = put
                    .attributes()
                    .and_then(|old| req_n::<i64>(old, "ttl").ok())
                    .is_some_and(|ttl| ttl > now_s);
                Ok(if live {
                    IdempotencyOutcome::Resumed
                } else {
                    IdempotencyOutcome::Acquired
                })
            }
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let item = failed.item().ok_or_else(|| {
                        StoreError::corrupt("conditional check failed without the current item")
                    })?;
                    outcome_of(item, claim)
                }
                _ => Err(store_error(err)),
            },
        }
    }

    #[tracing::instrument(skip_all, fields(table = %self.table, status = response.status))]
    async fn complete(
        &self,
        id: &IdempotencyId,
        owner: &LeaseOwner,
        response: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> Result<(), LeaseError> {
        let update = self
            .update_held(id, owner, expires_at)
            .update_expression(
                "SET #status = :completed, response_status = :rs, \
                 response_content_type = :rct, response_body = :rb, #ttl = :ttl \
                 REMOVE in_flight_until",
            )
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":rs", n(response.status))
            .expression_attribute_values(":rct", s(response.content_type.as_str()))
            .expression_attribute_values(":rb", b(&response.body));
        held_result(update.send().await)
    }

    #[tracing::instrument(skip_all, fields(table = %self.table))]
    async fn mark_unknown(
        &self,
        id: &IdempotencyId,
        owner: &LeaseOwner,
        expires_at: DateTime<Utc>,
    ) -> Result<(), LeaseError> {
        let update = self
            .update_held(id, owner, expires_at)
            .update_expression("SET #status = :unknown, #ttl = :ttl REMOVE in_flight_until")
            .expression_attribute_values(":unknown", s(UNKNOWN));
        held_result(update.send().await)
    }

    #[tracing::instrument(skip_all, fields(table = %self.table))]
    async fn release(&self, id: &IdempotencyId, owner: &LeaseOwner) -> Result<(), LeaseError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk(id)))
            .key("sk", s(sk(id)))
            .condition_expression(
                "attribute_not_exists(pk) OR (#status = :in_progress AND #owner = :me)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":me", s(owner.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(_)) => {
                    Err(LeaseError::LeaseLost)
                }
                _ => Err(store_error(err).into()),
            },
        }
    }
}
