//! `IdVerificationDesk`: the context in one composite of queries; Case +
//! Account in one all-or-none composite.

use chrono::{TimeZone, Utc};
use portal_core::domain::{AccountId, CaseType, IdVerificationStatus};
use portal_core::portal::id_verification::IdVerificationPlan;
use portal_core::portal::plans::{CaseOpportunity, NewCase};
use portal_core::portal::ports::IdVerificationDesk;
use salesforce::schema::{account, case};
use serde_json::json;

use crate::helpers::org;

#[tokio::test]
async fn the_context_holds_the_status_and_the_open_case_of_the_account_only() {
    let org = org().await;
    let mine = org.account(
        "Hanako Yamada",
        json!({ account::ID_VERIFICATION_STATUS: "Pending" }),
    );
    let other = org.account("Somebody Else", json!({}));
    org.case(&mine, "ID Verification", json!({ case::STATUS: "Closed" }));
    let open = org.case(
        &mine,
        "ID Verification",
        json!({ case::STATUS: "Escalated" }),
    );
    org.case(&mine, "Eligibility Check", json!({}));
    org.case(&other, "ID Verification", json!({}));
    let desk = org.portal.id_verification();

    let calls = org.calls();
    let context = desk.verification_context(&mine).await.unwrap().unwrap();
    assert_eq!(org.calls() - calls, 1);
    assert_eq!(context.status, Some(IdVerificationStatus::Pending));
    assert_eq!(context.open_case, Some(open));

    let missing = AccountId::parse("001000000000999").unwrap();
    assert_eq!(desk.verification_context(&missing).await.unwrap(), None);
}

#[tokio::test]
async fn a_submission_writes_the_case_and_the_pending_status_with_its_time_in_one_call() {
    let org = org().await;
    let mine = org.account(
        "Hanako Yamada",
        json!({ account::ID_VERIFICATION_STATUS: "Rejected" }),
    );
    let cases = org.count(case::OBJECT);
    let submitted_at = Utc.with_ymd_and_hms(2026, 4, 1, 0, 30, 0).unwrap();
    let plan = IdVerificationPlan {
        account_id: mine.clone(),
        status: IdVerificationStatus::Pending,
        submitted_at,
        case: NewCase::portal(
            mine.clone(),
            CaseOpportunity::None,
            CaseType::IdVerification,
            "ID verification - Residence card".into(),
            "Document type: Residence card\n".into(),
        ),
    };

    let calls = org.calls();
    let case_id = org
        .portal
        .id_verification()
        .submit_verification(&plan)
        .await
        .unwrap();
    assert_eq!(org.calls() - calls, 1);
    assert_eq!(org.count(case::OBJECT), cases + 1);
    let c = org.record(case_id.as_str());
    assert_eq!(c[case::ACCOUNT_ID], mine.as_str());
    assert_eq!(c[case::TYPE], "ID Verification");
    assert_eq!(c[case::STATUS], "New");
    assert_eq!(c[case::ORIGIN], "Portal");
    assert_eq!(c[case::SUBJECT], "ID verification - Residence card");
    assert!(c.get(case::OPPORTUNITY_ID).is_none_or(|v| v.is_null()));
    let a = org.record(mine.as_str());
    assert_eq!(a[account::ID_VERIFICATION_STATUS], "Pending");
    assert_eq!(
        a[account::ID_VERIFICATION_SUBMITTED_AT],
        "2026-04-01T00:30:00.000+0000"
    );
}
