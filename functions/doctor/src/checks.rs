//! The checks, as pure functions over what was read from Salesforce (the
//! login's outcome, describe results, the active catalog) and from WHMCS
//! (products, payment methods). Each returns [`Check`]s; nothing here does I/O.

use salesforce::AuthError;
use salesforce::client::{FieldDescribe, ObjectDescribe};
use salesforce::schema::{FieldDef, FieldType, ObjectDef, PlatformEventDef};
use whmcs::{BillingCycle, PaymentMethod, Product, WhmcsError};

use crate::access;
use crate::metadata::{self, PACKAGE_DIR, PERMISSION_SET};
use crate::report::{Check, Item};

/// The name of the WHMCS product custom field that carries the Salesforce Order Id.
pub const ORDER_ID_FIELD_NAME: &str = "Salesforce Order Id";

const DEPLOY: &str =
    "sf project deploy start --source-dir force-app --target-org <alias> (in infra/salesforce)";

/// The checklist item of an object's fields.
pub fn fields_item(object: &str) -> Item {
    match object {
        "Account" => Item::AccountFields,
        "Order" => Item::OrderFields,
        "Opportunity" => Item::OpportunityFields,
        "Product2" => Item::Product2Fields,
        _ => Item::OtherFields,
    }
}

fn permission_set_path() -> String {
    format!("{PACKAGE_DIR}/{}", metadata::permission_set_file())
}

/// The outcome of the JWT bearer login: a successful one proves the Connected
/// App, its certificate and the pre-authorised integration user.
pub fn check_login(outcome: Result<&str, &AuthError>) -> Vec<Check> {
    let user_id = match outcome {
        Ok(user_id) => user_id,
        Err(error) => return vec![login_failure(error)],
    };
    vec![
        Check::pass(
            Item::ConnectedApp,
            "JWT bearer login",
            "the Connected App issued a token for SF_USERNAME",
        ),
        Check::pass(
            Item::Certificate,
            "JWT signature",
            "the Connected App verified the assertion signed with the SF_PRIVATE_KEY_* key",
        ),
        Check::pass(
            Item::IntegrationUser,
            "integration user",
            format!("logged in as user {user_id}"),
        ),
    ]
}

/// The failed login, as the first failing line, with Salesforce's description and the fix.
fn login_failure(error: &AuthError) -> Check {
    let subject = "JWT bearer login";
    match error {
        AuthError::Refused {
            error, description, ..
        } => {
            let said = format!("refused: {error}: {description}");
            let d = description.to_ascii_lowercase();
            let (item, fix) = if d.contains("hasn't approved") || d.contains("not approved") {
                (
                    Item::ConnectedApp,
                    format!(
                        "pre-authorise the user: in the Connected App set Permitted Users to \"Admin approved users are pre-authorized\" and add the permission set {PERMISSION_SET} (assigned to SF_USERNAME) or its profile"
                    ),
                )
            } else if d.contains("audience") {
                (
                    Item::ConnectedApp,
                    "check SF_LOGIN_URL: https://login.salesforce.com for production, https://test.salesforce.com for sandboxes, or the org's My Domain URL".to_owned(),
                )
            } else if error == "invalid_client_id" || d.contains("client identifier") {
                (
                    Item::ConnectedApp,
                    "check SF_CLIENT_ID: it must be the Connected App's consumer key".to_owned(),
                )
            } else if d.contains("user") {
                (
                    Item::IntegrationUser,
                    "check SF_USERNAME: the integration user must exist, be active and be pre-authorised for the Connected App".to_owned(),
                )
            } else {
                (
                    Item::Certificate,
                    "upload the certificate of the SF_PRIVATE_KEY_PATH/SF_PRIVATE_KEY_BASE64 key to the Connected App (Use digital signatures), and check SF_USERNAME and SF_LOGIN_URL".to_owned(),
                )
            };
            Check::fail(item, subject, said, fix)
        }
        AuthError::Transport(_) | AuthError::Unavailable { .. } => Check::fail(
            Item::ConnectedApp,
            subject,
            format!("failed: {error}"),
            "check SF_LOGIN_URL and that this machine can reach it",
        ),
        AuthError::MalformedResponse(_) | AuthError::Signing(_) => Check::fail(
            Item::ConnectedApp,
            subject,
            format!("failed: {error}"),
            "check SF_LOGIN_URL points at Salesforce and SF_PRIVATE_KEY_* holds the Connected App's RSA key",
        ),
    }
}

/// What the fix of a missing or wrong field says.
fn field_fix(object: &str, field: &FieldDef, what: &str) -> String {
    if access::in_package(field) {
        format!(
            "{what} ({PACKAGE_DIR}/{}): deploy with {DEPLOY}",
            metadata::field_file(object, field.name)
        )
    } else if access::is_pre_existing(object, field.name) {
        format!(
            "{what}: {object}.{} has no __c suffix, so the metadata package cannot create it; it must already exist in the org (see {}/README.md)",
            field.name,
            metadata::PROJECT_DIR
        )
    } else if let Some(set) = metadata::standard_value_set(object, field.name) {
        format!(
            "{what} in the {} standard value set ({PACKAGE_DIR}/{})",
            set.name,
            metadata::value_set_file(set.name)
        )
    } else {
        format!("{what} (a standard field: check its field-level security)")
    }
}

/// A field the org does not show the integration user.
fn missing_field(item: Item, object: &str, field: &FieldDef) -> Check {
    let what = if access::in_package(field) || access::is_pre_existing(object, field.name) {
        "create it"
    } else {
        "make it visible to the integration user"
    };
    let mut fix = field_fix(object, field, what);
    fix.push_str(&format!(
        "; if it exists, give the integration user read access (permission set {PERMISSION_SET})"
    ));
    Check::fail(
        item,
        format!("{object}.{}", field.name),
        "is missing (or hidden from the integration user)",
        fix,
    )
}

/// The type the doctor expects, in Salesforce setup's words, for fixes.
fn setup_type(kind: FieldType) -> String {
    match kind {
        FieldType::Text { length } => format!("Text({length})"),
        FieldType::TextArea { length } if length <= 255 => "Text Area(255)".to_owned(),
        FieldType::TextArea { length } => format!("Long Text Area({length})"),
        FieldType::Number { precision, scale } => format!("Number({precision}, {scale})"),
        FieldType::Picklist { .. } => "Picklist".to_owned(),
        FieldType::DateTime => "Date/Time".to_owned(),
        other => other.describe_name().to_owned(),
    }
}

/// The maximum length the product writes into a text field, if it is one.
fn needed_length(kind: FieldType) -> Option<u32> {
    match kind {
        FieldType::Text { length } | FieldType::TextArea { length } => Some(length),
        _ => None,
    }
}

/// One field against its describe: existence, type, length, picklist values.
fn check_field(item: Item, object: &str, def: &FieldDef, found: &FieldDescribe) -> Vec<Check> {
    let subject = format!("{object}.{}", def.name);
    let expected = def.kind.describe_name();
    if !found.field_type.eq_ignore_ascii_case(expected) {
        return vec![Check::fail(
            item,
            subject,
            format!(
                "is a {} field, the product needs a {expected}",
                found.field_type
            ),
            field_fix(
                object,
                def,
                &format!("change its type to {}", setup_type(def.kind)),
            ),
        )];
    }
    let mut checks = Vec::new();
    match needed_length(def.kind) {
        Some(needed) if found.length < needed => checks.push(Check::fail(
            item,
            subject.clone(),
            format!(
                "holds {} characters, the product writes up to {needed}",
                found.length
            ),
            field_fix(object, def, &format!("raise its length to {needed}")),
        )),
        _ => checks.push(Check::pass(
            item,
            subject.clone(),
            format!("exists as {expected}"),
        )),
    }
    if let FieldType::Picklist { values, restricted } = def.kind {
        // A value outside an unrestricted list can still be written.
        if restricted || found.restricted_picklist {
            let mut all_present = true;
            for value in values {
                let present = found
                    .picklist_values
                    .iter()
                    .any(|v| v.value == *value && v.active);
                if !present {
                    all_present = false;
                    checks.push(Check::fail(
                        item,
                        subject.clone(),
                        format!("picklist value \"{value}\" is missing"),
                        field_fix(
                            object,
                            def,
                            "add it to the field's value set (or activate it)",
                        ),
                    ));
                }
            }
            if all_present {
                checks.push(Check::pass(
                    item,
                    subject,
                    format!("has every value the product uses ({})", values.len()),
                ));
            }
        }
    }
    checks
}

/// The integration user's create/update access to one field.
fn check_field_access(object: &ObjectDef, def: &FieldDef, found: &FieldDescribe) -> Vec<Check> {
    let subject = format!("{}.{}", object.name, def.name);
    let fix = |verb: &str| {
        format!(
            "give the integration user Edit access to {subject} ({verb}) in permission set {PERMISSION_SET} ({})",
            permission_set_path()
        )
    };
    let mut checks = Vec::new();
    if access::must_create(object, def) {
        checks.push(if found.createable {
            Check::pass(
                Item::FieldLevelSecurity,
                subject.clone(),
                "createable by the integration user",
            )
        } else {
            Check::fail(
                Item::FieldLevelSecurity,
                subject.clone(),
                "is not createable by the integration user",
                fix("create"),
            )
        });
    }
    if access::must_update(object, def) {
        checks.push(if found.updateable {
            Check::pass(
                Item::FieldLevelSecurity,
                subject.clone(),
                "updateable by the integration user",
            )
        } else {
            Check::fail(
                Item::FieldLevelSecurity,
                subject.clone(),
                "is not updateable by the integration user",
                fix("update"),
            )
        });
    }
    checks
}

/// One object against its describe as the integration user (`None`: not found
/// or not readable): object access, then every field the product uses.
pub fn check_object(def: &ObjectDef, describe: Option<&ObjectDescribe>) -> Vec<Check> {
    let required = access::required(def.name);
    let Some(describe) = describe else {
        return vec![Check::fail(
            Item::ObjectPermissions,
            def.name,
            "is missing or not readable by the integration user",
            format!(
                "grant Read on {} to the integration user (permission set {PERMISSION_SET}, {})",
                def.name,
                permission_set_path()
            ),
        )];
    };
    let mut checks = Vec::new();
    let flags = [
        ("Create", required.create, describe.createable),
        ("Read", required.read, describe.queryable),
        ("Edit", required.update, describe.updateable),
    ];
    for (permission, needed, granted) in flags {
        if !needed {
            continue;
        }
        checks.push(if granted {
            Check::pass(
                Item::ObjectPermissions,
                def.name,
                format!("{permission} granted"),
            )
        } else {
            Check::fail(
                Item::ObjectPermissions,
                def.name,
                format!("{permission} is not granted to the integration user"),
                format!(
                    "grant {permission} on {} in permission set {PERMISSION_SET} ({}) or the integration user's profile",
                    def.name,
                    permission_set_path()
                ),
            )
        });
    }
    let item = fields_item(def.name);
    for field in def.all_fields() {
        match describe.field(field.name) {
            None => checks.push(missing_field(item, def.name, field)),
            Some(found) => {
                let field_checks = check_field(item, def.name, field, found);
                let type_ok = field_checks.iter().all(|c| !c.message.starts_with("is a "));
                checks.extend(field_checks);
                if type_ok {
                    checks.extend(check_field_access(def, field, found));
                }
            }
        }
    }
    checks
}

/// The platform event against its describe as the integration user (`None`:
/// not found, or not readable, which is the same as not subscribable).
pub fn check_event(event: &PlatformEventDef, describe: Option<&ObjectDescribe>) -> Vec<Check> {
    let Some(describe) = describe else {
        return vec![Check::fail(
            Item::EventCreated,
            event.name,
            "is missing (or the integration user cannot read it)",
            format!(
                "create it ({PACKAGE_DIR}/{}) with {DEPLOY}, and grant Read on it in permission set {PERMISSION_SET}",
                metadata::event_file(event.name)
            ),
        )];
    };
    let mut checks = vec![
        Check::pass(Item::EventCreated, event.name, "exists"),
        Check::pass(
            Item::EventSubscribe,
            event.name,
            "readable by the integration user, so it may subscribe",
        ),
    ];
    for field in event.fields {
        match describe.field(field.name) {
            None => checks.push(Check::fail(
                Item::EventFields,
                format!("{}.{}", event.name, field.name),
                "is missing",
                field_fix(event.name, field, "create it"),
            )),
            Some(found) => checks.extend(check_field(Item::EventFields, event.name, field, found)),
        }
    }
    checks
}

/// The platform event the flow must create.
const EVENT_API_NAME: &str = salesforce::schema::order_provision_requested::EVENT;

/// The flow's API name (`flows/Order_Approval.flow-meta.xml`).
pub const FLOW_API_NAME: &str = "Order_Approval";

/// The flow's definition as the Tooling API shows it (`FlowDefinition`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowDefinitionRow {
    /// `ActiveVersionId`: the active version, if any.
    pub active_version_id: Option<String>,
    /// `LatestVersionId`.
    pub latest_version_id: Option<String>,
}

/// The active flow version as the Tooling API shows it (`Flow`).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowVersionRow {
    /// `VersionNumber`.
    pub version_number: Option<u64>,
    /// `Status`: `Active`, `Draft`, `Obsolete`…
    pub status: String,
    /// `Metadata`: the flow's metadata as JSON.
    pub metadata: serde_json::Value,
}

fn flow_fix() -> String {
    format!(
        "deploy {PACKAGE_DIR}/flows/{FLOW_API_NAME}.flow-meta.xml (it is Active) with `sf project deploy start`, or activate it in Setup → Flows"
    )
}

/// The Order Approval Flow: deployed and active (`FlowDefinition.ActiveVersionId`,
/// the version's `Status`), and its active version triggered by Order writes and
/// creating an `OrderProvisionRequested__e` record (`Flow.Metadata`).
pub fn check_flow(
    definition: Option<&FlowDefinitionRow>,
    version: Option<&FlowVersionRow>,
) -> Vec<Check> {
    let subject = format!("Flow {FLOW_API_NAME}");
    let Some(definition) = definition else {
        return vec![
            Check::fail(
                Item::FlowActive,
                subject.as_str(),
                "is not in the org",
                flow_fix(),
            ),
            Check::fail(
                Item::FlowPublishes,
                subject.as_str(),
                "is not in the org, so nothing publishes OrderProvisionRequested__e",
                flow_fix(),
            ),
        ];
    };
    let Some(version) = version.filter(|_| definition.active_version_id.is_some()) else {
        return vec![
            Check::fail(
                Item::FlowActive,
                subject.as_str(),
                "has no active version",
                flow_fix(),
            ),
            Check::fail(
                Item::FlowPublishes,
                subject.as_str(),
                "is inactive, so nothing publishes OrderProvisionRequested__e",
                flow_fix(),
            ),
        ];
    };
    let number = version
        .version_number
        .map_or_else(String::new, |n| format!(" (version {n})"));
    let mut checks = Vec::new();
    if version.status == "Active" {
        let newer = if definition.latest_version_id.is_some()
            && definition.latest_version_id != definition.active_version_id
        {
            "; a newer version exists and is not active"
        } else {
            ""
        };
        checks.push(Check::pass(
            Item::FlowActive,
            subject.as_str(),
            format!("is active{number}{newer}"),
        ));
    } else {
        checks.push(Check::fail(
            Item::FlowActive,
            subject.as_str(),
            format!("active version{number} has status {}", version.status),
            flow_fix(),
        ));
    }
    let meta = &version.metadata;
    let start = &meta["start"];
    let triggered = start["object"] == "Order" && start["triggerType"] == "RecordAfterSave";
    let publishes = meta["recordCreates"]
        .as_array()
        .is_some_and(|creates| creates.iter().any(|c| c["object"] == EVENT_API_NAME));
    checks.push(match (triggered, publishes) {
        (true, true) => Check::pass(
            Item::FlowPublishes,
            subject.as_str(),
            format!("runs after Order saves and creates {EVENT_API_NAME}"),
        ),
        (false, _) => Check::fail(
            Item::FlowPublishes,
            subject.as_str(),
            format!(
                "does not run after an Order is saved (start: {} / {})",
                start["object"], start["triggerType"]
            ),
            flow_fix(),
        ),
        (true, false) => Check::fail(
            Item::FlowPublishes,
            subject.as_str(),
            format!("creates no {EVENT_API_NAME} record"),
            flow_fix(),
        ),
    });
    checks
}

/// The flow could not be read through the Tooling API.
pub fn flow_unreadable(error: &impl std::fmt::Display) -> Vec<Check> {
    let subject = format!("Flow {FLOW_API_NAME}");
    let fix = "give the integration user the View Setup and Configuration permission (the doctor reads FlowDefinition and Flow through the Tooling API), then run the doctor again";
    [Item::FlowActive, Item::FlowPublishes]
        .into_iter()
        .map(|item| {
            Check::fail(
                item,
                subject.as_str(),
                format!("could not be read through the Tooling API: {error}"),
                fix,
            )
        })
        .collect()
}

/// The end-to-end tests: verified by hand, or by `--smoke` (see [`crate::smoke`]).
pub fn manual_checks() -> Vec<Check> {
    vec![
        Check::manual(
            Item::TestApproval,
            "approve a test Order and watch the event in the subscriber's log (or run `portal-doctor --smoke` against a sandbox)",
        ),
        Check::manual(
            Item::TestSubscription,
            "the subscriber logs the event and the provisioning queue receives it (or `--smoke`)",
        ),
        Check::manual(
            Item::TestEndToEnd,
            "the test Order ends Provisioned with a WHMCS_Order_Id__c and its Opportunity Active (or `--smoke`)",
        ),
    ]
}

/// WHMCS's answer to the first authenticated call.
pub fn check_whmcs_credentials(outcome: Result<(), &WhmcsError>) -> Vec<Check> {
    let subject = "WHMCS API credentials";
    match outcome {
        Ok(()) => vec![Check::pass(
            Item::WhmcsCredentials,
            subject,
            "accepted (GetProducts answered)",
        )],
        Err(WhmcsError::Api { message, .. }) if message.starts_with("Invalid IP") => {
            vec![Check::fail(
                Item::WhmcsCredentials,
                subject,
                format!("refused: {message}"),
                "add this machine's IP to WHMCS's API IP allow-list, or set WHMCS_ACCESS_KEY",
            )]
        }
        Err(WhmcsError::Api { message, .. }) => vec![Check::fail(
            Item::WhmcsCredentials,
            subject,
            format!("refused: {message}"),
            "check WHMCS_API_IDENTIFIER and WHMCS_API_SECRET (an API credential whose role allows GetProducts, GetPaymentMethods, AddClient, GetClientsDetails, AddOrder, AcceptOrder, GetClientsProducts and GetOrders)",
        )],
        Err(other) => vec![Check::fail(
            Item::WhmcsCredentials,
            subject,
            format!("failed: {other}"),
            "check WHMCS_API_URL (…/includes/api.php) and that this machine can reach it",
        )],
    }
}

/// One active Product2, as the doctor reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogProduct {
    /// The Product2 name.
    pub name: String,
    /// `WHMCS_Product_Id__c`.
    pub whmcs_product_id: Option<String>,
    /// `Billing_Cycle__c`.
    pub billing_cycle: Option<String>,
}

/// The WHMCS billing cycle of a `Billing_Cycle__c` value.
fn whmcs_cycle(billing_cycle: &str) -> Option<BillingCycle> {
    match billing_cycle {
        "Monthly" => Some(BillingCycle::Monthly),
        "Annually" => Some(BillingCycle::Annually),
        "One-time" => Some(BillingCycle::OneTime),
        _ => None,
    }
}

/// Every active Product2 against WHMCS's products: the product exists, is
/// offered in the Product2's billing cycle and has the "Salesforce Order Id" field.
pub fn check_whmcs_products(catalog: &[CatalogProduct], products: &[Product]) -> Vec<Check> {
    let mut checks = Vec::new();
    for entry in catalog {
        let subject = format!("Product2 \"{}\"", entry.name);
        let Some(raw) = entry.whmcs_product_id.as_deref().map(str::trim) else {
            checks.push(Check::fail(
                Item::WhmcsProducts,
                subject,
                "has no WHMCS_Product_Id__c",
                "set WHMCS_Product_Id__c to the WHMCS product id (pid), or deactivate the product",
            ));
            continue;
        };
        let Some(product) = raw
            .parse::<u32>()
            .ok()
            .and_then(|pid| products.iter().find(|p| p.pid == pid))
        else {
            checks.push(Check::fail(
                Item::WhmcsProducts,
                subject,
                format!("names WHMCS product {raw}, which WHMCS does not have"),
                "create the product in WHMCS, or correct WHMCS_Product_Id__c on the Product2",
            ));
            continue;
        };
        let cycle = entry.billing_cycle.as_deref().and_then(whmcs_cycle);
        match cycle {
            Some(cycle) if !product.billing_cycles().contains(&cycle) => {
                checks.push(Check::fail(
                    Item::WhmcsProducts,
                    subject.clone(),
                    format!(
                        "is billed {}, which WHMCS product {} is not priced for",
                        cycle.as_str(),
                        product.pid
                    ),
                    "price the WHMCS product in that cycle, or correct Billing_Cycle__c",
                ));
            }
            _ => checks.push(Check::pass(
                Item::WhmcsProducts,
                subject.clone(),
                format!("is WHMCS product {} ({})", product.pid, product.name),
            )),
        }
        checks.push(match product.custom_field_id(ORDER_ID_FIELD_NAME) {
            Some(id) => Check::pass(
                Item::WhmcsOrderIdField,
                format!("WHMCS product {}", product.pid),
                format!("has \"{ORDER_ID_FIELD_NAME}\" (custom field {id})"),
            ),
            None => Check::fail(
                Item::WhmcsOrderIdField,
                format!("WHMCS product {}", product.pid),
                format!("has no custom field \"{ORDER_ID_FIELD_NAME}\""),
                format!("add an admin-only text custom field named exactly \"{ORDER_ID_FIELD_NAME}\" to the product (Products/Services → Custom Fields); if it exists, note that GetProducts lists only fields WHMCS shows on the order form or marks admin-only"),
            ),
        });
    }
    checks
}

/// `WHMCS_PAYMENT_METHOD` against the active gateways (GetPaymentMethods, read-only).
pub fn check_payment_method(
    configured: &str,
    methods: Result<&[PaymentMethod], &WhmcsError>,
) -> Vec<Check> {
    let subject = format!("WHMCS_PAYMENT_METHOD \"{configured}\"");
    let check = match methods {
        Ok(methods) if methods.iter().any(|m| m.module == configured) => Check::pass(
            Item::WhmcsPaymentMethod,
            subject,
            "is an active payment gateway",
        ),
        Ok(methods) => {
            let names: Vec<&str> = methods.iter().map(|m| m.module.as_str()).collect();
            Check::fail(
                Item::WhmcsPaymentMethod,
                subject,
                "is not an active payment gateway",
                format!(
                    "set WHMCS_PAYMENT_METHOD to a gateway's system name ({}), or activate the gateway in WHMCS",
                    if names.is_empty() {
                        "none is active".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            )
        }
        Err(error) => Check::fail(
            Item::WhmcsPaymentMethod,
            subject,
            format!("could not be checked: GetPaymentMethods failed: {error}"),
            "allow GetPaymentMethods for the API credential's role",
        ),
    };
    vec![check]
}

#[cfg(test)]
mod tests {
    use salesforce::client::PicklistValue;
    use salesforce::schema::{self, order, order_provision_requested};
    use whmcs::{ProductCustomField, ProductPrice};

    use super::*;
    use crate::report::Status;

    /// A describe that matches the schema exactly, as the integration user sees it.
    fn describe_of(def: &ObjectDef) -> ObjectDescribe {
        let writable = access::required(def.name).create;
        ObjectDescribe {
            name: def.name.to_owned(),
            label: def.label.to_owned(),
            key_prefix: Some(def.key_prefix.to_owned()),
            createable: writable,
            updateable: writable,
            queryable: true,
            fields: def.all_fields().map(field_of).collect(),
        }
    }

    fn field_of(f: &FieldDef) -> FieldDescribe {
        let (values, restricted) = match f.kind {
            FieldType::Picklist { values, restricted } => (values, restricted),
            _ => (&[][..], false),
        };
        FieldDescribe {
            name: f.name.to_owned(),
            label: f.label.to_owned(),
            field_type: f.kind.describe_name().to_owned(),
            length: needed_length(f.kind).unwrap_or(255),
            nillable: !f.required,
            createable: f.createable,
            updateable: f.updateable,
            external_id: f.external_id,
            unique: f.unique,
            restricted_picklist: restricted,
            picklist_values: values
                .iter()
                .map(|v| PicklistValue {
                    value: (*v).to_owned(),
                    label: Some((*v).to_owned()),
                    active: true,
                    default_value: false,
                })
                .collect(),
            reference_to: vec![],
            relationship_name: None,
        }
    }

    fn failures(checks: &[Check]) -> Vec<String> {
        checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(Check::line)
            .collect()
    }

    #[test]
    fn when_the_org_matches_the_schema_every_check_should_pass() {
        for def in schema::OBJECTS {
            let checks = check_object(def, Some(&describe_of(def)));
            assert!(failures(&checks).is_empty(), "{:?}", failures(&checks));
        }
    }

    #[test]
    fn when_a_restricted_value_is_missing_the_fix_should_name_the_field_file() {
        let def = schema::object(order::OBJECT).expect("Order");
        let mut describe = describe_of(def);
        let field = describe
            .fields
            .iter_mut()
            .find(|f| f.name == order::ACTIVATION_STATUS)
            .expect("field");
        field.picklist_values.retain(|v| v.value != "Activating");
        let fails = failures(&check_object(def, Some(&describe)));
        assert_eq!(
            fails,
            vec![format!(
                "FAIL Order.Activation_Status__c picklist value \"Activating\" is missing — add it to the field's value set (or activate it) ({PACKAGE_DIR}/objects/Order/fields/Activation_Status__c.field-meta.xml): deploy with {DEPLOY}"
            )]
        );
    }

    #[test]
    fn when_types_lengths_or_access_differ_each_should_fail_once() {
        let def = schema::object("Account").expect("Account");
        let mut describe = describe_of(def);
        describe.updateable = false;
        for f in &mut describe.fields {
            match f.name.as_str() {
                "WH_Account__c" => f.field_type = "string".to_owned(),
                "Internet_Eligibility__c" => f.length = 80,
                "Portal_Status__c" => f.updateable = false,
                _ => {}
            }
        }
        describe
            .fields
            .retain(|f| f.name != "Id_Verification_Note__c");
        let fails = failures(&check_object(def, Some(&describe)));
        let subjects: Vec<&str> = fails
            .iter()
            .map(|l| l.split(' ').nth(1).unwrap_or_default())
            .collect();
        assert_eq!(
            subjects,
            [
                "Account",
                "Account.WH_Account__c",
                "Account.Internet_Eligibility__c",
                "Account.Id_Verification_Note__c",
                "Account.Portal_Status__c"
            ],
            "{fails:#?}"
        );
        assert!(fails[1].contains("change its type to Number(18, 0)"));
        assert!(fails[2].contains("raise its length to 255"));
    }

    #[test]
    fn fields_without_the_suffix_are_checked_and_their_fix_says_they_must_pre_exist() {
        let def = schema::object("Opportunity").expect("Opportunity");
        let mut describe = describe_of(def);
        describe.fields.retain(|f| f.name != "CommodityType");
        let fails = failures(&check_object(def, Some(&describe)));
        assert_eq!(fails.len(), 1);
        assert!(
            fails[0].contains("must already exist in the org"),
            "{}",
            fails[0]
        );
    }

    #[test]
    fn the_event_and_its_fields_are_checked() {
        let event = &order_provision_requested::DEF;
        let mut describe = ObjectDescribe {
            name: event.name.to_owned(),
            label: event.label.to_owned(),
            key_prefix: None,
            createable: false,
            updateable: false,
            queryable: false,
            fields: event.fields.iter().map(field_of).collect(),
        };
        assert!(failures(&check_event(event, Some(&describe))).is_empty());
        describe.fields.retain(|f| f.name != "IdemKey__c");
        let fails = failures(&check_event(event, Some(&describe)));
        assert_eq!(fails.len(), 1);
        assert!(fails[0].starts_with("FAIL OrderProvisionRequested__e.IdemKey__c is missing"));
        let missing = check_event(event, None);
        assert_eq!(missing[0].item, Item::EventCreated);
        assert_eq!(missing[0].status, Status::Fail);
    }

    #[test]
    fn a_refused_login_names_salesforces_description_and_the_fix() {
        let refused = |description: &str| AuthError::Refused {
            status: 400,
            error: "invalid_grant".to_owned(),
            description: description.to_owned(),
        };
        let check = &check_login(Err(&refused("user hasn't approved this consumer")))[0];
        assert_eq!(check.status, Status::Fail);
        assert!(check.message.contains("user hasn't approved this consumer"));
        assert!(
            check
                .fix
                .as_deref()
                .is_some_and(|f| f.contains("pre-authorise"))
        );
        let check = &check_login(Err(&refused("invalid assertion")))[0];
        assert_eq!(check.item, Item::Certificate);
        assert!(
            check
                .fix
                .as_deref()
                .is_some_and(|f| f.contains("upload the certificate"))
        );
        let check = &check_login(Err(&refused("audience is invalid")))[0];
        assert!(
            check
                .fix
                .as_deref()
                .is_some_and(|f| f.contains("SF_LOGIN_URL"))
        );
        assert!(
            check_login(Ok("005x"))
                .iter()
                .all(|c| c.status == Status::Pass)
        );
    }

    fn whmcs_product(pid: u32, cycle: BillingCycle, field: bool) -> Product {
        Product {
            pid,
            name: format!("P{pid}"),
            module: "autorelease".to_owned(),
            pay_type: "recurring".to_owned(),
            prices: vec![ProductPrice {
                currency: "JPY".to_owned(),
                cycle,
                amount: "1.00".to_owned(),
            }],
            custom_fields: if field {
                vec![ProductCustomField {
                    id: 7,
                    name: ORDER_ID_FIELD_NAME.to_owned(),
                    field_type: "text".to_owned(),
                    admin_only: true,
                }]
            } else {
                vec![]
            },
        }
    }

    fn entry(name: &str, pid: Option<&str>, cycle: &str) -> CatalogProduct {
        CatalogProduct {
            name: name.to_owned(),
            whmcs_product_id: pid.map(str::to_owned),
            billing_cycle: Some(cycle.to_owned()),
        }
    }

    #[test]
    fn whmcs_products_must_exist_in_their_cycle_with_the_order_id_field() {
        let products = [
            whmcs_product(101, BillingCycle::Monthly, true),
            whmcs_product(102, BillingCycle::Monthly, false),
            whmcs_product(302, BillingCycle::Annually, true),
        ];
        let catalog = [
            entry("Fine", Some("101"), "Monthly"),
            entry("No field", Some("102"), "Monthly"),
            entry("Wrong cycle", Some("302"), "Monthly"),
            entry("Unknown", Some("999"), "Monthly"),
            entry("Unmapped", None, "Monthly"),
        ];
        let fails = failures(&check_whmcs_products(&catalog, &products));
        assert_eq!(fails.len(), 4, "{fails:#?}");
        assert!(fails[0].starts_with("FAIL WHMCS product 102 has no custom field"));
        assert!(fails[1].contains("is billed monthly"));
        assert!(fails[2].contains("names WHMCS product 999, which WHMCS does not have"));
        assert!(fails[3].contains("has no WHMCS_Product_Id__c"));
    }

    #[test]
    fn the_payment_method_must_be_an_active_gateway() {
        let methods = [PaymentMethod {
            module: "banktransfer".to_owned(),
            display_name: "Bank Transfer".to_owned(),
        }];
        assert_eq!(
            check_payment_method("banktransfer", Ok(&methods))[0].status,
            Status::Pass
        );
        let fail = &check_payment_method("paypal", Ok(&methods))[0];
        assert_eq!(fail.status, Status::Fail);
        assert!(
            fail.fix
                .as_deref()
                .is_some_and(|f| f.contains("banktransfer"))
        );
    }
}
