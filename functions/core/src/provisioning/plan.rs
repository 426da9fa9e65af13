//! The pure mapping of an Order's items to WHMCS order lines
//! ([`ProvisioningPlan`]).
//!
//! The [`OrderBundle`] (what the `OrderLedger` port reads) carries the
//! Salesforce values as read (picklists and the config-options JSON as text)
//! so that every mapping rule lives here and a bad mapping becomes a readable
//! [`MappingError`], the text that ends in `Order.Activation_Error__c`.

use std::collections::BTreeMap;

use crate::domain::{BillingCycle, ItemClass};
use crate::ports::{BillingLine, OrderBundle, OrderLineRecord};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::utf16_len;
    use crate::domain::{AccountId, OrderId};
    use crate::ports::{ActivationError, BillingAccount, MAX_ACTIVATION_ERROR_CHARS};

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
