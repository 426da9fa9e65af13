//! The `BillingGateway` port: the WHMCS side of provisioning (the client,
//! the order, its acceptance, and the lookups that settle an unknown
//! outcome: the services by the Salesforce Order Id, and the client's orders
//! for one that no Salesforce Order Id can attribute).
//!
//! Errors say what the use case must do: retry later (`Unavailable`), give up
//! with a readable reason (`Rejected`), or settle an unknown outcome before
//! anything is tried again (`OutcomeUnknown`).

use std::collections::BTreeMap;
use std::future::Future;

use chrono::NaiveDateTime;

use super::order_ledger::{BillingAccount, BillingContact};
use crate::domain::{BillingCycle, OrderId};
use crate::ports::{BoxError, WhmcsOrder};

/// One WHMCS order line (one product, one service).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BillingLine {
    /// The WHMCS product id (`pid`).
    pub pid: u32,
    /// The billing cycle.
    pub billing_cycle: BillingCycle,
    /// Configurable options: option id → sub-option id (or value).
    pub config_options: BTreeMap<u32, String>,
    /// The quantity.
    pub qty: u32,
    /// Whether the line is the Order's service (`Item_Class__c = Service`).
    pub is_service: bool,
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
    /// Its WHMCS product (`pid`), when WHMCS says.
    pub pid: Option<u32>,
}

/// One order of a WHMCS client (GetOrders), with what its services say.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ClientOrder {
    /// The WHMCS order id.
    pub order_id: u64,
    /// When WHMCS says it was placed (GetOrders `date`), in the WHMCS
    /// server's own time zone, which the API does not name; `None` when
    /// unreadable.
    pub placed_at: Option<NaiveDateTime>,
    /// Its status as WHMCS names it (`Pending`, `Active`, `Cancelled`, `Fraud`…).
    pub status: String,
    /// Whether WHMCS shows any service of it (a `product` line item). Every
    /// service an AddOrder of ours makes carries the Salesforce Order Id, so
    /// only an order with no service at all can hide from the lookup by it.
    pub has_services: bool,
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

    /// Every order of the client (every page), each with whether WHMCS shows
    /// any service of it: an AddOrder whose answer was lost
    /// may have made an order with no service at all (WHMCS drops a line it
    /// cannot sell), which only this shows.
    fn client_orders(
        &self,
        client_id: u64,
    ) -> impl Future<Output = Result<Vec<ClientOrder>, BillingError>> + Send;
}
