//! Issue 13, the portal team's contract: `GET /services`, `serviceId` on
//! orders, `orderable` on the account, ID documents as `multipart/form-data`
//! stored as Salesforce Files, and the `Idempotency-Key` every POST needs —
//! over HTTP against the org emulator, every response checked against
//! `openapi.json` by the helpers.

use salesforce::schema::{
    account, case, content_document_link, content_version, opportunity, order,
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
/// The first bytes of a Windows program (`MZ`).
const EXE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00";

/// An Order of `account_id` on a provisioned (`Active`) SIM Opportunity with
/// WHMCS service `service_id`, as the provisioner leaves it.
async fn provisioned_sim(app: &TestApp, token: &str, account_id: &str, service_id: u64) -> String {
    let product = app.product(token, "SIM").await;
    let placed = app
        .post("/orders")
        .token(token)
        .json(&json!({"commodityType": "SIM", "items": [{"productId": product, "quantity": 1}]}))
        .send()
        .await;
    assert_eq!(placed.status, 201, "{:?}", placed.json());
    let body = placed.json();
    let opportunity_id = body["opportunityId"].as_str().expect("an Opportunity");
    app.emulator
        .update(
            opportunity::OBJECT,
            opportunity_id,
            json!({opportunity::STAGE: "Active", opportunity::WHMCS_SERVICE_ID: service_id}),
        )
        .expect("staff provision the service");
    assert_eq!(
        app.emulator
            .record(opportunity_id)
            .expect("the Opportunity")[opportunity::ACCOUNT_ID],
        account_id
    );
    body["orderId"].as_str().expect("an Order").to_owned()
}

#[tokio::test]
async fn services_list_the_callers_provisioned_services_in_one_call_and_orders_carry_the_service_id()
 {
    let app = spawn_app().await;
    let (token, account_id) = app.customer("hanako").await;
    let (theirs, their_account) = app.customer("taro").await;
    let order_id = provisioned_sim(&app, &token, &account_id, 9001).await;
    provisioned_sim(&app, &theirs, &their_account, 9002).await;

    let calls = app.emulator.api_calls();
    let services = app.get("/services", "/services").token(&token).send().await;
    assert_eq!(app.emulator.api_calls() - calls, 1, "one Salesforce call");
    assert_eq!(services.status, 200);
    let listed = services.json()["services"].as_array().unwrap().clone();
    assert_eq!(
        listed.len(),
        1,
        "another account's service is absent: {listed:?}"
    );
    assert_eq!(listed[0]["serviceId"], 9001);
    assert_eq!(listed[0]["stage"], "Active");
    assert_eq!(listed[0]["commodityType"], "SIM");
    assert_eq!(listed[0]["orderId"], order_id.as_str());
    assert!(
        listed[0]["product"]["name"]
            .as_str()
            .unwrap()
            .contains("SIM")
    );

    let orders = app.get("/orders", "/orders").token(&token).send().await;
    assert_eq!(orders.json()["orders"][0]["serviceId"], 9001);
    let path = format!("/orders/{order_id}");
    let detail = app
        .get("/orders/{orderId}", &path)
        .token(&token)
        .send()
        .await;
    assert_eq!(detail.json()["serviceId"], 9001);

    // The walkthrough's last step: cancel the service the list named.
    let today = (chrono::Utc::now() + chrono::TimeDelta::hours(9)).date_naive();
    let cancelled = app
        .post("/cancellations")
        .token(&token)
        .json(&json!({"serviceId": listed[0]["serviceId"], "cancellationDate": today.to_string()}))
        .send()
        .await;
    assert_eq!(cancelled.status, 202, "{:?}", cancelled.json());
    let after = app.get("/services", "/services").token(&token).send().await;
    assert_eq!(after.json()["services"][0]["stage"], "△Cancelling");
    assert!(after.json()["services"][0]["scheduledCancellationAt"].is_string());
    // Someone else's service cannot be cancelled: it is not found.
    let foreign = app
        .post("/cancellations")
        .token(&token)
        .json(&json!({"serviceId": 9002, "cancellationDate": today.to_string()}))
        .send()
        .await;
    assert_eq!(foreign.status, 404);
}

/// `GET /account`, checked to cost one Salesforce call.
async fn account_view(app: &TestApp, token: &str) -> Value {
    let calls = app.emulator.api_calls();
    let response = app.get("/account", "/account").token(token).send().await;
    assert_eq!(response.status, 200);
    assert_eq!(
        app.emulator.api_calls() - calls,
        1,
        "GET /account is one call"
    );
    response.json()
}

fn orderable(account: &Value, commodity: &str) -> (bool, Option<String>) {
    let entry = account["orderable"]
        .as_array()
        .expect("orderable")
        .iter()
        .find(|e| e["commodityType"] == commodity)
        .unwrap_or_else(|| panic!("no {commodity} in {account}"))
        .clone();
    (
        entry["canOrder"].as_bool().expect("canOrder"),
        entry["reason"]["code"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn the_account_says_what_can_be_ordered_in_one_call_and_orders_agree() {
    let app = spawn_app().await;
    let (token, account_id) = app.customer("hanako").await;
    let home = "Personal SonixNet Home Internet";
    let fresh = account_view(&app, &token).await;
    assert_eq!(orderable(&fresh, "SIM"), (true, None));
    assert_eq!(orderable(&fresh, "VPN"), (true, None));
    assert_eq!(
        orderable(&fresh, home),
        (false, Some("eligibility-not-checked".into()))
    );

    let requested = app
        .post("/eligibility-requests")
        .token(&token)
        .json(&json!({"address": {"postalCode": "150-0001", "prefecture": "Tokyo", "city": "Shibuya-ku", "street": "1-2-3 Jingumae"}}))
        .send()
        .await;
    assert_eq!(requested.status, 202);
    let opportunity_id = requested.json()["opportunityId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        orderable(&account_view(&app, &token).await, home),
        (false, Some("eligibility-pending".into()))
    );

    app.mark_eligibility_checked(&account_id);
    assert_eq!(
        orderable(&account_view(&app, &token).await, home),
        (false, Some("application-not-ready".into()))
    );
    let plan = app.product(&token, "Internet").await;
    let order = json!({"commodityType": home, "items": [{"productId": plan, "quantity": 1}]});
    let refused = app.post("/orders").token(&token).json(&order).send().await;
    assert_eq!(
        (refused.status, refused.problem().as_str()),
        (409, "application-not-ready")
    );

    app.emulator
        .update(
            opportunity::OBJECT,
            &opportunity_id,
            json!({opportunity::STAGE: "Ready"}),
        )
        .unwrap();
    assert_eq!(
        orderable(&account_view(&app, &token).await, home),
        (true, None)
    );
    let placed = app.post("/orders").token(&token).json(&order).send().await;
    assert_eq!(
        placed.status,
        201,
        "what the account said: {:?}",
        placed.json()
    );

    // CS found another address not eligible: the Opportunity is Void.
    let corporate = "Corporate SonixNet Home Internet";
    app.emulator
        .insert(
            opportunity::OBJECT,
            json!({
                opportunity::NAME: "Corporate - eligibility",
                opportunity::ACCOUNT_ID: account_id,
                opportunity::COMMODITY_TYPE: corporate,
                opportunity::STAGE: "Void",
                opportunity::CLOSE_DATE: "2026-01-01",
            }),
        )
        .unwrap();
    assert_eq!(
        orderable(&account_view(&app, &token).await, corporate),
        (false, Some("not-eligible".into()))
    );
}

#[tokio::test]
async fn id_documents_are_stored_as_files_on_the_case_in_one_write() {
    let app = spawn_app().await;
    let (token, account_id) = app.customer("hanako").await;
    let calls = app.emulator.api_calls();
    let response = app
        .post("/id-verifications")
        .token(&token)
        .form(
            &[
                ("documentType", "residence_card"),
                ("notes", "Front and back"),
            ],
            &[
                ("documents", "front.jpg", JPEG),
                ("documents", "back.pdf", PDF),
            ],
        )
        .send()
        .await;
    assert_eq!(response.status, 202, "{:?}", response.json());
    assert_eq!(
        app.emulator.api_calls() - calls,
        2,
        "one read, one atomic write"
    );
    let body = response.json();
    let case_id = body["caseId"].as_str().unwrap();
    let documents = body["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 2);
    assert_eq!(documents[0]["fileName"], "front.jpg");
    assert_eq!(documents[0]["contentType"], "image/jpeg");
    assert_eq!(documents[1]["contentType"], "application/pdf");
    assert_eq!(documents[1]["size"], PDF.len());
    for document in documents {
        let version = app
            .emulator
            .record(document["contentVersionId"].as_str().unwrap())
            .expect("the ContentVersion");
        assert_eq!(version[content_version::FIRST_PUBLISH_LOCATION_ID], case_id);
        let links: Vec<Value> = app
            .emulator
            .records(content_document_link::OBJECT)
            .into_iter()
            .filter(|l| {
                l[content_document_link::CONTENT_DOCUMENT_ID]
                    == version[content_version::CONTENT_DOCUMENT_ID]
            })
            .collect();
        assert_eq!(links.len(), 1);
        assert_eq!(links[0][content_document_link::LINKED_ENTITY_ID], case_id);
    }
    let case = app.emulator.record(case_id).unwrap();
    assert_eq!(case[case::TYPE], "ID Verification");
    assert!(
        case[case::DESCRIPTION]
            .as_str()
            .unwrap()
            .contains("front.jpg")
    );
    assert_eq!(
        app.emulator.record(&account_id).unwrap()[account::ID_VERIFICATION_STATUS],
        "Pending"
    );

    // A repeat while pending: the open case, nothing stored.
    let repeat = app
        .post("/id-verifications")
        .token(&token)
        .form(
            &[("documentType", "passport")],
            &[("documents", "p.jpg", JPEG)],
        )
        .send()
        .await;
    assert_eq!(repeat.status, 202);
    assert_eq!(repeat.json()["caseId"], case_id);
    assert_eq!(repeat.json()["documents"], json!([]));
    assert_eq!(app.emulator.count(content_version::OBJECT), 2);

    // Staff reject it: a resubmission opens a new review.
    app.emulator
        .update(
            account::OBJECT,
            &account_id,
            json!({account::ID_VERIFICATION_STATUS: "Rejected"}),
        )
        .unwrap();
    let again = app
        .post("/id-verifications")
        .token(&token)
        .form(
            &[("documentType", "passport")],
            &[("documents", "passport.jpg", JPEG)],
        )
        .send()
        .await;
    assert_eq!(again.status, 202);
    assert_ne!(again.json()["caseId"], case_id, "a new review");
    assert_eq!(again.json()["documents"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.emulator.record(&account_id).unwrap()[account::ID_VERIFICATION_STATUS],
        "Pending"
    );
}

#[tokio::test]
async fn a_document_is_judged_by_its_bytes_and_its_size() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let exe = app
        .post("/id-verifications")
        .token(&token)
        .form(
            &[("documentType", "passport")],
            &[
                ("documents", "ok.jpg", JPEG),
                ("documents", "setup.jpg", EXE),
            ],
        )
        .send()
        .await;
    assert_eq!(exe.status, 422);
    assert_eq!(exe.problem(), "validation-failed");
    let error = &exe.json()["errors"][0];
    assert_eq!(error["field"], "documents[1]");
    assert!(
        error["message"].as_str().unwrap().contains("\"setup.jpg\""),
        "{error}"
    );

    let mut big = vec![0u8; 4 * 1024 * 1024 + 1];
    big[..3].copy_from_slice(&JPEG[..3]);
    let oversized = app
        .post("/id-verifications")
        .token(&token)
        .form(
            &[("documentType", "passport")],
            &[("documents", "scan.jpg", &big)],
        )
        .send()
        .await;
    assert_eq!(oversized.status, 413);
    assert_eq!(oversized.problem(), "payload-too-large");
    assert_eq!(oversized.json()["errors"][0]["field"], "documents[0]");
    assert!(
        oversized.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("\"scan.jpg\"")
    );

    let mut second = vec![0u8; 1024 * 1024];
    second[..3].copy_from_slice(&JPEG[..3]);
    big.truncate(4 * 1024 * 1024);
    let together = app
        .post("/id-verifications")
        .token(&token)
        .form(
            &[("documentType", "passport")],
            &[
                ("documents", "a.jpg", &big),
                ("documents", "b.jpg", &second),
            ],
        )
        .send()
        .await;
    assert_eq!(together.status, 413, "over the 4.4 MB body limit");

    for (files, message) in [
        (Vec::new(), "must have 1 or 2 files"),
        (
            vec![("documents", "a.jpg", JPEG); 3],
            "must have at most 2 files",
        ),
    ] {
        let response = app
            .post("/id-verifications")
            .token(&token)
            .form(&[("documentType", "passport")], &files)
            .send()
            .await;
        assert_eq!(response.status, 422);
        assert_eq!(
            response.json()["errors"][0],
            json!({"field": "documents", "message": message})
        );
    }
    let as_json = app
        .post("/id-verifications")
        .token(&token)
        .json(&json!({"documentType": "passport", "notes": null}))
        .send()
        .await;
    assert_eq!(as_json.status, 415);
    assert!(
        as_json.json()["detail"]
            .as_str()
            .unwrap()
            .contains("multipart/form-data")
    );
    assert_eq!(app.emulator.count(content_version::OBJECT), 0);
    assert_eq!(app.emulator.count(case::OBJECT), 0);
    assert_eq!(app.emulator.count(order::OBJECT), 0);
}

#[tokio::test]
async fn every_post_without_an_idempotency_key_is_400_naming_the_header() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    for route in [
        "/registrations",
        "/eligibility-requests",
        "/id-verifications",
        "/orders",
        "/cancellations",
        "/support-cases",
    ] {
        let response = app
            .post(route)
            .token(&token)
            .json(&json!({}))
            .without_key()
            .send()
            .await;
        if route == "/id-verifications" {
            // The media type is checked first (401/403, 415, 400, 413).
            assert_eq!(response.status, 415, "{route}");
            continue;
        }
        assert_eq!(response.status, 400, "{route}");
        assert_eq!(response.problem(), "idempotency-key-missing", "{route}");
        assert_eq!(
            response.json()["title"],
            "The Idempotency-Key header is required"
        );
        assert_eq!(
            response.json()["errors"][0]["field"],
            "Idempotency-Key",
            "{route}"
        );
    }
    let form = app
        .post("/id-verifications")
        .token(&token)
        .form(
            &[("documentType", "passport")],
            &[("documents", "a.jpg", JPEG)],
        )
        .without_key()
        .send()
        .await;
    assert_eq!(
        (form.status, form.problem().as_str()),
        (400, "idempotency-key-missing")
    );
    assert_eq!(
        app.emulator.count(case::OBJECT),
        0,
        "nothing written without a key"
    );
}
