//! The typed inputs and outputs of the WHMCS calls this client makes.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use secrecy::SecretString;

/// A billing cycle, by its WHMCS API name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BillingCycle {
    /// `monthly`
    Monthly,
    /// `quarterly`
    Quarterly,
    /// `semiannually`
    SemiAnnually,
    /// `annually`
    Annually,
    /// `biennially`
    Biennially,
    /// `triennially`
    Triennially,
    /// `onetime`
    OneTime,
    /// `free`
    Free,
}

impl BillingCycle {
    /// Every cycle, in WHMCS's order.
    pub const ALL: [Self; 8] = [
        Self::Monthly,
        Self::Quarterly,
        Self::SemiAnnually,
        Self::Annually,
        Self::Biennially,
        Self::Triennially,
        Self::OneTime,
        Self::Free,
    ];

    /// The name AddOrder expects in `billingcycle[i]`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::SemiAnnually => "semiannually",
            Self::Annually => "annually",
            Self::Biennially => "biennially",
            Self::Triennially => "triennially",
            Self::OneTime => "onetime",
            Self::Free => "free",
        }
    }

    /// The name WHMCS stores and reports on services (`Semi-Annually`, `One Time`, `Free Account`…).
    #[must_use]
    pub fn stored_name(self) -> &'static str {
        match self {
            Self::Monthly => "Monthly",
            Self::Quarterly => "Quarterly",
            Self::SemiAnnually => "Semi-Annually",
            Self::Annually => "Annually",
            Self::Biennially => "Biennially",
            Self::Triennially => "Triennially",
            Self::OneTime => "One Time",
            Self::Free => "Free Account",
        }
    }
}

impl fmt::Display for BillingCycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a WHMCS billing cycle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown billing cycle '{0}'")]
pub struct UnknownBillingCycle(pub String);

impl FromStr for BillingCycle {
    type Err = UnknownBillingCycle;

    /// Accepts the API names and the stored names, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Self::ALL
            .into_iter()
            .find(|c| {
                c.as_str().eq_ignore_ascii_case(wanted)
                    || c.stored_name().eq_ignore_ascii_case(wanted)
            })
            .ok_or_else(|| UnknownBillingCycle(s.to_owned()))
    }
}

/// AddClient input. WHMCS requires the address fields, the country and the
/// phone number unless `skip_validation` is set (or its "optional client
/// profile fields" setting relaxes them); absent fields are not sent.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// Email address (unique in WHMCS).
    pub email: String,
    /// Phone number.
    pub phonenumber: Option<String>,
    /// Company name.
    pub companyname: Option<String>,
    /// Address line 1.
    pub address1: Option<String>,
    /// Address line 2.
    pub address2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State or region.
    pub state: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2 country code (`JP`, `GB`…).
    pub country: Option<String>,
    /// Password of the client's user; WHMCS generates one when absent.
    pub password2: Option<SecretString>,
    /// Suppress the welcome email.
    pub no_email: bool,
    /// `skipvalidation=1`: WHMCS creates the client without checking its
    /// required fields (for clients whose address the portal never collects;
    /// WHMCS still refuses a taken email).
    pub skip_validation: bool,
}

/// A client as GetClientsDetails reports it (the fields this product uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientDetails {
    /// Client id.
    pub id: u64,
    /// Email address.
    pub email: String,
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// Company name (may be empty).
    pub companyname: String,
    /// Client status (`Active`, `Inactive`, `Closed`).
    pub status: String,
}

/// One line of an order: one product, which becomes one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// WHMCS product id.
    pub pid: u32,
    /// Billing cycle; must be one the product is priced for.
    pub billing_cycle: BillingCycle,
    /// Configurable option values by option id.
    pub config_options: BTreeMap<u32, String>,
    /// Custom field values by field id (the Salesforce Order Id goes here).
    pub custom_fields: BTreeMap<u32, String>,
    /// Quantity (1 unless the product allows quantities).
    pub qty: u32,
}

/// AddOrder input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Owning client.
    pub client_id: u64,
    /// Payment gateway system name (`banktransfer`…).
    pub payment_method: String,
    /// Order lines.
    pub items: Vec<OrderLine>,
    /// Promotion code.
    pub promo_code: Option<String>,
    /// Do not create an invoice.
    pub no_invoice: bool,
    /// Do not email the invoice.
    pub no_invoice_email: bool,
    /// Do not send the order confirmation email.
    pub no_email: bool,
    /// The customer's IP address, recorded on the order.
    pub client_ip: Option<IpAddr>,
}

/// What AddOrder created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedOrder {
    /// The order.
    pub order_id: u64,
    /// Services, one per line, in line order.
    pub service_ids: Vec<u64>,
    /// Service add-ons.
    pub addon_ids: Vec<u64>,
    /// Domains.
    pub domain_ids: Vec<u64>,
    /// Invoice, unless `no_invoice` was set.
    pub invoice_id: Option<u64>,
}

/// How AcceptOrder ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// This call accepted the order.
    Accepted,
    /// The order was already Active (an earlier call accepted it).
    AlreadyActive,
}

/// Status of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderStatus {
    /// Awaiting acceptance.
    Pending,
    /// Accepted.
    Active,
    /// Cancelled.
    Cancelled,
    /// Marked as fraud.
    Fraud,
    /// Any other (custom) status.
    Other(String),
}

impl OrderStatus {
    /// Parses WHMCS's spelling.
    #[must_use]
    pub fn parse(s: &str) -> Self {
        match s {
            "Pending" => Self::Pending,
            "Active" => Self::Active,
            "Cancelled" => Self::Cancelled,
            "Fraud" => Self::Fraud,
            other => Self::Other(other.to_owned()),
        }
    }

    /// WHMCS's spelling.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "Pending",
            Self::Active => "Active",
            Self::Cancelled => "Cancelled",
            Self::Fraud => "Fraud",
            Self::Other(s) => s,
        }
    }
}

/// Status of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceStatus {
    /// Ordered, not yet provisioned.
    Pending,
    /// Provisioned.
    Active,
    /// Suspended.
    Suspended,
    /// Terminated.
    Terminated,
    /// Cancelled.
    Cancelled,
    /// Marked as fraud.
    Fraud,
    /// Completed (one-time products).
    Completed,
    /// Any other status.
    Other(String),
}

impl ServiceStatus {
    /// Parses WHMCS's spelling.
    #[must_use]
    pub fn parse(s: &str) -> Self {
        match s {
            "Pending" => Self::Pending,
            "Active" => Self::Active,
            "Suspended" => Self::Suspended,
            "Terminated" => Self::Terminated,
            "Cancelled" => Self::Cancelled,
            "Fraud" => Self::Fraud,
            "Completed" => Self::Completed,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// A custom field value of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFieldValue {
    /// Field id.
    pub id: u32,
    /// Field name.
    pub name: String,
    /// Value (empty when unset).
    pub value: String,
}

/// A service as GetClientsProducts reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Service id.
    pub id: u64,
    /// Owning client.
    pub client_id: u64,
    /// Order that created it.
    pub order_id: u64,
    /// Product id.
    pub pid: u32,
    /// Product name.
    pub name: String,
    /// Status.
    pub status: ServiceStatus,
    /// Billing cycle as WHMCS stores it (`Monthly`, `One Time`…); see [`BillingCycle::from_str`].
    pub billing_cycle: String,
    /// Custom field values.
    pub custom_fields: Vec<CustomFieldValue>,
}

impl Service {
    /// The value of custom field `id`, if the product has that field.
    #[must_use]
    pub fn custom_field(&self, id: u32) -> Option<&str> {
        self.custom_fields
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.value.as_str())
    }

    /// The value of the custom field named `name`.
    #[must_use]
    pub fn custom_field_by_name(&self, name: &str) -> Option<&str> {
        self.custom_fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
    }
}

/// A custom field of a product, as GetProducts reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductCustomField {
    /// Field id: the key inside AddOrder's `customfields[i]` for this product.
    pub id: u32,
    /// Field name, e.g. `Salesforce Order Id`.
    pub name: String,
    /// `text`, `dropdown`, `tickbox`… (empty when WHMCS leaves it out).
    pub field_type: String,
    /// Visible to admins only (`adminonly` is `on`).
    pub admin_only: bool,
}

/// The price of a product in one currency and billing cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPrice {
    /// Currency code, e.g. `JPY`.
    pub currency: String,
    /// The cycle the price is for.
    pub cycle: BillingCycle,
    /// The amount as WHMCS writes it, e.g. `5280.00`.
    pub amount: String,
}

/// A product as GetProducts reports it (the fields this product uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Product id (`pid`).
    pub pid: u32,
    /// Product name.
    pub name: String,
    /// Provisioning module (`autorelease`, `cpanel`…; empty for none).
    pub module: String,
    /// `recurring`, `onetime` or `free`.
    pub pay_type: String,
    /// The cycles the product is offered in, per currency (cycles priced `-1` are left out).
    pub prices: Vec<ProductPrice>,
    /// Custom fields (GetProducts lists those shown on the order form, and admin-only ones).
    pub custom_fields: Vec<ProductCustomField>,
}

impl Product {
    /// The id of the custom field named `name`, if the product has one.
    #[must_use]
    pub fn custom_field_id(&self, name: &str) -> Option<u32> {
        self.custom_fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.id)
    }

    /// The billing cycles the product is offered in (any currency), without repeats.
    #[must_use]
    pub fn billing_cycles(&self) -> Vec<BillingCycle> {
        let mut cycles: Vec<BillingCycle> = Vec::new();
        for price in &self.prices {
            if !cycles.contains(&price.cycle) {
                cycles.push(price.cycle);
            }
        }
        cycles
    }
}

/// An active payment gateway, as GetPaymentMethods reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMethod {
    /// The gateway's system name, what AddOrder's `paymentmethod` takes (`banktransfer`).
    pub module: String,
    /// The name shown to customers.
    pub display_name: String,
}

/// A line of an order as GetOrders reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLineItem {
    /// `product`, `addon`, `domain`, `renewal` or `upgrade`.
    pub kind: String,
    /// Id of the service, add-on or domain.
    pub rel_id: u64,
    /// Its status.
    pub status: String,
    /// Its billing cycle as stored.
    pub billing_cycle: String,
}

/// An order as GetOrders reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Order id.
    pub id: u64,
    /// Order number.
    pub order_num: String,
    /// Owning client.
    pub client_id: u64,
    /// When it was placed (`date`, `Y-m-d H:i:s` in the WHMCS server's own
    /// time zone, which the answer does not name); `None` when absent or unreadable.
    pub date: Option<chrono::NaiveDateTime>,
    /// Status.
    pub status: OrderStatus,
    /// Payment gateway.
    pub payment_method: String,
    /// Invoice, if any.
    pub invoice_id: Option<u64>,
    /// Lines.
    pub line_items: Vec<OrderLineItem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_parsing_cycles_should_accept_api_and_stored_names() {
        for cycle in BillingCycle::ALL {
            assert_eq!(cycle.as_str().parse::<BillingCycle>(), Ok(cycle));
            assert_eq!(cycle.stored_name().parse::<BillingCycle>(), Ok(cycle));
        }
        assert_eq!("Semi-Annually".parse(), Ok(BillingCycle::SemiAnnually));
        assert!("yearly".parse::<BillingCycle>().is_err());
    }
}
