//! One login per process, single-flight refresh, no re-login loops.

use std::time::Duration;

use salesforce::{SalesforceError, soql};
use salesforce_emulator::EmulatorConfig;
use serde_json::Value;

use crate::helpers::{org, org_with};

fn any_query() -> salesforce::Soql {
    soql::select(["Id"])
        .from("Account")
        .limit(1)
        .build()
        .expect("a constant query builds")
}

#[tokio::test]
async fn a_hundred_sequential_calls_log_in_once() {
    let org = org().await;
    for _ in 0..100 {
        org.client.query::<Value>(&any_query()).await.unwrap();
    }
    assert_eq!(org.emulator.token_requests(), 1);
    assert_eq!(org.emulator.api_calls(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_first_calls_log_in_once() {
    let org = org().await;
    let calls: Vec<_> = (0..32)
        .map(|_| {
            let client = org.client.clone();
            tokio::spawn(async move { client.query::<Value>(&any_query()).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(org.emulator.token_requests(), 1);
    assert_eq!(org.emulator.api_calls(), 32);
}

#[tokio::test]
async fn an_expired_session_is_renewed_once_and_the_call_succeeds() {
    let org = org().await;
    org.client.query::<Value>(&any_query()).await.unwrap();
    let first = org.client.session().await.unwrap();
    assert_eq!(org.emulator.token_requests(), 1);

    org.emulator.expire_all_sessions();
    org.client.query::<Value>(&any_query()).await.unwrap();
    assert_eq!(org.emulator.token_requests(), 2);
    let second = org.client.session().await.unwrap();
    assert!(second.generation() > first.generation());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_401s_causes_one_refresh() {
    let org = org().await;
    org.client.query::<Value>(&any_query()).await.unwrap();
    org.emulator.expire_all_sessions();
    let calls: Vec<_> = (0..32)
        .map(|_| {
            let client = org.client.clone();
            tokio::spawn(async move { client.query::<Value>(&any_query()).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(org.emulator.token_requests(), 2);
}

#[tokio::test]
async fn when_every_token_is_dead_the_call_fails_after_two_logins() {
    let org = org_with(EmulatorConfig {
        session_ttl: Duration::ZERO,
        ..EmulatorConfig::default()
    })
    .await;
    let err = org.client.query::<Value>(&any_query()).await.unwrap_err();
    assert!(
        matches!(err, SalesforceError::SessionRejected { .. }),
        "{err:?}"
    );
    assert_eq!(err.error_codes(), vec!["INVALID_SESSION_ID"]);
    assert!(!err.is_retryable());
    assert_eq!(org.emulator.token_requests(), 2);
}

#[tokio::test]
async fn invalidating_a_replaced_session_keeps_the_new_one() {
    let org = org().await;
    let old = org.client.session().await.unwrap();
    org.client.invalidate(&old).await;
    let new = org.client.session().await.unwrap();
    assert_eq!(org.emulator.token_requests(), 2);
    // A late report about the old session must not throw the new one away.
    org.client.invalidate(&old).await;
    let still = org.client.session().await.unwrap();
    assert_eq!(still.generation(), new.generation());
    assert_eq!(org.emulator.token_requests(), 2);
}
