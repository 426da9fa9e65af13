//! Bearer-token identity: 401 for every bad token, 403 for a login without a
//! link, JWKS keys found by `kid` (refreshed when a new one appears, used only
//! for signatures with their own algorithm), and 503 — never 401 — while the
//! JWKS cannot be fetched for a key we do not have.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::response::IntoResponse as _;
use axum::routing::get;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portal_http::{AuthConfig, KeySource};
use serde_json::{Value, json};

use crate::helpers::{
    AUDIENCE, ISSUER, SigningKey, claims, roomy_identity, spawn_app, spawn_app_tuned,
    spawn_app_with,
};

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
async fn every_route_but_health_and_registration_needs_a_linked_login() {
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
            email_verified_claim: "email_verified".to_owned(),
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

/// A JWKS endpoint serving `jwks` (`None`: 503), counting its fetches.
async fn jwks_server(jwks: Arc<Mutex<Option<Value>>>) -> (url::Url, Arc<Mutex<u32>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!(
        "http://{}/jwks.json",
        listener.local_addr().expect("an address")
    );
    let fetches = Arc::new(Mutex::new(0u32));
    let counted = Arc::clone(&fetches);
    let server = axum::Router::new().route(
        "/jwks.json",
        get(move || {
            let jwks = Arc::clone(&jwks);
            let counted = Arc::clone(&counted);
            async move {
                *counted.lock().expect("lock") += 1;
                match jwks.lock().expect("lock").clone() {
                    Some(set) => Json(set).into_response(),
                    None => http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, server).await.expect("serving") });
    (url.parse().expect("a URL"), fetches)
}

fn jwks_config(url: url::Url) -> AuthConfig {
    AuthConfig {
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        keys: KeySource::Jwks(url),
        account_claim: "sf_account_id".to_owned(),
        email_verified_claim: "email_verified".to_owned(),
        leeway: Duration::from_secs(30),
    }
}

#[tokio::test]
async fn while_the_jwks_is_down_a_token_needing_a_key_is_503_with_retry_after_never_401() {
    let jwks = Arc::new(Mutex::new(None));
    let (url, fetches) = jwks_server(Arc::clone(&jwks)).await;
    let app = spawn_app_tuned(
        |key| {
            *jwks.lock().unwrap() = Some(json!({"keys": [key.jwk("k1")]}));
            jwks_config(url)
        },
        roomy_identity(),
        Duration::ZERO,
    )
    .await;
    let c = claims("sub-1", "one@example.jp", None);
    let k1 = app.key.sign(&c, Some("k1"));
    let k2 = app.key.sign(&c, Some("k2"));
    let registered = app
        .post("/registrations")
        .token(&k1)
        .key("before")
        .json(&json!({"firstName": "One", "lastName": "Customer"}))
        .send()
        .await;
    assert_eq!(registered.status, 201);

    // The provider rotates to k2 while its JWKS endpoint is down.
    *jwks.lock().unwrap() = None;
    for (route, template) in [("/account", "/account"), ("/catalog", "/catalog")] {
        let response = app.get(template, route).token(&k2).send().await;
        assert_eq!(response.status, 503, "{route}");
        assert_eq!(response.problem(), "service-unavailable");
        let wait: u64 = response.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(response.header("www-authenticate").is_none());
    }
    let write = app
        .post("/support-cases")
        .token(&k2)
        .key("while-down")
        .json(&json!({"subject": "Hi", "description": "Hello"}))
        .send()
        .await;
    assert_eq!(write.status, 503);
    assert_eq!(app.emulator.count("Case"), 0);
    // A key we already have keeps working meanwhile.
    assert_eq!(
        app.get("/account", "/account")
            .token(&k1)
            .send()
            .await
            .status,
        200
    );

    // Back up: k2 is fetched and accepted; an unknown kid is 401 again.
    *jwks.lock().unwrap() = Some(json!({"keys": [app.key.jwk("k1"), app.key.jwk("k2")]}));
    assert_eq!(
        app.get("/account", "/account")
            .token(&k2)
            .send()
            .await
            .status,
        200
    );
    let k3 = app.key.sign(&c, Some("k3"));
    assert_eq!(
        app.get("/account", "/account")
            .token(&k3)
            .send()
            .await
            .status,
        401
    );
    assert!(*fetches.lock().unwrap() >= 4);
}

#[tokio::test]
async fn jwks_keys_meant_for_encryption_or_another_algorithm_are_never_used() {
    let jwks = Arc::new(Mutex::new(None));
    let (url, _) = jwks_server(Arc::clone(&jwks)).await;
    let app = spawn_app_with(|key| {
        let mut encryption = key.jwk("enc");
        encryption["use"] = json!("enc");
        let mut wrong_alg = key.jwk("rs");
        wrong_alg["alg"] = json!("RS256");
        let mut bare = key.jwk("bare");
        bare.as_object_mut().unwrap().remove("use");
        bare.as_object_mut().unwrap().remove("alg");
        *jwks.lock().unwrap() =
            Some(json!({"keys": [encryption, wrong_alg, bare, key.jwk("sig")]}));
        jwks_config(url)
    })
    .await;
    let c = claims("sub-1", "one@example.jp", None);
    let register = |kid: &'static str| {
        app.post("/registrations")
            .token(&app.key.sign(&c, Some(kid)))
            .key(kid)
            .json(&json!({"firstName": "One", "lastName": "Customer"}))
            .send()
    };
    assert_eq!(register("sig").await.status, 201);
    assert_eq!(register("bare").await.status, 200, "no use/alg: usable");
    for kid in ["enc", "rs"] {
        let response = register(kid).await;
        assert_eq!(response.status, 401, "{kid}");
    }
}
