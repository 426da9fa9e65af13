//! sObject reads and writes, upsert, describe, paging and the usage header.

use salesforce::schema::account;
use salesforce::soql::{self, Cond, Like, Order};
use salesforce::{Id, SalesforceError, UpsertOutcome};
use salesforce_emulator::EmulatorConfig;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::helpers::{org, org_with, unique};

#[derive(Debug, Deserialize, PartialEq)]
struct AccountRow {
    #[serde(rename = "Id")]
    id: Id,
    #[serde(rename = "Name")]
    name: String,
}

#[tokio::test]
async fn create_get_and_update_round_trip() {
    let org = org().await;
    let name = unique("Round trip");
    let id = org
        .client
        .create(account::OBJECT, &json!({ account::NAME: name }))
        .await
        .unwrap();
    assert_eq!(id.key_prefix(), "001");

    let row: AccountRow = org
        .client
        .get(account::OBJECT, &id, &["Id", account::NAME])
        .await
        .unwrap();
    assert_eq!(
        row,
        AccountRow {
            id: id.clone(),
            name
        }
    );

    org.client
        .update(
            account::OBJECT,
            &id,
            &json!({ account::PORTAL_STATUS: "Active" }),
        )
        .await
        .unwrap();
    assert_eq!(
        org.emulator.record(id.as_str()).unwrap()[account::PORTAL_STATUS],
        "Active"
    );

    let missing = Id::parse("001000000000001").unwrap();
    let err = org
        .client
        .get::<Value>(account::OBJECT, &missing, &[])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.error_codes(), vec!["NOT_FOUND"]);
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn upsert_creates_then_updates_by_external_id() {
    let org = org().await;
    // The external id value travels in the URL: make it awkward.
    let number = "C-1/2 ?#%";
    let body = json!({ account::NAME: unique("Upsert") });
    let first = org
        .client
        .upsert(account::OBJECT, account::CUSTOMER_NUMBER, number, &body)
        .await
        .unwrap();
    let UpsertOutcome::Created(id) = first else {
        panic!("expected a create, got {first:?}");
    };
    assert_eq!(
        org.emulator.record(id.as_str()).unwrap()[account::CUSTOMER_NUMBER],
        number
    );
    let second = org
        .client
        .upsert(
            account::OBJECT,
            account::CUSTOMER_NUMBER,
            number,
            &json!({ account::PORTAL_STATUS: "Active" }),
        )
        .await
        .unwrap();
    assert_eq!(second, UpsertOutcome::Updated);
    assert_eq!(
        org.emulator.record(id.as_str()).unwrap()[account::PORTAL_STATUS],
        "Active"
    );
}

#[tokio::test]
async fn describe_reports_types_picklists_and_external_ids() {
    let org = org().await;
    let d = org.client.describe(account::OBJECT).await.unwrap();
    assert_eq!(d.name, account::OBJECT);
    let status = d.field(account::PORTAL_STATUS).unwrap();
    assert_eq!(status.field_type, "picklist");
    let values: Vec<&str> = status
        .picklist_values
        .iter()
        .map(|v| v.value.as_str())
        .collect();
    assert_eq!(values, account::PORTAL_STATUS_VALUES);
    assert!(status.nillable && status.createable && status.updateable);
    assert!(d.field(account::CUSTOMER_NUMBER).unwrap().external_id);
    assert!(!d.field(account::NAME).unwrap().nillable);

    let err = org.client.describe("Nope__c").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn query_all_follows_next_records_url_to_the_end() {
    let org = org_with(EmulatorConfig {
        query_batch_size: 2,
        ..EmulatorConfig::default()
    })
    .await;
    let prefix = unique("Paged");
    let mut ids = Vec::new();
    for i in 0..7 {
        let id = org
            .emulator
            .insert(
                account::OBJECT,
                json!({ account::NAME: format!("{prefix} {i}") }),
            )
            .unwrap();
        ids.push(Id::parse(&id).unwrap());
    }
    let q = soql::select(["Id", account::NAME])
        .from(account::OBJECT)
        .where_(Cond::like(account::NAME, Like::starts_with(&prefix)))
        .order_by(account::NAME, Order::Asc)
        .build()
        .unwrap();

    let first = org.client.query::<AccountRow>(&q).await.unwrap();
    assert_eq!(first.total_size, 7);
    assert!(!first.done);
    assert_eq!(first.records.len(), 2);
    assert!(first.next_records_url.is_some());

    let calls_before = org.emulator.api_calls();
    let all = org.client.query_all::<AccountRow>(&q).await.unwrap();
    assert_eq!(all.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(org.emulator.api_calls(), calls_before + 4, "4 pages of 2");

    let count = soql::count()
        .from(account::OBJECT)
        .where_(Cond::like(account::NAME, Like::starts_with(&prefix)))
        .build()
        .unwrap();
    assert_eq!(
        org.client.query::<Value>(&count).await.unwrap().total_size,
        7
    );
}

#[tokio::test]
async fn api_usage_follows_the_limit_header() {
    let org = org_with(EmulatorConfig {
        daily_api_limit: 12_345,
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(org.client.api_usage(), None);
    let q = soql::count().from(account::OBJECT).build().unwrap();
    for _ in 0..3 {
        org.client.query::<Value>(&q).await.unwrap();
    }
    org.client
        .create(account::OBJECT, &json!({ account::NAME: unique("Usage") }))
        .await
        .unwrap();
    let usage = org.client.api_usage().unwrap();
    assert_eq!(usage.used, org.emulator.api_calls());
    assert_eq!(usage.used, 4);
    assert_eq!(usage.limit, 12_345);
}

#[tokio::test]
async fn a_malformed_request_is_a_permanent_api_error() {
    let org = org().await;
    let q = soql::select(["Id", "NoSuchField__c"])
        .from(account::OBJECT)
        .build()
        .unwrap();
    let err = org.client.query::<Value>(&q).await.unwrap_err();
    assert!(
        matches!(err, SalesforceError::Api { status: 400, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(org.emulator.api_calls(), 1);
}
