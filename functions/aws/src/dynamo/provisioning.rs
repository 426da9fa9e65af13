//! `DynamoProvisioningRecords`: item `pk = ORDER#<18-char Order id>`,
//! `sk = PROVISIONING`.
//!
//! Listing for the reconciler uses the sparse global secondary index `gsi1`
//! (keys `gsi1pk`, `gsi1sk`, projection ALL). Only open records (not
//! COMPLETED/FAILED) carry `gsi1pk = PROVISIONING#OPEN`; their `gsi1sk` is the
//! instant (20-digit epoch ms) from which the reconciler should look at them:
//! the lease end while held, the release time once released or UNKNOWN.
//! "Unsettled at `now`" is then one Query, `gsi1pk = PROVISIONING#OPEN AND
//! gsi1sk <= now`, oldest first, reading only records that need attention
//! (no scan, no filter). Closing a record removes both keys, so settled
//! records leave the index. One index partition is plenty for the volume of
//! Orders; the index is eventually consistent (the reconciler runs on a
//! schedule and re-checks each record with a claim).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use portal_core::domain::OrderId;
use portal_core::ports::{
    LeaseOwner, ProvisioningClaim, ProvisioningError, ProvisioningHolder, ProvisioningRecord,
    ProvisioningRecords, ProvisioningState, ProvisioningStatus, StoreError, WhmcsOrder,
    epoch_millis,
};

use super::{Item, millis_to_time, n, opt_n, opt_s, req_n, req_s, s};
use crate::errors::store_error;

/// The name of the sparse index listing open provisioning records.
pub const UNSETTLED_INDEX: &str = "gsi1";
const OPEN: &str = "PROVISIONING#OPEN";
const SK: &str = "PROVISIONING";

/// [`ProvisioningRecords`] on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoProvisioningRecords {
    client: Client,
    table: String,
}

impl DynamoProvisioningRecords {
    /// The provisioning items of `table` (which must have the `gsi1` index).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// An owner-conditional update of the Order's record. `refuse_when_ordered`
    /// adds `status <> ORDERED` to the condition.
    async fn transition(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        refuse_when_ordered: bool,
        update: impl FnOnce(UpdateItemFluentBuilder) -> UpdateItemFluentBuilder,
    ) -> Result<(), ProvisioningError> {
        let condition = if refuse_when_ordered {
            "#owner = :me AND #status <> :ordered"
        } else {
            "#owner = :me"
        };
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(order_id)))
            .key("sk", s(SK))
            .condition_expression(condition)
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":me", s(owner.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if refuse_when_ordered {
            request = request.expression_attribute_names("#status", "status");
            request = request
                .expression_attribute_values(":ordered", s(ProvisioningStatus::Ordered.as_str()));
        }
        match update(request).send().await {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let ours_and_ordered = failed.item().is_some_and(|item| {
                        opt_s(item, "owner").ok().flatten() == Some(owner.as_str())
                            && opt_s(item, "status").ok().flatten()
                                == Some(ProvisioningStatus::Ordered.as_str())
                    });
                    Err(if ours_and_ordered {
                        ProvisioningError::AlreadyOrdered
                    } else {
                        ProvisioningError::LeaseLost
                    })
                }
                _ => Err(store_error(err).into()),
            },
        }
    }
}

fn pk(order_id: &OrderId) -> String {
    format!("ORDER#{}", order_id.as_str())
}

/// The `gsi1sk` value for an instant: fixed width, so strings sort like numbers.
fn open_since(t: DateTime<Utc>) -> String {
    format!("{:020}", epoch_millis(t).max(0))
}

fn service_ids(ids: &[u64]) -> AttributeValue {
    AttributeValue::L(ids.iter().map(n).collect())
}

fn whmcs_order(item: &Item) -> Result<WhmcsOrder, StoreError> {
    let service_ids = match item.get("service_ids") {
        None => Vec::new(),
        Some(AttributeValue::L(values)) => values
            .iter()
            .map(|v| match v {
                AttributeValue::N(id) => id
                    .parse()
                    .map_err(|_| StoreError::corrupt("service_ids holds a non-integer")),
                _ => Err(StoreError::corrupt("service_ids holds a non-number")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(StoreError::corrupt("attribute service_ids is not a list")),
    };
    Ok(WhmcsOrder {
        order_id: req_n(item, "whmcs_order_id")?,
        service_ids,
    })
}

/// The state an item records.
fn state_of(item: &Item) -> Result<ProvisioningState, StoreError> {
    let status = ProvisioningStatus::parse(req_s(item, "status")?)
        .ok_or_else(|| StoreError::corrupt("attribute status has an unknown value"))?;
    Ok(match status {
        ProvisioningStatus::InProgress => ProvisioningState::InProgress,
        ProvisioningStatus::Unknown => ProvisioningState::Unknown {
            whmcs_client_id: opt_n(item, "whmcs_client_id")?,
            detail: opt_s(item, "detail")?.unwrap_or_default().to_owned(),
        },
        ProvisioningStatus::Ordered => ProvisioningState::Ordered {
            whmcs_client_id: opt_n(item, "whmcs_client_id")?,
            order: whmcs_order(item)?,
        },
        ProvisioningStatus::Completed => ProvisioningState::Completed {
            order: whmcs_order(item)?,
        },
        ProvisioningStatus::Failed => ProvisioningState::Failed {
            error: opt_s(item, "error")?.unwrap_or_default().to_owned(),
        },
    })
}

fn record_of(item: &Item) -> Result<ProvisioningRecord, StoreError> {
    let order_id = OrderId::parse(req_s(item, "order_id")?)
        .map_err(|_| StoreError::corrupt("attribute order_id is not an Order id"))?;
    let holder = match (opt_s(item, "owner")?, opt_n::<i64>(item, "lease_until")?) {
        (Some(owner), Some(until)) => Some(ProvisioningHolder {
            owner: LeaseOwner::new(owner)
                .map_err(|_| StoreError::corrupt("attribute owner is not a lease owner"))?,
            lease_until: millis_to_time(until, "lease_until")?,
        }),
        _ => None,
    };
    Ok(ProvisioningRecord {
        order_id,
        state: state_of(item)?,
        holder,
        attempts: opt_n(item, "attempts")?.unwrap_or(0),
        updated_at: millis_to_time(req_n(item, "updated_at")?, "updated_at")?,
    })
}

/// Sets or removes `whmcs_client_id` in an update expression being built.
fn client_id_clause(
    request: UpdateItemFluentBuilder,
    whmcs_client_id: Option<u64>,
) -> (UpdateItemFluentBuilder, &'static str, &'static str) {
    match whmcs_client_id {
        Some(id) => (
            request.expression_attribute_values(":cid", n(id)),
            ", whmcs_client_id = :cid",
            "",
        ),
        None => (request, "", ", whmcs_client_id"),
    }
}

impl ProvisioningRecords for DynamoProvisioningRecords {
    #[tracing::instrument(skip(self, owner, lease_until, now), fields(table = %self.table, order_id = %order_id))]
    async fn claim(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ProvisioningClaim, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(order_id)))
            .key("sk", s(SK))
            .update_expression(
                "SET #owner = :me, lease_until = :lease, \
                 #status = if_not_exists(#status, :in_progress), order_id = :order, \
                 updated_at = :now, gsi1pk = :open, gsi1sk = :since \
                 ADD attempts :one",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR (#status <> :completed AND #status <> :failed \
                 AND (attribute_not_exists(#owner) OR lease_until <= :now OR #owner = :me))",
            )
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":me", s(owner.as_str()))
            .expression_attribute_values(":lease", n(epoch_millis(lease_until)))
            .expression_attribute_values(":now", n(epoch_millis(now)))
            .expression_attribute_values(":in_progress", s(ProvisioningStatus::InProgress.as_str()))
            .expression_attribute_values(":completed", s(ProvisioningStatus::Completed.as_str()))
            .expression_attribute_values(":failed", s(ProvisioningStatus::Failed.as_str()))
            .expression_attribute_values(":order", s(order_id.as_str()))
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":since", s(open_since(lease_until)))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let previous = match out.attributes() {
                    Some(old) if !old.is_empty() => Some(state_of(old)?),
                    _ => None,
                };
                Ok(ProvisioningClaim::Acquired { previous })
            }
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let item = failed.item().ok_or_else(|| {
                        StoreError::corrupt("conditional check failed without the current item")
                    })?;
                    match state_of(item)? {
                        ProvisioningState::Completed { order } => {
                            Ok(ProvisioningClaim::Completed(order))
                        }
                        ProvisioningState::Failed { error } => {
                            Ok(ProvisioningClaim::Failed { error })
                        }
                        _ => Ok(ProvisioningClaim::Busy {
                            lease_until: millis_to_time(
                                req_n(item, "lease_until")?,
                                "lease_until",
                            )?,
                        }),
                    }
                }
                _ => Err(store_error(err)),
            },
        }
    }

    #[tracing::instrument(skip(self, owner, order, now), fields(table = %self.table, order_id = %order_id, whmcs_order_id = order.order_id))]
    async fn record_ordered(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        whmcs_client_id: Option<u64>,
        order: &WhmcsOrder,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        self.transition(order_id, owner, false, |request| {
            let (request, set_cid, remove_cid) = client_id_clause(request, whmcs_client_id);
            request
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#detail", "detail")
                .update_expression(format!(
                    "SET #status = :ordered, whmcs_order_id = :oid, service_ids = :sids, \
                     updated_at = :now{set_cid} REMOVE #detail{remove_cid}"
                ))
                .expression_attribute_values(":ordered", s(ProvisioningStatus::Ordered.as_str()))
                .expression_attribute_values(":oid", n(order.order_id))
                .expression_attribute_values(":sids", service_ids(&order.service_ids))
                .expression_attribute_values(":now", n(epoch_millis(now)))
        })
        .await
    }

    #[tracing::instrument(skip(self, owner, detail, now), fields(table = %self.table, order_id = %order_id))]
    async fn record_unknown(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        whmcs_client_id: Option<u64>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        self.transition(order_id, owner, true, |request| {
            let (request, set_cid, remove_cid) = client_id_clause(request, whmcs_client_id);
            request
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#detail", "detail")
                .update_expression(format!(
                    "SET #status = :unknown, #detail = :detail, updated_at = :now, \
                     gsi1sk = :since{set_cid} REMOVE #owner, lease_until{remove_cid}"
                ))
                .expression_attribute_values(":unknown", s(ProvisioningStatus::Unknown.as_str()))
                .expression_attribute_values(":detail", s(detail))
                .expression_attribute_values(":now", n(epoch_millis(now)))
                .expression_attribute_values(":since", s(open_since(now)))
        })
        .await
    }

    #[tracing::instrument(skip(self, owner, order, now), fields(table = %self.table, order_id = %order_id, whmcs_order_id = order.order_id))]
    async fn complete(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        order: &WhmcsOrder,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        self.transition(order_id, owner, false, |request| {
            request
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#detail", "detail")
                .update_expression(
                    "SET #status = :completed, whmcs_order_id = :oid, service_ids = :sids, \
                     updated_at = :now REMOVE #owner, lease_until, gsi1pk, gsi1sk, #detail",
                )
                .expression_attribute_values(
                    ":completed",
                    s(ProvisioningStatus::Completed.as_str()),
                )
                .expression_attribute_values(":oid", n(order.order_id))
                .expression_attribute_values(":sids", service_ids(&order.service_ids))
                .expression_attribute_values(":now", n(epoch_millis(now)))
        })
        .await
    }

    #[tracing::instrument(skip(self, owner, error, now), fields(table = %self.table, order_id = %order_id))]
    async fn fail(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        self.transition(order_id, owner, true, |request| {
            request
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#detail", "detail")
                .update_expression(
                    "SET #status = :failed, #error = :error, updated_at = :now \
                     REMOVE #owner, lease_until, gsi1pk, gsi1sk, #detail",
                )
                .expression_attribute_names("#error", "error")
                .expression_attribute_values(":failed", s(ProvisioningStatus::Failed.as_str()))
                .expression_attribute_values(":error", s(error))
                .expression_attribute_values(":now", n(epoch_millis(now)))
        })
        .await
    }

    #[tracing::instrument(skip(self, owner, now), fields(table = %self.table, order_id = %order_id))]
    async fn release(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        self.transition(order_id, owner, false, |request| {
            request
                .update_expression(
                    "SET updated_at = :now, gsi1sk = :since REMOVE #owner, lease_until",
                )
                .expression_attribute_values(":now", n(epoch_millis(now)))
                .expression_attribute_values(":since", s(open_since(now)))
        })
        .await
    }

    #[tracing::instrument(skip(self), fields(table = %self.table, order_id = %order_id))]
    async fn reopen_failed(&self, order_id: &OrderId) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk(order_id)))
            .key("sk", s(SK))
            .condition_expression("#status = :failed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":failed", s(ProvisioningStatus::Failed.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) => match err.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(_)) => Ok(false),
                _ => Err(store_error(err)),
            },
        }
    }

    #[tracing::instrument(skip(self), fields(table = %self.table, order_id = %order_id))]
    async fn get(&self, order_id: &OrderId) -> Result<Option<ProvisioningRecord>, StoreError> {
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
        out.item().map(record_of).transpose()
    }

    #[tracing::instrument(skip(self, now), fields(table = %self.table))]
    async fn list_unsettled(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ProvisioningRecord>, StoreError> {
        let mut records = Vec::new();
        let mut start = None;
        while records.len() < limit {
            let page = i32::try_from(limit - records.len()).unwrap_or(i32::MAX);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(UNSETTLED_INDEX)
                .key_condition_expression("gsi1pk = :open AND gsi1sk <= :now")
                .expression_attribute_values(":open", s(OPEN))
                .expression_attribute_values(":now", s(open_since(now)))
                .limit(page)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            for item in out.items() {
                records.push(record_of(item)?);
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        records.truncate(limit);
        Ok(records)
    }
}
