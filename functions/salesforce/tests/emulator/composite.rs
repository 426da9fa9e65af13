//! `/composite`: one call for a flow's whole write, all or nothing.

use salesforce::composite::{Body, CompositeBuildError};
use salesforce::schema::{account, contact};
use salesforce::soql::SoqlError;
use salesforce::soql::{self, Cond};
use salesforce::{AllOrNone, Composite, SalesforceError};
use serde::Deserialize;
use serde_json::json;

use crate::helpers::{org, unique};

#[derive(Debug, Deserialize)]
struct Found {
    #[serde(rename = "Id")]
    id: salesforce::Id,
}

#[tokio::test]
async fn a_composite_writes_everything_in_one_call_and_resolves_references() {
    let org = org().await;
    let name = unique("Composite");
    let mut c = Composite::new(AllOrNone::Yes);
    let acc = c
        .create(
            account::OBJECT,
            Body::new().set(account::NAME, name.as_str()),
        )
        .unwrap();
    let person = c
        .create(
            contact::OBJECT,
            Body::new()
                .set(contact::LAST_NAME, "Doe")
                .set_ref(contact::ACCOUNT_ID, &acc),
        )
        .unwrap();
    c.update(
        account::OBJECT,
        &acc,
        Body::new().set(account::PORTAL_STATUS, "Active"),
    )
    .unwrap();
    let q = c
        .query(
            &soql::select(["Id"])
                .from(account::OBJECT)
                .where_(Cond::eq(account::NAME, name.as_str()))
                .build()
                .unwrap(),
        )
        .unwrap();
    let calls_before = org.emulator.api_calls();
    let results = org.client.composite(&c).await.unwrap();
    assert_eq!(org.emulator.api_calls(), calls_before + 1);

    let account_id = results.id(&acc).unwrap();
    let contact_id = results.id(&person).unwrap();
    assert_eq!(account_id.key_prefix(), "001");
    let stored = org.emulator.record(contact_id.as_str()).unwrap();
    assert_eq!(stored[contact::ACCOUNT_ID], account_id.as_str());
    let stored = org.emulator.record(account_id.as_str()).unwrap();
    assert_eq!(stored[account::PORTAL_STATUS], "Active");
    let found: Vec<Found> = results.records(&q).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, account_id);
}

#[tokio::test]
async fn a_composite_whose_third_write_fails_leaves_nothing_behind() {
    let org = org().await;
    let accounts = org.emulator.count(account::OBJECT);
    let contacts = org.emulator.count(contact::OBJECT);

    let mut c = Composite::new(AllOrNone::Yes);
    let acc = c
        .create(
            account::OBJECT,
            Body::new().set(account::NAME, unique("Rollback")),
        )
        .unwrap();
    c.create(
        contact::OBJECT,
        Body::new()
            .set(contact::LAST_NAME, "Doe")
            .set_ref(contact::ACCOUNT_ID, &acc),
    )
    .unwrap();
    let bad = c
        .update(
            account::OBJECT,
            &acc,
            Body::new().set(account::PORTAL_STATUS, "Not A Status"),
        )
        .unwrap();
    let calls_before = org.emulator.api_calls();
    let err = org.client.composite(&c).await.unwrap_err();

    let SalesforceError::Composite {
        ref reference_id,
        status,
        ref errors,
        rolled_back,
    } = err
    else {
        panic!("expected a composite failure, got {err:?}");
    };
    assert_eq!(reference_id, bad.reference_id());
    assert_eq!(status, 400);
    assert_eq!(
        errors[0].error_code,
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    );
    assert!(errors.iter().all(|e| e.error_code != "PROCESSING_HALTED"));
    assert!(rolled_back);
    assert!(!err.is_retryable());
    assert!(err.to_string().contains(bad.reference_id()));

    assert_eq!(org.emulator.count(account::OBJECT), accounts);
    assert_eq!(org.emulator.count(contact::OBJECT), contacts);
    assert_eq!(org.emulator.api_calls(), calls_before + 1, "not retried");
}

#[derive(Debug, Deserialize)]
struct ContactRow {
    #[serde(rename = "Id")]
    id: salesforce::Id,
    #[serde(rename = "AccountId")]
    account_id: salesforce::Id,
}

#[derive(Debug, Deserialize)]
struct AccountRow {
    #[serde(rename = "Id")]
    id: salesforce::Id,
    #[serde(rename = "Name")]
    name: String,
}

#[tokio::test]
async fn later_queries_filter_on_an_earlier_creates_id_and_an_earlier_querys_field() {
    let org = org().await;
    let name = unique("Referenced");
    let mut c = Composite::new(AllOrNone::Yes);
    let acc = c
        .create(
            account::OBJECT,
            Body::new().set(account::NAME, name.as_str()),
        )
        .unwrap();
    let person = c
        .create(
            contact::OBJECT,
            Body::new()
                .set(contact::LAST_NAME, "Doe")
                .set_ref(contact::ACCOUNT_ID, &acc),
        )
        .unwrap();
    let by_id = c
        .query_named(
            "contactById",
            &soql::select(["Id", contact::ACCOUNT_ID])
                .from(contact::OBJECT)
                .where_(Cond::eq("Id", person.soql_id()))
                .build()
                .unwrap(),
        )
        .unwrap();
    let by_field = c
        .query_named(
            "accountOfContact",
            &soql::select(["Id", account::NAME])
                .from(account::OBJECT)
                .where_(Cond::eq(
                    "Id",
                    by_id.soql_path("records[0].AccountId").unwrap(),
                ))
                .build()
                .unwrap(),
        )
        .unwrap();
    let calls_before = org.emulator.api_calls();
    let results = org.client.composite(&c).await.unwrap();
    assert_eq!(org.emulator.api_calls(), calls_before + 1, "one call");

    let account_id = results.id(&acc).unwrap();
    let contact_id = results.id(&person).unwrap();
    let contacts: Vec<ContactRow> = results.records(&by_id).unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(
        (&contacts[0].id, &contacts[0].account_id),
        (&contact_id, &account_id)
    );
    let accounts: Vec<AccountRow> = results.records(&by_field).unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!((&accounts[0].id, &accounts[0].name), (&account_id, &name));
}

#[tokio::test]
async fn text_that_looks_like_a_reference_stays_a_literal() {
    let org = org().await;
    // Stored beforehand under names that a substituting server would rewrite
    // (or fail on, for the unknown reference).
    let mut stored = Vec::new();
    for name in ["@{ref0.id}", "'@{ref0.id}'", "x@{nope.records[0].Id}y"] {
        let id = org
            .client
            .create(account::OBJECT, &json!({ account::NAME: name }))
            .await
            .unwrap();
        stored.push((name, id));
    }
    let mut c = Composite::new(AllOrNone::Yes);
    let created = c
        .create(
            account::OBJECT,
            Body::new().set(account::NAME, unique("Ref0")),
        )
        .unwrap();
    assert_eq!(created.reference_id(), "ref0");
    let queries: Vec<_> = stored
        .iter()
        .map(|(name, _)| {
            c.query(
                &soql::select(["Id", account::NAME])
                    .from(account::OBJECT)
                    .where_(Cond::eq(account::NAME, *name))
                    .build()
                    .unwrap(),
            )
            .unwrap()
        })
        .collect();
    let results = org.client.composite(&c).await.unwrap();
    let created_id = results.id(&created).unwrap();
    for ((name, id), q) in stored.iter().zip(&queries) {
        let found: Vec<AccountRow> = results.records(q).unwrap();
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!((&found[0].id, found[0].name.as_str()), (id, *name));
        assert_ne!(found[0].id, created_id);
    }
}

#[tokio::test]
async fn references_to_other_composites_or_later_subrequests_are_build_errors() {
    let contacts_of = |r: soql::Reference| {
        soql::select(["Id"])
            .from(contact::OBJECT)
            .where_(Cond::eq(contact::ACCOUNT_ID, r))
            .build()
            .unwrap()
    };
    let mut other = Composite::new(AllOrNone::Yes);
    let foreign = other
        .create(account::OBJECT, Body::new().set(account::NAME, "Other"))
        .unwrap();
    let mut c = Composite::new(AllOrNone::Yes);
    let own = c
        .create(account::OBJECT, Body::new().set(account::NAME, "Own"))
        .unwrap();
    assert_eq!(own.reference_id(), foreign.reference_id(), "same name");
    assert_eq!(
        c.query(&contacts_of(foreign.soql_id())),
        Err(CompositeBuildError::UnknownReference("ref0".to_owned()))
    );
    let mut ahead = c.clone();
    let later = ahead
        .create_named(
            "later",
            account::OBJECT,
            Body::new().set(account::NAME, "Later"),
        )
        .unwrap();
    assert_eq!(
        c.query(&contacts_of(later.soql_id())),
        Err(CompositeBuildError::UnknownReference("later".to_owned()))
    );
    assert!(matches!(
        own.soql_path("records[0].Id' OR Id != '"),
        Err(CompositeBuildError::InvalidReferencePath(_))
    ));
    assert!(c.query(&contacts_of(own.soql_id())).is_ok());
}

#[tokio::test]
async fn a_query_with_references_is_refused_outside_a_composite() {
    let org = org().await;
    let mut c = Composite::new(AllOrNone::Yes);
    let acc = c
        .create(
            account::OBJECT,
            Body::new().set(account::NAME, "Never sent"),
        )
        .unwrap();
    let q = soql::select(["Id"])
        .from(contact::OBJECT)
        .where_(Cond::eq(contact::ACCOUNT_ID, acc.soql_id()))
        .build()
        .unwrap();
    let calls_before = org.emulator.api_calls();
    let err = org.client.query::<Found>(&q).await.unwrap_err();
    assert!(
        matches!(
            err,
            SalesforceError::Soql(SoqlError::ReferenceOutsideComposite)
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    let err = org.client.query_all::<Found>(&q).await.unwrap_err();
    assert!(matches!(
        err,
        SalesforceError::Soql(SoqlError::ReferenceOutsideComposite)
    ));
    assert_eq!(org.emulator.api_calls(), calls_before, "nothing was sent");
}

#[tokio::test]
async fn a_partial_composite_reports_a_reference_that_found_nothing_on_its_own_subrequest() {
    let org = org().await;
    let mut c = Composite::new(AllOrNone::No);
    let none = c
        .query_named(
            "none",
            &soql::select(["Id"])
                .from(account::OBJECT)
                .where_(Cond::eq(account::NAME, unique("Nobody")))
                .build()
                .unwrap(),
        )
        .unwrap();
    let dependent = c
        .query_named(
            "dependent",
            &soql::select(["Id"])
                .from(contact::OBJECT)
                .where_(Cond::eq(contact::ACCOUNT_ID, none.soql_first_id()))
                .build()
                .unwrap(),
        )
        .unwrap();
    let calls_before = org.emulator.api_calls();
    let results = org.client.composite_partial(&c).await.unwrap();
    assert_eq!(org.emulator.api_calls(), calls_before + 1);
    assert!(!results.failed(&none));
    assert!(results.records::<Found>(&none).unwrap().is_empty());
    assert!(results.failed(&dependent));
    let Some(SalesforceError::Composite {
        reference_id,
        rolled_back,
        ..
    }) = results.failure_of(&dependent)
    else {
        panic!("expected the dependent query's failure");
    };
    assert_eq!(reference_id, "dependent");
    assert!(!rolled_back);

    // The strict call reports the same failure as an error.
    let err = org.client.composite(&c).await.unwrap_err();
    assert!(
        matches!(&err, SalesforceError::Composite { reference_id, .. } if reference_id == "dependent"),
        "{err:?}"
    );
}
