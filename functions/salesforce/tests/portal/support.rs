//! `SupportDesk`: a General Inquiry in one all-or-none composite; the
//! Account's cases in one query.

use portal_core::domain::{CaseStatus, CaseType};
use portal_core::portal::plans::{CaseOpportunity, NewCase};
use portal_core::portal::ports::SupportDesk;
use salesforce::schema::case;
use serde_json::json;

use crate::helpers::org;

#[tokio::test]
async fn a_support_case_is_one_general_inquiry_written_in_one_call() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let cases = org.count(case::OBJECT);
    let new = NewCase::portal(
        mine.clone(),
        CaseOpportunity::None,
        CaseType::GeneralInquiry,
        "Router blinking".into(),
        "The light is red.\nSince yesterday.".into(),
    );

    let calls = org.calls();
    let case_id = org.portal.support().open_case(&new).await.unwrap();
    assert_eq!(org.calls() - calls, 1);
    assert_eq!(org.count(case::OBJECT), cases + 1);
    let c = org.record(case_id.as_str());
    assert_eq!(c[case::ACCOUNT_ID], mine.as_str());
    assert_eq!(c[case::TYPE], "General Inquiry");
    assert_eq!(c[case::STATUS], "New");
    assert_eq!(c[case::ORIGIN], "Portal");
    assert_eq!(c[case::SUBJECT], "Router blinking");
    assert_eq!(c[case::DESCRIPTION], "The light is red.\nSince yesterday.");
}

#[tokio::test]
async fn the_case_list_is_the_accounts_cases_newest_first_in_one_query() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let other = org.account("Somebody Else", json!({}));
    let first = org.case(
        &mine,
        "Eligibility Check",
        json!({ case::STATUS: "Working" }),
    );
    let second = org.case(&mine, "General Inquiry", json!({ case::TYPE: null }));
    org.case(&other, "General Inquiry", json!({}));

    let calls = org.calls();
    let cases = org.portal.support().cases(&mine).await.unwrap();
    assert_eq!(org.calls() - calls, 1);
    let ids: Vec<_> = cases.iter().map(|c| c.case_id.clone()).collect();
    assert_eq!(ids, [second, first]);
    assert!(cases.iter().all(|c| c.account_id == mine));
    assert_eq!(cases[0].case_type, None, "staff may leave the type empty");
    assert_eq!(cases[1].case_type, Some(CaseType::EligibilityCheck));
    assert_eq!(cases[1].status, CaseStatus::Working);
    assert_eq!(
        cases[1].subject.as_deref(),
        Some("Eligibility Check - seeded")
    );
}
