//! Reconciliation: the scheduled safety net behind the subscriber and the
//! provisioner (DESIGN.md, "Delivery guarantees").
//!
//! One [`Reconciler::run`]:
//!
//! 1. reads the replay gaps not swept yet ([`crate::ports::GapSweeps`]);
//! 2. asks Salesforce ([`crate::ports::StuckOrders`]) for Orders `Activating` whose last
//!    modification is older than a threshold, or falls inside a gap's window
//!    (their platform event may be lost), in Id order, a page at a time from
//!    where the previous run stopped ([`crate::ports::SweepCursor`], kept
//!    beside the gaps): at most `sweep_pages` pages (one SOQL query each, of
//!    `order_limit` + 1 rows; defaults 3 × 201) and one record read per Order,
//!    stopping early once it has `order_limit` Orders to act on. Orders it
//!    will not act on are read past, never re-read every run, so a stuck Order
//!    is found whatever the number of older ones: within
//!    ⌈Orders `Activating` / (`sweep_pages` × `order_limit`)⌉ runs;
//! 3. lists provisioning records that need a claimant
//!    ([`crate::ports::ProvisioningRecords::list_unsettled`]): `UNKNOWN`,
//!    released, or whose lease lapsed, for longer than a threshold (a record
//!    left to staff is not listed: only a new approval, `Activating` again
//!    and so found by step 2, brings it back);
//! 4. re-enqueues each such Order once per attempt window
//!    ([`crate::ports::ProvisioningQueue`], origin
//!    [`crate::messages::MessageOrigin::Reconciler`], idempotency key
//!    `reconcile-<Order id>-<attempt>`), with exponential backoff kept per
//!    Order ([`crate::ports::ReconcileAttempts`]); an Order held by a live
//!    lease is left alone, one whose record is COMPLETED is re-enqueued so
//!    that the provisioner writes back `Provisioned` (nothing reaches WHMCS),
//!    and one that used up its attempts is reported instead of re-enqueued;
//! 5. marks swept the gaps detected before the sweep's pass started, once
//!    the pass has read its last page;
//! 6. reads the dead-letter queues' depth ([`crate::ports::QueueDepths`]);
//! 7. copies staff deactivations: one Salesforce query for the portal
//!    Accounts modified since the last sync ([`crate::ports::PortalStatusChanges`]),
//!    each recorded as deactivated or not ([`crate::ports::AccountStatusSync`])
//!    where the API reads them, so a login of an `Inactive` Account is refused
//!    within one run plus the API's link cache.
//!
//! It returns a [`ReconcileReport`] (counts per category, no personal data)
//! that the caller logs and turns into metrics. Re-enqueueing is always safe:
//! the provisioner claims the Order before anything happens and settles an
//! `UNKNOWN` record against WHMCS before any AddOrder.

mod policy;
mod run;
#[cfg(test)]
mod tests;

pub use policy::{Decision, ReconcileSettings, decide, idempotency_key};
pub use run::{NotTaken, ReconcilePorts, ReconcileReport, ReconcileStep, Reconciler, StepFailure};
