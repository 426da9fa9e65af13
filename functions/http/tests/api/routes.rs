//! Each route's success and failure paths.

use chrono::{Days, Utc};
use salesforce::schema::{account, case, opportunity};
use serde_json::json;

use crate::helpers::spawn_app;

fn today_in_tokyo() -> chrono::NaiveDate {
    (Utc::now() + chrono::TimeDelta::hours(9)).date_naive()
}

#[tokio::test]
async fn health_answers_without_a_token() {
    let app = spawn_app().await;
    let response = app.get("/health", "/health").send().await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json(), json!({"status": "ok"}));
}

#[tokio::test]
async fn registration_creates_once_then_returns_the_existing_account() {
    let app = spawn_app().await;
    let token = app.token("sub-1", "taro@example.jp", None);
    let body = json!({"firstName": "Taro", "lastName": "Yamada", "phone": "+81 3-1234-5678", "source": "checkout"});
    let first = app
        .post("/registrations")
        .token(&token)
        .json(&body)
        .send()
        .await;
    assert_eq!(first.status, 201);
    let created = first.json();
    assert_eq!(created["registrationSource"], "Portal Checkout");
    assert_eq!(created["customerNumber"], serde_json::Value::Null);
    let account_id = created["accountId"].as_str().unwrap();
    assert_eq!(
        app.emulator.record(account_id).unwrap()[account::PORTAL_STATUS],
        "Active"
    );

    let again = app
        .post("/registrations")
        .token(&token)
        .json(&body)
        .send()
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), created);
    assert_eq!(app.emulator.count("Contact"), 1);
}

#[tokio::test]
async fn registration_lists_every_bad_field() {
    let app = spawn_app().await;
    let token = app.token("sub-1", "taro@example.jp", None);
    let response = app
        .post("/registrations")
        .token(&token)
        .json(&json!({"lastName": "", "phone": "12", "source": "web"}))
        .send()
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(response.problem(), "validation-failed");
    let fields: Vec<_> = response.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["firstName", "lastName", "phone", "source"]);
    assert_eq!(app.emulator.count("Account"), 0);
}

#[tokio::test]
async fn account_shows_the_callers_portal_and_request_statuses() {
    let app = spawn_app().await;
    let (token, account_id) = app.customer("hanako").await;
    let response = app.get("/account", "/account").token(&token).send().await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["accountId"], account_id.as_str());
    assert_eq!(body["portalStatus"], "Active");
    assert_eq!(body["eligibility"]["status"], serde_json::Value::Null);
}

#[tokio::test]
async fn eligibility_request_is_accepted_once_and_shows_in_the_account() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let body = json!({"address": {"postalCode": "150-0001", "prefecture": "Tokyo", "city": "Shibuya-ku", "street": "1-2-3 Jingumae"}});
    let first = app
        .post("/eligibility-requests")
        .token(&token)
        .json(&body)
        .send()
        .await;
    assert_eq!(first.status, 202);
    assert_eq!(first.json()["status"], "Pending");
    let again = app
        .post("/eligibility-requests")
        .token(&token)
        .json(&body)
        .send()
        .await;
    assert_eq!(again.status, 202);
    assert_eq!(again.json()["caseId"], first.json()["caseId"]);
    assert_eq!(app.emulator.count(case::OBJECT), 1);
    let account = app.get("/account", "/account").token(&token).send().await;
    assert_eq!(account.json()["eligibility"]["status"], "Pending");

    let bad = app
        .post("/eligibility-requests")
        .token(&token)
        .json(&json!({"address": {"postalCode": "x", "prefecture": "Tokyo", "city": "Shibuya-ku", "street": "1"}}))
        .send()
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["errors"][0]["field"], "address.postalCode");
}

#[tokio::test]
async fn id_verification_is_accepted_and_refuses_unknown_documents() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let ok = app
        .post("/id-verifications")
        .token(&token)
        .json(&json!({"documentType": "passport"}))
        .send()
        .await;
    assert_eq!(ok.status, 202);
    assert_eq!(ok.json()["status"], "Pending");
    let bad = app
        .post("/id-verifications")
        .token(&token)
        .json(&json!({"documentType": "library_card"}))
        .send()
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["errors"][0]["field"], "documentType");
}

#[tokio::test]
async fn catalog_lists_products_with_prices_in_yen() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let response = app.get("/catalog", "/catalog").token(&token).send().await;
    assert_eq!(response.status, 200);
    let products = response.json()["products"].as_array().unwrap().clone();
    assert!(!products.is_empty());
    assert!(products.iter().all(|p| p["currency"] == "JPY"));
}

#[tokio::test]
async fn a_sim_order_is_placed_listed_and_shown_with_its_items() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let product = app.product(&token, "SIM").await;
    let placed = app
        .post("/orders")
        .token(&token)
        .json(&json!({"commodityType": "SIM", "items": [{"productId": product, "quantity": 2}]}))
        .send()
        .await;
    assert_eq!(placed.status, 201, "{:?}", placed.json());
    let placed = placed.json();
    assert_eq!(placed["status"], "Pending Review");
    assert_eq!(placed["activationStatus"], "Pending Review");
    let order_id = placed["orderId"].as_str().unwrap();

    let list = app.get("/orders", "/orders").token(&token).send().await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json()["orders"][0]["orderId"], order_id);

    let detail = app
        .get("/orders/{orderId}", &format!("/orders/{order_id}"))
        .token(&token)
        .send()
        .await;
    assert_eq!(detail.status, 200);
    let detail = detail.json();
    assert_eq!(detail["items"][0]["productId"], product.as_str());
    assert_eq!(detail["items"][0]["quantity"], 2);

    let missing = app
        .get("/orders/{orderId}", "/orders/not-an-id")
        .token(&token)
        .send()
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn an_order_with_bad_lines_names_each_one() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let product = app.product(&token, "SIM").await;
    let response = app
        .post("/orders")
        .token(&token)
        .json(&json!({"commodityType": "SIM", "items": [
            {"productId": product, "quantity": 100},
            {"productId": "01t000000000000AAA", "quantity": 1},
        ]}))
        .send()
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(response.json()["errors"][0]["field"], "items[0].quantity");
    assert_eq!(app.emulator.count("Order"), 0);
}

#[tokio::test]
async fn an_internet_order_waits_for_staff_to_check_eligibility_and_ready_the_application() {
    let app = spawn_app().await;
    let (token, account_id) = app.customer("hanako").await;
    let product = app.product(&token, "Internet").await;
    let order = json!({"commodityType": "Personal SonixNet Home Internet", "items": [{"productId": product, "quantity": 1}]});

    let early = app.post("/orders").token(&token).json(&order).send().await;
    assert_eq!(early.status, 409);
    assert_eq!(early.problem(), "eligibility-not-checked");

    let requested = app
        .post("/eligibility-requests")
        .token(&token)
        .json(&json!({"address": {"postalCode": "1500001", "prefecture": "Tokyo", "city": "Shibuya-ku", "street": "1-2-3"}}))
        .send()
        .await;
    assert_eq!(requested.status, 202);
    app.mark_eligibility_checked(&account_id);
    let not_ready = app.post("/orders").token(&token).json(&order).send().await;
    assert_eq!(not_ready.status, 409);
    assert_eq!(not_ready.problem(), "application-not-ready");

    let opportunity_id = requested.json()["opportunityId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.emulator
        .update(
            opportunity::OBJECT,
            &opportunity_id,
            json!({opportunity::STAGE: "Ready"}),
        )
        .unwrap();
    let placed = app.post("/orders").token(&token).json(&order).send().await;
    assert_eq!(placed.status, 201, "{:?}", placed.json());
    assert_eq!(placed.json()["opportunityId"], opportunity_id.as_str());
}

#[tokio::test]
async fn a_cancellation_is_requested_once_for_an_active_service() {
    let app = spawn_app().await;
    let (token, account_id) = app.customer("hanako").await;
    app.active_service(&account_id, 31);
    let date = today_in_tokyo()
        .checked_add_days(Days::new(10))
        .unwrap()
        .to_string();
    let body = json!({"serviceId": 31, "cancellationDate": date, "reason": "moving"});
    let first = app
        .post("/cancellations")
        .token(&token)
        .json(&body)
        .send()
        .await;
    assert_eq!(first.status, 202, "{:?}", first.json());
    assert_eq!(first.json()["stage"], "△Cancelling");
    let again = app
        .post("/cancellations")
        .token(&token)
        .json(&body)
        .send()
        .await;
    assert_eq!(again.status, 202);
    assert_eq!(again.json()["caseId"], first.json()["caseId"]);

    let past = app
        .post("/cancellations")
        .token(&token)
        .json(&json!({"serviceId": 31, "cancellationDate": "2020-01-01"}))
        .send()
        .await;
    assert_eq!(past.status, 422);
    assert_eq!(past.json()["errors"][0]["field"], "cancellationDate");

    let unknown = app
        .post("/cancellations")
        .token(&token)
        .json(&json!({"serviceId": 999, "cancellationDate": date}))
        .send()
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_support_case_is_opened_and_listed() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let opened = app
        .post("/support-cases")
        .token(&token)
        .json(&json!({"subject": "Router blinking", "description": "The light is red."}))
        .send()
        .await;
    assert_eq!(opened.status, 201);
    let list = app
        .get("/support-cases", "/support-cases")
        .token(&token)
        .send()
        .await;
    assert_eq!(list.status, 200);
    let cases = list.json()["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["caseId"], opened.json()["caseId"]);
    assert_eq!(cases[0]["type"], "General Inquiry");

    let bad = app
        .post("/support-cases")
        .token(&token)
        .json(&json!({"subject": 5}))
        .send()
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["errors"][0]["field"], "subject");
}

#[tokio::test]
async fn another_accounts_order_and_service_are_not_found() {
    let app = spawn_app().await;
    let (owner, owner_account) = app.customer("owner").await;
    let (intruder, _) = app.customer("intruder").await;
    let product = app.product(&owner, "SIM").await;
    let placed = app
        .post("/orders")
        .token(&owner)
        .json(&json!({"commodityType": "SIM", "items": [{"productId": product, "quantity": 1}]}))
        .send()
        .await;
    assert_eq!(placed.status, 201);
    let order_id = placed.json()["orderId"].as_str().unwrap().to_owned();
    app.active_service(&owner_account, 77);

    let peek = app
        .get("/orders/{orderId}", &format!("/orders/{order_id}"))
        .token(&intruder)
        .send()
        .await;
    assert_eq!(peek.status, 404);
    let listed = app.get("/orders", "/orders").token(&intruder).send().await;
    assert_eq!(listed.json()["orders"], json!([]));
    let date = today_in_tokyo().to_string();
    let cancel = app
        .post("/cancellations")
        .token(&intruder)
        .json(&json!({"serviceId": 77, "cancellationDate": date}))
        .send()
        .await;
    assert_eq!(cancel.status, 404);
    assert_eq!(app.emulator.count(case::OBJECT), 0);
}
