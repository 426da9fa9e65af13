//! The Lambda wiring of `portal-api`: the real binary, started as Lambda
//! starts it, polls a Lambda Runtime API emulator and answers API Gateway
//! HTTP API events with the right status, headers and body, one after the
//! other in the same process; a missing setting stops it before it takes an
//! event. Not timed (performance is in `benches/cold_start.rs`).

#[path = "../benches/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use lambda_runtime_emulator::{FunctionProcess, HttpApiEvent, HttpApiResponse, RuntimeApi};
use serde_json::{Value, json};

use common::{SigningKey, StateTable, lambda_env};

const BINARY: &str = env!("CARGO_BIN_EXE_portal-api");
/// Generous: a debug binary on a busy 2-core machine.
const ANSWER: Duration = Duration::from_secs(60);

async fn answer(api: &RuntimeApi, event: HttpApiEvent) -> HttpApiResponse {
    let id = api.enqueue(&event.to_json());
    let settled = api
        .wait_for(&id, ANSWER)
        .await
        .expect("the function answers");
    settled
        .http_response()
        .expect("a response, not an invocation error")
        .expect("an API Gateway HTTP API response")
}

#[tokio::test]
async fn the_lambda_binary_answers_api_gateway_events_through_the_runtime_api() {
    let emulator = common::emulator().await.expect("the org emulator starts");
    let key = SigningKey::generate().expect("a signing key");
    let account_id = emulator
        .insert(
            salesforce::schema::account::OBJECT,
            json!({salesforce::schema::account::NAME: "Lambda Customer"}),
        )
        .expect("seeding an Account");
    let state = StateTable::create().await;
    state
        .link("lambda", &account_id)
        .await
        .expect("linking the login");
    let api = RuntimeApi::start().await.expect("the Runtime API starts");
    let _function = FunctionProcess::spawn(
        Path::new(BINARY),
        &api.address(),
        lambda_env(&emulator, &key, &state),
    )
    .expect("portal-api starts");

    let health = answer(&api, HttpApiEvent::get("/health")).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.header("content-type"), Some("application/json"));
    assert_eq!(health.json().unwrap(), json!({"status": "ok"}));

    let token = key.token("lambda", None).unwrap();
    let calls = emulator.api_calls();
    let catalog = answer(&api, HttpApiEvent::get("/catalog").bearer(&token)).await;
    assert_eq!(catalog.status, 200, "{:?}", catalog.json());
    assert_eq!(emulator.api_calls() - calls, 1, "one Salesforce call");
    let stranger = key.token("stranger", None).unwrap();
    let unlinked = answer(&api, HttpApiEvent::get("/catalog").bearer(&stranger)).await;
    assert_eq!(
        unlinked.status, 403,
        "the link item decides, read from DynamoDB"
    );
    let products = catalog.json().unwrap()["products"].clone();
    let products = products.as_array().expect("a product list");
    assert!(!products.is_empty(), "the seeded catalog is listed");
    assert!(
        products
            .iter()
            .all(|p| p["productId"].is_string() && p["unitPrice"].is_number())
    );

    let unauthenticated = answer(&api, HttpApiEvent::get("/account")).await;
    assert_eq!(unauthenticated.status, 401);
    assert_eq!(
        unauthenticated.header("content-type"),
        Some("application/problem+json")
    );
    assert!(unauthenticated.header("www-authenticate").is_some());
    let problem: Value = unauthenticated.json().unwrap();
    assert_eq!(problem["status"], 401);

    let unknown = answer(&api, HttpApiEvent::get("/nowhere?x=1")).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.header("content-type"),
        Some("application/problem+json")
    );
    // The reference is off in the Lambda unless PORTAL_SERVE_DOCS says so.
    let contract = answer(&api, HttpApiEvent::get("/openapi.json")).await;
    assert_eq!(contract.status, 404, "docs are off by default");
    // One process served all six: it polled once per event, and once more.
    assert!(api.next_polls().len() >= 6, "{}", api.next_polls().len());
    assert!(api.init_error().is_none());
}

#[tokio::test]
async fn the_lambda_binary_stops_before_taking_an_event_when_a_setting_is_missing() {
    let emulator = common::emulator().await.expect("the org emulator starts");
    let key = SigningKey::generate().expect("a signing key");
    let state = StateTable::create().await;
    let api = RuntimeApi::start().await.expect("the Runtime API starts");
    let id = api.enqueue(&HttpApiEvent::get("/health").to_json());
    let env = lambda_env(&emulator, &key, &state)
        .into_iter()
        .filter(|(name, _)| name != "PORTAL_JWT_ISSUER");
    let mut function =
        FunctionProcess::spawn(Path::new(BINARY), &api.address(), env).expect("portal-api starts");
    let deadline = Instant::now() + ANSWER;
    let status = loop {
        if let Some(status) = function.try_wait().expect("the process can be watched") {
            break status;
        }
        assert!(Instant::now() < deadline, "portal-api did not stop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!status.success(), "{status}");
    assert!(api.next_polls().is_empty(), "it never polled for an event");
    assert!(api.settled(&id).is_none());
}

#[tokio::test]
async fn the_lambda_binary_serves_the_reference_when_asked_to() {
    let emulator = common::emulator().await.expect("the org emulator starts");
    let key = SigningKey::generate().expect("a signing key");
    let state = StateTable::create().await;
    let api = RuntimeApi::start().await.expect("the Runtime API starts");
    let env = lambda_env(&emulator, &key, &state)
        .into_iter()
        .chain([("PORTAL_SERVE_DOCS".to_owned(), "true".to_owned())]);
    let _function =
        FunctionProcess::spawn(Path::new(BINARY), &api.address(), env).expect("portal-api starts");

    let contract = answer(&api, HttpApiEvent::get("/openapi.json")).await;
    assert_eq!(contract.status, 200, "no token needed");
    assert_eq!(contract.header("content-type"), Some("application/json"));
    assert_eq!(
        contract.json().unwrap(),
        serde_json::from_str::<Value>(portal_http::OPENAPI_JSON).unwrap(),
        "the contract, as the crate holds it"
    );
    let page = answer(&api, HttpApiEvent::get("/docs/")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        page.header("content-type")
    );
}
