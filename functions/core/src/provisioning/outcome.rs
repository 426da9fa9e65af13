//! How one provisioning message ended ([`ProvisioningOutcome`]), and why it
//! was skipped or must be retried. The worker's delivery rule
//! (`crate::workers::provisioner`) maps each to acknowledge or retry.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::ports::{ActivationError, WhmcsOrder};

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
