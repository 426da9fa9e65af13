//! What provisioning reads about an Order, and the pure mapping of its items
//! to WHMCS order lines.
//!
//! The [`OrderBundle`] carries the Salesforce values as read (picklists and
//! the config-options JSON as text) so that every mapping rule lives here and
//! a bad mapping becomes a readable [`MappingError`], the text that ends in
//! `Order.Activation_Error__c`.

use std::collections::BTreeMap;
use std::fmt;

use crate::domain::OrderId;
use crate::domain::text::utf16_len;
use crate::domain::{
    AccountId, ActivationStatus, BillingCycle, ItemClass, OpportunityId, OrderStatus,
};

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
        self.status == OrderStatus::Activated.as_salesforce()
            && self.activation_status.as_deref()
                == Some(ActivationStatus::Provisioned.as_salesforce())
            && self.whmcs_order_id == Some(whmcs_order_id)
    }
}

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

/// The WHMCS order lines of an Order.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProvisioningPlan {
    /// The lines, in OrderItem order; AddOrder creates one service per line, in this order.
    pub lines: Vec<BillingLine>,
}

impl ProvisioningPlan {
    /// Maps the Order's items; every rule of the Product2 → WHMCS mapping is here.
    pub fn from_bundle(bundle: &OrderBundle) -> Result<Self, MappingError> {
        if bundle.items.is_empty() {
            return Err(MappingError::NoItems);
        }
        let lines = bundle
            .items
            .iter()
            .map(map_line)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { lines })
    }

    /// The index of the line whose service goes to `Opportunity.WHMCS_Service_ID__c`:
    /// the first `Service` line, else the first line.
    pub fn service_line(&self) -> usize {
        self.lines.iter().position(|l| l.is_service).unwrap_or(0)
    }

    /// The service that goes to the Opportunity, among `service_ids` (in line order).
    pub fn service_id(&self, service_ids: &[u64]) -> Option<u64> {
        service_ids
            .get(self.service_line())
            .or_else(|| service_ids.first())
            .copied()
    }
}

fn map_line(item: &OrderLineRecord) -> Result<BillingLine, MappingError> {
    let product = || item.product_name.clone();
    let raw_pid = item
        .whmcs_product_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| MappingError::MissingProductId { product: product() })?;
    let pid = raw_pid
        .parse::<u32>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| MappingError::InvalidProductId { product: product() })?;
    let raw_cycle = item
        .billing_cycle
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| MappingError::MissingBillingCycle { product: product() })?;
    let billing_cycle = BillingCycle::from_salesforce(raw_cycle).ok_or_else(|| {
        MappingError::InvalidBillingCycle {
            product: product(),
            value: raw_cycle.to_owned(),
        }
    })?;
    let config_options = match item.config_options_json.as_deref().map(str::trim) {
        None | Some("") => BTreeMap::new(),
        Some(json) => {
            parse_config_options(json).map_err(|reason| MappingError::InvalidConfigOptions {
                product: product(),
                reason,
            })?
        }
    };
    let qty = (item.quantity.is_finite()
        && item.quantity >= 1.0
        && item.quantity.fract() == 0.0
        && item.quantity <= f64::from(u16::MAX))
    .then(|| {
        // Checked above: a whole number from 1 to 65535.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let q = item.quantity as u32;
        q
    })
    .ok_or_else(|| MappingError::InvalidQuantity { product: product() })?;
    Ok(BillingLine {
        pid,
        billing_cycle,
        config_options,
        qty,
        is_service: item.item_class.as_deref() == Some(ItemClass::Service.as_salesforce()),
    })
}

/// Parses `{"12": "1201", "14": 1401}`: an object of option id → value.
fn parse_config_options(json: &str) -> Result<BTreeMap<u32, String>, &'static str> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|_| "it is not valid JSON")?;
    let object = value
        .as_object()
        .ok_or("it is not a JSON object of option id to value")?;
    object
        .iter()
        .map(|(key, value)| {
            let id = key
                .trim()
                .parse::<u32>()
                .map_err(|_| "an option id is not a whole number")?;
            let value = match value {
                serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
                serde_json::Value::Number(n) if n.is_u64() => n.to_string(),
                _ => return Err("an option value is not a non-empty string or whole number"),
            };
            Ok((id, value))
        })
        .collect()
}

/// Why an Order cannot be turned into a WHMCS order. Permanent: the Order is
/// marked `Failed` with this text.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum MappingError {
    /// The Order has no OrderItems.
    #[error("the Order has no products")]
    NoItems,
    /// `WHMCS_Product_Id__c` is empty.
    #[error("product \"{product}\" has no WHMCS Product Id (WHMCS_Product_Id__c)")]
    MissingProductId {
        /// The product's name.
        product: String,
    },
    /// `WHMCS_Product_Id__c` is not a positive whole number.
    #[error("product \"{product}\" has a WHMCS Product Id that is not a positive whole number")]
    InvalidProductId {
        /// The product's name.
        product: String,
    },
    /// `Billing_Cycle__c` is empty.
    #[error("product \"{product}\" has no Billing Cycle (Billing_Cycle__c)")]
    MissingBillingCycle {
        /// The product's name.
        product: String,
    },
    /// `Billing_Cycle__c` is not Monthly, Annually or One-time.
    #[error("product \"{product}\" has an unknown Billing Cycle \"{value}\"")]
    InvalidBillingCycle {
        /// The product's name.
        product: String,
        /// The value found.
        value: String,
    },
    /// `Portal_ConfigOptions_JSON__c` is not an object of option id → value.
    #[error("product \"{product}\" has invalid Config Options JSON: {reason}")]
    InvalidConfigOptions {
        /// The product's name.
        product: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// `OrderItem.Quantity` is not a positive whole number.
    #[error("product \"{product}\" has a quantity that is not a positive whole number")]
    InvalidQuantity {
        /// The product's name.
        product: String,
    },
    /// A new WHMCS client is needed and the Account has no Contact with an email.
    #[error("the Account has no WHMCS client and no Contact with an email address")]
    NoContactEmail,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pid: Option<&str>, cycle: Option<&str>, json: Option<&str>) -> OrderLineRecord {
        OrderLineRecord {
            product_name: "SonixNet Home 1G".to_owned(),
            whmcs_product_id: pid.map(str::to_owned),
            billing_cycle: cycle.map(str::to_owned),
            item_class: Some("Service".to_owned()),
            config_options_json: json.map(str::to_owned),
            quantity: 1.0,
        }
    }

    fn bundle(items: Vec<OrderLineRecord>) -> OrderBundle {
        OrderBundle {
            order_id: OrderId::parse("801000000000001").expect("valid order id"),
            status: "Approved".to_owned(),
            activation_status: Some("Activating".to_owned()),
            whmcs_order_id: None,
            account: BillingAccount {
                id: AccountId::parse("001000000000001").expect("valid account id"),
                name: "Acme".to_owned(),
                whmcs_client_id: None,
            },
            contact: None,
            opportunity_id: None,
            items,
        }
    }

    #[test]
    fn when_items_are_mapped_should_give_pid_cycle_options_and_the_service_line() {
        let mut fee = line(Some("103"), Some("One-time"), None);
        fee.item_class = Some("Activation".to_owned());
        let plan = ProvisioningPlan::from_bundle(&bundle(vec![
            fee,
            line(
                Some(" 101 "),
                Some("Monthly"),
                Some(r#"{"12":"1201","14":1401}"#),
            ),
        ]))
        .expect("a valid mapping");
        assert_eq!(plan.lines[0].pid, 103);
        assert_eq!(plan.lines[0].billing_cycle, BillingCycle::OneTime);
        assert!(plan.lines[0].config_options.is_empty());
        assert_eq!(plan.lines[1].pid, 101);
        assert_eq!(
            plan.lines[1].config_options,
            BTreeMap::from([(12, "1201".to_owned()), (14, "1401".to_owned())])
        );
        assert_eq!(plan.service_line(), 1);
        assert_eq!(plan.service_id(&[31, 32]), Some(32));
    }

    #[test]
    fn when_the_mapping_is_bad_should_name_the_product_and_the_problem() {
        let cases = [
            (line(None, Some("Monthly"), None), "has no WHMCS Product Id"),
            (
                line(Some("abc"), Some("Monthly"), None),
                "not a positive whole number",
            ),
            (line(Some("101"), None, None), "has no Billing Cycle"),
            (
                line(Some("101"), Some("Weekly"), None),
                "unknown Billing Cycle \"Weekly\"",
            ),
            (
                line(Some("101"), Some("Monthly"), Some("[1,2]")),
                "not a JSON object",
            ),
            (
                line(Some("101"), Some("Monthly"), Some(r#"{"x":"1"}"#)),
                "option id",
            ),
            (
                line(Some("101"), Some("Monthly"), Some(r#"{"12":{}}"#)),
                "option value",
            ),
            (
                line(Some("101"), Some("Monthly"), Some("{")),
                "not valid JSON",
            ),
        ];
        for (item, expected) in cases {
            let error = ProvisioningPlan::from_bundle(&bundle(vec![item]))
                .expect_err("a bad mapping")
                .to_string();
            assert!(error.contains("SonixNet Home 1G"), "{error}");
            assert!(
                error.contains(expected),
                "{error} should mention {expected}"
            );
        }
        assert_eq!(
            ProvisioningPlan::from_bundle(&bundle(Vec::new())),
            Err(MappingError::NoItems)
        );
        let mut half = line(Some("101"), Some("Monthly"), None);
        half.quantity = 1.5;
        assert!(matches!(
            ProvisioningPlan::from_bundle(&bundle(vec![half])),
            Err(MappingError::InvalidQuantity { .. })
        ));
    }

    #[test]
    fn when_an_error_is_long_should_be_cut_to_255_utf16_units_without_splitting_a_pair() {
        let long = "é".repeat(400);
        let cut = ActivationError::new(&long);
        assert_eq!(utf16_len(cut.as_str()), MAX_ACTIVATION_ERROR_CHARS);
        assert!(cut.as_str().ends_with('…'));
        assert_eq!(ActivationError::new(" short ").as_str(), "short");
        let wide = ActivationError::new("𠮷".repeat(200));
        assert!(utf16_len(wide.as_str()) <= MAX_ACTIVATION_ERROR_CHARS);
        assert_eq!(wide.as_str().chars().filter(|c| *c == '𠮷').count(), 127);
        assert_eq!(
            ActivationError::new("𠮷".repeat(127)).as_str(),
            "𠮷".repeat(127),
            "254 units fit"
        );
    }

    #[test]
    fn when_the_order_is_approved_and_activating_should_await_provisioning() {
        let mut b = bundle(Vec::new());
        assert!(b.is_awaiting_provisioning());
        b.activation_status = Some("Failed".to_owned());
        assert!(!b.is_awaiting_provisioning());
        b.status = "Activated".to_owned();
        b.activation_status = Some("Provisioned".to_owned());
        b.whmcs_order_id = Some(7);
        assert!(b.is_provisioned_as(7));
        assert!(!b.is_provisioned_as(8));
    }
}
