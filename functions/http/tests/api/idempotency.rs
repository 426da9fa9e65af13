//! `Idempotency-Key`: replays, reuse with another body, in-flight duplicates,
//! release after a failure that wrote nothing, scoping to the caller.

use std::time::Duration;

use salesforce::schema::{account, case};
use salesforce_emulator::Fault;
use serde_json::json;

use crate::helpers::spawn_app;

fn support_case(subject: &str) -> serde_json::Value {
    json!({"subject": subject, "description": "Since yesterday."})
}

#[tokio::test]
async fn the_same_key_and_body_replay_the_first_response_without_writing_again() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let body = support_case("Router blinking");
    let first = app
        .post("/support-cases")
        .token(&token)
        .key("k-1")
        .json(&body)
        .send()
        .await;
    assert_eq!(first.status, 201);
    assert_eq!(first.header("idempotency-replayed"), None);
    let calls = app.emulator.api_calls();

    let replay = app
        .post("/support-cases")
        .token(&token)
        .key("k-1")
        .json(&body)
        .send()
        .await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(
        app.emulator.api_calls(),
        calls,
        "a replay calls Salesforce zero times"
    );
    assert_eq!(app.emulator.count(case::OBJECT), 1);
}

#[tokio::test]
async fn a_registration_replay_keeps_its_first_status() {
    let app = spawn_app().await;
    let token = app.token("sub-1", "one@example.jp", None);
    let body = json!({"firstName": "One", "lastName": "Customer"});
    let first = app
        .post("/registrations")
        .token(&token)
        .key("reg")
        .json(&body)
        .send()
        .await;
    assert_eq!(first.status, 201);
    let replay = app
        .post("/registrations")
        .token(&token)
        .key("reg")
        .json(&body)
        .send()
        .await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.json(), first.json());
}

#[tokio::test]
async fn the_same_key_with_another_body_or_route_is_422() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let first = app
        .post("/support-cases")
        .token(&token)
        .key("k-1")
        .json(&support_case("First"))
        .send()
        .await;
    assert_eq!(first.status, 201);
    let other_body = app
        .post("/support-cases")
        .token(&token)
        .key("k-1")
        .json(&support_case("Second"))
        .send()
        .await;
    assert_eq!(other_body.status, 422);
    assert_eq!(other_body.problem(), "idempotency-key-reused");
    let other_route = app
        .post("/id-verifications")
        .token(&token)
        .key("k-1")
        .json(&json!({"documentType": "passport"}))
        .send()
        .await;
    assert_eq!(other_route.status, 422);
    assert_eq!(app.emulator.count(case::OBJECT), 1);
}

#[tokio::test]
async fn keys_are_scoped_to_the_caller() {
    let app = spawn_app().await;
    let (hanako, _) = app.customer("hanako").await;
    let (taro, _) = app.customer("taro").await;
    for token in [&hanako, &taro] {
        let response = app
            .post("/support-cases")
            .token(token)
            .key("shared")
            .json(&support_case("Hello"))
            .send()
            .await;
        assert_eq!(response.status, 201);
        assert_eq!(response.header("idempotency-replayed"), None);
    }
    assert_eq!(app.emulator.count(case::OBJECT), 2);
}

#[tokio::test]
async fn a_duplicate_while_the_first_is_in_flight_is_409() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let body = support_case("Router blinking");
    app.stores.idempotency.hold_completions();
    let first = {
        let request = app
            .post("/support-cases")
            .token(&token)
            .key("k-1")
            .json(&body);
        async move { request.send().await }
    };
    let duplicate = async {
        app.stores.idempotency.wait_until_completing().await;
        let response = app
            .post("/support-cases")
            .token(&token)
            .key("k-1")
            .json(&body)
            .send()
            .await;
        app.stores.idempotency.open();
        response
    };
    let (first, duplicate) = tokio::join!(first, duplicate);
    assert_eq!(duplicate.status, 409);
    assert_eq!(duplicate.problem(), "idempotency-key-in-use");
    assert_eq!(first.status, 201);
    let replay = app
        .post("/support-cases")
        .token(&token)
        .key("k-1")
        .json(&body)
        .send()
        .await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.body, first.body);
    assert_eq!(app.emulator.count(case::OBJECT), 1);
}

#[tokio::test]
async fn a_validation_failure_releases_the_key() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let bad = app
        .post("/support-cases")
        .token(&token)
        .key("k-1")
        .json(&json!({"subject": "", "description": ""}))
        .send()
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.problem(), "validation-failed");
    let fixed = app
        .post("/support-cases")
        .token(&token)
        .key("k-1")
        .json(&support_case("Fixed"))
        .send()
        .await;
    assert_eq!(
        fixed.status,
        201,
        "the key was released: {:?}",
        fixed.json()
    );
    assert_eq!(fixed.header("idempotency-replayed"), None);
}

#[tokio::test]
async fn a_failing_composite_write_leaves_no_record_answers_503_and_releases_the_key() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let before = app.emulator.count(case::OBJECT);
    app.emulator.inject(Fault::LockRowOnNextWrites(10));
    let body = json!({"documentType": "passport"});
    let failed = app
        .post("/id-verifications")
        .token(&token)
        .key("k-1")
        .json(&body)
        .send()
        .await;
    assert_eq!(failed.status, 503);
    assert_eq!(failed.problem(), "service-unavailable");
    let retry_after: u64 = failed.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    assert_eq!(
        app.emulator.count(case::OBJECT),
        before,
        "nothing half-written"
    );
    let account = app.get("/account", "/account").token(&token).send().await;
    assert_eq!(
        account.json()["idVerification"]["status"],
        serde_json::Value::Null
    );

    app.emulator.clear_faults();
    let retried = app
        .post("/id-verifications")
        .token(&token)
        .key("k-1")
        .json(&body)
        .send()
        .await;
    assert_eq!(retried.status, 202);
    assert_eq!(retried.header("idempotency-replayed"), None);
    assert_eq!(app.emulator.count(case::OBJECT), before + 1);
}

#[tokio::test]
async fn a_bad_key_is_400_naming_the_header() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    for key in ["has space".to_owned(), "k".repeat(256)] {
        let response = app
            .post("/support-cases")
            .token(&token)
            .key(&key)
            .json(&support_case("Hello"))
            .send()
            .await;
        assert_eq!(response.status, 400);
        assert_eq!(response.problem(), "invalid-header");
        assert_eq!(response.json()["errors"][0]["field"], "Idempotency-Key");
    }
    let control = app
        .post("/support-cases")
        .token(&token)
        .header("idempotency-key", b"tab\there")
        .json(&support_case("Hello"))
        .send()
        .await;
    assert_eq!(control.status, 400);
    assert_eq!(app.emulator.count(case::OBJECT), 0);
}

#[tokio::test]
async fn a_second_registration_while_the_first_runs_is_409_and_one_account_is_created() {
    let app = spawn_app().await;
    let token = app.token("sub-twice", "twice@example.jp", None);
    let body = json!({"firstName": "Hanako", "lastName": "Twice"});
    let accounts = app.emulator.count(account::OBJECT);
    // The first registration's Salesforce calls take a while; its lock is taken before them.
    app.emulator
        .inject(Fault::Latency(Duration::from_millis(500)));
    let first = {
        let request = app
            .post("/registrations")
            .token(&token)
            .key("tab-1")
            .json(&body);
        async move { request.send().await }
    };
    let second = async {
        app.stores.idempotency.wait_until_claimed().await; // the first request's key
        app.stores.idempotency.wait_until_claimed().await; // its registration lock
        app.post("/registrations")
            .token(&token)
            .key("tab-2")
            .json(&body)
            .send()
            .await
    };
    let (first, second) = tokio::join!(first, second);
    app.emulator.clear_faults();

    assert_eq!(first.status, 201, "{:?}", first.json());
    assert_eq!(second.status, 409, "{:?}", second.json());
    assert_eq!(second.problem(), "registration-in-progress");
    assert_eq!(
        app.emulator.count(account::OBJECT),
        accounts + 1,
        "one Account, not two"
    );
    let third = app
        .post("/registrations")
        .token(&token)
        .key("tab-2")
        .json(&body)
        .send()
        .await;
    assert_eq!(
        third.status,
        200,
        "the lock was released: the retry finds the registration: {:?}",
        third.json()
    );
    assert_eq!(third.json()["accountId"], first.json()["accountId"]);
}
