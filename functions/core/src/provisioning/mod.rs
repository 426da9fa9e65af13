//! Provisioning: one approved Salesforce Order into WHMCS exactly once, and
//! the result written back to Salesforce (issue 5).
//!
//! - [`bundle`]: what the use case reads about an Order ([`OrderBundle`]) and
//!   the pure mapping of its items to WHMCS order lines ([`ProvisioningPlan`]);
//! - [`ports`]: the two narrow ports besides the record store —
//!   [`OrderLedger`] (Salesforce: one read, one atomic write) and
//!   [`BillingGateway`] (WHMCS: client, order, acceptance, lookup by the
//!   Salesforce Order Id);
//! - [`flow`]: [`Provisioner::provision`], the steps of the issue, returning a
//!   [`ProvisioningOutcome`] per message that the Lambda maps to "acknowledge"
//!   or "report as a batch item failure".
//!
//! Exactly once rests on three rules: the Order is claimed in the
//! [`crate::ports::ProvisioningRecords`] store before anything happens;
//! AddOrder's outcome is recorded there before anything else happens (an
//! unknown outcome as `UNKNOWN`); and whoever finds a record that may hide a
//! WHMCS order (`UNKNOWN`, or an `IN_PROGRESS` whose holder died) looks the
//! services up by the Salesforce Order Id before ordering.

pub mod bundle;
pub mod flow;
pub mod ports;

pub use bundle::{
    ActivationError, BillingAccount, BillingContact, BillingLine, MappingError, OrderBundle,
    OrderLineRecord, ProvisioningPlan,
};
pub use flow::{Provisioner, ProvisioningOutcome, ProvisioningSettings, RetryReason, SkipReason};
pub use ports::{
    BilledService, BillingError, BillingGateway, EnsuredClient, FailedOrder, LedgerError,
    OrderLedger, ProvisionedOrder,
};
