//! Customers see the product's words, staff see the details: whatever
//! Salesforce answers (a refused value, a missing field, an outage, a spent
//! limit) and whatever WHMCS said in `Activation_Error__c`, no response
//! carries an upstream error code, message or record id. Every problem is
//! also checked by the helpers (`assert_no_upstream_text`).

use portal_core::portal::orders::ACTIVATION_FAILED;
use salesforce::schema::{account, order};
use salesforce_emulator::{EmulatorConfig, Fault, SchemaGaps};
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_on};

fn registration() -> serde_json::Value {
    json!({"firstName": "Hanako", "lastName": "Yamada"})
}

#[tokio::test]
async fn a_value_salesforce_refuses_is_our_422_without_its_message_or_field_names() {
    let app = spawn_app_on(EmulatorConfig {
        schema_gaps: SchemaGaps {
            missing_picklist_values: vec![(
                account::OBJECT,
                account::REGISTRATION_SOURCE,
                "Portal Signup",
            )],
            ..SchemaGaps::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let response = app
        .post("/registrations")
        .token(&app.token("sub-1", "hanako@example.jp", None))
        .key("refused")
        .json(&registration())
        .send()
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(response.problem(), "rejected");
    let body = response.json();
    assert!(
        body.get("errors").is_none(),
        "the refused field is not one the customer wrote: {body}"
    );
    let text = body.to_string();
    for upstream in ["Portal Signup", "restricted picklist", "Registration"] {
        assert!(!text.contains(upstream), "{upstream}: {text}");
    }
}

#[tokio::test]
async fn a_salesforce_failure_is_our_502_without_its_text() {
    let app = spawn_app_on(EmulatorConfig {
        schema_gaps: SchemaGaps {
            missing_fields: vec![(account::OBJECT, account::REGISTRATION_SOURCE)],
            ..SchemaGaps::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let response = app
        .post("/registrations")
        .token(&app.token("sub-1", "hanako@example.jp", None))
        .key("failing")
        .json(&registration())
        .send()
        .await;
    assert_eq!(response.status, 502, "{:?}", response.json());
    assert_eq!(response.problem(), "upstream-failed");
    let text = response.json().to_string();
    for upstream in ["No such column", "INVALID_FIELD", "Account"] {
        assert!(!text.contains(upstream), "{upstream}: {text}");
    }
}

#[tokio::test]
async fn outages_locks_and_spent_limits_are_our_503_without_their_text() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let case = json!({"subject": "Hi", "description": "Hello"});
    let faults = [
        (Fault::ServiceUnavailable(5), "outage"),
        (Fault::LockRowOnNextWrites(5), "lock"),
        (
            Fault::RequestLimitExceeded {
                n: 5,
                concurrent: false,
            },
            "daily-limit",
        ),
        (
            Fault::RequestLimitExceeded {
                n: 5,
                concurrent: true,
            },
            "concurrent-limit",
        ),
    ];
    for (fault, what) in faults {
        app.emulator.inject(fault);
        let write = app
            .post("/support-cases")
            .token(&token)
            .key(&format!("case-{what}"))
            .json(&case)
            .send()
            .await;
        app.emulator.clear_faults();
        assert_eq!(write.status, 503, "{what}: {:?}", write.json());
        assert!(write.header("retry-after").is_some(), "{what}");
        let text = write.json().to_string();
        for upstream in [
            "html",
            "HTML",
            "UNABLE_TO_LOCK_ROW",
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests",
        ] {
            assert!(!text.contains(upstream), "{what}: {upstream}: {text}");
        }
    }
}

#[tokio::test]
async fn a_failed_activation_is_told_in_our_words_never_whmcs_or_salesforce_text() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let product = app.product(&token, "SIM").await;
    let placed = app
        .post("/orders")
        .token(&token)
        .key("order")
        .json(&json!({"commodityType": "SIM", "items": [{"productId": product, "quantity": 1}]}))
        .send()
        .await;
    assert_eq!(placed.status, 201);
    let order_id = placed.json()["orderId"].as_str().unwrap().to_owned();
    let staff_text =
        "WHMCS: Product ID 12 has no custom field 7; DUPLICATE_VALUE on 003000000000001AAA";
    app.emulator
        .update(
            order::OBJECT,
            &order_id,
            json!({order::ACTIVATION_STATUS: "Failed", order::ACTIVATION_ERROR: staff_text}),
        )
        .unwrap();
    let detail = app
        .get("/orders/{orderId}", &format!("/orders/{order_id}"))
        .token(&token)
        .send()
        .await;
    assert_eq!(detail.status, 200);
    let body = detail.json();
    assert_eq!(body["activationStatus"], "Failed");
    assert_eq!(body["activationError"], ACTIVATION_FAILED);
    let listed = app.get("/orders", "/orders").token(&token).send().await;
    for text in [body.to_string(), listed.json().to_string()] {
        for upstream in [
            "WHMCS",
            "custom field",
            "DUPLICATE_VALUE",
            "003000000000001",
        ] {
            assert!(!text.contains(upstream), "{upstream}: {text}");
        }
    }
}
