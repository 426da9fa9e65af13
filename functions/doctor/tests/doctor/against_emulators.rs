//! The doctor against the emulated org and WHMCS over HTTP.

use portal_doctor::{Item, Status};
use salesforce_emulator::{SchemaGaps, fixtures};
use serde_json::json;

use crate::helpers::{run_binary, world};

/// An org lacking an Account field, an Order picklist value and an event field.
fn gaps() -> SchemaGaps {
    SchemaGaps {
        missing_objects: vec![],
        missing_fields: vec![
            ("Account", "Portal_Registration_Source__c"),
            ("OrderProvisionRequested__e", "IdemKey__c"),
        ],
        missing_picklist_values: vec![("Order", "Activation_Status__c", "Activating")],
    }
}

#[tokio::test]
async fn a_complete_org_and_whmcs_pass_every_line() {
    let world = world(SchemaGaps::default()).await;
    let report = world.doctor().run().await;

    let failures: Vec<String> = report.failures().map(|c| c.line()).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(report.exit_code(), 0);
    for item in Item::ALL {
        let checks: Vec<_> = report.checks.iter().filter(|c| c.item == item).collect();
        assert!(!checks.is_empty(), "no check for {item:?}");
    }
    // Every schema object and field was looked at, and WHMCS products were matched.
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.subject == "Opportunity.CommodityType")
    );
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.subject == "Case.OpportunityId")
    );
    let matched = report
        .checks
        .iter()
        .filter(|c| c.item == Item::WhmcsOrderIdField && c.status == Status::Pass)
        .count();
    assert_eq!(matched, 9, "the nine active products each have the field");
    let text = report.to_text();
    assert!(!text.contains("FAIL"), "{text}");
    assert!(!text.contains("local-admin") && !text.contains("PRIVATE KEY"));
}

#[tokio::test]
async fn an_org_missing_a_field_a_value_and_an_event_field_and_an_unknown_whmcs_product_fail_exactly_those_lines()
 {
    let world = world(gaps()).await;
    world
        .org
        .insert(
            "Product2",
            json!({"Name": "Legacy Router", "IsActive": true, "WHMCS_Product_Id__c": "999", "Billing_Cycle__c": "Monthly"}),
        )
        .expect("staff may add a product");

    let report = world.doctor().run().await;

    let failures: Vec<(Item, String, String)> = report
        .failures()
        .map(|c| (c.item, c.subject.clone(), c.message.clone()))
        .collect();
    assert_eq!(
        failures,
        vec![
            (
                Item::AccountFields,
                "Account.Portal_Registration_Source__c".to_owned(),
                "is missing (or hidden from the integration user)".to_owned()
            ),
            (
                Item::OrderFields,
                "Order.Activation_Status__c".to_owned(),
                "picklist value \"Activating\" is missing".to_owned()
            ),
            (
                Item::EventFields,
                "OrderProvisionRequested__e.IdemKey__c".to_owned(),
                "is missing".to_owned()
            ),
            (
                Item::WhmcsProducts,
                "Product2 \"Legacy Router\"".to_owned(),
                "names WHMCS product 999, which WHMCS does not have".to_owned()
            ),
        ]
    );
    let fixes: Vec<&str> = report.failures().filter_map(|c| c.fix.as_deref()).collect();
    assert!(
        fixes[0].contains("objects/Account/fields/Portal_Registration_Source__c.field-meta.xml")
    );
    assert!(fixes[1].contains("add it to the field's value set"));
    assert!(fixes[1].contains("objects/Order/fields/Activation_Status__c.field-meta.xml"));
    assert!(
        fixes[2].contains("objects/OrderProvisionRequested__e/fields/IdemKey__c.field-meta.xml")
    );
    assert!(fixes[3].contains("create the product in WHMCS"));
    assert_eq!(report.exit_code(), 1);
}

#[tokio::test]
async fn the_binary_exits_1_with_the_failing_lines_and_0_on_a_complete_world() {
    let broken = world(gaps()).await;
    let run = run_binary(broken.env(), &[]).await;
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("    FAIL Order.Activation_Status__c picklist value \"Activating\" is missing — add it to the field's value set"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  FAIL All Account custom fields created\n")
    );
    assert!(
        run.stdout
            .contains("  PASS Product2 WHMCS mapping fields created\n")
    );
    assert!(
        !run.stdout.contains("BEGIN"),
        "no key material in the output"
    );

    let json = run_binary(broken.env(), &["--json"]).await;
    assert_eq!(json.code, Some(1));
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON output");
    assert_eq!(parsed["passed"], false);
    let failing = parsed["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "FAIL")
        .count();
    assert_eq!(failing, 3);

    let complete = world(SchemaGaps::default()).await;
    let run = run_binary(complete.env(), &[]).await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("checks passed."), "{}", run.stdout);
}

#[tokio::test]
async fn bad_credentials_fail_the_login_line_with_salesforces_description() {
    let world = world(SchemaGaps::default()).await;
    let report = world
        .doctor_with_key(fixtures::WRONG_PRIVATE_KEY_PEM)
        .run()
        .await;

    let first = report.failures().next().expect("a failure");
    assert_eq!(first.item, Item::Certificate);
    assert!(
        first.message.contains("invalid_grant: invalid assertion"),
        "{}",
        first.message
    );
    assert!(
        first
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("upload the certificate"))
    );
    let text = report.to_text();
    let first_fail = text
        .lines()
        .find(|l| l.contains("FAIL "))
        .expect("a FAIL line");
    assert!(first_fail.contains("Certificate uploaded"), "{text}");
    assert!(text.contains("invalid assertion"));
    // Nothing of the org could be checked; WHMCS still was.
    assert!(!report.checks.iter().any(|c| c.item == Item::AccountFields));
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.item == Item::WhmcsCredentials && c.status == Status::Pass)
    );
    assert_eq!(report.exit_code(), 1);
}

#[tokio::test]
async fn a_missing_setting_exits_2_naming_the_variable() {
    let world = world(SchemaGaps::default()).await;
    let mut env = world.env();
    env.retain(|(k, _)| *k != "WHMCS_PAYMENT_METHOD");
    let run = run_binary(env, &[]).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("WHMCS_PAYMENT_METHOD"),
        "{}",
        run.stderr
    );
    let run = run_binary(vec![], &[]).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("SF_LOGIN_URL"), "{}", run.stderr);
}
