//! `/composite`: one call for a flow's whole write, all or nothing.

use salesforce::schema::{account, contact};
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
        .create(account::OBJECT, json!({ account::NAME: name }))
        .unwrap();
    let person = c
        .create(
            contact::OBJECT,
            json!({ contact::LAST_NAME: "Doe", contact::ACCOUNT_ID: acc.id() }),
        )
        .unwrap();
    c.update(
        account::OBJECT,
        &acc,
        json!({ account::PORTAL_STATUS: "Active" }),
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
            json!({ account::NAME: unique("Rollback") }),
        )
        .unwrap();
    c.create(
        contact::OBJECT,
        json!({ contact::LAST_NAME: "Doe", contact::ACCOUNT_ID: acc.id() }),
    )
    .unwrap();
    let bad = c
        .update(
            account::OBJECT,
            &acc,
            json!({ account::PORTAL_STATUS: "Not A Status" }),
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
