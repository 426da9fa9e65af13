//! The `ProvisioningRecords` port: one record per Salesforce Order that makes
//! provisioning into WHMCS happen exactly once.
//!
//! Life of a record (status names as stored):
//!
//! ```text
//!            claim                 record_ordered            complete
//! (none) ─────────────> IN_PROGRESS ───────────────> ORDERED ──────────> COMPLETED (terminal)
//!                          │    │                       │
//!          record_unknown  │    │ fail                  │ release / lease lapses:
//!   (AddOrder timed out/5xx)    ▼                       │ stays ORDERED, next claimant
//!                          ▼   FAILED (claim refuses;   │ sees the WHMCS order and only
//!                     UNKNOWN   reopen_failed deletes)  │ finishes the follow-up steps
//!                          │                            │
//!                          └──── leave_to_staff ────────┘
//!              (an order exists or may: the state stays, marked "left to staff")
//! ```
//!
//! - A claim takes a lease (owner + `lease_until`, from the Lambda deadline).
//!   It succeeds when the record is absent, when no live lease holds it, or
//!   when the caller already holds it; it returns the state the record was in,
//!   so a new claimant of an `UNKNOWN` record (or of an `IN_PROGRESS` one whose
//!   holder died, which may equally have called AddOrder) settles it by
//!   looking the service up in WHMCS before ordering again, and a claimant of
//!   an `ORDERED` record never orders again.
//! - Every write after the claim is conditional on the caller still being the
//!   owner; a caller whose lease was taken over gets
//!   [`ProvisioningError::LeaseLost`] and nothing is written.
//! - `UNKNOWN` and `release` drop the lease (the record stays, with what is
//!   known); `COMPLETED` and `FAILED` drop it too. Once `ORDERED`, a record can
//!   no longer become `UNKNOWN` or `FAILED` ([`ProvisioningError::AlreadyOrdered`]):
//!   WHMCS has the order, only completion is left.
//! - [`ProvisioningRecords::list_unsettled`] gives the reconciler every record
//!   that is not settled and not held by a live lease: `UNKNOWN`, released,
//!   and `IN_PROGRESS`/`ORDERED` whose lease lapsed.
//! - Left to staff ([`ProvisioningRecords::leave_to_staff`]): the Order was
//!   failed in Salesforce for staff while WHMCS has an order for it (an
//!   incomplete one) or may have one (an outcome that could not be settled).
//!   Such a record can neither be FAILED (that would forget the order) nor
//!   stay open (the reconciler would re-enqueue it every backoff step until
//!   its attempts ran out, for nothing: only staff can act). So it keeps its
//!   state (`ORDERED`, `UNKNOWN`, `IN_PROGRESS`) with a mark, leaves the
//!   reconciler's view, and a claim answers it like a FAILED one
//!   ([`ProvisioningClaim::Failed`]); when staff approve the Order again,
//!   [`ProvisioningRecords::reopen_failed`] removes the mark (and keeps the
//!   state), so the next claim settles or finishes what is known.
//!
//! The writes a holder makes after the claim are described once, as data:
//! [`Transition::rule`] says for each one what it requires, what it does to the
//! lease and what it does to the reconciler's view, and both adapters derive
//! their behaviour from it (the in-memory one as Rust, the DynamoDB one as
//! condition and update expressions), so they cannot drift apart.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{LeaseOwner, StoreError};
use crate::domain::OrderId;

/// What WHMCS returned from AddOrder.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct WhmcsOrder {
    /// The WHMCS order id.
    pub order_id: u64,
    /// The WHMCS service (hosting) ids of the order, in the Order's line
    /// order (AddOrder's; services staff added by hand are put in the line
    /// of their product).
    pub service_ids: Vec<u64>,
}

/// What a provisioning record knows.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ProvisioningState {
    /// Claimed; WHMCS has not been asked, or the holder died before recording
    /// anything (then WHMCS may have acted: settle it like `Unknown`).
    InProgress,
    /// WHMCS may have acted without our knowing (AddOrder timed out or
    /// answered 5xx): look the service up before ordering again.
    Unknown {
        /// The WHMCS client, when it was known before AddOrder.
        whmcs_client_id: Option<u64>,
        /// A readable reason (no personal data), e.g. "AddOrder timed out".
        detail: String,
    },
    /// AddOrder succeeded; AcceptOrder and the Salesforce write may still be missing.
    Ordered {
        /// The WHMCS client the order belongs to.
        whmcs_client_id: Option<u64>,
        /// The order AddOrder created.
        order: WhmcsOrder,
    },
    /// Done: the Order is provisioned.
    Completed {
        /// The order that provisioned it.
        order: WhmcsOrder,
    },
    /// Failed permanently before any WHMCS order existed.
    Failed {
        /// The readable error (for `Activation_Error__c`).
        error: String,
    },
}

impl ProvisioningState {
    /// The stored status name.
    pub fn status(&self) -> ProvisioningStatus {
        match self {
            Self::InProgress => ProvisioningStatus::InProgress,
            Self::Unknown { .. } => ProvisioningStatus::Unknown,
            Self::Ordered { .. } => ProvisioningStatus::Ordered,
            Self::Completed { .. } => ProvisioningStatus::Completed,
            Self::Failed { .. } => ProvisioningStatus::Failed,
        }
    }
}

/// The status of a provisioning record, as stored in the `status` attribute.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ProvisioningStatus {
    /// `IN_PROGRESS`
    InProgress,
    /// `UNKNOWN`
    Unknown,
    /// `ORDERED`
    Ordered,
    /// `COMPLETED`
    Completed,
    /// `FAILED`
    Failed,
}

impl ProvisioningStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Unknown => "UNKNOWN",
            Self::Ordered => "ORDERED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::InProgress,
            Self::Unknown,
            Self::Ordered,
            Self::Completed,
            Self::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }

    /// Whether the record is settled for good (no claim takes it).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

impl fmt::Display for ProvisioningStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who holds a record, and until when.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProvisioningHolder {
    /// The holder.
    pub owner: LeaseOwner,
    /// When its lease lapses.
    pub lease_until: DateTime<Utc>,
}

/// A provisioning record as stored.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProvisioningRecord {
    /// The Salesforce Order.
    pub order_id: OrderId,
    /// What is known.
    pub state: ProvisioningState,
    /// The current or last lease holder, while one holds it.
    pub holder: Option<ProvisioningHolder>,
    /// How many claims succeeded so far.
    pub attempts: u32,
    /// When the record last changed.
    pub updated_at: DateTime<Utc>,
    /// When the record's first claim was made (the attempt began): WHMCS
    /// orders placed before it cannot be this attempt's. `None` for a record
    /// written before this was kept; the Unix epoch for one whose first claim
    /// after that found it without (no bound either).
    pub started_at: Option<DateTime<Utc>>,
    /// Left to staff (see the module docs), with the error staff were shown;
    /// `None` otherwise.
    pub left_to_staff: Option<String>,
}

/// The answer to [`ProvisioningRecords::claim`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ProvisioningClaim {
    /// The caller now holds the record.
    Acquired {
        /// The state before this claim; `None` for a new record.
        previous: Option<ProvisioningState>,
        /// When the record's first claim was made (this one, for a new
        /// record): WHMCS orders placed before it cannot be the Order's.
        /// `None` for a record written before this was kept (no bound).
        started_at: Option<DateTime<Utc>>,
    },
    /// Already provisioned: nothing to do.
    Completed(WhmcsOrder),
    /// Failed permanently earlier (FAILED, or left to staff with what is known
    /// about WHMCS); [`ProvisioningRecords::reopen_failed`] allows a new attempt.
    Failed {
        /// The recorded error.
        error: String,
    },
    /// Another holder's lease is live.
    Busy {
        /// When that lease lapses.
        lease_until: DateTime<Utc>,
    },
}

/// A write the holder of a provisioning record makes after the claim: one per
/// [`ProvisioningRecords`] method that takes the caller's lease as proof.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Transition {
    /// [`ProvisioningRecords::record_ordered`]: AddOrder succeeded.
    Ordered,
    /// [`ProvisioningRecords::record_unknown`]: WHMCS may have acted without our knowing.
    Unknown,
    /// [`ProvisioningRecords::complete`]: the Order is provisioned.
    Complete,
    /// [`ProvisioningRecords::fail`]: a permanent failure with no WHMCS order.
    Fail,
    /// [`ProvisioningRecords::release`]: the caller lets go, keeping what is known.
    Release,
    /// [`ProvisioningRecords::leave_to_staff`]: the caller lets go, keeping
    /// what is known, and nobody may act until staff approve the Order again.
    LeaveToStaff,
}

impl Transition {
    /// Every transition.
    pub const ALL: [Self; 6] = [
        Self::Ordered,
        Self::Unknown,
        Self::Complete,
        Self::Fail,
        Self::Release,
        Self::LeaveToStaff,
    ];

    /// The status the transition writes; `None` when it keeps the current one
    /// (a release changes who holds the record, not what is known).
    pub const fn status(self) -> Option<ProvisioningStatus> {
        match self {
            Self::Ordered => Some(ProvisioningStatus::Ordered),
            Self::Unknown => Some(ProvisioningStatus::Unknown),
            Self::Complete => Some(ProvisioningStatus::Completed),
            Self::Fail => Some(ProvisioningStatus::Failed),
            Self::Release | Self::LeaveToStaff => None,
        }
    }

    /// What the transition requires and does besides writing its state.
    ///
    /// Every transition first requires that the caller holds the record
    /// (else [`ProvisioningError::LeaseLost`], nothing written); the rule adds
    /// the rest.
    pub const fn rule(self) -> TransitionRule {
        match self {
            // The holder goes on (AcceptOrder, the Salesforce write) under the
            // same lease; if it dies, the record shows up for the reconciler
            // when that lease lapses, as it would have while IN_PROGRESS.
            Self::Ordered => TransitionRule {
                refuse_when_ordered: false,
                keeps_lease: true,
                reconciler_view: ReconcilerView::Unchanged,
            },
            // Once WHMCS has the order, "maybe it acted" is no longer true.
            // The holder gives up, and the reconciler must settle the record
            // (look the service up in WHMCS) from now on.
            Self::Unknown => TransitionRule {
                refuse_when_ordered: true,
                keeps_lease: false,
                reconciler_view: ReconcilerView::OpenFromNow,
            },
            // Terminal: nobody holds it, nobody needs to look at it again.
            // Allowed from ORDERED: completion is what ORDERED waits for.
            Self::Complete => TransitionRule {
                refuse_when_ordered: false,
                keeps_lease: false,
                reconciler_view: ReconcilerView::Closed,
            },
            // Terminal, but only while no WHMCS order exists: a failure after
            // AddOrder succeeded would hide an order WHMCS bills for.
            Self::Fail => TransitionRule {
                refuse_when_ordered: true,
                keeps_lease: false,
                reconciler_view: ReconcilerView::Closed,
            },
            // What is known stays (an ORDERED record may be released, the next
            // claimant only finishes the follow-up steps); the record is
            // nobody's, so the reconciler may pick it up from now on if the
            // queue's retry does not come first.
            Self::Release => TransitionRule {
                refuse_when_ordered: false,
                keeps_lease: false,
                reconciler_view: ReconcilerView::OpenFromNow,
            },
            // What is known stays too (an order WHMCS has or may have is never
            // forgotten), but the Order waits for staff: the reconciler must
            // not re-enqueue it (every delivery would only be skipped) until a
            // new approval reopens it. Allowed from ORDERED: that is the
            // incomplete order staff must finish.
            Self::LeaveToStaff => TransitionRule {
                refuse_when_ordered: false,
                keeps_lease: false,
                reconciler_view: ReconcilerView::Closed,
            },
        }
    }
}

/// What a [`Transition`] requires and does to the lease and the reconciler's view.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TransitionRule {
    /// Refused with [`ProvisioningError::AlreadyOrdered`] (nothing written)
    /// when the record is `ORDERED`.
    pub refuse_when_ordered: bool,
    /// The caller still holds the record afterwards; otherwise its owner and
    /// `lease_until` are dropped.
    pub keeps_lease: bool,
    /// What happens to the instant from which
    /// [`ProvisioningRecords::list_unsettled`] returns the record.
    pub reconciler_view: ReconcilerView,
}

/// What a [`Transition`] does to the reconciler's view of a record (the
/// DynamoDB adapter's sparse `gsi1` keys).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ReconcilerView {
    /// The record stays listed from the same instant (the lease end).
    Unchanged,
    /// The record is listed from the transition's `now` on.
    OpenFromNow,
    /// The record is never listed again (it is settled).
    Closed,
}

/// A write after the claim did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ProvisioningError {
    /// The caller no longer holds the record; nothing was written.
    #[error("the provisioning lease was lost to another owner, or released; nothing was written")]
    LeaseLost,
    /// The record already holds a WHMCS order; it cannot become UNKNOWN or FAILED.
    #[error("the Order already has a WHMCS order; only completion is allowed")]
    AlreadyOrdered,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ProvisioningError {
    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_retryable())
    }
}

/// One provisioning record per Salesforce Order (see the module docs).
pub trait ProvisioningRecords: Send + Sync {
    /// Claims the Order's record until `lease_until` (one conditional write).
    fn claim(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<ProvisioningClaim, StoreError>> + Send;

    /// Records that AddOrder succeeded, BEFORE anything else happens. Keeps the lease.
    fn record_ordered(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        whmcs_client_id: Option<u64>,
        order: &WhmcsOrder,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ProvisioningError>> + Send;

    /// Records that WHMCS may have acted without our knowing; drops the lease.
    fn record_unknown(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        whmcs_client_id: Option<u64>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ProvisioningError>> + Send;

    /// Marks the Order provisioned (terminal); drops the lease.
    fn complete(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        order: &WhmcsOrder,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ProvisioningError>> + Send;

    /// Marks a permanent failure with no WHMCS order; drops the lease.
    fn fail(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        error: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ProvisioningError>> + Send;

    /// Drops the caller's lease and keeps what is known (for a transient
    /// failure the queue will retry).
    fn release(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ProvisioningError>> + Send;

    /// Drops the caller's lease, keeps what is known and marks the record left
    /// to staff with `error` (the Order failed in Salesforce while WHMCS has
    /// or may have an order): claims answer [`ProvisioningClaim::Failed`] and
    /// the reconciler no longer lists it, until [`Self::reopen_failed`].
    fn leave_to_staff(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        error: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ProvisioningError>> + Send;

    /// Staff approved the Order again: deletes a FAILED record, or removes
    /// the mark of a record left to staff (keeping its state, so the next
    /// claim settles or finishes the order WHMCS has or may have); `false`
    /// when the record is absent or neither.
    fn reopen_failed(
        &self,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Reads the Order's record.
    fn get(
        &self,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<Option<ProvisioningRecord>, StoreError>> + Send;

    /// Up to `limit` records that need the reconciler: not COMPLETED/FAILED
    /// and not held by a live lease at `now`, oldest lease first. May lag a
    /// few seconds behind writes.
    fn list_unsettled(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ProvisioningRecord>, StoreError>> + Send;
}

impl<T: ProvisioningRecords> ProvisioningRecords for Arc<T> {
    fn claim(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<ProvisioningClaim, StoreError>> + Send {
        (**self).claim(order_id, owner, lease_until, now)
    }

    fn record_ordered(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        whmcs_client_id: Option<u64>,
        order: &WhmcsOrder,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ProvisioningError>> + Send {
        (**self).record_ordered(order_id, owner, whmcs_client_id, order, now)
    }

    fn record_unknown(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        whmcs_client_id: Option<u64>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ProvisioningError>> + Send {
        (**self).record_unknown(order_id, owner, whmcs_client_id, detail, now)
    }

    fn complete(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        order: &WhmcsOrder,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ProvisioningError>> + Send {
        (**self).complete(order_id, owner, order, now)
    }

    fn fail(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        error: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ProvisioningError>> + Send {
        (**self).fail(order_id, owner, error, now)
    }

    fn release(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ProvisioningError>> + Send {
        (**self).release(order_id, owner, now)
    }

    fn leave_to_staff(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        error: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ProvisioningError>> + Send {
        (**self).leave_to_staff(order_id, owner, error, now)
    }

    fn reopen_failed(
        &self,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).reopen_failed(order_id)
    }

    fn get(
        &self,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<Option<ProvisioningRecord>, StoreError>> + Send {
        (**self).get(order_id)
    }

    fn list_unsettled(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ProvisioningRecord>, StoreError>> + Send {
        (**self).list_unsettled(now, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_ordered_should_keep_the_lease_and_the_lease_end_view() {
        assert_eq!(
            Transition::Ordered.rule(),
            TransitionRule {
                refuse_when_ordered: false,
                keeps_lease: true,
                reconciler_view: ReconcilerView::Unchanged,
            }
        );
    }

    #[test]
    fn when_unknown_should_refuse_ordered_drop_the_lease_and_open_from_now() {
        assert_eq!(
            Transition::Unknown.rule(),
            TransitionRule {
                refuse_when_ordered: true,
                keeps_lease: false,
                reconciler_view: ReconcilerView::OpenFromNow,
            }
        );
    }

    #[test]
    fn when_complete_should_accept_ordered_drop_the_lease_and_close() {
        assert_eq!(
            Transition::Complete.rule(),
            TransitionRule {
                refuse_when_ordered: false,
                keeps_lease: false,
                reconciler_view: ReconcilerView::Closed,
            }
        );
    }

    #[test]
    fn when_fail_should_refuse_ordered_drop_the_lease_and_close() {
        assert_eq!(
            Transition::Fail.rule(),
            TransitionRule {
                refuse_when_ordered: true,
                keeps_lease: false,
                reconciler_view: ReconcilerView::Closed,
            }
        );
    }

    #[test]
    fn when_release_should_keep_the_status_drop_the_lease_and_open_from_now() {
        assert_eq!(Transition::Release.status(), None);
        assert_eq!(
            Transition::Release.rule(),
            TransitionRule {
                refuse_when_ordered: false,
                keeps_lease: false,
                reconciler_view: ReconcilerView::OpenFromNow,
            }
        );
    }

    #[test]
    fn when_left_to_staff_should_keep_the_status_accept_ordered_drop_the_lease_and_close() {
        assert_eq!(Transition::LeaveToStaff.status(), None);
        assert_eq!(
            Transition::LeaveToStaff.rule(),
            TransitionRule {
                refuse_when_ordered: false,
                keeps_lease: false,
                reconciler_view: ReconcilerView::Closed,
            }
        );
    }

    #[test]
    fn when_a_transition_settles_the_record_it_should_close_the_view() {
        for transition in Transition::ALL {
            let settled = transition
                .status()
                .is_some_and(ProvisioningStatus::is_terminal)
                || transition == Transition::LeaveToStaff;
            assert_eq!(
                transition.rule().reconciler_view == ReconcilerView::Closed,
                settled,
                "{transition:?}: only COMPLETED/FAILED and left to staff leave the reconciler's view"
            );
        }
    }

    #[test]
    fn when_a_transition_drops_the_lease_the_record_should_not_wait_for_it() {
        for transition in Transition::ALL {
            let r = transition.rule();
            assert_eq!(
                r.keeps_lease,
                r.reconciler_view == ReconcilerView::Unchanged,
                "{transition:?}: a view left at the lease end needs a lease"
            );
        }
    }

    #[test]
    fn when_a_transition_would_hide_a_whmcs_order_it_should_refuse_ordered() {
        let refusing: Vec<Transition> = Transition::ALL
            .into_iter()
            .filter(|t| t.rule().refuse_when_ordered)
            .collect();
        assert_eq!(refusing, [Transition::Unknown, Transition::Fail]);
    }
}
