//! The data every emulated org starts with: the integration and staff users and,
//! when `seed_catalog` is set, the Standard Price Book and the documented catalog
//! (see the crate's README for the table).

use chrono::Utc;
use salesforce::schema::{self, pricebook, pricebook_entry, product, user};
use serde_json::{Map, Value, json};

use crate::config::EmulatorConfig;
use crate::error::{ApiError, EmulatorError};
use crate::faults::Faults;
use crate::platform;
use crate::store::{Actor, Role, Sequences, Store, Txn};

/// Name of the standard price book.
pub const STANDARD_PRICEBOOK_NAME: &str = "Standard Price Book";
/// The `Organization` record's name.
pub const ORGANIZATION_NAME: &str = "Portal Emulated Org";
/// Username of the staff user behind the admin token.
pub const STAFF_USERNAME: &str = "staff@portal.local";

/// One product of the seeded catalog, with its standard price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CatalogProduct {
    pub name: &'static str,
    pub product_code: &'static str,
    pub family: &'static str,
    pub item_class: &'static str,
    pub billing_cycle: &'static str,
    pub whmcs_product_id: &'static str,
    /// `Portal_ConfigOptions_JSON__c`: WHMCS config option id → value, or `None`.
    pub config_options_json: Option<&'static str>,
    /// Unit price of the standard price book entry, in JPY.
    pub unit_price_jpy: f64,
    pub is_active: bool,
}

/// One catalog row, positionally, to keep the table readable.
#[allow(clippy::too_many_arguments)] // a table row: every column is an argument
const fn p(
    name: &'static str,
    product_code: &'static str,
    family: &'static str,
    item_class: &'static str,
    billing_cycle: &'static str,
    whmcs_product_id: &'static str,
    config_options_json: Option<&'static str>,
    unit_price_jpy: f64,
) -> CatalogProduct {
    CatalogProduct {
        name,
        product_code,
        family,
        item_class,
        billing_cycle,
        whmcs_product_id,
        config_options_json,
        unit_price_jpy,
        is_active: true,
    }
}

/// The documented catalog, loaded when `seed_catalog` is set.
pub const CATALOG: &[CatalogProduct] = &[
    p(
        "SonixNet Home 1G",
        "INT-HOME-1G",
        "Internet",
        "Service",
        "Monthly",
        "101",
        Some(r#"{"12":"1201"}"#),
        5_280.0,
    ),
    p(
        "SonixNet Home 10G",
        "INT-HOME-10G",
        "Internet",
        "Service",
        "Monthly",
        "102",
        Some(r#"{"12":"1202"}"#),
        6_380.0,
    ),
    p(
        "Internet Activation Fee",
        "INT-ACTIVATION",
        "Internet",
        "Activation",
        "One-time",
        "103",
        None,
        3_300.0,
    ),
    p(
        "Static IP Address",
        "INT-STATIC-IP",
        "Internet",
        "Add-on",
        "Monthly",
        "104",
        Some(r#"{"14":"1401"}"#),
        1_100.0,
    ),
    p(
        "SonixNet SIM Data 20GB",
        "SIM-DATA-20GB",
        "SIM",
        "Service",
        "Monthly",
        "201",
        Some(r#"{"21":"2102"}"#),
        2_178.0,
    ),
    p(
        "SonixNet SIM Voice + Data 20GB",
        "SIM-VOICE-DATA-20GB",
        "SIM",
        "Service",
        "Monthly",
        "202",
        Some(r#"{"21":"2102","22":"2201"}"#),
        2_948.0,
    ),
    p(
        "SIM Activation Fee",
        "SIM-ACTIVATION",
        "SIM",
        "Activation",
        "One-time",
        "203",
        None,
        3_300.0,
    ),
    p(
        "SonixNet VPN Monthly",
        "VPN-MONTHLY",
        "VPN",
        "Service",
        "Monthly",
        "301",
        Some(r#"{"31":"3101"}"#),
        990.0,
    ),
    p(
        "SonixNet VPN Annual",
        "VPN-ANNUAL",
        "VPN",
        "Service",
        "Annually",
        "302",
        Some(r#"{"31":"3101"}"#),
        9_900.0,
    ),
    CatalogProduct {
        is_active: false,
        ..p(
            "SonixNet Home 1G (Legacy)",
            "INT-HOME-1G-LEGACY",
            "Internet",
            "Service",
            "Monthly",
            "199",
            None,
            4_980.0,
        )
    },
];

/// The ids of the seeded users.
#[derive(Debug, Clone)]
pub struct SeededUsers {
    pub integration: String,
    pub staff: String,
}

fn object(name: &str) -> Result<&'static schema::ObjectDef, EmulatorError> {
    schema::object(name).ok_or_else(|| EmulatorError::Rejected(ApiError::not_found()))
}

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Loads the users (always) and the catalog (when configured) into `store`.
pub fn seed(
    store: &mut Store,
    sequences: &Sequences,
    faults: &Faults,
    config: &EmulatorConfig,
) -> Result<SeededUsers, EmulatorError> {
    let system = Actor {
        user_id: String::new(),
        role: Role::System,
    };
    let mut txn = Txn::new(store.clone(), sequences, faults, system, Utc::now());
    let users = object(user::OBJECT)?;
    let staff = txn.insert_system(
        users,
        &map(json!({user::NAME: "Portal Staff", user::USERNAME: STAFF_USERNAME, user::EMAIL: STAFF_USERNAME})),
    )?;
    txn.set_user(&staff);
    txn.update(users, &staff, &map(json!({"CreatedById": staff})))?;
    let integration = txn.insert_system(
        users,
        &map(json!({user::NAME: "Portal Integration", user::USERNAME: config.username, user::EMAIL: config.username})),
    )?;
    if config.seed_catalog {
        let book = txn.insert_system(
            object(pricebook::OBJECT)?,
            &map(json!({pricebook::NAME: STANDARD_PRICEBOOK_NAME, pricebook::IS_ACTIVE: true, pricebook::IS_STANDARD: true})),
        )?;
        for item in CATALOG {
            let product_id = txn.insert_system(
                object(product::OBJECT)?,
                &map(json!({
                    product::NAME: item.name,
                    product::PRODUCT_CODE: item.product_code,
                    product::FAMILY: item.family,
                    product::ITEM_CLASS: item.item_class,
                    product::BILLING_CYCLE: item.billing_cycle,
                    product::WHMCS_PRODUCT_ID: item.whmcs_product_id,
                    product::CONFIG_OPTIONS_JSON: item.config_options_json,
                    product::IS_ACTIVE: item.is_active,
                })),
            )?;
            txn.insert_system(
                object(pricebook_entry::OBJECT)?,
                &map(json!({
                    pricebook_entry::PRICEBOOK_ID: book,
                    pricebook_entry::PRODUCT_ID: product_id,
                    pricebook_entry::UNIT_PRICE: item.unit_price_jpy,
                    pricebook_entry::IS_ACTIVE: true,
                })),
            )?;
        }
    }
    let (data, _) = txn.into_parts();
    *store = data;
    let stamp = Value::String(crate::store::format_datetime(Utc::now()));
    store.insert_platform_record(
        &platform::ORGANIZATION,
        config.org_id.clone(),
        map(json!({
            "Id": config.org_id,
            "Name": ORGANIZATION_NAME,
            "InstanceName": "EM1",
            "IsSandbox": false,
            "OrganizationType": "Developer Edition",
            "TimeZoneSidKey": "Asia/Tokyo",
            "CreatedDate": stamp,
            "LastModifiedDate": stamp,
            "CreatedById": staff,
            "LastModifiedById": staff,
        })),
    );
    Ok(SeededUsers { integration, staff })
}
