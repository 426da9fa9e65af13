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
//!    Order Id. Found: continue from "ordered". Otherwise AddOrder, and record
//!    its outcome (`ORDERED`, or `UNKNOWN` when WHMCS may have acted) before
//!    anything else happens. An `UNKNOWN` or `IN_PROGRESS` record that cannot
//!    be settled is never failed (its Order is, in Salesforce).
//! 5. AcceptOrder. 6. One Salesforce write. 7. Complete the record.
//!
//! Permanent failures write `Failed` + a readable error to Salesforce, fail
//! the record (when no WHMCS order exists) and are acknowledged. Transient
//! ones release the lease and ask for a redelivery.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use super::bundle::{ActivationError, MappingError, ProvisioningPlan};
use super::ports::{
    BilledService, BillingError, BillingGateway, FailedOrder, LedgerError, OrderLedger,
    ProvisionedOrder,
};
use crate::domain::ActivationStatus;
use crate::domain::OrderId;
use crate::messages::ProvisioningMessage;
use crate::ports::{
    Clock, LeaseOwner, ProvisioningClaim, ProvisioningError, ProvisioningRecords,
    ProvisioningState, WhmcsOrder,
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

/// Why a message was acknowledged without provisioning.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SkipReason {
    /// The Order was provisioned before.
    AlreadyProvisioned,
    /// The Order failed permanently before; a new attempt needs the record reopened.
    PreviouslyFailed,
    /// The Order is not `Approved`/`Activating` any more.
    NotAwaitingProvisioning {
        /// `Order.Status`.
        status: String,
        /// `Order.Activation_Status__c`.
        activation_status: Option<String>,
    },
    /// The Order does not exist.
    OrderNotFound,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyProvisioned => f.write_str("the Order is already provisioned"),
            Self::PreviouslyFailed => f.write_str("the Order failed permanently before"),
            Self::NotAwaitingProvisioning {
                status,
                activation_status,
            } => write!(
                f,
                "the Order is {status}/{} and no longer awaits provisioning",
                activation_status.as_deref().unwrap_or("none")
            ),
            Self::OrderNotFound => f.write_str("the Order does not exist"),
        }
    }
}

/// Why a message must be delivered again.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RetryReason {
    /// Another delivery holds a live lease on the Order.
    Busy {
        /// When that lease lapses.
        lease_until: DateTime<Utc>,
    },
    /// Too little time is left before the invocation's deadline.
    DeadlineTooClose,
    /// Our lease lapsed and another delivery took the Order over.
    LeaseLost,
    /// The record store failed.
    Store,
    /// Salesforce failed transiently (or refused a read).
    Salesforce,
    /// WHMCS failed and certainly did nothing.
    Whmcs,
    /// WHMCS may have created the order without answering: the next delivery settles it.
    OutcomeUnknown,
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Busy { lease_until } => {
                write!(f, "another delivery holds the Order until {lease_until}")
            }
            Self::DeadlineTooClose => f.write_str("too little time left before the deadline"),
            Self::LeaseLost => f.write_str("the lease was lost to another delivery"),
            Self::Store => f.write_str("the provisioning record store failed"),
            Self::Salesforce => f.write_str("Salesforce failed transiently"),
            Self::Whmcs => f.write_str("WHMCS failed transiently"),
            Self::OutcomeUnknown => f.write_str("the outcome of AddOrder is unknown"),
        }
    }
}

/// How one message ended.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ProvisioningOutcome {
    /// Provisioned now: WHMCS order accepted, Salesforce written, record completed.
    Provisioned(WhmcsOrder),
    /// Nothing to do: acknowledge.
    Skipped(SkipReason),
    /// Failed permanently, written to Salesforce: acknowledge.
    Failed(ActivationError),
    /// Transient failure: report the message as a batch item failure.
    Retry(RetryReason),
}

impl ProvisioningOutcome {
    /// Whether the message is done with (acknowledged); `false` for [`Self::Retry`].
    pub fn is_settled(&self) -> bool {
        !matches!(self, Self::Retry(_))
    }
}

/// Why the steps stopped before the end.
#[derive(Debug)]
enum Stop {
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
    fn retry(reason: RetryReason) -> Self {
        Self::Retry {
            reason,
            release: true,
        }
    }

    fn fail(error: impl fmt::Display, ordered: bool) -> Self {
        Self::Fail {
            error: ActivationError::new(error.to_string()),
            ordered,
        }
    }
}

/// A record write after the claim failed.
fn record_stop(error: &ProvisioningError) -> Stop {
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
}

impl Known {
    /// From the record's previous state; `reopened` when a new approval reopened
    /// a `FAILED` record (an earlier attempt may have reached WHMCS).
    fn from_previous(previous: Option<ProvisioningState>, reopened: bool) -> Self {
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
        }
    }
}

/// The provisioning use case over its four ports.
#[derive(Debug, Clone)]
pub struct Provisioner<L, B, R, C> {
    ledger: L,
    billing: B,
    records: R,
    clock: C,
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
        let previous = match claim {
            Ok(ProvisioningClaim::Acquired { previous }) => previous,
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
        let outcome = match self
            .run(order_id, owner, lease_until, previous, reopened)
            .await
        {
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

    /// An Order provisioned before and approved again (staff set
    /// `Activating`): WHMCS already has it, so nothing is ordered, but
    /// Salesforce is told again that it is provisioned — otherwise the Order
    /// would stay `Activating` for good.
    async fn confirm_provisioned(
        &self,
        order_id: &OrderId,
        order: &WhmcsOrder,
    ) -> ProvisioningOutcome {
        let bundle = match self.ledger.load(order_id).await {
            Ok(bundle) => bundle,
            Err(LedgerError::OrderNotFound) => {
                return ProvisioningOutcome::Skipped(SkipReason::AlreadyProvisioned);
            }
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "reading a provisioned Order failed"
                );
                return ProvisioningOutcome::Retry(RetryReason::Salesforce);
            }
        };
        if bundle.activation_status.as_deref() != Some(ActivationStatus::Activating.as_salesforce())
        {
            return ProvisioningOutcome::Skipped(SkipReason::AlreadyProvisioned);
        }
        let provisioned = ProvisionedOrder {
            order_id: order_id.clone(),
            whmcs_order_id: order.order_id,
            opportunity_id: bundle.opportunity_id.clone(),
            whmcs_service_id: ProvisioningPlan::from_bundle(&bundle)
                .ok()
                .and_then(|plan| plan.service_id(&order.service_ids)),
            link_account: None,
        };
        match self.ledger.record_provisioned(&provisioned).await {
            Ok(()) => {
                tracing::info!("the provisioned Order was approved again; Salesforce told again");
                ProvisioningOutcome::Skipped(SkipReason::AlreadyProvisioned)
            }
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "writing the known result to Salesforce failed"
                );
                ProvisioningOutcome::Retry(RetryReason::Salesforce)
            }
        }
    }

    /// Whether staff asked again for an Order whose record failed: Salesforce
    /// shows it `Approved`/`Activating` again (the failure was written there
    /// before the record failed, and only a new approval clears it). Then the
    /// failed record is deleted so the Order may be claimed anew.
    async fn reopen_if_retried(&self, order_id: &OrderId) -> Result<bool, RetryReason> {
        let bundle = match self.ledger.load(order_id).await {
            Ok(bundle) => bundle,
            Err(LedgerError::OrderNotFound) => return Ok(false),
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "reading a failed Order failed"
                );
                return Err(RetryReason::Salesforce);
            }
        };
        if !bundle.is_awaiting_provisioning() {
            return Ok(false);
        }
        match self.records.reopen_failed(order_id).await {
            Ok(reopened) => {
                tracing::info!(
                    reopened,
                    "the failed Order was approved again; reopening it"
                );
                Ok(reopened)
            }
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "reopening the failed record failed"
                );
                Err(RetryReason::Store)
            }
        }
    }

    /// Steps 2 to 7, after a successful claim.
    async fn run(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        lease_until: DateTime<Utc>,
        previous: Option<ProvisioningState>,
        reopened: bool,
    ) -> Result<WhmcsOrder, Stop> {
        let mut known = Known::from_previous(previous, reopened);

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
                .not_awaiting(order_id, owner, &bundle, known.order.as_ref())
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
            known.order = self.settle(order_id, owner, id).await?;
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
    async fn client(&self, bundle: &super::bundle::OrderBundle, keep: bool) -> Result<u64, Stop> {
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

    /// An Order that no longer awaits provisioning: complete a record whose
    /// WHMCS order Salesforce already shows, skip otherwise.
    async fn not_awaiting(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        bundle: &super::bundle::OrderBundle,
        known: Option<&WhmcsOrder>,
    ) -> Stop {
        if let Some(order) = known
            && bundle.is_provisioned_as(order.order_id)
        {
            return match self
                .records
                .complete(order_id, owner, order, self.clock.now())
                .await
            {
                Ok(()) => Stop::Skip {
                    reason: SkipReason::AlreadyProvisioned,
                    release: false,
                },
                Err(e) => record_stop(&e),
            };
        }
        if known.is_some() {
            tracing::warn!(
                status = %bundle.status,
                "a WHMCS order exists for an Order that no longer awaits provisioning"
            );
        }
        Stop::Skip {
            reason: SkipReason::NotAwaitingProvisioning {
                status: bundle.status.clone(),
                activation_status: bundle.activation_status.clone(),
            },
            release: true,
        }
    }

    /// Looks for a WHMCS order an earlier delivery may have made; records it when found.
    async fn settle(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        client_id: u64,
    ) -> Result<Option<WhmcsOrder>, Stop> {
        let services = self
            .billing
            .find_by_salesforce_order(client_id, order_id)
            .await
            .map_err(|e| {
                tracing::warn!(
                    error = &e as &dyn std::error::Error,
                    "settling: looking the services up failed"
                );
                Stop::retry(RetryReason::Whmcs)
            })?;
        let Some(order) = order_of(&services) else {
            tracing::info!("settled: WHMCS has no service for the Order; ordering is safe");
            return Ok(None);
        };
        tracing::info!(
            whmcs_order_id = order.order_id,
            "settled: WHMCS already has the order"
        );
        self.records
            .record_ordered(order_id, owner, Some(client_id), &order, self.clock.now())
            .await
            .map_err(|e| record_stop(&e))?;
        Ok(Some(order))
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
            // A WHMCS order exists: the record keeps it (it cannot become FAILED).
            self.release(order_id, owner).await;
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

    /// Drops our lease, keeping what the record knows; failures only logged
    /// (the lease lapses on its own).
    async fn release(&self, order_id: &OrderId, owner: &LeaseOwner) {
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

/// The WHMCS order the services carrying an Order Id belong to (the oldest,
/// should there be several), with its services in creation order.
fn order_of(services: &[BilledService]) -> Option<WhmcsOrder> {
    let order_id = services.iter().map(|s| s.order_id).min()?;
    if services.iter().any(|s| s.order_id != order_id) {
        tracing::error!("several WHMCS orders carry the same Salesforce Order Id");
    }
    let mut service_ids: Vec<u64> = services
        .iter()
        .filter(|s| s.order_id == order_id)
        .map(|s| s.service_id)
        .collect();
    service_ids.sort_unstable();
    Some(WhmcsOrder {
        order_id,
        service_ids,
    })
}

#[cfg(test)]
mod tests;
