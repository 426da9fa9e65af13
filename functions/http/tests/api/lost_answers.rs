//! Issue 12, defect 1: a POST whose write Salesforce committed but whose
//! answer was lost (late past the client's timeout: `commitThenStall`; the
//! connection dropped: `commitThenDrop`). For every POST route: the client is
//! told the outcome is unknown and to retry with the same key, the key stays
//! reserved, the retry answers the first attempt's records, and Salesforce
//! holds exactly one record set. Also: a retry that arrives while the first
//! attempt is still in flight at Salesforce, and a key whose outcome is
//! unknown reused with another body.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use portal_http::Limits;
use salesforce::schema::{account, case, contact, opportunity, order, order_item};
use salesforce_emulator::Fault;
use serde_json::{Value, json};

use crate::helpers::{Call, Response, TestApp, spawn_app_with_timeouts};

/// The smallest PNG the API takes as one: its signature.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A route's body on a call: JSON, or for `POST /id-verifications` the
/// multipart form (`documentType`, one PNG, and `unusedField` as `notes` so
/// that another body is another request).
trait RouteBody {
    fn route_body(self, route: Route, body: &Value) -> Self;
}

impl RouteBody for Call<'_> {
    fn route_body(self, route: Route, body: &Value) -> Self {
        if route != Route::IdVerifications {
            return self.json(body);
        }
        let mut fields = vec![("documentType", body["documentType"].as_str().unwrap_or(""))];
        if let Some(notes) = body["unusedField"].as_str() {
            fields.push(("notes", notes));
        }
        self.form(&fields, &[("documents", "card.png", PNG)])
    }
}

/// How long the API's Salesforce client waits for an answer in these tests.
const SALESFORCE_TIMEOUT: Duration = Duration::from_millis(1_000);
/// How long a stalled answer is held: well past the client's timeout.
const STALL: Duration = Duration::from_millis(4_000);

/// The POST routes, each with what one request writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Registrations,
    EligibilityRequests,
    IdVerifications,
    Orders,
    Cancellations,
    SupportCases,
}

impl Route {
    fn path(self) -> &'static str {
        match self {
            Self::Registrations => "/registrations",
            Self::EligibilityRequests => "/eligibility-requests",
            Self::IdVerifications => "/id-verifications",
            Self::Orders => "/orders",
            Self::Cancellations => "/cancellations",
            Self::SupportCases => "/support-cases",
        }
    }

    fn success(self) -> u16 {
        match self {
            Self::Registrations | Self::Orders | Self::SupportCases => 201,
            Self::EligibilityRequests | Self::IdVerifications | Self::Cancellations => 202,
        }
    }

    /// One request's record set: how many records of each object it creates.
    fn record_set(self) -> &'static [(&'static str, usize)] {
        match self {
            Self::Registrations => &[(account::OBJECT, 1), (contact::OBJECT, 1)],
            Self::EligibilityRequests => &[(opportunity::OBJECT, 1), (case::OBJECT, 1)],
            Self::IdVerifications | Self::Cancellations | Self::SupportCases => {
                &[(case::OBJECT, 1)]
            }
            Self::Orders => &[
                (opportunity::OBJECT, 1),
                (order::OBJECT, 1),
                (order_item::OBJECT, 1),
            ],
        }
    }

    /// The response fields naming records the request created, with their object.
    fn created_ids(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Registrations => &[
                ("accountId", account::OBJECT),
                ("contactId", contact::OBJECT),
            ],
            Self::EligibilityRequests => &[
                ("caseId", case::OBJECT),
                ("opportunityId", opportunity::OBJECT),
            ],
            Self::IdVerifications | Self::Cancellations | Self::SupportCases => {
                &[("caseId", case::OBJECT)]
            }
            Self::Orders => &[
                ("orderId", order::OBJECT),
                ("opportunityId", opportunity::OBJECT),
            ],
        }
    }
}

/// A caller ready to send one route's request.
struct Prepared {
    token: String,
    body: Value,
}

async fn prepare(app: &TestApp, route: Route) -> Prepared {
    if route == Route::Registrations {
        return Prepared {
            token: app.token("sub-new", "new.customer@example.jp", None),
            body: json!({"firstName": "Hanako", "lastName": "Lost", "phone": "+81 3-1234-5678"}),
        };
    }
    let (token, account_id) = app.customer("hanako").await;
    let body = match route {
        Route::Registrations => unreachable!("handled above"),
        Route::EligibilityRequests => json!({"address": {
            "postalCode": "150-0001", "prefecture": "Tokyo",
            "city": "Shibuya-ku", "street": "1-2-3 Jingumae"
        }}),
        Route::IdVerifications => json!({"documentType": "passport"}),
        Route::Orders => {
            let sim = app.product(&token, "SIM").await;
            json!({"commodityType": "SIM", "items": [{"productId": sim, "quantity": 1}]})
        }
        Route::Cancellations => {
            app.active_service(&account_id, 31);
            let date = Utc::now()
                .date_naive()
                .checked_add_days(Days::new(14))
                .expect("a date");
            json!({"serviceId": 31, "cancellationDate": date.to_string(), "reason": "Moving"})
        }
        Route::SupportCases => {
            json!({"subject": "Router blinking", "description": "Since yesterday."})
        }
    };
    Prepared { token, body }
}

/// The ids of every record of each object a route writes.
type Snapshot = Vec<(&'static str, BTreeSet<String>)>;

fn ids(app: &TestApp, object: &str) -> BTreeSet<String> {
    app.emulator
        .records(object)
        .iter()
        .map(|r| r["Id"].as_str().expect("every record has an Id").to_owned())
        .collect()
}

fn snapshot(app: &TestApp, route: Route) -> Snapshot {
    route
        .record_set()
        .iter()
        .map(|(object, _)| (*object, ids(app, object)))
        .collect()
}

/// The records created since `before`, per object.
fn created_since(app: &TestApp, before: &Snapshot) -> Vec<(&'static str, Vec<String>)> {
    before
        .iter()
        .map(|(object, old)| {
            let new = ids(app, object).difference(old).cloned().collect();
            (*object, new)
        })
        .collect()
}

/// Asserts Salesforce holds exactly one record set of `route` more than at `before`.
fn assert_one_record_set(app: &TestApp, route: Route, before: &Snapshot, when: &str) {
    let created = created_since(app, before);
    for ((object, new), (_, expected)) in created.iter().zip(route.record_set()) {
        assert_eq!(
            new.len(),
            *expected,
            "{} {when}: Salesforce holds {} new {object} record(s), one request writes {expected}",
            route.path(),
            new.len(),
        );
    }
}

/// Asserts `response` names the records created since `before`.
fn assert_names_the_created_records(
    app: &TestApp,
    route: Route,
    before: &Snapshot,
    response: &Response,
) {
    let body = response.json();
    let created = created_since(app, before);
    for (field, object) in route.created_ids() {
        let (_, new) = created
            .iter()
            .find(|(o, _)| o == object)
            .expect("the object is in the record set");
        let named = body[*field].as_str().unwrap_or_else(|| {
            panic!("{} answered no {field}: {body}", route.path());
        });
        assert_eq!(
            new.as_slice(),
            [named.to_owned()],
            "{} answered {field} {named}, Salesforce created {new:?}",
            route.path()
        );
    }
}

fn assert_told_to_retry_with_the_same_key(route: Route, first: &Response) {
    assert_eq!(
        first.status,
        503,
        "{}: the outcome is unknown: {:?}",
        route.path(),
        first.json()
    );
    assert_eq!(
        first.problem(),
        "outcome-unknown",
        "{}: the client must be told to retry with the same key, not that nothing was changed: {:?}",
        route.path(),
        first.json()
    );
    let detail = first.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(detail.contains("same Idempotency-Key"), "{detail}");
    let retry_after: u64 = first
        .header("retry-after")
        .expect("a Retry-After")
        .parse()
        .expect("seconds");
    assert!(retry_after >= 1);
}

#[derive(Debug, Clone, Copy)]
enum Loss {
    /// Committed, then answered past the client's timeout.
    Stall,
    /// Committed, then the connection closed before any answer.
    Drop,
}

impl Loss {
    fn fault(self) -> Fault {
        match self {
            Self::Stall => Fault::CommitThenStall { delay: STALL, n: 1 },
            Self::Drop => Fault::CommitThenDrop(1),
        }
    }
}

async fn send(app: &TestApp, route: Route, prepared: &Prepared, key: &str) -> Response {
    app.post(route.path())
        .token(&prepared.token)
        .key(key)
        .route_body(route, &prepared.body)
        .send()
        .await
}

/// The whole story of one route and one way of losing the answer.
async fn a_lost_answer_is_found_by_the_retry(route: Route, loss: Loss) {
    let app = spawn_app_with_timeouts(SALESFORCE_TIMEOUT, Limits::default()).await;
    let prepared = prepare(&app, route).await;
    let before = snapshot(&app, route);

    app.emulator.inject(loss.fault());
    let first = send(&app, route, &prepared, "lost-1").await;
    app.emulator.clear_faults();
    assert_one_record_set(&app, route, &before, "after the first attempt (committed)");

    // The key stays the first request's (never released): another body is 422.
    let mut other = prepared.body.clone();
    other["unusedField"] = json!("another body");
    let reused = app
        .post(route.path())
        .token(&prepared.token)
        .key("lost-1")
        .route_body(route, &other)
        .send()
        .await;
    assert_eq!(
        reused.status,
        422,
        "{}: the key of an unknown outcome was released: {:?}",
        route.path(),
        reused.json()
    );
    assert_one_record_set(&app, route, &before, "after another body with the key");

    let retry = send(&app, route, &prepared, "lost-1").await;
    assert_eq!(
        retry.status,
        route.success(),
        "{}: the retry answers what the first attempt would have: {:?}",
        route.path(),
        retry.json()
    );
    assert_one_record_set(&app, route, &before, "after the retry");
    assert_names_the_created_records(&app, route, &before, &retry);
    assert_told_to_retry_with_the_same_key(route, &first);

    let replay = send(&app, route, &prepared, "lost-1").await;
    assert_eq!(replay.status, retry.status);
    assert_eq!(replay.json(), retry.json());
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_one_record_set(&app, route, &before, "after a replay");
}

#[tokio::test]
async fn registrations_stalled_answer() {
    a_lost_answer_is_found_by_the_retry(Route::Registrations, Loss::Stall).await;
}

#[tokio::test]
async fn registrations_dropped_answer() {
    a_lost_answer_is_found_by_the_retry(Route::Registrations, Loss::Drop).await;
}

#[tokio::test]
async fn eligibility_requests_stalled_answer() {
    a_lost_answer_is_found_by_the_retry(Route::EligibilityRequests, Loss::Stall).await;
}

#[tokio::test]
async fn eligibility_requests_dropped_answer() {
    a_lost_answer_is_found_by_the_retry(Route::EligibilityRequests, Loss::Drop).await;
}

#[tokio::test]
async fn id_verifications_stalled_answer() {
    a_lost_answer_is_found_by_the_retry(Route::IdVerifications, Loss::Stall).await;
}

#[tokio::test]
async fn id_verifications_dropped_answer() {
    a_lost_answer_is_found_by_the_retry(Route::IdVerifications, Loss::Drop).await;
}

#[tokio::test]
async fn orders_stalled_answer() {
    a_lost_answer_is_found_by_the_retry(Route::Orders, Loss::Stall).await;
}

#[tokio::test]
async fn orders_dropped_answer() {
    a_lost_answer_is_found_by_the_retry(Route::Orders, Loss::Drop).await;
}

#[tokio::test]
async fn cancellations_stalled_answer() {
    a_lost_answer_is_found_by_the_retry(Route::Cancellations, Loss::Stall).await;
}

#[tokio::test]
async fn cancellations_dropped_answer() {
    a_lost_answer_is_found_by_the_retry(Route::Cancellations, Loss::Drop).await;
}

#[tokio::test]
async fn support_cases_stalled_answer() {
    a_lost_answer_is_found_by_the_retry(Route::SupportCases, Loss::Stall).await;
}

#[tokio::test]
async fn support_cases_dropped_answer() {
    a_lost_answer_is_found_by_the_retry(Route::SupportCases, Loss::Drop).await;
}

/// Waits until the first attempt's records are in Salesforce.
async fn until_committed(app: &TestApp, before: &Snapshot) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let created = created_since(app, before);
        if created.iter().all(|(_, new)| !new.is_empty()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the first attempt never committed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The first attempt committed and its answer is still held at Salesforce;
/// the request holding the key died (its in-flight hold lapsed), so the
/// client's retry runs while the first is still in flight there.
async fn a_retry_during_a_stall_finds_the_first_attempts_records(route: Route) {
    let limits = Limits {
        in_flight: Duration::from_millis(100),
        ..Limits::default()
    };
    // The client waits longer than the stall: the first attempt gets its late answer.
    let app = spawn_app_with_timeouts(STALL + Duration::from_secs(4), limits).await;
    let prepared = prepare(&app, route).await;
    let before = snapshot(&app, route);
    app.emulator
        .inject(Fault::CommitThenStall { delay: STALL, n: 1 });
    let first = {
        let request = app
            .post(route.path())
            .token(&prepared.token)
            .key("in-flight")
            .route_body(route, &prepared.body);
        async move { request.send().await }
    };
    let retry = async {
        until_committed(&app, &before).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let retry = send(&app, route, &prepared, "in-flight").await;
        app.emulator.clear_faults();
        retry
    };
    let (first, retry) = tokio::join!(first, retry);
    assert_eq!(
        retry.status,
        route.success(),
        "{}: {:?}",
        route.path(),
        retry.json()
    );
    assert_one_record_set(&app, route, &before, "after a retry during the stall");
    assert_names_the_created_records(&app, route, &before, &retry);
    assert_eq!(first.status, route.success(), "{:?}", first.json());
    for (field, _) in route.created_ids() {
        assert_eq!(first.json()[*field], retry.json()[*field], "{field}");
    }
}

#[tokio::test]
async fn registrations_retry_during_a_stall() {
    a_retry_during_a_stall_finds_the_first_attempts_records(Route::Registrations).await;
}

#[tokio::test]
async fn eligibility_requests_retry_during_a_stall() {
    a_retry_during_a_stall_finds_the_first_attempts_records(Route::EligibilityRequests).await;
}

#[tokio::test]
async fn id_verifications_retry_during_a_stall() {
    a_retry_during_a_stall_finds_the_first_attempts_records(Route::IdVerifications).await;
}

#[tokio::test]
async fn orders_retry_during_a_stall() {
    a_retry_during_a_stall_finds_the_first_attempts_records(Route::Orders).await;
}

#[tokio::test]
async fn cancellations_retry_during_a_stall() {
    a_retry_during_a_stall_finds_the_first_attempts_records(Route::Cancellations).await;
}

#[tokio::test]
async fn support_cases_retry_during_a_stall() {
    a_retry_during_a_stall_finds_the_first_attempts_records(Route::SupportCases).await;
}

#[tokio::test]
async fn a_retry_while_the_first_request_still_holds_the_key_is_409_then_finds_the_records() {
    let route = Route::Orders;
    let app = spawn_app_with_timeouts(SALESFORCE_TIMEOUT * 2, Limits::default()).await;
    let prepared = prepare(&app, route).await;
    let before = snapshot(&app, route);
    app.emulator
        .inject(Fault::CommitThenStall { delay: STALL, n: 1 });
    let first = {
        let request = app
            .post(route.path())
            .token(&prepared.token)
            .key("held")
            .route_body(route, &prepared.body);
        async move { request.send().await }
    };
    let duplicate = async {
        until_committed(&app, &before).await;
        send(&app, route, &prepared, "held").await
    };
    let (first, duplicate) = tokio::join!(first, duplicate);
    app.emulator.clear_faults();
    assert_eq!(duplicate.status, 409, "{:?}", duplicate.json());
    assert_eq!(duplicate.problem(), "idempotency-key-in-use");
    assert_eq!(first.status, 503);
    let retry = send(&app, route, &prepared, "held").await;
    assert_eq!(retry.status, 201, "{:?}", retry.json());
    assert_one_record_set(&app, route, &before, "after the retry");
    assert_names_the_created_records(&app, route, &before, &retry);
    assert_told_to_retry_with_the_same_key(route, &first);
}

#[tokio::test]
async fn a_key_whose_outcome_is_unknown_is_still_422_with_another_body() {
    for route in [Route::SupportCases, Route::Orders] {
        let app = spawn_app_with_timeouts(SALESFORCE_TIMEOUT, Limits::default()).await;
        let prepared = prepare(&app, route).await;
        let before = snapshot(&app, route);
        app.emulator.inject(Fault::CommitThenDrop(1));
        let key = format!("unknown-{}", route.path());
        let first = send(&app, route, &prepared, &key).await;
        app.emulator.clear_faults();
        assert_told_to_retry_with_the_same_key(route, &first);

        let mut other = prepared.body.clone();
        match route {
            Route::SupportCases => other["subject"] = json!("Another subject"),
            _ => other["items"][0]["quantity"] = json!(2),
        }
        let reused = app
            .post(route.path())
            .token(&prepared.token)
            .key(&key)
            .route_body(route, &other)
            .send()
            .await;
        assert_eq!(reused.status, 422, "{:?}", reused.json());
        assert_eq!(reused.problem(), "idempotency-key-reused");
        assert_one_record_set(&app, route, &before, "after the other body");

        // The key is still the first request's: its retry finds its records.
        let retry = send(&app, route, &prepared, &key).await;
        assert_eq!(retry.status, route.success(), "{:?}", retry.json());
        assert_names_the_created_records(&app, route, &before, &retry);
    }
}
