//! The `OrderLedger` port: the Salesforce side of provisioning. One read of
//! everything provisioning needs about an Order ([`OrderBundle`]), and one
//! atomic write per outcome ([`ProvisionedOrder`], [`FailedOrder`]).
//!
//! Errors say what the use case must do: retry later (`Unavailable`) or give
//! up with a readable reason (`Rejected`).

use std::fmt;
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::text::utf16_len;
use crate::domain::{AccountId, ActivationStatus, OpportunityId, OrderId, OrderStatus};
use crate::ports::BoxError;

/// The longest `Activation_Error__c` (a Text(255) field), in UTF-16 code units.
pub const MAX_ACTIVATION_ERROR_CHARS: usize = 255;

/// The Order's Account, as billing needs it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BillingAccount {
    /// The Account.
    pub id: AccountId,
    /// The Account's name (a company or a person's name: never logged).
    pub name: String,
    /// `WH_Account__c`: the WHMCS client already linked, if any.
    pub whmcs_client_id: Option<u64>,
}

/// The Account's Contact: who the WHMCS client is created for. Personal data:
/// its `Debug` shows no value.
#[derive(Clone, PartialEq, Eq)]
pub struct BillingContact {
    /// `FirstName`.
    pub first_name: Option<String>,
    /// `LastName`.
    pub last_name: String,
    /// `Email`.
    pub email: Option<String>,
    /// `Phone`.
    pub phone: Option<String>,
}

impl fmt::Debug for BillingContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BillingContact")
            .field("has_email", &self.email.is_some())
            .finish_non_exhaustive()
    }
}

/// One OrderItem with its Product2's WHMCS fields, as read.
#[derive(Clone, PartialEq, Debug)]
pub struct OrderLineRecord {
    /// The product's name (for readable errors).
    pub product_name: String,
    /// `Product2.WHMCS_Product_Id__c`.
    pub whmcs_product_id: Option<String>,
    /// `Product2.Billing_Cycle__c`.
    pub billing_cycle: Option<String>,
    /// `Product2.Item_Class__c`.
    pub item_class: Option<String>,
    /// `Product2.Portal_ConfigOptions_JSON__c`: `{"<option id>": "<sub-option id>"}`.
    pub config_options_json: Option<String>,
    /// `OrderItem.Quantity`.
    pub quantity: f64,
}

/// Everything provisioning reads about one Order (one Salesforce read).
#[derive(Clone, PartialEq, Debug)]
pub struct OrderBundle {
    /// The Order.
    pub order_id: OrderId,
    /// `Order.Status`, as read.
    pub status: String,
    /// `Order.Activation_Status__c`, as read.
    pub activation_status: Option<String>,
    /// `Order.WHMCS_Order_Id__c`.
    pub whmcs_order_id: Option<u64>,
    /// The Order's Account.
    pub account: BillingAccount,
    /// The Account's Contact (the first with an email, if several).
    pub contact: Option<BillingContact>,
    /// The Order's Opportunity, if any.
    pub opportunity_id: Option<OpportunityId>,
    /// The OrderItems, in `OrderItemNumber` order.
    pub items: Vec<OrderLineRecord>,
}

impl OrderBundle {
    /// Whether the Order is waiting to be provisioned: `Status = Approved`
    /// and `Activation_Status__c = Activating` (what the Order Approval Flow sets).
    pub fn is_awaiting_provisioning(&self) -> bool {
        self.status == OrderStatus::Approved.as_salesforce()
            && self.activation_status.as_deref()
                == Some(ActivationStatus::Activating.as_salesforce())
    }

    /// Whether Salesforce already shows the Order provisioned with `whmcs_order_id`.
    pub fn is_provisioned_as(&self, whmcs_order_id: u64) -> bool {
        self.was_provisioned_as(whmcs_order_id)
            && self.activation_status.as_deref()
                == Some(ActivationStatus::Provisioned.as_salesforce())
    }

    /// Whether the result of provisioning with `whmcs_order_id` was written
    /// to Salesforce (`Activated` with that WHMCS order), whatever
    /// `Activation_Status__c` shows now: staff may have set `Activating`
    /// again since.
    pub fn was_provisioned_as(&self, whmcs_order_id: u64) -> bool {
        self.status == OrderStatus::Activated.as_salesforce()
            && self.whmcs_order_id == Some(whmcs_order_id)
    }
}

/// The text written to `Order.Activation_Error__c`: readable, at most 255
/// UTF-16 code units (Salesforce's length; a surrogate pair is never split).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ActivationError(String);

impl ActivationError {
    /// `text` cut to [`MAX_ACTIVATION_ERROR_CHARS`] UTF-16 code units (with `…` when cut).
    pub fn new(text: impl AsRef<str>) -> Self {
        let text = text.as_ref().trim();
        if utf16_len(text) <= MAX_ACTIVATION_ERROR_CHARS {
            return Self(text.to_owned());
        }
        let mut cut = String::new();
        let mut units = 0;
        for c in text.chars() {
            // Room is kept for the one-unit `…`.
            if units + c.len_utf16() > MAX_ACTIVATION_ERROR_CHARS - 1 {
                break;
            }
            units += c.len_utf16();
            cut.push(c);
        }
        cut.push('…');
        Self(cut)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActivationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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
