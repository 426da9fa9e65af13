//! The committed metadata package is what the schema generates, and the
//! hand-written flow and permission set name only fields the schema has.

use std::collections::BTreeSet;

use portal_doctor::metadata::{self, PERMISSION_SET};
use salesforce::schema::{self, order, order_provision_requested};

use crate::helpers::package_dir;

const REGENERATE: &str = "cargo run -p portal-doctor -- generate-metadata infra/salesforce";

#[test]
fn the_committed_metadata_is_what_the_schema_generates() {
    let root = package_dir();
    let generated = metadata::generate().expect("the schema generates");
    let mut problems = Vec::new();
    for (path, content) in &generated {
        match std::fs::read_to_string(root.join(path)) {
            Ok(committed) if committed == *content => {}
            Ok(_) => problems.push(format!("differs: {path}")),
            Err(_) => problems.push(format!("missing: {path}")),
        }
    }
    for path in metadata::existing_generated(&root).expect("the package is readable") {
        let relative = metadata::relative(&root, &path);
        if !generated.contains_key(&relative) {
            problems.push(format!("not generated any more: {relative}"));
        }
    }
    assert!(
        problems.is_empty(),
        "the Salesforce metadata package is out of date with salesforce::schema; run `{REGENERATE}` and commit the result:\n{}",
        problems.join("\n")
    );
}

/// The texts of every `<tag>…</tag>` in `xml`.
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split(&close).next())
        .collect()
}

/// The `<section>…</section>` blocks of `xml`.
fn blocks<'a>(xml: &'a str, section: &str) -> Vec<&'a str> {
    elements(xml, section)
}

fn event_field_names() -> BTreeSet<&'static str> {
    order_provision_requested::DEF
        .fields
        .iter()
        .map(|f| f.name)
        .collect()
}

#[test]
fn the_flow_names_only_schema_fields_and_publishes_every_event_field() {
    let flow = std::fs::read_to_string(package_dir().join("flows/Order_Approval.flow-meta.xml"))
        .expect("the flow is committed");
    let order_def = schema::object(order::OBJECT).expect("Order");

    let start = blocks(&flow, "start").concat();
    assert_eq!(elements(&start, "object"), ["Order"]);
    assert_eq!(elements(&start, "triggerType"), ["RecordAfterSave"]);
    let entry = elements(&start, "filterFormula").concat();
    assert!(entry.contains("{!$Record.Status}") && entry.contains("&quot;Approved&quot;"));
    assert!(
        entry.contains("{!$Record.Activation_Status__c}")
            && entry.contains("&quot;Activating&quot;")
    );
    for reference in flow.split("$Record.").skip(1) {
        let name: String = reference
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        assert!(
            order_def.field(&name).is_some(),
            "$Record.{name} is no Order field"
        );
    }

    let updates = blocks(&flow, "recordUpdates").concat();
    let updated: Vec<&str> = elements(&updates, "field");
    assert_eq!(
        updated,
        [
            order::ACTIVATION_STATUS,
            order::ACTIVATION_ERROR,
            order::ACTIVATION_ERROR_AT
        ]
    );
    for field in &updated {
        assert!(
            order_def.field(field).is_some_and(|f| f.updateable),
            "{field}"
        );
    }

    let creates = blocks(&flow, "recordCreates").concat();
    assert_eq!(
        elements(&creates, "object"),
        [order_provision_requested::EVENT]
    );
    let published: BTreeSet<&str> = elements(&creates, "field").into_iter().collect();
    assert_eq!(published, event_field_names());
    assert!(creates.contains("<elementReference>$User.Id</elementReference>"));
    assert!(flow.contains("TEXT({!$Flow.CurrentDateTime})"));
}

#[test]
fn the_permission_set_names_only_package_fields_and_known_objects() {
    let set = std::fs::read_to_string(package_dir().join(format!(
        "permissionsets/{PERMISSION_SET}.permissionset-meta.xml"
    )))
    .expect("the permission set is committed");
    let fields = elements(&set, "field");
    assert!(!fields.is_empty());
    for qualified in &fields {
        let (object, field) = qualified.split_once('.').expect("Object.Field");
        let def = schema::object(object)
            .and_then(|o| o.field(field))
            .unwrap_or_else(|| panic!("{qualified} is not in the schema"));
        assert!(def.custom && def.name.ends_with("__c"), "{qualified}");
    }
    // Every custom field of a permissionable object is covered.
    for object in portal_doctor::access::PERMISSIONABLE_OBJECTS {
        let def = schema::object(object).expect("a schema object");
        for field in def
            .fields
            .iter()
            .filter(|f| portal_doctor::access::in_package(f))
        {
            let qualified = format!("{object}.{}", field.name);
            assert!(
                fields.contains(&qualified.as_str()),
                "{qualified} has no field-level security"
            );
        }
    }
    for object in elements(&set, "object") {
        let known = schema::object(object).is_some()
            || schema::PLATFORM_EVENTS.iter().any(|e| e.name == object);
        assert!(known, "{object}");
    }
    let event = blocks(&set, "objectPermissions")
        .into_iter()
        .find(|b| b.contains("<object>OrderProvisionRequested__e</object>"))
        .expect("the event has permissions");
    assert!(
        event.contains("<allowRead>true</allowRead>")
            && event.contains("<allowCreate>false</allowCreate>")
    );
}

#[test]
fn the_connected_app_template_has_the_guides_settings() {
    let app = std::fs::read_to_string(
        package_dir().join("connectedApps/Customer_Portal_Integration.connectedApp-meta.xml"),
    )
    .expect("the template is committed");
    assert_eq!(
        elements(&app, "scopes"),
        ["Api", "RefreshToken", "OfflineAccess"]
    );
    assert_eq!(elements(&app, "isAdminApproved"), ["true"]);
    assert!(app.contains("<certificate>-----BEGIN CERTIFICATE-----"));
    assert_eq!(elements(&app, "permissionSetName"), [PERMISSION_SET]);
}
