//! The seeded product catalog: WHMCS product ids, billing cycles, custom
//! fields and configurable options that match the Salesforce emulator's
//! Product2 records (`WHMCS_Product_Id__c`). `README.md` shows the same table.

/// Id of the admin-only product custom field "Salesforce Order Id".
///
/// In real WHMCS every product has its own custom field rows; the emulator
/// gives the field the same id on every product so that tests and local
/// runs can configure one value.
pub const SALESFORCE_ORDER_ID_FIELD_ID: u32 = 7;

/// Name of the admin-only product custom field holding the Salesforce Order Id.
pub const SALESFORCE_ORDER_ID_FIELD_NAME: &str = "Salesforce Order Id";

/// Configurable option "Speed" (dropdown) on the Internet services.
pub const SPEED_OPTION_ID: u32 = 12;

/// Configurable option "Fixed IP" (dropdown) on the Static IP add-on.
pub const FIXED_IP_OPTION_ID: u32 = 14;

/// Configurable option "Data Plan" (dropdown) on the SIM services.
pub const DATA_PLAN_OPTION_ID: u32 = 21;

/// Configurable option "Voice" (dropdown) on the SIM voice service.
pub const VOICE_OPTION_ID: u32 = 22;

/// Configurable option "Region" (dropdown) on the VPN services.
pub const REGION_OPTION_ID: u32 = 31;

/// How WHMCS bills a product (`tblproducts.paytype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayType {
    /// Billed every cycle; allowed cycles in [`Product::cycles`].
    Recurring,
    /// Billed once; the only cycle is `onetime`.
    OneTime,
    /// Never billed; the only cycle is `free`.
    Free,
}

/// Kind of a configurable option, and so which values it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigOptionKind {
    /// `0` or `1`.
    YesNo,
    /// A non-negative integer.
    Quantity,
    /// The id of one of the listed sub-options.
    Dropdown(&'static [(u32, &'static str)]),
}

/// A configurable option attached to a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigOptionDef {
    /// Option id (the key inside `configoptions[i]`).
    pub id: u32,
    /// Display name.
    pub name: &'static str,
    /// Accepted values.
    pub kind: ConfigOptionKind,
}

/// A product custom field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomFieldDef {
    /// Field id (the key inside `customfields[i]`).
    pub id: u32,
    /// Field name as GetClientsProducts reports it.
    pub name: &'static str,
    /// Visible to admins only.
    pub admin_only: bool,
}

/// A WHMCS product (`tblproducts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// Product id (`pid`).
    pub pid: u32,
    /// Product name.
    pub name: &'static str,
    /// Product group name.
    pub group: &'static str,
    /// Billing type.
    pub pay_type: PayType,
    /// Allowed `billingcycle` values (WHMCS API names).
    pub cycles: &'static [&'static str],
    /// Configurable options.
    pub config_options: &'static [ConfigOptionDef],
    /// Custom fields.
    pub custom_fields: &'static [CustomFieldDef],
}

impl Product {
    /// The custom field with this id, if the product has it.
    #[must_use]
    pub fn custom_field(&self, id: u32) -> Option<&CustomFieldDef> {
        self.custom_fields.iter().find(|f| f.id == id)
    }

    /// The configurable option with this id, if the product has it.
    #[must_use]
    pub fn config_option(&self, id: u32) -> Option<&ConfigOptionDef> {
        self.config_options.iter().find(|o| o.id == id)
    }
}

const SF_ORDER_ID: CustomFieldDef = CustomFieldDef {
    id: SALESFORCE_ORDER_ID_FIELD_ID,
    name: SALESFORCE_ORDER_ID_FIELD_NAME,
    admin_only: true,
};
const FIELDS: &[CustomFieldDef] = &[SF_ORDER_ID];

const SPEED: ConfigOptionDef = ConfigOptionDef {
    id: SPEED_OPTION_ID,
    name: "Speed",
    kind: ConfigOptionKind::Dropdown(&[(1201, "1 Gbps"), (1202, "10 Gbps")]),
};
const FIXED_IP: ConfigOptionDef = ConfigOptionDef {
    id: FIXED_IP_OPTION_ID,
    name: "Fixed IP",
    kind: ConfigOptionKind::Dropdown(&[(1401, "Fixed IP")]),
};
const DATA_PLAN: ConfigOptionDef = ConfigOptionDef {
    id: DATA_PLAN_OPTION_ID,
    name: "Data Plan",
    kind: ConfigOptionKind::Dropdown(&[(2101, "5GB"), (2102, "20GB"), (2103, "Unlimited")]),
};
const VOICE: ConfigOptionDef = ConfigOptionDef {
    id: VOICE_OPTION_ID,
    name: "Voice",
    kind: ConfigOptionKind::Dropdown(&[(2201, "Voice")]),
};
const REGION: ConfigOptionDef = ConfigOptionDef {
    id: REGION_OPTION_ID,
    name: "Region",
    kind: ConfigOptionKind::Dropdown(&[(3101, "Tokyo"), (3102, "Osaka")]),
};

const MONTHLY: &[&str] = &["monthly"];
const ANNUALLY: &[&str] = &["annually"];
const ONETIME: &[&str] = &["onetime"];

const fn product(
    pid: u32,
    name: &'static str,
    group: &'static str,
    pay_type: PayType,
    cycles: &'static [&'static str],
    config_options: &'static [ConfigOptionDef],
) -> Product {
    Product {
        pid,
        name,
        group,
        pay_type,
        cycles,
        config_options,
        custom_fields: FIELDS,
    }
}

/// The seeded catalog: the Salesforce emulator's active Product2 records
/// (`WHMCS_Product_Id__c`, `Billing_Cycle__c`), see `README.md`.
pub const CATALOG: &[Product] = &[
    product(
        101,
        "SonixNet Home 1G",
        "Internet",
        PayType::Recurring,
        MONTHLY,
        &[SPEED],
    ),
    product(
        102,
        "SonixNet Home 10G",
        "Internet",
        PayType::Recurring,
        MONTHLY,
        &[SPEED],
    ),
    product(
        103,
        "Internet Activation Fee",
        "Internet",
        PayType::OneTime,
        ONETIME,
        &[],
    ),
    product(
        104,
        "Static IP Address",
        "Internet",
        PayType::Recurring,
        MONTHLY,
        &[FIXED_IP],
    ),
    product(
        201,
        "SonixNet SIM Data 20GB",
        "SIM",
        PayType::Recurring,
        MONTHLY,
        &[DATA_PLAN],
    ),
    product(
        202,
        "SonixNet SIM Voice + Data 20GB",
        "SIM",
        PayType::Recurring,
        MONTHLY,
        &[DATA_PLAN, VOICE],
    ),
    product(
        203,
        "SIM Activation Fee",
        "SIM",
        PayType::OneTime,
        ONETIME,
        &[],
    ),
    product(
        301,
        "SonixNet VPN Monthly",
        "VPN",
        PayType::Recurring,
        MONTHLY,
        &[REGION],
    ),
    product(
        302,
        "SonixNet VPN Annual",
        "VPN",
        PayType::Recurring,
        ANNUALLY,
        &[REGION],
    ),
];

/// The seeded product with this id.
#[must_use]
pub fn find_product(pid: u32) -> Option<&'static Product> {
    CATALOG.iter().find(|p| p.pid == pid)
}

/// The name WHMCS stores for an API billing cycle (`tblhosting.billingcycle`).
#[must_use]
pub fn stored_cycle_name(cycle: &str) -> &'static str {
    match cycle {
        "monthly" => "Monthly",
        "quarterly" => "Quarterly",
        "semiannually" => "Semi-Annually",
        "annually" => "Annually",
        "biennially" => "Biennially",
        "triennially" => "Triennially",
        "onetime" => "One Time",
        _ => "Free Account",
    }
}
