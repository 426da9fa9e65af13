//! `DynamoSubscriberLease`: item `pk = LEASE#<name>`, `sk = LEASE`.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, TimeDelta, Utc};
use portal_core::ports::{
    LeaseAcquisition, LeaseError, LeaseOwner, StoreError, SubscriberLease, epoch_millis,
    epoch_seconds, lease_end,
};

use super::{millis_to_time, n, req_n, req_s, s};
use crate::errors::store_error;

/// How long a lapsed lease item stays before DynamoDB's TTL removes it.
const CLEANUP_AFTER: TimeDelta = TimeDelta::days(1);

/// [`SubscriberLease`] on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoSubscriberLease {
    client: Client,
    table: String,
}

impl DynamoSubscriberLease {
    /// The lease items of `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn pk(name: &str) -> String {
    format!("{}{name}", super::prefix::LEASE)
}

const SK: &str = "LEASE";

fn ttl_for(until: DateTime<Utc>) -> i64 {
    epoch_seconds(until.checked_add_signed(CLEANUP_AFTER).unwrap_or(until))
}

impl SubscriberLease for DynamoSubscriberLease {
    #[tracing::instrument(skip(self, owner, ttl, now), fields(table = %self.table))]
    async fn acquire(
        &self,
        name: &str,
        owner: &LeaseOwner,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<LeaseAcquisition, StoreError> {
        let until = lease_end(now, ttl);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(pk(name)))
            .item("sk", s(SK))
            .item("owner", s(owner.as_str()))
            .item("lease_until", n(epoch_millis(until)))
            .item("ttl", n(ttl_for(until)))
            .condition_expression("attribute_not_exists(pk) OR lease_until <= :now OR #owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":now", n(epoch_millis(now)))
            .expression_attribute_values(":me", s(owner.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(LeaseAcquisition::Acquired { until }),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let item = failed.item().ok_or_else(|| {
                        StoreError::corrupt("conditional check failed without the current item")
                    })?;
                    let holder = LeaseOwner::new(req_s(item, "owner")?)
                        .map_err(|_| StoreError::corrupt("attribute owner is not a lease owner"))?;
                    let until = millis_to_time(req_n(item, "lease_until")?, "lease_until")?;
                    Ok(LeaseAcquisition::HeldBy {
                        owner: holder,
                        until,
                    })
                }
                _ => Err(store_error(err)),
            },
        }
    }

    #[tracing::instrument(skip(self, owner, ttl, now), fields(table = %self.table))]
    async fn renew(
        &self,
        name: &str,
        owner: &LeaseOwner,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, LeaseError> {
        let until = lease_end(now, ttl);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(name)))
            .key("sk", s(SK))
            .update_expression("SET lease_until = :until, #ttl = :ttl")
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":until", n(epoch_millis(until)))
            .expression_attribute_values(":ttl", n(ttl_for(until)))
            .expression_attribute_values(":me", s(owner.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(until),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => {
                    Err(LeaseError::LeaseLost)
                }
                _ => Err(store_error(err).into()),
            },
        }
    }

    #[tracing::instrument(skip(self, owner), fields(table = %self.table))]
    async fn release(&self, name: &str, owner: &LeaseOwner) -> Result<(), LeaseError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk(name)))
            .key("sk", s(SK))
            .condition_expression("attribute_not_exists(pk) OR #owner = :me")
            .expression_attribute_names("#owner", "owner")
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
