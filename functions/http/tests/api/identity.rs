//! Bearer-token identity: 401 for every bad token, 403 without the account
//! claim, and JWKS keys found by `kid` (refreshed when a new one appears).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::get;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portal_http::{AuthConfig, KeySource};
use serde_json::{Value, json};

use crate::helpers::{AUDIENCE, ISSUER, SigningKey, claims, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_request_without_a_token_is_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let response = app.get("/account", "/account").send().await;
    assert_eq!(response.status, 401);
    assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    assert_eq!(response.problem(), "unauthorized");
    let basic = app
        .get("/account", "/account")
        .header("authorization", b"Basic dXNlcjpwYXNz")
        .send()
        .await;
    assert_eq!(basic.status, 401);
}

#[tokio::test]
async fn forged_expired_early_wrong_issuer_and_wrong_audience_tokens_are_401() {
    let app = spawn_app().await;
    let (_, account_id) = app.customer("hanako").await;
    let account = Some(account_id.as_str());
    let valid = claims("sub-hanako", "hanako@example.jp", account);
    let now = Utc::now().timestamp();
    let with = |patch: Value| {
        let mut c = valid.clone();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let forger = SigningKey::generate();
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &valid,
        &EncodingKey::from_secret(app.key.public_pem.as_bytes()),
    )
    .unwrap();
    let mut no_sub = valid.clone();
    no_sub.as_object_mut().unwrap().remove("sub");
    let cases = [
        ("forged", forger.sign(&valid, None)),
        (
            "expired",
            app.key.sign(&with(json!({"exp": now - 3600})), None),
        ),
        (
            "not yet valid",
            app.key.sign(&with(json!({"nbf": now + 3600})), None),
        ),
        (
            "wrong issuer",
            app.key
                .sign(&with(json!({"iss": "https://evil.test/"})), None),
        ),
        (
            "wrong audience",
            app.key.sign(&with(json!({"aud": "another-api"})), None),
        ),
        ("no sub", app.key.sign(&no_sub, None)),
        (
            "no email",
            app.key.sign(&with(json!({"email": null})), None),
        ),
        ("HS256 with the public key", hs256),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (what, token) in cases {
        let response = app.get("/account", "/account").token(&token).send().await;
        assert_eq!(response.status, 401, "{what}");
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer error=\"invalid_token\""),
            "{what}"
        );
    }
    let ok = app
        .get("/account", "/account")
        .token(&app.key.sign(&valid, None))
        .send()
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn a_token_within_the_leeway_is_accepted() {
    let app = spawn_app().await;
    let (_, account_id) = app.customer("hanako").await;
    let mut c = claims("sub-hanako", "hanako@example.jp", Some(&account_id));
    c["exp"] = json!(Utc::now().timestamp() - 5);
    let response = app
        .get("/account", "/account")
        .token(&app.key.sign(&c, None))
        .send()
        .await;
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn every_route_but_health_and_registration_needs_the_account_claim() {
    let app = spawn_app().await;
    let unlinked = app.token("sub-new", "new@example.jp", None);
    for (method, template, path) in [
        ("GET", "/account", "/account"),
        ("GET", "/catalog", "/catalog"),
        ("GET", "/orders", "/orders"),
        ("GET", "/orders/{orderId}", "/orders/801000000000001AAA"),
        ("GET", "/support-cases", "/support-cases"),
        ("POST", "/eligibility-requests", "/eligibility-requests"),
        ("POST", "/id-verifications", "/id-verifications"),
        ("POST", "/orders", "/orders"),
        ("POST", "/cancellations", "/cancellations"),
        ("POST", "/support-cases", "/support-cases"),
    ] {
        let response = app
            .call(method, Some(template), path)
            .token(&unlinked)
            .json(&json!({}))
            .send()
            .await;
        assert_eq!(response.status, 403, "{method} {path}");
        assert_eq!(response.problem(), "not-linked");
    }
    let registered = app
        .post("/registrations")
        .token(&unlinked)
        .json(&json!({"firstName": "New", "lastName": "Customer"}))
        .send()
        .await;
    assert_eq!(registered.status, 201);
}

#[tokio::test]
async fn keys_come_from_the_jwks_and_a_new_kid_triggers_a_refresh() {
    let jwks = Arc::new(Mutex::new(json!({"keys": []})));
    let served = Arc::clone(&jwks);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let fetches = Arc::new(Mutex::new(0u32));
    let counted = Arc::clone(&fetches);
    let jwks_server = axum::Router::new().route(
        "/jwks.json",
        get(move || {
            let served = Arc::clone(&served);
            let counted = Arc::clone(&counted);
            async move {
                *counted.lock().unwrap() += 1;
                Json(served.lock().unwrap().clone())
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, jwks_server).await.unwrap() });

    let jwks_url = url.parse().unwrap();
    let app = spawn_app_with(|key| {
        *jwks.lock().unwrap() = json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            key.jwk("k1"),
        ]});
        AuthConfig {
            issuer: ISSUER.to_owned(),
            audience: AUDIENCE.to_owned(),
            keys: KeySource::Jwks(jwks_url),
            account_claim: "sf_account_id".to_owned(),
            leeway: Duration::from_secs(30),
        }
    })
    .await;
    let c = claims("sub-1", "one@example.jp", None);
    let response = app
        .post("/registrations")
        .token(&app.key.sign(&c, Some("k1")))
        .json(&json!({"firstName": "One", "lastName": "Customer"}))
        .send()
        .await;
    assert_eq!(response.status, 201);

    // An unknown kid is 401; the refresh it asks for is rate-limited.
    let response = app
        .get("/account", "/account")
        .token(&app.key.sign(&c, Some("k2")))
        .send()
        .await;
    assert_eq!(response.status, 401);
    let response = app
        .get("/account", "/account")
        .token(&app.key.sign(&c, Some("k3")))
        .send()
        .await;
    assert_eq!(response.status, 401);
    // The HMAC key of the set is never usable.
    let hmac = jsonwebtoken::encode(
        &{
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some("hmac".into());
            h
        },
        &c,
        &EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let response = app.get("/account", "/account").token(&hmac).send().await;
    assert_eq!(response.status, 401);
    assert_eq!(
        *fetches.lock().unwrap(),
        1,
        "one fetch; unknown kids do not hammer the JWKS"
    );
}
