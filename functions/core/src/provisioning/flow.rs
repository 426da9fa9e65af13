//! The provisioning use case: one message, one outcome.
//!
//! 1. Claim the Order's record with a lease that ends before the Lambda
//!    deadline. `COMPLETED`: acknowledge and skip. `FAILED`: acknowledge and
//!    skip, unless staff approved the Order again (Salesforce shows it
//!    `Activating` again): then the record is reopened and claimed anew.
//!    Another live holder: retry later.
//! 2. Read the Order bundle (one Salesforce read). An Order no longer
//!    `Approved`/`Activating` is skipped (and a record left `ORDERED` by a
//!    holder that wrote Salesforce but died before completing is completed).
//! 3. Ensure the WHMCS client.
//! 4. When the record may hide a WHMCS order (`UNKNOWN`, `IN_PROGRESS` whose
//!    holder died, or a `FAILED` record reopened by a new approval), settle it
//!    first, before anything may fail it: find the services carrying the
//!    Order Id. Found: continue from "ordered". None, but the client has an
//!    order with no service at all placed since the attempt began (AddOrder
//!    may have made it, every line dropped): the outcome stays
//!    unknown and the Order is left to staff. Otherwise AddOrder, and record
//!    its outcome (`ORDERED`, or `UNKNOWN` when WHMCS may have acted) before
//!    anything else happens. An `UNKNOWN` or `IN_PROGRESS` record that cannot
//!    be settled is never failed (its Order is, in Salesforce).
//!    A known order with fewer services than the Order has lines (WHMCS's
//!    `IncompleteOrder`) is never provisioned as it is: unless WHMCS now shows
//!    every line (staff completed it by hand), the Order fails again for staff.
//! 5. AcceptOrder. 6. One Salesforce write. 7. Complete the record.
//!
//! Permanent failures write `Failed` + a readable error to Salesforce, fail
//! the record (when no WHMCS order exists; when one exists or may, the
//! record keeps it and is left to staff, out of the reconciler's view until
//! a new approval) and are acknowledged. Transient
//! ones release the lease and ask for a redelivery. The steps that recover
//! from an earlier delivery (settling an unknown outcome, telling Salesforce
//! again, reopening a failed Order) are in [`super::recovery`]; the outcomes
//! in [`super::outcome`].

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use super::outcome::{ProvisioningOutcome, RetryReason, SkipReason};
use super::plan::{MappingError, ProvisioningPlan};
use crate::domain::OrderId;
use crate::messages::ProvisioningMessage;
use crate::ports::{
    ActivationError, BillingError, BillingGateway, Clock, FailedOrder, LeaseOwner, LedgerError,
    OrderBundle, OrderLedger, ProvisionedOrder, ProvisioningClaim, ProvisioningError,
    ProvisioningRecords, ProvisioningState, WhmcsOrder,
};

/// Timing rules of the use case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvisioningSettings {
    /// How long before the invocation's deadline the lease ends.
    pub lease_margin: TimeDelta,
    /// The least lease time that must be left to start AddOrder: more than the
    /// WHMCS request timeout, so the lease cannot lapse (and another holder
    /// settle) while AddOrder is still in flight.
    pub order_headroom: TimeDelta,
}

impl Default for ProvisioningSettings {
    fn default() -> Self {
        Self {
            lease_margin: TimeDelta::seconds(2),
            order_headroom: TimeDelta::seconds(20),
        }
    }
}

/// Why the steps stopped before the end.
#[derive(Debug)]
pub(super) enum Stop {
    /// Acknowledge; `release` when our lease still stands.
    Skip { reason: SkipReason, release: bool },
    /// Permanent; `ordered` when a WHMCS order exists (the record cannot fail).
    Fail {
        error: ActivationError,
        ordered: bool,
    },
    /// Transient; `release` when our lease still stands.
    Retry { reason: RetryReason, release: bool },
}

impl Stop {
    pub(super) fn retry(reason: RetryReason) -> Self {
        Self::Retry {
            reason,
            release: true,
        }
    }

    pub(super) fn fail(error: impl fmt::Display, ordered: bool) -> Self {
        Self::Fail {
            error: ActivationError::new(error.to_string()),
            ordered,
        }
    }
}

/// A record write after the claim failed.
pub(super) fn record_stop(error: &ProvisioningError) -> Stop {
    match error {
        ProvisioningError::LeaseLost => Stop::Retry {
            reason: RetryReason::LeaseLost,
            release: false,
        },
        ProvisioningError::AlreadyOrdered | ProvisioningError::Store(_) => {
            Stop::retry(RetryReason::Store)
        }
    }
}

/// What is known about a WHMCS order before this delivery's steps run.
struct Known {
    order: Option<WhmcsOrder>,
    client_id: Option<u64>,
    /// WHMCS may have an order for the Order: look before AddOrder.
    must_settle: bool,
    /// The record says WHMCS may have acted (`UNKNOWN`, `IN_PROGRESS`): until it
    /// is settled, no failure may fail it.
    outcome_unknown: bool,
    /// When the record's first claim was made (settling looks for WHMCS
    /// orders placed since); `None` when the record does not say.
    started_at: Option<DateTime<Utc>>,
}

impl Known {
    /// From the record's previous state and start; `reopened` when a new
    /// approval reopened a `FAILED` record (an earlier attempt may have
    /// reached WHMCS).
    fn from_previous(
        previous: Option<ProvisioningState>,
        started_at: Option<DateTime<Utc>>,
        reopened: bool,
    ) -> Self {
        let (order, client_id, outcome_unknown) = match previous {
            None | Some(ProvisioningState::Failed { .. }) => (None, None, false),
            Some(ProvisioningState::InProgress) => (None, None, true),
            Some(ProvisioningState::Unknown {
                whmcs_client_id, ..
            }) => (None, whmcs_client_id, true),
            Some(ProvisioningState::Ordered {
                whmcs_client_id,
                order,
            }) => (Some(order), whmcs_client_id, false),
            Some(ProvisioningState::Completed { order }) => (Some(order), None, false),
        };
        Self {
            must_settle: order.is_none() && (outcome_unknown || reopened),
            order,
            client_id,
            outcome_unknown,
            started_at,
        }
    }
}

/// The provisioning use case over its four ports.
#[derive(Debug, Clone)]
pub struct Provisioner<L, B, R, C> {
    pub(super) ledger: L,
    pub(super) billing: B,
    pub(super) records: R,
    pub(super) clock: C,
    settings: ProvisioningSettings,
}

impl<L, B, R, C> Provisioner<L, B, R, C>
where
    L: OrderLedger,
    B: BillingGateway,
    R: ProvisioningRecords,
    C: Clock,
{
    /// The use case over Salesforce (`ledger`), WHMCS (`billing`), the record store and a clock.
    pub fn new(
        ledger: L,
        billing: B,
        records: R,
        clock: C,
        settings: ProvisioningSettings,
    ) -> Self {
        Self {
            ledger,
            billing,
            records,
            clock,
            settings,
        }
    }

    /// The Salesforce port.
    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    /// The WHMCS port.
    pub fn billing(&self) -> &B {
        &self.billing
    }

    /// The record store.
    pub fn records(&self) -> &R {
        &self.records
    }

    /// Provisions the message's Order as `owner` (unique to this delivery),
    /// within an invocation that ends at `deadline`.
    #[tracing::instrument(
        name = "provision",
        skip_all,
        fields(order_id = %message.order_id, correlation_id = %message.correlation_id)
    )]
    pub async fn provision(
        &self,
        message: &ProvisioningMessage,
        owner: &LeaseOwner,
        deadline: DateTime<Utc>,
    ) -> ProvisioningOutcome {
        let order_id = &message.order_id;
        let now = self.clock.now();
        let lease_until = deadline - self.settings.lease_margin;
        if lease_until <= now {
            return self.log(ProvisioningOutcome::Retry(RetryReason::DeadlineTooClose));
        }
        let mut claim = self.records.claim(order_id, owner, lease_until, now).await;
        let mut reopened = false;
        if matches!(claim, Ok(ProvisioningClaim::Failed { .. })) {
            match self.reopen_if_retried(order_id).await {
                Ok(true) => {
                    reopened = true;
                    claim = self
                        .records
                        .claim(order_id, owner, lease_until, self.clock.now())
                        .await;
                }
                Ok(false) => {}
                Err(reason) => return self.log(ProvisioningOutcome::Retry(reason)),
            }
        }
        let (previous, started_at) = match claim {
            Ok(ProvisioningClaim::Acquired {
                previous,
                started_at,
            }) => (previous, started_at),
            Ok(ProvisioningClaim::Completed(order)) => {
                return self.log(self.confirm_provisioned(order_id, &order).await);
            }
            Ok(ProvisioningClaim::Failed { .. }) => {
                return self.log(ProvisioningOutcome::Skipped(SkipReason::PreviouslyFailed));
            }
            Ok(ProvisioningClaim::Busy { lease_until }) => {
                return self.log(ProvisioningOutcome::Retry(RetryReason::Busy {
                    lease_until,
                }));
            }
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "claiming the Order failed"
                );
                return self.log(ProvisioningOutcome::Retry(RetryReason::Store));
            }
        };
        if let Some(state) = &previous {
            tracing::info!(previous = %state.status(), "claimed a provisioning record left by an earlier delivery");
        }
        let known = Known::from_previous(previous, started_at, reopened);
        let outcome = match self.run(order_id, owner, lease_until, known).await {
            Ok(order) => ProvisioningOutcome::Provisioned(order),
            Err(Stop::Skip { reason, release }) => {
                if release {
                    self.release(order_id, owner).await;
                }
                ProvisioningOutcome::Skipped(reason)
            }
            Err(Stop::Retry { reason, release }) => {
                if release {
                    self.release(order_id, owner).await;
                }
                ProvisioningOutcome::Retry(reason)
            }
            Err(Stop::Fail { error, ordered }) => self.fail(order_id, owner, error, ordered).await,
        };
        self.log(outcome)
    }

    /// Steps 2 to 7, after a successful claim that told what is `known`.
    async fn run(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        lease_until: DateTime<Utc>,
        mut known: Known,
    ) -> Result<WhmcsOrder, Stop> {
        let bundle = self.ledger.load(order_id).await.map_err(|e| match e {
            LedgerError::OrderNotFound => Stop::Skip {
                reason: SkipReason::OrderNotFound,
                release: true,
            },
            other => {
                tracing::warn!(
                    error = &other as &dyn std::error::Error,
                    "reading the Order failed"
                );
                Stop::retry(RetryReason::Salesforce)
            }
        })?;
        if !bundle.is_awaiting_provisioning() {
            return Err(self
                .not_awaiting(
                    order_id,
                    owner,
                    &bundle,
                    known.order.as_ref(),
                    known.outcome_unknown,
                )
                .await);
        }
        // Settle first: until then a failure must not fail a record whose
        // outcome is unknown (it would forget the order WHMCS may have).
        let mut client_id = known.client_id;
        if known.must_settle {
            let id = match client_id {
                Some(id) => id,
                None => self.client(&bundle, known.outcome_unknown).await?,
            };
            client_id = Some(id);
            known.order = self.settle(order_id, owner, id, known.started_at).await?;
        }
        let ordered = known.order.is_some();
        let plan = ProvisioningPlan::from_bundle(&bundle).map_err(|e| Stop::fail(e, ordered))?;
        let client_id = match client_id {
            Some(id) => id,
            None => self.client(&bundle, ordered).await?,
        };
        let link_account = (bundle.account.whmcs_client_id != Some(client_id))
            .then(|| (bundle.account.id.clone(), client_id));

        let order = match known.order {
            // WHMCS made it without every line (an `IncompleteOrder`, or an
            // order found by settling): never provisioned as it is.
            Some(order) if order.service_ids.len() < plan.lines.len() => {
                self.ensure_every_line(order_id, owner, client_id, order, &plan)
                    .await?
            }
            Some(order) => order,
            None => {
                self.order(order_id, owner, lease_until, client_id, &plan)
                    .await?
            }
        };

        self.billing
            .accept(order.order_id)
            .await
            .map_err(|e| billing_stop(e, "accepting the WHMCS order", true))?;

        let provisioned = ProvisionedOrder {
            order_id: order_id.clone(),
            whmcs_order_id: order.order_id,
            opportunity_id: bundle.opportunity_id.clone(),
            whmcs_service_id: plan.service_id(&order.service_ids),
            link_account,
        };
        self.ledger
            .record_provisioned(&provisioned)
            .await
            .map_err(|e| match e {
                LedgerError::Rejected { reason, .. } => Stop::fail(
                    format!("Salesforce refused the provisioning result: {reason}"),
                    true,
                ),
                other => {
                    tracing::warn!(
                        error = &other as &dyn std::error::Error,
                        "writing the result to Salesforce failed"
                    );
                    Stop::retry(RetryReason::Salesforce)
                }
            })?;

        match self
            .records
            .complete(order_id, owner, &order, self.clock.now())
            .await
        {
            Ok(()) => {}
            // Salesforce already shows the Order provisioned; the new holder
            // completes the record when it sees that.
            Err(ProvisioningError::LeaseLost) => {
                tracing::warn!(
                    "lease lost after the Salesforce write; the next holder completes the record"
                );
            }
            Err(other) => {
                tracing::warn!(
                    error = &other as &dyn std::error::Error,
                    "completing the record failed"
                );
                return Err(Stop::retry(RetryReason::Store));
            }
        }
        Ok(order)
    }

    /// The WHMCS client of the Order's Account (found or created); a permanent
    /// failure keeps the record when `keep` (a WHMCS order exists or may).
    async fn client(&self, bundle: &OrderBundle, keep: bool) -> Result<u64, Stop> {
        let has_email = bundle
            .contact
            .as_ref()
            .and_then(|c| c.email.as_deref())
            .is_some_and(|e| !e.trim().is_empty());
        if bundle.account.whmcs_client_id.is_none() && !has_email {
            return Err(Stop::fail(MappingError::NoContactEmail, keep));
        }
        Ok(self
            .billing
            .ensure_client(&bundle.account, bundle.contact.as_ref())
            .await
            .map_err(|e| billing_stop(e, "ensuring the WHMCS client", keep))?
            .client_id)
    }

    /// AddOrder, its outcome recorded before anything else happens.
    async fn order(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        lease_until: DateTime<Utc>,
        client_id: u64,
        plan: &ProvisioningPlan,
    ) -> Result<WhmcsOrder, Stop> {
        if lease_until - self.clock.now() < self.settings.order_headroom {
            return Err(Stop::retry(RetryReason::DeadlineTooClose));
        }
        match self
            .billing
            .place_order(client_id, order_id, &plan.lines)
            .await
        {
            Ok(order) => {
                self.records
                    .record_ordered(order_id, owner, Some(client_id), &order, self.clock.now())
                    .await
                    .map_err(|e| record_stop(&e))?;
                Ok(order)
            }
            Err(BillingError::OutcomeUnknown(cause)) => {
                tracing::warn!(
                    error = &*cause as &dyn std::error::Error,
                    "AddOrder outcome unknown; recording UNKNOWN"
                );
                let recorded = self
                    .records
                    .record_unknown(
                        order_id,
                        owner,
                        Some(client_id),
                        "AddOrder outcome unknown (timeout, 5xx or unreadable answer)",
                        self.clock.now(),
                    )
                    .await;
                Err(Stop::Retry {
                    reason: RetryReason::OutcomeUnknown,
                    // UNKNOWN drops the lease; when it could not be written the
                    // record stays IN_PROGRESS, which the next holder settles too.
                    release: recorded.is_err(),
                })
            }
            Err(BillingError::Incomplete { order, reason }) => {
                // WHMCS made the order without every line: it exists, so the record
                // keeps it (ORDERED, never FAILED) and no later delivery or
                // approval places another; the Order fails for staff to finish.
                self.records
                    .record_ordered(order_id, owner, Some(client_id), &order, self.clock.now())
                    .await
                    .map_err(|e| record_stop(&e))?;
                Err(Stop::fail(
                    format!(
                        "{reason}; complete WHMCS order {} by hand, then approve again",
                        order.order_id
                    ),
                    true,
                ))
            }
            Err(other) => Err(billing_stop(other, "AddOrder", false)),
        }
    }

    /// A permanent failure: Salesforce first (what staff see), then the record.
    async fn fail(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        error: ActivationError,
        ordered: bool,
    ) -> ProvisioningOutcome {
        let failure = FailedOrder {
            order_id: order_id.clone(),
            error: error.clone(),
            at: self.clock.now(),
        };
        match self.ledger.record_failed(&failure).await {
            Ok(()) => {}
            Err(e) if e.is_retryable() => {
                tracing::warn!(
                    error = &e as &dyn std::error::Error,
                    "writing the failure to Salesforce failed"
                );
                self.release(order_id, owner).await;
                return ProvisioningOutcome::Retry(RetryReason::Salesforce);
            }
            Err(e) => {
                tracing::error!(
                    error = &e as &dyn std::error::Error,
                    "Salesforce refused the failure write"
                );
            }
        }
        if ordered {
            // A WHMCS order exists or may: the record keeps what it knows (it
            // cannot become FAILED) and waits for staff, out of the
            // reconciler's way, until they approve the Order again.
            self.leave_to_staff(order_id, owner, error.as_str()).await;
            return ProvisioningOutcome::Failed(error);
        }
        match self
            .records
            .fail(order_id, owner, error.as_str(), self.clock.now())
            .await
        {
            Ok(()) => ProvisioningOutcome::Failed(error),
            Err(e) => {
                tracing::warn!(
                    error = &e as &dyn std::error::Error,
                    "failing the record failed"
                );
                self.release(order_id, owner).await;
                ProvisioningOutcome::Retry(RetryReason::Store)
            }
        }
    }

    /// Leaves the record to staff (see `ProvisioningRecords::leave_to_staff`);
    /// when that cannot be written, drops our lease instead (the next
    /// delivery, seeing the Order `Failed` in Salesforce, leaves it to staff).
    pub(super) async fn leave_to_staff(&self, order_id: &OrderId, owner: &LeaseOwner, error: &str) {
        match self
            .records
            .leave_to_staff(order_id, owner, error, self.clock.now())
            .await
        {
            Ok(()) => tracing::info!("the record is left to staff until a new approval"),
            Err(e) => {
                tracing::warn!(
                    error = &e as &dyn std::error::Error,
                    "leaving the record to staff failed"
                );
                self.release(order_id, owner).await;
            }
        }
    }

    /// Drops our lease, keeping what the record knows; failures only logged
    /// (the lease lapses on its own).
    pub(super) async fn release(&self, order_id: &OrderId, owner: &LeaseOwner) {
        if let Err(e) = self
            .records
            .release(order_id, owner, self.clock.now())
            .await
        {
            tracing::warn!(
                error = &e as &dyn std::error::Error,
                "releasing the provisioning lease failed"
            );
        }
    }

    fn log(&self, outcome: ProvisioningOutcome) -> ProvisioningOutcome {
        match &outcome {
            ProvisioningOutcome::Provisioned(order) => {
                tracing::info!(whmcs_order_id = order.order_id, "Order provisioned");
            }
            ProvisioningOutcome::Skipped(reason) => tracing::info!(%reason, "message skipped"),
            ProvisioningOutcome::Failed(error) => {
                tracing::warn!(%error, "Order failed permanently");
            }
            ProvisioningOutcome::Retry(reason) => {
                tracing::warn!(%reason, "message will be retried")
            }
        }
        outcome
    }
}

/// A WHMCS failure at step `step`.
fn billing_stop(error: BillingError, step: &str, ordered: bool) -> Stop {
    match error {
        BillingError::Rejected { reason, .. } => Stop::fail(reason, ordered),
        BillingError::Incomplete { reason, .. } => Stop::fail(reason, true),
        other => {
            tracing::warn!(
                error = &other as &dyn std::error::Error,
                step,
                "WHMCS failed transiently"
            );
            Stop::retry(RetryReason::Whmcs)
        }
    }
}

#[cfg(test)]
mod tests;
