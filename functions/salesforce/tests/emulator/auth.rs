//! The JWT bearer flow against the emulated token endpoint.

use chrono::{Duration, Utc};
use salesforce::soql;
use salesforce::{AuthError, SalesforceError};
use salesforce_emulator::{Fault, fixtures};
use serde_json::Value;

use crate::helpers::{client_for, org};

/// The refusal inside a failed call, checked to be permanent.
fn refusal(err: &SalesforceError) -> (&str, &str) {
    assert!(!err.is_retryable(), "a refusal is permanent: {err}");
    let SalesforceError::Auth(auth) = err else {
        panic!("expected an auth error, got {err:?}");
    };
    let AuthError::Refused {
        error, description, ..
    } = &**auth
    else {
        panic!("expected a refusal, got {auth:?}");
    };
    (error, description)
}

#[tokio::test]
async fn good_auth_queries_and_reports_the_org_and_user() {
    let org = org().await;
    let q = soql::count().from("Account").build().unwrap();
    org.client.query::<Value>(&q).await.unwrap();

    let session = org.client.session().await.unwrap();
    assert_eq!(session.org_id.as_str(), org.emulator.org_id());
    assert_eq!(session.user_id.as_str(), org.emulator.integration_user_id());
    assert_eq!(session.instance_url, org.emulator.base_url());
    assert_eq!(org.emulator.successful_logins(), 1);
}

#[tokio::test]
async fn a_key_the_app_does_not_trust_is_refused_once_and_for_good() {
    let org = org().await;
    let client = client_for(
        &org.emulator,
        &org.emulator.base_url(),
        fixtures::WRONG_PRIVATE_KEY_PEM,
    );
    let q = soql::count().from("Account").build().unwrap();
    let err = client.query::<Value>(&q).await.unwrap_err();
    let (error, description) = refusal(&err);
    assert_eq!(error, "invalid_grant");
    assert!(!description.is_empty());
    assert!(err.to_string().contains(description), "{err}");
    // Permanent: not retried.
    assert_eq!(org.emulator.token_requests(), 1);
    assert_eq!(org.emulator.successful_logins(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_waiting_for_a_refused_login_share_its_error() {
    let org = org().await;
    let client = client_for(
        &org.emulator,
        &org.emulator.base_url(),
        fixtures::WRONG_PRIVATE_KEY_PEM,
    );
    // A slow token endpoint, so that every caller is waiting before the refusal.
    org.emulator
        .inject(Fault::Latency(std::time::Duration::from_millis(300)));
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let q = soql::count().from("Account").build().unwrap();
                client.query::<Value>(&q).await
            })
        })
        .collect();
    for call in calls {
        let err = call.await.unwrap().unwrap_err();
        refusal(&err);
    }
    // Followers that waited for the leader's login take its answer instead of
    // hammering the token endpoint (Salesforce rate-limits logins).
    assert_eq!(org.emulator.token_requests(), 1);
}

#[tokio::test]
async fn a_wrong_audience_is_refused_with_its_description() {
    let org = org().await;
    // Same server, but the assertion's `aud` is a URL the org does not know.
    let other_origin = format!("http://localhost:{}", org.emulator.local_addr().port());
    let client = client_for(
        &org.emulator,
        &other_origin,
        fixtures::CLIENT_PRIVATE_KEY_PEM,
    );
    let q = soql::count().from("Account").build().unwrap();
    let err = client.query::<Value>(&q).await.unwrap_err();
    let (error, description) = refusal(&err);
    assert_eq!(error, "invalid_grant");
    assert_eq!(description, "audience is invalid");
    assert!(err.to_string().contains("audience is invalid"), "{err}");
    assert_eq!(org.emulator.token_requests(), 1);
}

#[tokio::test]
async fn an_expired_assertion_is_refused_with_its_description() {
    let org = org().await;
    let auth = org.client.auth();
    let assertion = auth
        .sign_assertion_at(Utc::now() - Duration::hours(1))
        .unwrap();
    let err = auth.exchange(&assertion).await.unwrap_err();
    assert!(!err.is_retryable());
    let AuthError::Refused {
        status,
        ref error,
        ref description,
    } = err
    else {
        panic!("expected a refusal, got {err:?}");
    };
    assert_eq!(status, 400);
    assert_eq!(error, "invalid_grant");
    assert!(description.contains("expired"), "{description}");
    assert!(err.to_string().contains(description.as_str()));
    assert!(!SalesforceError::from(err).is_retryable());

    // A fresh assertion from the same signer is accepted.
    let fresh = auth.sign_assertion().unwrap();
    let token = auth.exchange(&fresh).await.unwrap();
    assert_eq!(token.org_id.as_str(), org.emulator.org_id());
}
