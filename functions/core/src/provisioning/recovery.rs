//! Recovery from an earlier delivery: the steps the use case takes when the
//! record or Salesforce shows that a delivery before this one got part of the
//! way. [`Provisioner::settle`](super::Provisioner) looks a possibly hidden
//! WHMCS order up by the Salesforce Order Id before anything may order, and
//! when none is found, reads the client's orders for one that nothing
//! attributes (an order WHMCS made with no service): then the Order is left
//! to staff instead of ordered again (see `ensure_no_unattributed_order`);
//! `confirm_provisioned` tells Salesforce again about an Order approved again
//! after it was provisioned; `reopen_if_retried` reopens a failed Order staff
//! approved again (or, for a record left to staff, removes the mark);
//! `not_awaiting` completes a record Salesforce already shows provisioned
//! (and tells it again when staff approved the Order again since), and
//! leaves to staff a record with a WHMCS order of an Order shown `Failed`;
//! `ensure_every_line` never lets an incomplete WHMCS order through.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

use super::flow::{Provisioner, Stop, record_stop};
use super::outcome::{ProvisioningOutcome, RetryReason, SkipReason};
use super::plan::ProvisioningPlan;
use crate::domain::{ActivationStatus, OrderId};
use crate::ports::{
    BilledService, BillingError, BillingGateway, ClientOrder, Clock, LeaseOwner, LedgerError,
    OrderBundle, OrderLedger, ProvisionedOrder, ProvisioningRecords, WhmcsOrder,
};

impl<L, B, R, C> Provisioner<L, B, R, C>
where
    L: OrderLedger,
    B: BillingGateway,
    R: ProvisioningRecords,
    C: Clock,
{
    /// An Order provisioned before and approved again (staff set
    /// `Activating`): WHMCS already has it, so nothing is ordered, but
    /// Salesforce is told again that it is provisioned — otherwise the Order
    /// would stay `Activating` for good.
    pub(super) async fn confirm_provisioned(
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
        match self.rewrite_provisioned(order_id, order, &bundle).await {
            Ok(()) => ProvisioningOutcome::Skipped(SkipReason::AlreadyProvisioned),
            Err(reason) => ProvisioningOutcome::Retry(reason),
        }
    }

    /// Writes the known result of an Order provisioned before to Salesforce
    /// again (staff set `Activating` again): nothing reaches WHMCS.
    async fn rewrite_provisioned(
        &self,
        order_id: &OrderId,
        order: &WhmcsOrder,
        bundle: &OrderBundle,
    ) -> Result<(), RetryReason> {
        let provisioned = ProvisionedOrder {
            order_id: order_id.clone(),
            whmcs_order_id: order.order_id,
            opportunity_id: bundle.opportunity_id.clone(),
            whmcs_service_id: ProvisioningPlan::from_bundle(bundle)
                .ok()
                .and_then(|plan| plan.service_id(&order.service_ids)),
            link_account: None,
        };
        match self.ledger.record_provisioned(&provisioned).await {
            Ok(()) => {
                tracing::info!("the provisioned Order was approved again; Salesforce told again");
                Ok(())
            }
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "writing the known result to Salesforce failed"
                );
                Err(RetryReason::Salesforce)
            }
        }
    }

    /// Whether staff asked again for an Order whose record failed: Salesforce
    /// shows it `Approved`/`Activating` again (the failure was written there
    /// before the record failed, and only a new approval clears it). Then the
    /// failed record is deleted so the Order may be claimed anew (a record
    /// left to staff loses its mark and keeps what it knows of WHMCS).
    pub(super) async fn reopen_if_retried(&self, order_id: &OrderId) -> Result<bool, RetryReason> {
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

    /// An Order that no longer awaits provisioning: complete a record whose
    /// WHMCS order Salesforce already shows; leave to staff a record that
    /// holds (or may hide) a WHMCS order of an Order Salesforce shows
    /// `Failed`; skip otherwise. `outcome_unknown`: the record says WHMCS
    /// may have acted.
    pub(super) async fn not_awaiting(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        bundle: &OrderBundle,
        known: Option<&WhmcsOrder>,
        outcome_unknown: bool,
    ) -> Stop {
        // Salesforce shows the result written (`Activated` with this WHMCS
        // order): an earlier delivery's write committed though its answer was
        // lost, so the record is completed. When staff have approved the
        // Order again since (`Activating`), it is told again, as for a
        // COMPLETED record — skipping it would leave it `Activating` for good,
        // and every re-enqueue of the reconciler would skip it the same way.
        if let Some(order) = known
            && bundle.was_provisioned_as(order.order_id)
        {
            if let Err(e) = self
                .records
                .complete(order_id, owner, order, self.clock.now())
                .await
            {
                return record_stop(&e);
            }
            let approved_again = bundle.activation_status.as_deref()
                == Some(ActivationStatus::Activating.as_salesforce());
            tracing::info!(
                approved_again,
                "Salesforce shows the result an earlier delivery wrote; the record is completed"
            );
            if approved_again
                && let Err(reason) = self.rewrite_provisioned(order_id, order, bundle).await
            {
                // The record is COMPLETED: the redelivery tells Salesforce.
                return Stop::Retry {
                    reason,
                    release: false,
                };
            }
            return Stop::Skip {
                reason: SkipReason::AlreadyProvisioned,
                release: false,
            };
        }
        if known.is_some() {
            tracing::warn!(
                status = %bundle.status,
                "a WHMCS order exists for an Order that no longer awaits provisioning"
            );
        }
        // Failed for staff while WHMCS has or may have an order (an earlier
        // delivery failed it but could not mark the record, or the record
        // predates the mark): only staff can act, so the record waits for
        // them instead of being re-enqueued by the reconciler for nothing.
        if (known.is_some() || outcome_unknown)
            && bundle.activation_status.as_deref() == Some(ActivationStatus::Failed.as_salesforce())
        {
            self.leave_to_staff(
                order_id,
                owner,
                "the Order failed while WHMCS has or may have an order for it; see Activation_Error__c",
            )
            .await;
            return Stop::Skip {
                reason: SkipReason::NotAwaitingProvisioning {
                    status: bundle.status.clone(),
                    activation_status: bundle.activation_status.clone(),
                },
                release: false,
            };
        }
        Stop::Skip {
            reason: SkipReason::NotAwaitingProvisioning {
                status: bundle.status.clone(),
                activation_status: bundle.activation_status.clone(),
            },
            release: true,
        }
    }

    /// A recorded WHMCS order with fewer services than the Order has lines
    /// (AddOrder answered `IncompleteOrder`, or settling found such an order):
    /// the customer's service may not exist, so it is never written back as
    /// `Provisioned` as it is. The first delivery records it `ORDERED` and
    /// then fails the Order for staff; but when that failure could not be
    /// written to Salesforce (or a later delivery, the queue's retry or the
    /// reconciler's re-enqueue, comes while the Order is still `Activating`),
    /// the record alone cannot tell that retry from staff approving again
    /// after completing the order by hand. So WHMCS is asked: the services
    /// carrying the Order Id are looked up again, and only when every line
    /// is there (staff completed it) does the delivery go on with them;
    /// otherwise the Order fails again for staff (the record keeps the order).
    pub(super) async fn ensure_every_line(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        client_id: u64,
        order: WhmcsOrder,
        plan: &ProvisioningPlan,
    ) -> Result<WhmcsOrder, Stop> {
        let lines = plan.lines.len();
        let services = self
            .billing
            .find_by_salesforce_order(client_id, order_id)
            .await
            .map_err(|e| lookup_stop(&e, "looking up the services of an incomplete WHMCS order"))?;
        let service_ids = in_line_order(&services, plan);
        if service_ids.len() < lines {
            tracing::warn!(
                whmcs_order_id = order.order_id,
                services = service_ids.len(),
                lines,
                "the WHMCS order still lacks lines; the Order is left to staff"
            );
            return Err(Stop::fail(
                format!(
                    "WHMCS order {} has {} of its {lines} lines; complete WHMCS order {} by hand (each service with the Salesforce Order Id), then approve again",
                    order.order_id,
                    service_ids.len(),
                    order.order_id
                ),
                true,
            ));
        }
        tracing::info!(
            whmcs_order_id = order.order_id,
            "the incomplete WHMCS order was completed by hand"
        );
        let completed = WhmcsOrder {
            order_id: order.order_id,
            service_ids,
        };
        self.records
            .record_ordered(
                order_id,
                owner,
                Some(client_id),
                &completed,
                self.clock.now(),
            )
            .await
            .map_err(|e| record_stop(&e))?;
        Ok(completed)
    }

    /// Looks for a WHMCS order an earlier delivery may have made; records it
    /// when found. `started_at`: when the record's first claim was made.
    pub(super) async fn settle(
        &self,
        order_id: &OrderId,
        owner: &LeaseOwner,
        client_id: u64,
        started_at: Option<DateTime<Utc>>,
    ) -> Result<Option<WhmcsOrder>, Stop> {
        let services = self
            .billing
            .find_by_salesforce_order(client_id, order_id)
            .await
            .map_err(|e| lookup_stop(&e, "settling: looking the services up"))?;
        let Some(order) = order_of(&services) else {
            self.ensure_no_unattributed_order(client_id, started_at)
                .await?;
            tracing::info!(
                "settled: WHMCS has no service for the Order and no order it cannot attribute; ordering is safe"
            );
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

    /// No service carries the Order Id, but an AddOrder whose answer was lost
    /// may still have made an order: WHMCS silently drops a line it cannot
    /// sell, so a one-line Order can leave an order with no service at all,
    /// which no lookup by the Order Id finds. So the client's orders are read
    /// too (every page), and any order with no service at all, placed since
    /// the record's attempt began, and not cancelled, may be this Order's
    /// (every service our AddOrder makes carries the Order Id, so an order
    /// with services, a staff one, say, cannot be an unseen one of ours): ordering again could make a second
    /// one, so the outcome stays unknown and the Order is left to staff
    /// (failed in Salesforce with the orders to check, the record kept).
    /// AddOrder has nothing that tags the order itself (no notes field in its
    /// API reference), so this is the only way to see such an order.
    ///
    /// "Since the attempt began" is read against GetOrders' `date`, which is
    /// in the WHMCS server's time zone (unnamed by the API): the bound is the
    /// record's first claim minus [`WHMCS_LOCAL_TIME_SLACK`], which covers
    /// any zone (UTC−12 to UTC+14) and clock skew, erring towards staff. A
    /// record that predates `started_at`, or an order whose date cannot be
    /// read, is not bounded at all.
    async fn ensure_no_unattributed_order(
        &self,
        client_id: u64,
        started_at: Option<DateTime<Utc>>,
    ) -> Result<(), Stop> {
        // The claim said when the record began (the provisioner may not read
        // records: its role has no GetItem).
        let since = started_at.map(|t| (t - WHMCS_LOCAL_TIME_SLACK).naive_utc());
        let orders = self
            .billing
            .client_orders(client_id)
            .await
            .map_err(|e| lookup_stop(&e, "settling: reading the client's orders"))?;
        let mut suspects: Vec<u64> = orders
            .iter()
            .filter(|o| may_be_unattributed_attempt(o, since))
            .map(|o| o.order_id)
            .collect();
        if suspects.is_empty() {
            return Ok(());
        }
        suspects.sort_unstable();
        tracing::warn!(
            ?suspects,
            client_id,
            "settling: WHMCS has orders with no service, placed since the attempt began; the Order is left to staff"
        );
        let listed: Vec<String> = suspects.iter().take(3).map(u64::to_string).collect();
        let more = if suspects.len() > 3 { " …" } else { "" };
        Err(Stop::fail(
            format!(
                "AddOrder's answer may have been lost and WHMCS order {}{more} of client {client_id} has no service: if it is this Order's, complete it by hand (each service with the Order Id), else cancel it in WHMCS; then approve again",
                listed.join(", ")
            ),
            true,
        ))
    }
}

/// A WHMCS lookup of recovery failed: whatever the error, nothing was
/// changed, so the delivery is retried (a lookup never fails an Order).
fn lookup_stop(error: &BillingError, lookup: &str) -> Stop {
    tracing::warn!(
        error = error as &dyn std::error::Error,
        lookup,
        "a WHMCS lookup failed"
    );
    Stop::retry(RetryReason::Whmcs)
}

/// The services' ids in the plan's line order, so that
/// [`ProvisioningPlan::service_id`] picks the service of the plan's service
/// line: staff add missing services by hand, so ids no longer follow the
/// lines. Each line takes the first unused service of its product (by id);
/// services whose product WHMCS did not say, or that match no line, follow
/// by id. Without any product known, simply by id (AddOrder's order).
fn in_line_order(services: &[BilledService], plan: &ProvisioningPlan) -> Vec<u64> {
    let mut pool: Vec<&BilledService> = services.iter().collect();
    pool.sort_unstable_by_key(|s| s.service_id);
    pool.dedup_by_key(|s| s.service_id);
    if pool.iter().all(|s| s.pid.is_none()) {
        return pool.iter().map(|s| s.service_id).collect();
    }
    let mut slots: Vec<Option<u64>> = plan
        .lines
        .iter()
        .map(|line| {
            let at = pool.iter().position(|s| s.pid == Some(line.pid))?;
            Some(pool.remove(at).service_id)
        })
        .collect();
    // Lines with no service of their product take the rest, by id.
    let mut rest = pool.into_iter().map(|s| s.service_id);
    for slot in slots.iter_mut().filter(|s| s.is_none()) {
        *slot = rest.next();
    }
    slots.into_iter().flatten().chain(rest).collect()
}

/// How far before the record's first claim a WHMCS order date (the WHMCS
/// server's local time, zone unnamed) may lie and still be of this attempt:
/// the widest UTC offset behind UTC (12 h) and an hour of clock skew.
const WHMCS_LOCAL_TIME_SLACK: TimeDelta = TimeDelta::hours(13);

/// Whether `order` may be an order an AddOrder of this attempt made that the
/// lookup by the Order Id cannot see: it has no service at all, it
/// is not cancelled (staff cancelling it is how they say it is not), and it
/// was placed after `since` (or either is unknown).
fn may_be_unattributed_attempt(order: &ClientOrder, since: Option<NaiveDateTime>) -> bool {
    !order.has_services
        && !order.status.eq_ignore_ascii_case("Cancelled")
        && match (since, order.placed_at) {
            (Some(since), Some(placed)) => placed >= since,
            _ => true,
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
