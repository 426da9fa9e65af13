//! `InMemoryProvisioningRecords`: every write after the claim applies
//! [`Transition::rule`] (shared with the DynamoDB adapter); each method only
//! says what the record knows afterwards.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::lock;
use crate::domain::OrderId;
use crate::ports::{
    LeaseOwner, ProvisioningClaim, ProvisioningError, ProvisioningHolder, ProvisioningRecord,
    ProvisioningRecords, ProvisioningState, ProvisioningStatus, ReconcilerView, StoreError,
    Transition, WhmcsOrder, epoch_millis, lapsed,
};

#[derive(Debug, Clone)]
struct Stored {
    record: ProvisioningRecord,
    /// Mirrors the DynamoDB adapter's `gsi1sk`: while the record is open, the
    /// instant (epoch ms) from which the reconciler should see it.
    open_since: Option<i64>,
}

/// [`ProvisioningRecords`] in memory.
#[derive(Debug, Default)]
pub struct InMemoryProvisioningRecords {
    records: Mutex<HashMap<OrderId, Stored>>,
}

impl InMemoryProvisioningRecords {
    /// No records.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `transition` to the record when `owner` holds it, following
    /// [`Transition::rule`]; `state` is what the record knows afterwards
    /// (`None`: unchanged).
    fn transition(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        now: DateTime<Utc>,
        transition: Transition,
        state: Option<ProvisioningState>,
    ) -> Result<(), ProvisioningError> {
        self.transition_marking(order_id, owner, now, transition, state, None)
    }

    /// [`Self::transition`], also marking the record left to staff with `staff_error`.
    fn transition_marking(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        now: DateTime<Utc>,
        transition: Transition,
        state: Option<ProvisioningState>,
        staff_error: Option<&str>,
    ) -> Result<(), ProvisioningError> {
        debug_assert_eq!(
            state.as_ref().map(ProvisioningState::status),
            transition.status(),
            "the state written must be the transition's status"
        );
        let rule = transition.rule();
        let mut records = lock(&self.records);
        let stored = records
            .get_mut(order_id)
            .filter(|s| s.record.holder.as_ref().is_some_and(|h| &h.owner == owner))
            .ok_or(ProvisioningError::LeaseLost)?;
        if rule.refuse_when_ordered && stored.record.state.status() == ProvisioningStatus::Ordered {
            return Err(ProvisioningError::AlreadyOrdered);
        }
        if let Some(state) = state {
            stored.record.state = state;
        }
        if let Some(error) = staff_error {
            stored.record.left_to_staff = Some(error.to_owned());
        }
        if !rule.keeps_lease {
            stored.record.holder = None;
        }
        match rule.reconciler_view {
            ReconcilerView::Unchanged => {}
            ReconcilerView::OpenFromNow => stored.open_since = Some(epoch_millis(now)),
            ReconcilerView::Closed => stored.open_since = None,
        }
        stored.record.updated_at = now;
        Ok(())
    }
}

impl ProvisioningRecords for InMemoryProvisioningRecords {
    async fn claim(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ProvisioningClaim, StoreError> {
        let mut records = lock(&self.records);
        let holder = Some(ProvisioningHolder {
            owner: owner.clone(),
            lease_until,
        });
        let Some(stored) = records.get_mut(order_id) else {
            records.insert(
                order_id.clone(),
                Stored {
                    record: ProvisioningRecord {
                        order_id: order_id.clone(),
                        state: ProvisioningState::InProgress,
                        holder,
                        attempts: 1,
                        updated_at: now,
                        started_at: Some(now),
                        left_to_staff: None,
                    },
                    open_since: Some(epoch_millis(lease_until)),
                },
            );
            return Ok(ProvisioningClaim::Acquired {
                previous: None,
                started_at: Some(now),
            });
        };
        match &stored.record.state {
            ProvisioningState::Completed { order } => {
                return Ok(ProvisioningClaim::Completed(order.clone()));
            }
            ProvisioningState::Failed { error } => {
                return Ok(ProvisioningClaim::Failed {
                    error: error.clone(),
                });
            }
            _ => {}
        }
        if let Some(error) = &stored.record.left_to_staff {
            return Ok(ProvisioningClaim::Failed {
                error: error.clone(),
            });
        }
        if let Some(current) = &stored.record.holder
            && &current.owner != owner
            && !lapsed(current.lease_until, now)
        {
            return Ok(ProvisioningClaim::Busy {
                lease_until: current.lease_until,
            });
        }
        let previous = stored.record.state.clone();
        stored.record.holder = holder;
        stored.record.attempts = stored.record.attempts.saturating_add(1);
        stored.record.updated_at = now;
        stored.open_since = Some(epoch_millis(lease_until));
        Ok(ProvisioningClaim::Acquired {
            previous: Some(previous),
            started_at: stored.record.started_at,
        })
    }

    async fn record_ordered(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        whmcs_client_id: Option<u64>,
        order: &WhmcsOrder,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        let state = ProvisioningState::Ordered {
            whmcs_client_id,
            order: order.clone(),
        };
        self.transition(order_id, owner, now, Transition::Ordered, Some(state))
    }

    async fn record_unknown(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        whmcs_client_id: Option<u64>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        let state = ProvisioningState::Unknown {
            whmcs_client_id,
            detail: detail.to_owned(),
        };
        self.transition(order_id, owner, now, Transition::Unknown, Some(state))
    }

    async fn complete(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        order: &WhmcsOrder,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        let state = ProvisioningState::Completed {
            order: order.clone(),
        };
        self.transition(order_id, owner, now, Transition::Complete, Some(state))
    }

    async fn fail(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        let state = ProvisioningState::Failed {
            error: error.to_owned(),
        };
        self.transition(order_id, owner, now, Transition::Fail, Some(state))
    }

    async fn release(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        self.transition(order_id, owner, now, Transition::Release, None)
    }

    async fn leave_to_staff(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ProvisioningError> {
        self.transition_marking(
            order_id,
            owner,
            now,
            Transition::LeaveToStaff,
            None,
            Some(error),
        )
    }

    async fn reopen_failed(&self, order_id: &OrderId) -> Result<bool, StoreError> {
        let mut records = lock(&self.records);
        let Some(stored) = records.get_mut(order_id) else {
            return Ok(false);
        };
        if matches!(stored.record.state, ProvisioningState::Failed { .. }) {
            records.remove(order_id);
            return Ok(true);
        }
        // Left to staff: the mark goes, what is known stays (the view stays
        // closed until the next claim opens it at its lease end).
        Ok(stored.record.left_to_staff.take().is_some())
    }

    async fn get(&self, order_id: &OrderId) -> Result<Option<ProvisioningRecord>, StoreError> {
        Ok(lock(&self.records).get(order_id).map(|s| s.record.clone()))
    }

    async fn list_unsettled(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ProvisioningRecord>, StoreError> {
        let records = lock(&self.records);
        let now_ms = epoch_millis(now);
        let mut open: Vec<(i64, &ProvisioningRecord)> = records
            .values()
            .filter_map(|s| s.open_since.map(|since| (since, &s.record)))
            .filter(|(since, _)| *since <= now_ms)
            .collect();
        open.sort_by(|a, b| (a.0, &a.1.order_id).cmp(&(b.0, &b.1.order_id)));
        Ok(open
            .into_iter()
            .take(limit)
            .map(|(_, r)| r.clone())
            .collect())
    }
}
