//! Provisioning: one approved Salesforce Order into WHMCS exactly once, and
//! the result written back to Salesforce (issue 5). The use case's ports are
//! in [`crate::ports`]: [`OrderLedger`](crate::ports::OrderLedger)
//! (Salesforce: one read, one atomic write), [`BillingGateway`](crate::ports::BillingGateway)
//! (WHMCS: client, order, acceptance, lookup by the Salesforce Order Id) and
//! [`ProvisioningRecords`](crate::ports::ProvisioningRecords).
//!
//! - [`flow`]: [`Provisioner::provision`], the steps of the issue for one message;
//! - [`recovery`]: the steps that pick up after an earlier delivery (settle
//!   an unknown outcome, tell Salesforce again, reopen a failed Order);
//! - [`outcome`]: [`ProvisioningOutcome`], what became of the message, which
//!   the worker (`crate::workers::provisioner`) turns into "acknowledge" or
//!   "deliver again";
//! - [`plan`]: the pure mapping of an Order's items to WHMCS order lines
//!   ([`ProvisioningPlan`]).
//!
//! Exactly once rests on three rules: the Order is claimed in the
//! [`crate::ports::ProvisioningRecords`] store before anything happens;
//! AddOrder's outcome is recorded there before anything else happens (an
//! unknown outcome as `UNKNOWN`); and whoever finds a record that may hide a
//! WHMCS order (`UNKNOWN`, or an `IN_PROGRESS` whose holder died) looks the
//! services up by the Salesforce Order Id before ordering.

pub mod flow;
pub mod outcome;
pub mod plan;
pub mod recovery;

pub use flow::{Provisioner, ProvisioningSettings};
pub use outcome::{ProvisioningOutcome, RetryReason, SkipReason};
pub use plan::{MappingError, ProvisioningPlan};
