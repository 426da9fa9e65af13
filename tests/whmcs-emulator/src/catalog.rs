//! The seeded product catalog: WHMCS product ids, billing cycles, custom
//! fields and configurable options that match the Salesforce emulator's
//! Product2 records (`WHMCS_Product_Id__c`). `README.md` shows the same table.

/// Name of the admin-only product custom field holding the Salesforce Order Id.
///
/// As in real WHMCS, every product has its own custom field rows, so the
/// field's id differs from product to product: look it up with
/// [`salesforce_order_id_field`] (or, against real WHMCS, by this name in GetProducts).
pub const SALESFORCE_ORDER_ID_FIELD_NAME: &str = "Salesforce Order Id";

/// The id of product `pid`'s "Salesforce Order Id" custom field.
#[must_use]
pub fn salesforce_order_id_field(pid: u32) -> Option<u32> {
    find_product(pid)?
        .custom_fields
        .iter()
        .find(|f| f.name == SALESFORCE_ORDER_ID_FIELD_NAME)
        .map(|f| f.id)
}

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
    /// The price of the product's cycle, in JPY (the Salesforce standard price).
    pub price_jpy: u32,
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

/// The "Salesforce Order Id" field row of one product.
const fn sf_order_id(id: u32) -> CustomFieldDef {
    CustomFieldDef {
        id,
        name: SALESFORCE_ORDER_ID_FIELD_NAME,
        admin_only: true,
    }
}

// One custom field row per product, ids from their own range (701…).
const FIELDS_101: &[CustomFieldDef] = &[sf_order_id(701)];
const FIELDS_102: &[CustomFieldDef] = &[sf_order_id(702)];
const FIELDS_103: &[CustomFieldDef] = &[sf_order_id(703)];
const FIELDS_104: &[CustomFieldDef] = &[sf_order_id(704)];
const FIELDS_201: &[CustomFieldDef] = &[sf_order_id(705)];
const FIELDS_202: &[CustomFieldDef] = &[sf_order_id(706)];
const FIELDS_203: &[CustomFieldDef] = &[sf_order_id(707)];
const FIELDS_301: &[CustomFieldDef] = &[sf_order_id(708)];
const FIELDS_302: &[CustomFieldDef] = &[sf_order_id(709)];

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

/// One catalog row, positionally, to keep the table readable.
#[allow(clippy::too_many_arguments)] // a table row: every column is an argument
const fn product(
    pid: u32,
    name: &'static str,
    group: &'static str,
    pay_type: PayType,
    cycles: &'static [&'static str],
    config_options: &'static [ConfigOptionDef],
    custom_fields: &'static [CustomFieldDef],
    price_jpy: u32,
) -> Product {
    Product {
        pid,
        name,
        group,
        pay_type,
        cycles,
        config_options,
        custom_fields,
        price_jpy,
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
        FIELDS_101,
        5280,
    ),
    product(
        102,
        "SonixNet Home 10G",
        "Internet",
        PayType::Recurring,
        MONTHLY,
        &[SPEED],
        FIELDS_102,
        6380,
    ),
    product(
        103,
        "Internet Activation Fee",
        "Internet",
        PayType::OneTime,
        ONETIME,
        &[],
        FIELDS_103,
        3300,
    ),
    product(
        104,
        "Static IP Address",
        "Internet",
        PayType::Recurring,
        MONTHLY,
        &[FIXED_IP],
        FIELDS_104,
        1100,
    ),
    product(
        201,
        "SonixNet SIM Data 20GB",
        "SIM",
        PayType::Recurring,
        MONTHLY,
        &[DATA_PLAN],
        FIELDS_201,
        2178,
    ),
    product(
        202,
        "SonixNet SIM Voice + Data 20GB",
        "SIM",
        PayType::Recurring,
        MONTHLY,
        &[DATA_PLAN, VOICE],
        FIELDS_202,
        2948,
    ),
    product(
        203,
        "SIM Activation Fee",
        "SIM",
        PayType::OneTime,
        ONETIME,
        &[],
        FIELDS_203,
        3300,
    ),
    product(
        301,
        "SonixNet VPN Monthly",
        "VPN",
        PayType::Recurring,
        MONTHLY,
        &[REGION],
        FIELDS_301,
        990,
    ),
    product(
        302,
        "SonixNet VPN Annual",
        "VPN",
        PayType::Recurring,
        ANNUALLY,
        &[REGION],
        FIELDS_302,
        9900,
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
