//! The ports provisioning needs besides the record store: the Salesforce
//! side ([`OrderLedger`]: one read, one atomic write per outcome) and the
//! WHMCS side ([`BillingGateway`]).
//!
//! Errors say what the use case must do: retry later (`Unavailable`), give up
//! with a readable reason (`Rejected`), or — for WHMCS only — settle an
//! unknown outcome before anything is tried again (`OutcomeUnknown`).

use std::future::Future;

use chrono::{DateTime, Utc};

use super::bundle::{ActivationError, BillingAccount, BillingContact, BillingLine, OrderBundle};
use crate::domain::OrderId;
use crate::domain::{AccountId, OpportunityId};
use crate::ports::{BoxError, WhmcsOrder};

/// What the Salesforce write of a provisioned Order holds.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProvisionedOrder {
    /// The Order: `Status = Activated`, `Activation_Status__c = Provisioned`,
    /// `WHMCS_Order_Id__c`, error fields cleared.
    pub order_id: OrderId,
    /// The WHMCS order.
    pub whmcs_order_id: u64,
    /// The Opportunity: `StageName = Active`, `WHMCS_Service_ID__c`.
    pub opportunity_id: Option<OpportunityId>,
    /// The service of the Order's `Service` item.
    pub whmcs_service_id: Option<u64>,
    /// The Account and the WHMCS client to write to `WH_Account__c`, when it
    /// was just linked (found by email or created).
    pub link_account: Option<(AccountId, u64)>,
}

/// What the Salesforce write of a failed Order holds.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FailedOrder {
    /// The Order: `Activation_Status__c = Failed`.
    pub order_id: OrderId,
    /// `Activation_Error__c`.
    pub error: ActivationError,
    /// `Activation_Error_DateTime__c`.
    pub at: DateTime<Utc>,
}

/// A Salesforce read or write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The Order does not exist (or the integration user cannot see it).
    #[error("the Order does not exist in Salesforce")]
    OrderNotFound,
    /// Network failure, 5xx, lock contention or the concurrent-request limit
    /// (after the client's own retries): retrying later may succeed.
    #[error("Salesforce is unavailable or busy; retry later")]
    Unavailable(#[source] BoxError),
    /// Salesforce refused the request for good (validation, permissions…).
    #[error("Salesforce refused the request: {reason}")]
    Rejected {
        /// A readable reason (no personal data).
        reason: String,
        /// The cause.
        #[source]
        source: BoxError,
    },
}

impl LedgerError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// The Salesforce side of provisioning.
pub trait OrderLedger: Send + Sync {
    /// Reads the Order, its items with their Product2 WHMCS fields, its Account,
    /// the Account's Contact and its Opportunity.
    fn load(
        &self,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<OrderBundle, LedgerError>> + Send;

    /// Writes a provisioned Order in one all-or-none request.
    fn record_provisioned(
        &self,
        order: &ProvisionedOrder,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Writes a failed Order in one all-or-none request.
    fn record_failed(
        &self,
        failure: &FailedOrder,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// The WHMCS client an Order is billed to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EnsuredClient {
    /// The WHMCS client id.
    pub client_id: u64,
    /// Whether it was found by email or created (so `WH_Account__c` must be written).
    pub linked: bool,
}

/// A WHMCS service that carries a Salesforce Order Id.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BilledService {
    /// The service id.
    pub service_id: u64,
    /// The WHMCS order that created it.
    pub order_id: u64,
}

/// A WHMCS call failed.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// WHMCS may have acted without our knowing (timeout after sending, 5xx,
    /// a body that is not JSON): settle before trying again.
    #[error("WHMCS may have acted without answering")]
    OutcomeUnknown(#[source] BoxError),
    /// WHMCS certainly did nothing and may succeed later (connection refused…).
    #[error("WHMCS is unavailable; retry later")]
    Unavailable(#[source] BoxError),
    /// WHMCS created the order but not all of it (it silently dropped a line it
    /// could not sell): the order exists, so it must never be placed again;
    /// staff complete it in WHMCS. Permanent.
    #[error("WHMCS created order {} incomplete: {reason}", order.order_id)]
    Incomplete {
        /// The order WHMCS made, with the services it did create.
        order: WhmcsOrder,
        /// A readable reason (no personal data).
        reason: String,
    },
    /// WHMCS refused the call (validation, unknown product…): permanent.
    #[error("WHMCS refused the request: {reason}")]
    Rejected {
        /// WHMCS's readable reason (no personal data).
        reason: String,
        /// The cause.
        #[source]
        source: BoxError,
    },
}

/// The WHMCS side of provisioning.
pub trait BillingGateway: Send + Sync {
    /// The WHMCS client of the Account: `WH_Account__c`, else the client with
    /// the Contact's email, else a new one.
    fn ensure_client(
        &self,
        account: &BillingAccount,
        contact: Option<&BillingContact>,
    ) -> impl Future<Output = Result<EnsuredClient, BillingError>> + Send;

    /// AddOrder for `client_id`, carrying `order_id` in every line's admin
    /// custom field "Salesforce Order Id".
    fn place_order(
        &self,
        client_id: u64,
        order_id: &OrderId,
        lines: &[BillingLine],
    ) -> impl Future<Output = Result<WhmcsOrder, BillingError>> + Send;

    /// AcceptOrder; an order already accepted is a success.
    fn accept(&self, whmcs_order_id: u64) -> impl Future<Output = Result<(), BillingError>> + Send;

    /// The client's services that carry `order_id` in their "Salesforce Order Id" field.
    fn find_by_salesforce_order(
        &self,
        client_id: u64,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<Vec<BilledService>, BillingError>> + Send;
}
