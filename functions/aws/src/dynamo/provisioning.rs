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
//!
//! Each write after the claim is one conditional `UpdateItem` whose condition,
//! lease removal and `gsi1` keys come from [`Transition::rule`] (shared with the
//! in-memory adapter); each method adds only the attributes of its own state.
//!
//! A record left to staff carries `staff_error` (and, its view being closed,
//! no `gsi1` keys): the claim's condition refuses it (answered as
//! [`ProvisioningClaim::Failed`]) and `reopen_failed` removes it. The first
//! claim writes `started_at` (kept by every later claim).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use portal_core::domain::OrderId;
use portal_core::ports::{
    LeaseOwner, ProvisioningClaim, ProvisioningError, ProvisioningHolder, ProvisioningRecord,
    ProvisioningRecords, ProvisioningState, ProvisioningStatus, ReconcilerView, StoreError,
    Transition, TransitionRule, WhmcsOrder, epoch_millis,
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

    /// Applies `transition` to the Order's record in one owner-conditional
    /// `UpdateItem`: the condition, the lease, `status` and the `gsi1` keys
    /// follow [`Transition::rule`], `state` adds the transition's own attributes.
    async fn transition(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        now: DateTime<Utc>,
        transition: Transition,
        state: StateWrite,
    ) -> Result<(), ProvisioningError> {
        let rule = transition.rule();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(order_id)))
            .key("sk", s(SK))
            .condition_expression(condition(rule))
            .update_expression(update_expression(transition, &state))
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":me", s(owner.as_str()))
            .expression_attribute_values(":now", n(epoch_millis(now)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if rule.refuse_when_ordered || transition.status().is_some() {
            request = request.expression_attribute_names("#status", "status");
        }
        if rule.refuse_when_ordered {
            request = request
                .expression_attribute_values(":ordered", s(ProvisioningStatus::Ordered.as_str()));
        }
        if let Some(status) = transition.status() {
            request = request.expression_attribute_values(":status", s(status.as_str()));
        }
        if rule.reconciler_view == ReconcilerView::OpenFromNow {
            request = request.expression_attribute_values(":since", s(open_since(now)));
        }
        for (placeholder, name) in state.names {
            request = request.expression_attribute_names(placeholder, name);
        }
        for (placeholder, value) in state.values {
            request = request.expression_attribute_values(placeholder, value);
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let ours_and_ordered = rule.refuse_when_ordered
                        && failed.item().is_some_and(|item| {
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

    /// A record written before `started_at` was kept just got the claim's
    /// time as its start, which would bound a later settlement too late (an
    /// order WHMCS made before it would be missed): it gets the Unix epoch
    /// instead, no bound. Best effort: a failure is logged (this claim's
    /// caller is told `None` anyway).
    async fn unbound_legacy(&self, order_id: &OrderId, owner: &LeaseOwner) {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(order_id)))
            .key("sk", s(SK))
            .condition_expression("#owner = :me")
            .update_expression("SET started_at = :epoch")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":me", s(owner.as_str()))
            .expression_attribute_values(":epoch", n(0))
            .send()
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %store_error(e), "unbinding a record without started_at failed");
        }
    }

    /// Deletes the Order's record when it is FAILED; `false` when it is not.
    async fn delete_failed(&self, order_id: &OrderId) -> Result<bool, StoreError> {
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
}

/// The attributes a transition writes for its own state (beyond `status`,
/// `updated_at`, the lease and the `gsi1` keys, which its rule decides).
#[derive(Debug, Default)]
struct StateWrite {
    /// `SET` clauses, e.g. `whmcs_order_id = :oid`.
    set: Vec<String>,
    /// Attributes to `REMOVE`, as written in the expression.
    remove: Vec<&'static str>,
    /// Expression attribute names (`#detail` -> `detail`).
    names: Vec<(&'static str, &'static str)>,
    /// Expression attribute values.
    values: Vec<(&'static str, AttributeValue)>,
}

impl StateWrite {
    /// Sets `attribute` (a `#name` placeholder is registered for it) to `value`.
    fn set(
        mut self,
        attribute: &'static str,
        placeholder: &'static str,
        value: AttributeValue,
    ) -> Self {
        self.name(attribute);
        self.set.push(format!("{attribute} = {placeholder}"));
        self.values.push((placeholder, value));
        self
    }

    /// Removes `attribute` (a `#name` placeholder is registered for it).
    fn remove(mut self, attribute: &'static str) -> Self {
        self.name(attribute);
        self.remove.push(attribute);
        self
    }

    /// Sets `whmcs_client_id` when known, removes it otherwise.
    fn client_id(self, whmcs_client_id: Option<u64>) -> Self {
        match whmcs_client_id {
            Some(id) => self.set("whmcs_client_id", ":cid", n(id)),
            None => self.remove("whmcs_client_id"),
        }
    }

    /// Sets the WHMCS order's id and service ids.
    fn order(self, order: &WhmcsOrder) -> Self {
        self.set("whmcs_order_id", ":oid", n(order.order_id)).set(
            "service_ids",
            ":sids",
            service_ids(&order.service_ids),
        )
    }

    fn name(&mut self, attribute: &'static str) {
        if let Some(name) = attribute.strip_prefix('#') {
            self.names.push((attribute, name));
        }
    }
}

/// The condition of a transition: the caller holds the record, and it is not
/// ORDERED when the rule refuses that.
fn condition(rule: TransitionRule) -> &'static str {
    if rule.refuse_when_ordered {
        "#owner = :me AND #status <> :ordered"
    } else {
        "#owner = :me"
    }
}

/// The update expression of a transition: its status, its own `state`,
/// `updated_at`, and the lease and `gsi1` keys as its rule says.
fn update_expression(transition: Transition, state: &StateWrite) -> String {
    let rule = transition.rule();
    let mut set: Vec<String> = Vec::new();
    if transition.status().is_some() {
        set.push("#status = :status".to_owned());
    }
    set.extend(state.set.iter().cloned());
    set.push("updated_at = :now".to_owned());
    let mut remove: Vec<&str> = Vec::new();
    if !rule.keeps_lease {
        remove.extend(["#owner", "lease_until"]);
    }
    match rule.reconciler_view {
        ReconcilerView::Unchanged => {}
        ReconcilerView::OpenFromNow => set.push("gsi1sk = :since".to_owned()),
        ReconcilerView::Closed => remove.extend(["gsi1pk", "gsi1sk"]),
    }
    remove.extend(state.remove.iter().copied());
    let mut expression = format!("SET {}", set.join(", "));
    if !remove.is_empty() {
        expression.push_str(" REMOVE ");
        expression.push_str(&remove.join(", "));
    }
    expression
}

fn pk(order_id: &OrderId) -> String {
    format!("{}{}", super::prefix::PROVISIONING, order_id.as_str())
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
        started_at: opt_n::<i64>(item, "started_at")?
            .map(|ms| millis_to_time(ms, "started_at"))
            .transpose()?,
        left_to_staff: opt_s(item, "staff_error")?.map(str::to_owned),
    })
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
                 updated_at = :now, started_at = if_not_exists(started_at, :now), \
                 gsi1pk = :open, gsi1sk = :since \
                 ADD attempts :one",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR (#status <> :completed AND #status <> :failed \
                 AND attribute_not_exists(staff_error) \
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
                let (previous, started_at) = match out.attributes() {
                    Some(old) if !old.is_empty() => {
                        let started_at = match opt_n::<i64>(old, "started_at")? {
                            Some(ms) => Some(millis_to_time(ms, "started_at")?),
                            None => {
                                self.unbound_legacy(order_id, owner).await;
                                None
                            }
                        };
                        (Some(state_of(old)?), started_at)
                    }
                    _ => (None, Some(millis_to_time(epoch_millis(now), "started_at")?)),
                };
                Ok(ProvisioningClaim::Acquired {
                    previous,
                    started_at,
                })
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
                        _ if item.contains_key("staff_error") => Ok(ProvisioningClaim::Failed {
                            error: opt_s(item, "staff_error")?.unwrap_or_default().to_owned(),
                        }),
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
        let state = StateWrite::default()
            .order(order)
            .client_id(whmcs_client_id)
            .remove("#detail");
        self.transition(order_id, owner, now, Transition::Ordered, state)
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
        let state = StateWrite::default()
            .set("#detail", ":detail", s(detail))
            .client_id(whmcs_client_id);
        self.transition(order_id, owner, now, Transition::Unknown, state)
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
        let state = StateWrite::default().order(order).remove("#detail");
        self.transition(order_id, owner, now, Transition::Complete, state)
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
        let state = StateWrite::default()
            .set("#error", ":error", s(error))
            .remove("#detail");
        self.transition(order_id, owner, now, Transition::Fail, state)
            .await
    }

    #[tracing::instrument(skip(self, owner, now), fields(table = %self.table, order_id = %order_id))]
    async fn release(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        self.transition(
            order_id,
            owner,
            now,
            Transition::Release,
            StateWrite::default(),
        )
        .await
    }

    #[tracing::instrument(skip(self, owner, error, now), fields(table = %self.table, order_id = %order_id))]
    async fn leave_to_staff(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        let state = StateWrite::default().set("staff_error", ":staff_error", s(error));
        self.transition(order_id, owner, now, Transition::LeaveToStaff, state)
            .await
    }

    #[tracing::instrument(skip(self), fields(table = %self.table, order_id = %order_id))]
    async fn reopen_failed(&self, order_id: &OrderId) -> Result<bool, StoreError> {
        if self.delete_failed(order_id).await? {
            return Ok(true);
        }
        // Left to staff: the mark goes, the state stays (the next claim opens
        // the view again at its lease end).
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(order_id)))
            .key("sk", s(SK))
            .condition_expression("attribute_exists(staff_error)")
            .update_expression("REMOVE staff_error")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => Ok(false),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn whmcs() -> WhmcsOrder {
        WhmcsOrder {
            order_id: 42,
            service_ids: vec![31, 32],
        }
    }

    #[test]
    fn when_ordered_should_keep_the_lease_and_leave_gsi1_alone() {
        let state = StateWrite::default()
            .order(&whmcs())
            .client_id(Some(7))
            .remove("#detail");
        assert_eq!(
            update_expression(Transition::Ordered, &state),
            "SET #status = :status, whmcs_order_id = :oid, service_ids = :sids, \
             whmcs_client_id = :cid, updated_at = :now REMOVE #detail"
        );
        assert_eq!(
            condition(Transition::Ordered.rule()),
            "#owner = :me",
            "ORDERED may be recorded again by its holder"
        );
    }

    #[test]
    fn when_unknown_should_drop_the_lease_and_reopen_gsi1_at_now() {
        let state = StateWrite::default()
            .set("#detail", ":detail", s("AddOrder timed out"))
            .client_id(None);
        assert_eq!(
            update_expression(Transition::Unknown, &state),
            "SET #status = :status, #detail = :detail, updated_at = :now, gsi1sk = :since \
             REMOVE #owner, lease_until, whmcs_client_id"
        );
        assert_eq!(state.names, [("#detail", "detail")]);
        assert_eq!(
            condition(Transition::Unknown.rule()),
            "#owner = :me AND #status <> :ordered"
        );
    }

    #[test]
    fn when_settled_should_remove_the_lease_and_both_gsi1_keys() {
        let complete = StateWrite::default().order(&whmcs()).remove("#detail");
        assert_eq!(
            update_expression(Transition::Complete, &complete),
            "SET #status = :status, whmcs_order_id = :oid, service_ids = :sids, \
             updated_at = :now REMOVE #owner, lease_until, gsi1pk, gsi1sk, #detail"
        );
        let fail = StateWrite::default()
            .set("#error", ":error", s("invalid product"))
            .remove("#detail");
        assert_eq!(
            update_expression(Transition::Fail, &fail),
            "SET #status = :status, #error = :error, updated_at = :now \
             REMOVE #owner, lease_until, gsi1pk, gsi1sk, #detail"
        );
        assert_eq!(
            condition(Transition::Fail.rule()),
            "#owner = :me AND #status <> :ordered"
        );
    }

    #[test]
    fn when_left_to_staff_should_mark_it_keep_the_status_and_remove_both_gsi1_keys() {
        let state = StateWrite::default().set("staff_error", ":staff_error", s("complete it"));
        assert_eq!(
            update_expression(Transition::LeaveToStaff, &state),
            "SET staff_error = :staff_error, updated_at = :now \
             REMOVE #owner, lease_until, gsi1pk, gsi1sk"
        );
        assert_eq!(
            condition(Transition::LeaveToStaff.rule()),
            "#owner = :me",
            "an ORDERED record may be left to staff"
        );
    }

    #[test]
    fn when_released_should_keep_the_status_and_reopen_gsi1_at_now() {
        assert_eq!(
            update_expression(Transition::Release, &StateWrite::default()),
            "SET updated_at = :now, gsi1sk = :since REMOVE #owner, lease_until"
        );
    }
}
