//! An org lacking parts of the schema (`SchemaGaps`), and the platform event's describe.

use salesforce_emulator::{EmulatorConfig, SchemaGaps};
use serde_json::{Value, json};

use crate::helpers::{spawn, spawn_with};

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v[key].as_str().map(str::to_owned))
        .collect()
}

fn gaps() -> EmulatorConfig {
    EmulatorConfig {
        schema_gaps: SchemaGaps {
            missing_objects: vec!["OrderProvisionRequested__e"],
            missing_fields: vec![("Account", "Portal_Status__c")],
            missing_picklist_values: vec![("Account", "Id_Verification_Status__c", "Rejected")],
        },
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn a_missing_field_is_absent_from_describe_writes_reads_and_soql() {
    let org = spawn_with(gaps()).await;

    let describe = org.get("sobjects/Account/describe").await;
    let fields = names(&describe.body["fields"], "name");
    assert!(!fields.contains(&"Portal_Status__c".to_owned()));
    assert!(fields.contains(&"Portal_Registration_Source__c".to_owned()));

    let write = org
        .post(
            "sobjects/Account",
            json!({"Name": "Gap", "Portal_Status__c": "Active"}),
        )
        .await;
    assert_eq!((write.status, write.error_code()), (400, "INVALID_FIELD"));

    let id = org.account("Gap").await;
    let read = org.get(&format!("sobjects/Account/{id}")).await;
    assert_eq!(read.status, 200);
    assert!(read.body.get("Portal_Status__c").is_none(), "{}", read.text);
    assert_eq!(read.body["Name"], "Gap");
    let selected = org
        .get(&format!(
            "sobjects/Account/{id}?fields=Name,Portal_Status__c"
        ))
        .await;
    assert_eq!(selected.error_code(), "INVALID_FIELD");

    for soql in [
        "SELECT Portal_Status__c FROM Account",
        "SELECT Id FROM Account WHERE Portal_Status__c = 'Active'",
        "SELECT Id FROM Account ORDER BY Portal_Status__c",
        "SELECT Account.Portal_Status__c FROM Contact",
    ] {
        let q = org
            .get(&format!("query?q={}", soql.replace(' ', "+")))
            .await;
        assert_eq!((q.status, q.error_code()), (400, "INVALID_FIELD"), "{soql}");
        assert!(q.message().contains("Portal_Status__c"), "{soql}");
    }
    let fine = org.get("query?q=SELECT+Name+FROM+Account").await;
    assert_eq!(fine.status, 200, "{}", fine.text);
}

#[tokio::test]
async fn a_missing_picklist_value_is_absent_from_describe_and_refused_by_a_restricted_picklist() {
    let org = spawn_with(gaps()).await;
    let describe = org.get("sobjects/Account/describe").await;
    let field = describe.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Id_Verification_Status__c")
        .unwrap()
        .clone();
    assert_eq!(
        names(&field["picklistValues"], "value"),
        ["Pending", "Verified"]
    );
    let id = org.account("Picky").await;
    let refused = org
        .patch(
            &format!("sobjects/Account/{id}"),
            json!({"Id_Verification_Status__c": "Rejected"}),
        )
        .await;
    assert_eq!(
        refused.error_code(),
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    );
    let accepted = org
        .patch(
            &format!("sobjects/Account/{id}"),
            json!({"Id_Verification_Status__c": "Verified"}),
        )
        .await;
    assert_eq!(accepted.status, 204, "{}", accepted.text);
}

#[tokio::test]
async fn the_platform_event_is_described_and_can_be_missing() {
    let org = spawn().await;
    let event = org
        .get("sobjects/OrderProvisionRequested__e/describe")
        .await;
    assert_eq!(event.status, 200, "{}", event.text);
    assert_eq!(event.body["name"], "OrderProvisionRequested__e");
    assert_eq!(
        (
            event.body["createable"].clone(),
            event.body["queryable"].clone()
        ),
        (json!(false), json!(false)),
        "the integration user subscribes but does not publish"
    );
    let fields = names(&event.body["fields"], "name");
    for f in [
        "ReplayId",
        "OrderId__c",
        "IdemKey__c",
        "CorrelationId__c",
        "RequestedBy__c",
        "Version__c",
    ] {
        assert!(fields.contains(&f.to_owned()), "{f}");
    }
    let staff = org
        .admin("GET", "sobjects/OrderProvisionRequested__e/describe", None)
        .await;
    assert_eq!(staff.body["createable"], true);
    let global = org.get("sobjects").await;
    assert!(
        names(&global.body["sobjects"], "name").contains(&"OrderProvisionRequested__e".to_owned())
    );

    let lacking = spawn_with(gaps()).await;
    let missing = lacking
        .get("sobjects/OrderProvisionRequested__e/describe")
        .await;
    assert_eq!((missing.status, missing.error_code()), (404, "NOT_FOUND"));
    let global = lacking.get("sobjects").await;
    assert!(
        !names(&global.body["sobjects"], "name").contains(&"OrderProvisionRequested__e".to_owned())
    );
}

#[tokio::test]
async fn describe_reports_the_calling_users_object_permissions() {
    let org = spawn().await;
    for (object, writable) in [
        ("Account", true),
        ("Contact", true),
        ("Order", true),
        ("OrderItem", true),
        ("Opportunity", true),
        ("Case", true),
        ("Product2", false),
        ("PricebookEntry", false),
    ] {
        let d = org.get(&format!("sobjects/{object}/describe")).await;
        assert_eq!(
            (
                d.body["createable"].clone(),
                d.body["updateable"].clone(),
                d.body["queryable"].clone()
            ),
            (json!(writable), json!(writable), json!(true)),
            "{object}"
        );
        let staff = org
            .admin("GET", &format!("sobjects/{object}/describe"), None)
            .await;
        assert_eq!(staff.body["createable"], true, "{object}");
    }
}
