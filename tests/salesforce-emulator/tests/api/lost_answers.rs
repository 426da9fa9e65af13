//! Writes that commit and then lose their answer (late, or the connection
//! dropped), and sessions revoked mid-run, driven over `/_emulator/faults`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestOrg, V, spawn};

async fn arm(org: &TestOrg, fault: Value) {
    let armed = org
        .http
        .post(format!("{}/_emulator/faults", org.emu.base_url()))
        .json(&fault)
        .send()
        .await
        .expect("the control route answers");
    assert_eq!(armed.status(), 204, "{fault}");
}

/// Sends a write with a short client timeout; the error when no answer came.
async fn write_with_timeout(
    org: &TestOrg,
    method: reqwest::Method,
    path: &str,
    body: Value,
    timeout: Duration,
) -> Result<u16, reqwest::Error> {
    let response = org
        .http
        .request(method, org.url(path))
        .bearer_auth(&org.token)
        .json(&body)
        .timeout(timeout)
        .send()
        .await?;
    let status = response.status().as_u16();
    response.bytes().await?;
    Ok(status)
}

fn names(org: &TestOrg) -> Vec<String> {
    org.emu
        .records("Account")
        .into_iter()
        .map(|a| {
            a["Name"]
                .as_str()
                .expect("every Account has a Name")
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_stalled_write_is_committed_although_the_client_timed_out() {
    let org = spawn().await;
    arm(
        &org,
        json!({"type": "commitThenStall", "millis": 3000, "n": 1}),
    )
    .await;
    let started = Instant::now();
    let lost = write_with_timeout(
        &org,
        reqwest::Method::POST,
        "sobjects/Account",
        json!({"Name": "Stalled"}),
        Duration::from_millis(300),
    )
    .await
    .unwrap_err();
    assert!(lost.is_timeout(), "{lost:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(names(&org), ["Stalled"], "the write committed");
    // Reads are not writes and the fault is spent: both answer at once.
    assert_eq!(org.get("limits").await.status, 200);
    let next = write_with_timeout(
        &org,
        reqwest::Method::POST,
        "sobjects/Account",
        json!({"Name": "Prompt"}),
        Duration::from_millis(1000),
    )
    .await
    .unwrap();
    assert_eq!(next, 201);
}

#[tokio::test]
async fn a_stalled_write_answers_in_full_after_the_delay() {
    let org = spawn().await;
    arm(
        &org,
        json!({"type": "commitThenStall", "millis": 400, "n": 1}),
    )
    .await;
    let started = Instant::now();
    let created = org.post("sobjects/Account", json!({"Name": "Late"})).await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(created.status, 201);
    assert_eq!(
        org.emu
            .record(created.body["id"].as_str().unwrap())
            .unwrap()["Name"],
        "Late"
    );
}

#[tokio::test]
async fn a_dropped_write_sends_no_answer_but_every_kind_of_write_committed() {
    let org = spawn().await;
    let id = org.account("Before").await;
    arm(&org, json!({"type": "commitThenDrop", "n": 4})).await;
    let second = Duration::from_secs(5);
    // A failed write commits nothing, so it keeps its answer and spends no fault.
    let refused = write_with_timeout(
        &org,
        reqwest::Method::POST,
        "sobjects/Account",
        json!({"Nope__c": 1}),
        second,
    )
    .await
    .unwrap();
    assert_eq!(refused, 400);
    let writes = [
        (
            reqwest::Method::POST,
            "sobjects/Account".to_owned(),
            json!({"Name": "Created"}),
        ),
        (
            reqwest::Method::PATCH,
            format!("sobjects/Account/{id}"),
            json!({"Name": "Updated"}),
        ),
        (
            reqwest::Method::POST,
            "composite".to_owned(),
            json!({"allOrNone": true, "compositeRequest": [{
                "method": "POST", "url": format!("/services/data/{V}/sobjects/Account"),
                "referenceId": "acct", "body": {"Name": "Composite"}}]}),
        ),
        (
            reqwest::Method::POST,
            "composite/sobjects".to_owned(),
            json!({"allOrNone": true, "records": [
                {"attributes": {"type": "Account"}, "Name": "Collection"}]}),
        ),
    ];
    for (method, path, body) in writes {
        let dropped = write_with_timeout(&org, method, &path, body, second)
            .await
            .unwrap_err();
        assert!(
            !dropped.is_timeout(),
            "{path}: dropped, not stalled: {dropped:?}"
        );
    }
    let mut all = names(&org);
    all.sort();
    assert_eq!(all, ["Collection", "Composite", "Created", "Updated"]);
    assert_eq!(org.get(&format!("sobjects/Account/{id}")).await.status, 200);
}

#[tokio::test]
async fn a_composite_that_only_reads_or_rolls_back_keeps_its_answer() {
    let org = spawn().await;
    arm(&org, json!({"type": "commitThenDrop", "n": 1})).await;
    let read = org
        .post(
            "composite",
            json!({"allOrNone": true, "compositeRequest": [{
                "method": "GET", "url": format!("/services/data/{V}/query?q=SELECT+Id+FROM+Account"),
                "referenceId": "q"}]}),
        )
        .await;
    assert_eq!(read.status, 200);
    let rolled_back = org
        .post(
            "composite",
            json!({"allOrNone": true, "compositeRequest": [
                {"method": "POST", "url": format!("/services/data/{V}/sobjects/Account"),
                 "referenceId": "ok", "body": {"Name": "Rolled back"}},
                {"method": "POST", "url": format!("/services/data/{V}/sobjects/Account"),
                 "referenceId": "bad", "body": {"Nope__c": 1}}]}),
        )
        .await;
    assert_eq!(rolled_back.status, 200);
    assert!(names(&org).is_empty());
    // The fault is still armed for the first write that commits.
    let dropped = write_with_timeout(
        &org,
        reqwest::Method::POST,
        "sobjects/Account",
        json!({"Name": "Dropped"}),
        Duration::from_secs(5),
    )
    .await;
    assert!(dropped.is_err());
    assert_eq!(names(&org), ["Dropped"]);
}

#[tokio::test]
async fn revoked_sessions_answer_invalid_session_until_a_new_login() {
    let org = spawn().await;
    assert_eq!(org.get("limits").await.status, 200);
    arm(&org, json!({"type": "revokeSessions"})).await;
    let revoked = org.get("limits").await;
    assert_eq!(revoked.status, 401);
    assert_eq!(
        revoked.body,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    // The staff token is static and stays valid.
    assert_eq!(org.admin("GET", "limits", None).await.status, 200);
}
