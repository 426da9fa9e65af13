//! `AccountProfile`: the caller's Account in one query.

use chrono::{TimeZone, Utc};
use portal_core::domain::{
    AccountId, CustomerNumber, EligibilityStatus, IdVerificationStatus, PortalStatus,
};
use portal_core::portal::PortError;
use portal_core::portal::ports::AccountProfile;
use salesforce::schema::account;
use serde_json::json;

use crate::helpers::org;

#[tokio::test]
async fn the_overview_maps_every_documented_field_in_one_query() {
    let org = org().await;
    let mine = org.account(
        "Hanako Yamada",
        json!({
            account::CUSTOMER_NUMBER: "C-0001",
            account::PORTAL_STATUS: "Active",
            account::ELIGIBILITY_STATUS: "Checked",
            account::ELIGIBILITY: "1G available",
            account::ELIGIBILITY_REQUESTED_AT: "2026-03-01T00:00:00Z",
            account::ELIGIBILITY_CHECKED_AT: "2026-03-02T09:15:30.250+09:00",
            account::ID_VERIFICATION_STATUS: "Rejected",
            account::ID_VERIFICATION_SUBMITTED_AT: "2026-03-03T00:00:00Z",
            account::ID_VERIFICATION_REJECTION: "The photo is blurred",
            account::ID_VERIFICATION_NOTE: "agent-only note",
        }),
    );
    org.account("Somebody Else", json!({ account::PORTAL_STATUS: "Active" }));

    let calls = org.calls();
    let got = org
        .portal
        .account()
        .account_overview(&mine)
        .await
        .unwrap()
        .expect("the Account");
    assert_eq!(org.calls() - calls, 1);
    assert_eq!(got.account_id, mine);
    assert_eq!(got.name, "Hanako Yamada");
    assert_eq!(
        got.customer_number,
        Some(CustomerNumber::parse("C-0001").unwrap())
    );
    assert_eq!(got.portal_status, Some(PortalStatus::Active));
    assert_eq!(got.eligibility.status, Some(EligibilityStatus::Checked));
    assert_eq!(got.eligibility.value.as_deref(), Some("1G available"));
    assert_eq!(
        got.eligibility.requested_at,
        Some(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap())
    );
    assert_eq!(
        got.eligibility.checked_at,
        Some(
            Utc.with_ymd_and_hms(2026, 3, 2, 0, 15, 30).unwrap()
                + chrono::Duration::milliseconds(250)
        )
    );
    assert_eq!(
        got.id_verification.status,
        Some(IdVerificationStatus::Rejected)
    );
    assert_eq!(
        got.id_verification.submitted_at,
        Some(Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap())
    );
    assert_eq!(got.id_verification.verified_at, None);
    assert_eq!(
        got.id_verification.rejection_message.as_deref(),
        Some("The photo is blurred")
    );
}

#[tokio::test]
async fn a_missing_account_is_none_and_a_record_that_does_not_parse_is_a_failure() {
    let org = org().await;
    let profile = org.portal.account();
    let missing = AccountId::parse("001000000000999").unwrap();
    assert_eq!(profile.account_overview(&missing).await.unwrap(), None);

    let broken = AccountId::parse(
        &org.emulator
            .insert_unchecked(
                account::OBJECT,
                json!({ account::NAME: "Broken", account::PORTAL_STATUS: "Sometimes" }),
            )
            .unwrap(),
    )
    .unwrap();
    let err = profile.account_overview(&broken).await.unwrap_err();
    let PortError::Failed { source } = &err else {
        panic!("expected a failure, got {err:?}");
    };
    let message = source.to_string();
    assert!(message.contains("Portal_Status__c"), "{message}");
    assert!(!message.contains("Sometimes"), "no record data: {message}");
}
