//! The JWT bearer token endpoint and sessions.

use std::time::Duration;

use salesforce_emulator::{Emulator, EmulatorConfig, fixtures};
use serde_json::{Value, json};

use crate::helpers::{claims, request_token, sign, spawn, spawn_with};

#[tokio::test]
async fn a_valid_assertion_should_get_a_bearer_token_for_the_integration_user() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    let answer = request_token(
        &emu,
        &http,
        &sign(&claims(&emu), fixtures::CLIENT_PRIVATE_KEY_PEM),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = &answer.body;
    let base = emu.base_url();
    assert_eq!(body["instance_url"], base.as_str());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "api");
    assert_eq!(
        body["id"],
        format!("{base}/id/{}/{}", emu.org_id(), emu.integration_user_id()).as_str()
    );
    let token = body["access_token"].as_str().unwrap();
    assert!(token.starts_with(&format!("{}!", emu.org_id())));
    assert!(body["issued_at"].as_str().unwrap().parse::<i64>().is_ok());
    assert_eq!((emu.token_requests(), emu.successful_logins()), (1, 1));

    let describe = http
        .get(format!(
            "{base}/services/data/v62.0/sobjects/Account/describe"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(describe.status(), 200);
}

#[tokio::test]
async fn sandbox_and_production_login_audiences_are_accepted() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    for aud in [
        "https://login.salesforce.com",
        "https://test.salesforce.com",
    ] {
        let mut c = claims(&emu);
        c["aud"] = json!(aud);
        let answer = request_token(&emu, &http, &sign(&c, fixtures::CLIENT_PRIVATE_KEY_PEM)).await;
        assert_eq!(answer.status, 200, "{aud}: {}", answer.text);
    }
}

#[tokio::test]
async fn each_bad_assertion_should_be_refused_as_salesforce_refuses_it() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    let now = chrono::Utc::now().timestamp();
    let with = |key: &str, value: Value| {
        let mut c = claims(&emu);
        if value.is_null() {
            c.as_object_mut().unwrap().remove(key);
        } else {
            c[key] = value;
        }
        sign(&c, fixtures::CLIENT_PRIVATE_KEY_PEM)
    };
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims(&emu),
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let cases: Vec<(String, &str, &str)> = vec![
        ("not-a-jwt".to_owned(), "invalid_grant", "invalid assertion"),
        (
            sign(&claims(&emu), fixtures::WRONG_PRIVATE_KEY_PEM),
            "invalid_grant",
            "invalid assertion",
        ),
        (hs256, "invalid_grant", "invalid assertion"),
        (
            with("iss", json!("someone-else")),
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            with("sub", json!("other@portal.local")),
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
        (
            with("aud", json!("https://evil.example.com")),
            "invalid_grant",
            "audience is invalid",
        ),
        (
            with("exp", json!(now - 10)),
            "invalid_grant",
            "expired authorization code",
        ),
        (
            with("exp", json!(now + 600)),
            "invalid_grant",
            "invalid assertion",
        ),
        (
            with("exp", Value::Null),
            "invalid_grant",
            "invalid assertion",
        ),
    ];
    let n = cases.len() as u64;
    for (assertion, error, description) in cases {
        let answer = request_token(&emu, &http, &assertion).await;
        assert_eq!(answer.status, 400, "{description}");
        assert_eq!(
            answer.body,
            json!({"error": error, "error_description": description})
        );
    }
    let other_grant = http
        .post(format!("{}/services/oauth2/token", emu.base_url()))
        .form(&[
            ("grant_type", "password"),
            ("username", "x"),
            ("password", "y"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(other_grant.status(), 400);
    let body: Value = other_grant.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "unsupported_grant_type", "error_description": "grant type not supported"})
    );
    assert_eq!(emu.token_requests(), n + 1);
    assert_eq!(emu.successful_logins(), 0);
}

fn assert_invalid_session(answer: &crate::helpers::Answer) {
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert_eq!(
        answer.body,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    assert!(answer.usage().is_some());
}

#[tokio::test]
async fn missing_unknown_and_expired_tokens_get_invalid_session_id() {
    let org = spawn().await;
    assert_invalid_session(&org.send_as(None, "GET", "sobjects", None).await);
    assert_invalid_session(
        &org.send_as(Some("00Dxx!nope"), "GET", "sobjects", None)
            .await,
    );
    assert_eq!(org.get("sobjects").await.status, 200);
    org.emu.expire_all_sessions();
    assert_invalid_session(&org.get("sobjects").await);
    assert_eq!(org.emu.api_calls(), 1, "refused calls are not counted");
}

#[tokio::test]
async fn a_token_past_its_session_ttl_is_refused() {
    let org = spawn_with(EmulatorConfig {
        session_ttl: Duration::ZERO,
        ..EmulatorConfig::default()
    })
    .await;
    assert_invalid_session(&org.get("sobjects").await);
}

#[tokio::test]
async fn the_admin_token_acts_as_the_staff_user() {
    let org = spawn().await;
    let created = org
        .admin(
            "POST",
            "sobjects/Account",
            Some(json!({"Name": "By staff"})),
        )
        .await;
    assert_eq!(created.status, 201);
    let record = org
        .emu
        .record(created.body["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(record["CreatedById"], org.emu.admin_user_id().as_str());
    let mine = org.account("By integration").await;
    assert_eq!(
        org.emu.record(&mine).unwrap()["CreatedById"],
        org.emu.integration_user_id().as_str()
    );
}
