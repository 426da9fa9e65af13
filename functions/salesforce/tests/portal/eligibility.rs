//! `EligibilityDesk`: the context in one composite of queries; Opportunity +
//! Case + Account in one all-or-none composite.

use chrono::NaiveDate;
use portal_core::domain::{
    AccountId, CaseType, CommodityType, EligibilityStatus, OpportunityStage,
};
use portal_core::portal::eligibility::EligibilityPlan;
use portal_core::portal::plans::{CaseOpportunity, NewCase, NewOpportunity, OpportunityPlan};
use portal_core::portal::ports::EligibilityDesk;
use salesforce::schema::{account, case, opportunity};
use serde_json::json;

use crate::helpers::{TestOrg, now, org};

const HOME: &str = "Personal SonixNet Home Internet";

fn plan(account_id: &AccountId, opportunity: OpportunityPlan) -> EligibilityPlan {
    EligibilityPlan {
        account_id: account_id.clone(),
        status: EligibilityStatus::Pending,
        requested_at: now(),
        opportunity,
        case: NewCase::portal(
            account_id.clone(),
            CaseOpportunity::OfPlan,
            CaseType::EligibilityCheck,
            "Internet eligibility check".into(),
            "Address: 〒150-0001 東京都 渋谷区 神宮前1-2-3\n".into(),
        ),
    }
}

fn seeded(org: &TestOrg) -> AccountId {
    org.account("Hanako Yamada", json!({ account::PORTAL_STATUS: "Active" }))
}

#[tokio::test]
async fn the_context_holds_the_status_the_newest_open_opportunity_and_the_open_case_of_the_account_only()
 {
    let org = org().await;
    let mine = org.account(
        "Hanako Yamada",
        json!({ account::ELIGIBILITY_STATUS: "Pending" }),
    );
    let other = seeded(&org);
    org.opportunity(&mine, HOME, "Introduction", json!({}));
    let newest = org.opportunity(&mine, HOME, "Ready", json!({}));
    org.opportunity(&mine, HOME, "Active", json!({}));
    org.opportunity(&mine, "SIM", "Ready", json!({}));
    org.opportunity(&other, HOME, "Ready", json!({}));
    org.case(
        &mine,
        "Eligibility Check",
        json!({ case::STATUS: "Closed" }),
    );
    let open = org.case(
        &mine,
        "Eligibility Check",
        json!({ case::OPPORTUNITY_ID: newest.as_str(), case::STATUS: "Working" }),
    );
    org.case(&mine, "General Inquiry", json!({}));
    let theirs = org.case(&other, "Eligibility Check", json!({}));

    let calls = org.calls();
    let context = org
        .portal
        .eligibility()
        .eligibility_context(&mine, CommodityType::PersonalInternet)
        .await
        .unwrap()
        .expect("the Account exists");
    assert_eq!(org.calls() - calls, 1, "one composite");
    assert_eq!(context.status, Some(EligibilityStatus::Pending));
    let opp = context.open_opportunity.expect("an open Opportunity");
    assert_eq!(opp.id, newest);
    assert_eq!(opp.stage, OpportunityStage::Ready);
    let case = context.open_case.expect("the open case");
    assert_eq!(case.case_id, open);
    assert_eq!(case.opportunity_id, Some(newest));

    let none = org
        .portal
        .eligibility()
        .eligibility_context(&other, CommodityType::CorporateInternet)
        .await
        .unwrap()
        .expect("the Account exists");
    assert_eq!(none.status, None);
    assert_eq!(
        none.open_opportunity, None,
        "no Corporate Internet Opportunity"
    );
    assert_eq!(
        none.open_case.map(|c| c.case_id),
        Some(theirs),
        "their own case only"
    );
    let missing = AccountId::parse("001000000000999").unwrap();
    assert_eq!(
        org.portal
            .eligibility()
            .eligibility_context(&missing, CommodityType::PersonalInternet)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_request_creates_the_opportunity_at_introduction_the_case_on_it_and_sets_the_account_pending_in_one_call()
 {
    let org = org().await;
    let mine = seeded(&org);
    let opportunities = org.count(opportunity::OBJECT);
    let cases = org.count(case::OBJECT);
    let today = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
    let plan = plan(
        &mine,
        OpportunityPlan::Create(NewOpportunity::for_eligibility(
            mine.clone(),
            CommodityType::PersonalInternet,
            today,
        )),
    );

    let calls = org.calls();
    let written = org
        .portal
        .eligibility()
        .request_eligibility(&plan)
        .await
        .unwrap();
    assert_eq!(org.calls() - calls, 1);
    assert_eq!(org.count(opportunity::OBJECT), opportunities + 1);
    assert_eq!(org.count(case::OBJECT), cases + 1);

    let opp = org.record(written.opportunity_id.as_str());
    assert_eq!(opp[opportunity::ACCOUNT_ID], mine.as_str());
    assert_eq!(opp[opportunity::STAGE], "Introduction");
    assert_eq!(opp[opportunity::COMMODITY_TYPE], HOME);
    assert_eq!(
        opp[opportunity::PORTAL_SOURCE],
        "Portal - Internet Eligibility Request"
    );
    assert_eq!(opp[opportunity::CLOSE_DATE], "2026-05-01");
    assert_eq!(
        opp[opportunity::NAME],
        "Personal SonixNet Home Internet - eligibility request 2026-04-01"
    );
    let case = org.record(written.case_id.as_str());
    assert_eq!(case[case::ACCOUNT_ID], mine.as_str());
    assert_eq!(case[case::OPPORTUNITY_ID], written.opportunity_id.as_str());
    assert_eq!(case[case::TYPE], "Eligibility Check");
    assert_eq!(case[case::STATUS], "New");
    assert_eq!(case[case::ORIGIN], "Portal");
    assert_eq!(case[case::SUBJECT], "Internet eligibility check");
    assert!(
        case[case::DESCRIPTION]
            .as_str()
            .unwrap()
            .contains("神宮前1-2-3")
    );
    let a = org.record(mine.as_str());
    assert_eq!(a[account::ELIGIBILITY_STATUS], "Pending");
    assert_eq!(
        a[account::ELIGIBILITY_REQUESTED_AT],
        "2026-04-01T00:30:00.000+0000"
    );
}

#[tokio::test]
async fn a_request_that_reuses_the_open_opportunity_creates_only_the_case_and_updates_the_account()
{
    let org = org().await;
    let mine = seeded(&org);
    let open = org.opportunity(&mine, HOME, "Ready", json!({}));
    let opportunities = org.count(opportunity::OBJECT);

    let calls = org.calls();
    let written = org
        .portal
        .eligibility()
        .request_eligibility(&plan(&mine, OpportunityPlan::Reuse(open.clone())))
        .await
        .unwrap();
    assert_eq!(org.calls() - calls, 1);
    assert_eq!(written.opportunity_id, open);
    assert_eq!(org.count(opportunity::OBJECT), opportunities);
    assert_eq!(
        org.record(open.as_str())[opportunity::STAGE],
        "Ready",
        "left as it is"
    );
    assert_eq!(
        org.record(written.case_id.as_str())[case::OPPORTUNITY_ID],
        open.as_str()
    );
    assert_eq!(
        org.record(mine.as_str())[account::ELIGIBILITY_STATUS],
        "Pending"
    );
}
