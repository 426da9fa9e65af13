//! Hostile strings survive the SOQL builder: stored with `create`, found again
//! with `=` and with `LIKE`, never breaking or widening the query.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use salesforce::schema::account;
use salesforce::soql::{self, Cond, Like};
use serde::Deserialize;
use serde_json::json;

use crate::helpers::{TestOrg, org};

#[derive(Debug, Deserialize)]
struct Row {
    #[serde(rename = "Id")]
    id: salesforce::Id,
    #[serde(rename = "Name")]
    name: Option<String>,
}

/// Strings built from the pieces that break naive escaping.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "'",
        "\\",
        "\\'",
        "\\\\'",
        "\"",
        "\n",
        "\r\n",
        "\t",
        "\u{8}",
        "\u{c}",
        "%",
        "_",
        "%_",
        "\\%",
        "\\_",
        "' OR Name != '",
        "') OR (Name LIKE '%",
        "--",
        "/*",
        "é",
        "日本語",
        "🦀",
        "ß",
        "a",
        "Z",
        " ",
        "0",
    ]);
    prop::collection::vec(piece, 0..7).prop_map(|pieces| pieces.concat())
}

/// A failed step of a case, for proptest to report and shrink.
fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

async fn names_equal(org: &TestOrg, value: &str) -> Result<(), TestCaseError> {
    let by_eq = soql::select(["Id", account::NAME])
        .from(account::OBJECT)
        .where_(Cond::eq(account::NAME, value))
        .build()
        .map_err(fail)?;
    if value.is_empty() {
        // An empty Name is null to Salesforce: refused on create…
        let err = org
            .client
            .create(account::OBJECT, &json!({ account::NAME: value }))
            .await
            .err()
            .ok_or_else(|| TestCaseError::fail("an empty Name was accepted"))?;
        prop_assert_eq!(err.error_codes(), vec!["REQUIRED_FIELD_MISSING"]);
        // …and `Name = ''` is still a valid query.
        let rows = org.client.query_all::<Row>(&by_eq).await.map_err(fail)?;
        prop_assert!(rows.iter().all(|r| r.name.is_none()));
        return Ok(());
    }
    let id = org
        .client
        .create(account::OBJECT, &json!({ account::NAME: value }))
        .await
        .map_err(fail)?;
    let stored = org
        .emulator
        .record(id.as_str())
        .ok_or_else(|| TestCaseError::fail("the created record is not stored"))?;
    prop_assert_eq!(stored[account::NAME].as_str(), Some(value));

    let rows = org.client.query_all::<Row>(&by_eq).await.map_err(fail)?;
    prop_assert!(rows.iter().any(|r| r.id == id), "{value:?} not found by =");
    for row in &rows {
        let name = row.name.as_deref().unwrap_or_default();
        // SOQL `=` on text ignores case.
        prop_assert_eq!(name.to_lowercase(), value.to_lowercase());
    }

    let by_like = soql::select(["Id", account::NAME])
        .from(account::OBJECT)
        .where_(Cond::like(account::NAME, Like::contains(value)))
        .build()
        .map_err(fail)?;
    let rows = org.client.query_all::<Row>(&by_like).await.map_err(fail)?;
    prop_assert!(
        rows.iter().any(|r| r.id == id),
        "{value:?} not found by LIKE"
    );
    for row in &rows {
        let name = row.name.as_deref().unwrap_or_default().to_lowercase();
        prop_assert!(name.contains(&value.to_lowercase()), "{name:?} ⊅ {value:?}");
    }
    Ok(())
}

#[test]
fn hostile_strings_round_trip_through_create_and_the_builder() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let org = runtime.block_on(org());
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&hostile(), |value| {
            runtime.block_on(names_equal(&org, &value))
        })
        .unwrap();
    // The empty string is always exercised, whatever the generator drew.
    runtime.block_on(names_equal(&org, "")).unwrap();
}
