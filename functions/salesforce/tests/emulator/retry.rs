//! Which failures are retried, and how often the org sees the request.

use salesforce::composite::Body;
use salesforce::schema::account;
use salesforce::{AllOrNone, Composite, Id, SalesforceError};
use std::time::Duration;

use salesforce_emulator::Fault;
use serde_json::{Value, json};

use crate::helpers::{client_with_timeout, org, unique};

#[tokio::test]
async fn a_lock_error_is_retried_until_the_write_succeeds() {
    let org = org().await;
    let accounts = org.emulator.count(account::OBJECT);
    org.emulator.inject(Fault::LockRowOnNextWrites(2));
    let calls_before = org.emulator.api_calls();
    org.client
        .create(account::OBJECT, &json!({ account::NAME: unique("Locked") }))
        .await
        .unwrap();
    assert_eq!(org.emulator.api_calls(), calls_before + 3);
    assert_eq!(org.emulator.count(account::OBJECT), accounts + 1);
}

#[tokio::test]
async fn an_all_or_none_composite_that_hit_a_lock_is_retried_as_a_whole() {
    let org = org().await;
    let accounts = org.emulator.count(account::OBJECT);
    let mut c = Composite::new(AllOrNone::Yes);
    for i in 0..3 {
        c.create(
            account::OBJECT,
            Body::new().set(account::NAME, unique(&format!("Batch {i}"))),
        )
        .unwrap();
    }
    org.emulator.inject(Fault::LockRowOnNextWrites(1));
    let calls_before = org.emulator.api_calls();
    org.client.composite(&c).await.unwrap();
    assert_eq!(org.emulator.api_calls(), calls_before + 2);
    assert_eq!(org.emulator.count(account::OBJECT), accounts + 3);
}

#[tokio::test]
async fn a_validation_error_is_not_retried() {
    let org = org().await;
    let calls_before = org.emulator.api_calls();
    let err = org
        .client
        .create(account::OBJECT, &json!({ account::PHONE: "123" }))
        .await
        .unwrap_err();
    assert_eq!(err.error_codes(), vec!["REQUIRED_FIELD_MISSING"]);
    assert!(!err.is_retryable());
    assert_eq!(org.emulator.api_calls(), calls_before + 1);
}

#[tokio::test]
async fn an_outage_is_retried_for_a_read() {
    let org = org().await;
    let id = Id::parse(
        &org.emulator
            .insert(account::OBJECT, json!({ account::NAME: unique("Outage") }))
            .unwrap(),
    )
    .unwrap();
    org.emulator.inject(Fault::ServiceUnavailable(2));
    let row: Value = org
        .client
        .get(account::OBJECT, &id, &[account::NAME])
        .await
        .unwrap();
    assert!(row[account::NAME].as_str().unwrap().starts_with("Outage"));
}

#[tokio::test]
async fn an_outage_is_retried_for_a_composite_of_queries_but_not_for_one_that_writes() {
    let org = org().await;
    let name = unique("ReadOnly");
    org.emulator
        .insert(account::OBJECT, json!({ account::NAME: name }))
        .unwrap();
    let soql = salesforce::soql::select([account::NAME])
        .from(account::OBJECT)
        .where_(salesforce::Cond::eq(account::NAME, name.as_str()))
        .build()
        .unwrap();

    let mut reads = Composite::new(AllOrNone::Yes);
    let found = reads.query(&soql).unwrap();
    reads.query(&soql).unwrap();
    assert!(reads.is_read_only());
    org.emulator.inject(Fault::ServiceUnavailable(1));
    let calls_before = org.emulator.api_calls();
    let results = org.client.composite(&reads).await.unwrap();
    assert_eq!(results.records::<Value>(&found).unwrap().len(), 1);
    // The outage page was not an API call; the retry that answered was.
    assert_eq!(org.emulator.api_calls(), calls_before + 1);

    let mut writes = Composite::new(AllOrNone::Yes);
    writes.query(&soql).unwrap();
    writes
        .create(
            account::OBJECT,
            Body::new().set(account::NAME, unique("Write")),
        )
        .unwrap();
    assert!(!writes.is_read_only());
    let accounts = org.emulator.count(account::OBJECT);
    org.emulator.inject(Fault::ServiceUnavailable(1));
    let err = org.client.composite(&writes).await.unwrap_err();
    assert!(
        err.is_retryable() && !err.proves_nothing_was_done(),
        "{err:?}"
    );
    assert_eq!(org.emulator.count(account::OBJECT), accounts);
}

#[tokio::test]
async fn an_outage_is_not_retried_for_a_create() {
    let org = org().await;
    let accounts = org.emulator.count(account::OBJECT);
    org.emulator.inject(Fault::ServiceUnavailable(1));
    let err = org
        .client
        .create(account::OBJECT, &json!({ account::NAME: unique("Maybe") }))
        .await
        .unwrap_err();
    // The HTML page is a clean error, transient but unsafe to repeat for a create.
    assert!(
        matches!(err, SalesforceError::UndecodableBody { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(!err.proves_nothing_was_done());
    assert_eq!(org.emulator.count(account::OBJECT), accounts);
    // One 503 was injected and it was used by the single attempt.
    org.client
        .create(account::OBJECT, &json!({ account::NAME: unique("After") }))
        .await
        .unwrap();
    assert_eq!(org.emulator.count(account::OBJECT), accounts + 1);
}

#[tokio::test]
async fn the_concurrent_limit_is_retried_and_the_daily_limit_is_not() {
    let org = org().await;
    org.emulator.inject(Fault::RequestLimitExceeded {
        n: 1,
        concurrent: true,
    });
    org.client
        .create(account::OBJECT, &json!({ account::NAME: unique("Busy") }))
        .await
        .unwrap();

    org.emulator.inject(Fault::RequestLimitExceeded {
        n: 1,
        concurrent: false,
    });
    let err = org
        .client
        .create(account::OBJECT, &json!({ account::NAME: unique("Daily") }))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.error_codes(), vec!["REQUEST_LIMIT_EXCEEDED"]);
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_timeout_is_transient_but_does_not_prove_nothing_was_done() {
    let org = org().await;
    let client = client_with_timeout(&org.emulator, Duration::from_millis(100));
    // Log in before the org turns slow (the latency applies to OAuth too).
    client.session().await.unwrap();
    org.emulator.inject(Fault::Latency(Duration::from_secs(2)));
    let err = client
        .create(account::OBJECT, &json!({ account::NAME: unique("Slow") }))
        .await
        .unwrap_err();
    assert!(matches!(err, SalesforceError::Timeout(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(!err.proves_nothing_was_done());
}
