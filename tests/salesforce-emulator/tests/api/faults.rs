//! Fault injection, the daily limit, Sforce-Limit-Info and the /_emulator controls.

use std::time::Duration;

use salesforce_emulator::{EmulatorConfig, Fault};
use serde_json::{Value, json};

use crate::helpers::{V, spawn, spawn_with};

#[tokio::test]
async fn every_rest_response_carries_the_api_usage() {
    let org = spawn_with(EmulatorConfig {
        daily_api_limit: 500,
        ..EmulatorConfig::default()
    })
    .await;
    let ok = org.get("limits").await;
    assert_eq!(ok.usage().as_deref(), Some("api-usage=1/500"));
    assert_eq!(ok.body["DailyApiRequests"]["Max"], 500);
    let error = org.get("sobjects/Nope").await;
    assert_eq!(error.usage().as_deref(), Some("api-usage=2/500"));
    let versions = org.send("GET", "/services/data/", None).await;
    assert_eq!(versions.status, 200);
    assert!(versions.usage().is_none());
    assert!(
        versions
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["version"] == "62.0")
    );
    assert_eq!(org.emu.api_calls(), 2);
}

#[tokio::test]
async fn past_the_daily_limit_requests_are_refused() {
    let org = spawn_with(EmulatorConfig {
        daily_api_limit: 2,
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(org.get("limits").await.status, 200);
    assert_eq!(org.get("limits").await.status, 200);
    let refused = org.get("limits").await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.body,
        json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    );
    assert_eq!(refused.usage().as_deref(), Some("api-usage=2/2"));
}

#[tokio::test]
async fn a_row_lock_fails_the_next_write_then_clears() {
    let org = spawn().await;
    let id = org.account("Locked").await;
    org.emu.inject(Fault::LockRowOnNextWrites(1));
    let locked = org
        .patch(
            &format!("sobjects/Account/{id}"),
            json!({"Name": "Changed"}),
        )
        .await;
    assert_eq!(
        (locked.status, locked.error_code()),
        (400, "UNABLE_TO_LOCK_ROW")
    );
    assert_eq!(
        locked.message(),
        format!("unable to obtain exclusive access to this record or 1 records: {id}")
    );
    assert_eq!(org.emu.record(&id).unwrap()["Name"], "Locked");
    assert_eq!(
        org.patch(
            &format!("sobjects/Account/{id}"),
            json!({"Name": "Changed"})
        )
        .await
        .status,
        204
    );
}

#[tokio::test]
async fn a_row_lock_inside_a_composite_rolls_the_whole_request_back() {
    let org = spawn().await;
    org.emu.inject(Fault::LockRowOnNextWrites(1));
    let body = json!({"allOrNone": true, "compositeRequest": [
        {"method": "POST", "url": format!("/services/data/{V}/sobjects/Account"), "referenceId": "a", "body": {"Name": "A"}},
        {"method": "POST", "url": format!("/services/data/{V}/sobjects/Account"), "referenceId": "b", "body": {"Name": "B"}},
    ]});
    let answer = org.post("composite", body.clone()).await;
    let results = answer.body["compositeResponse"].as_array().unwrap();
    assert_eq!(results[0]["body"][0]["errorCode"], "UNABLE_TO_LOCK_ROW");
    assert_eq!(results[1]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(org.emu.count("Account"), 0);
    let retried = org.post("composite", body).await;
    assert_eq!(retried.body["compositeResponse"][1]["httpStatusCode"], 201);
    assert_eq!(org.emu.count("Account"), 2);
}

#[tokio::test]
async fn an_outage_answers_503_html_and_does_nothing() {
    let org = spawn().await;
    org.emu.inject(Fault::ServiceUnavailable(1));
    let down = org.post("sobjects/Account", json!({"Name": "Lost"})).await;
    assert_eq!(down.status, 503);
    assert!(
        down.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(down.text.contains("<html>"));
    assert_eq!(org.emu.count("Account"), 0);
    assert_eq!(
        org.post("sobjects/Account", json!({"Name": "Kept"}))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn request_limit_faults_give_the_daily_or_the_concurrent_message() {
    let org = spawn().await;
    for (concurrent, message) in [
        (true, "ConcurrentPerOrgLongTxn Limit exceeded."),
        (false, "TotalRequests Limit exceeded."),
    ] {
        org.emu
            .inject(Fault::RequestLimitExceeded { n: 1, concurrent });
        let refused = org.post("sobjects/Account", json!({"Name": "No"})).await;
        assert_eq!(
            (refused.status, refused.error_code(), refused.message()),
            (403, "REQUEST_LIMIT_EXCEEDED", message)
        );
    }
    assert_eq!(org.emu.count("Account"), 0);
    org.emu.inject(Fault::ServiceUnavailable(5));
    org.emu.clear_faults();
    assert_eq!(org.get("limits").await.status, 200);
}

#[tokio::test]
async fn latency_delays_but_does_not_break_requests() {
    let org = spawn().await;
    org.emu.inject(Fault::Latency(Duration::from_millis(20)));
    assert_eq!(org.get("limits").await.status, 200);
    org.emu.clear_faults();
}

#[tokio::test]
async fn the_control_routes_drive_the_emulator_without_auth_or_counting() {
    let org = spawn().await;
    let base = org.emu.base_url();
    let http = &org.http;
    let inject = http
        .post(format!("{base}/_emulator/faults"))
        .json(&json!({"type": "serviceUnavailable", "n": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(inject.status(), 204);
    assert_eq!(org.get("limits").await.status, 503);
    let bad = http
        .post(format!("{base}/_emulator/faults"))
        .json(&json!({"type": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    http.post(format!("{base}/_emulator/faults"))
        .json(&json!({"type": "requestLimitExceeded", "n": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        http.delete(format!("{base}/_emulator/faults"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(org.get("limits").await.status, 200);
    let stats: Value = http
        .get(format!("{base}/_emulator/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["apiCalls"], org.emu.api_calls());
    assert_eq!(stats["tokenRequests"], 1);
    let expire = http
        .post(format!("{base}/_emulator/sessions/expire"))
        .send()
        .await
        .unwrap();
    assert_eq!(expire.status(), 204);
    assert_eq!(org.get("limits").await.status, 401);
    let events: Value = http
        .get(format!("{base}/_emulator/events"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["events"], json!([]));
}

#[tokio::test]
async fn the_allocation_is_counted_over_a_rolling_window() {
    let org = spawn_with(EmulatorConfig {
        daily_api_limit: 2,
        api_usage_window: Duration::from_millis(800),
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(org.get("limits").await.status, 200);
    assert_eq!(org.get("limits").await.status, 200);
    assert_eq!(org.get("limits").await.status, 403);
    tokio::time::sleep(Duration::from_millis(900)).await;
    let again = org.get("limits").await;
    assert_eq!(again.status, 200, "the first calls left the window");
    assert_eq!(again.usage().as_deref(), Some("api-usage=1/2"));
    assert_eq!(
        org.emu.api_calls(),
        3,
        "every counted call, whatever its age"
    );
}
