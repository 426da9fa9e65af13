//! Customer text holding `@{…}` (even the adapters' own reference ids) is
//! stored byte for byte: never substituted, never a failed composite. The
//! emulator, like the strict reading of Salesforce, fails a composite whose
//! body names an unknown reference, so sending such text raw would fail these
//! tests. Each record holding such text costs one more call (a plain PATCH).

use chrono::NaiveDate;
use portal_core::domain::{
    CaseType, CommodityType, EligibilityStatus, LastName, PortalStatus, RegistrationSource,
};
use portal_core::portal::eligibility::EligibilityPlan;
use portal_core::portal::plans::{CaseOpportunity, NewCase, NewOpportunity, OpportunityPlan};
use portal_core::portal::ports::{EligibilityDesk, RegistrationDirectory, SupportDesk};
use portal_core::portal::registration::{NewAccount, RegistrationPlan};

use salesforce::schema::{account, case, contact, opportunity};
use salesforce_emulator::Fault;
use serde_json::json;

use crate::helpers::{now, org};

/// Names the support adapter's real reference id (`case`), the brief's
/// `ref0`, a field path and an unterminated reference.
const TRICKY: &str = "see @{ref0.id} and @{Account.Id}\nor @{case.id} / @{case.records[0].Id} / @{";

#[tokio::test]
async fn a_support_case_stores_text_holding_references_verbatim() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let cases = org.count(case::OBJECT);
    let new = NewCase::portal(
        mine.clone(),
        CaseOpportunity::None,
        CaseType::GeneralInquiry,
        "@{case.id}".into(),
        TRICKY.into(),
    );

    let calls = org.calls();
    let case_id = org.portal.support().open_case(&new).await.unwrap();
    assert_eq!(
        org.calls() - calls,
        2,
        "the composite, then one PATCH with the exact text"
    );
    assert_eq!(org.count(case::OBJECT), cases + 1);
    let c = org.record(case_id.as_str());
    assert_eq!(c[case::SUBJECT], "@{case.id}");
    assert_eq!(c[case::DESCRIPTION], TRICKY);
    assert_eq!(c[case::ACCOUNT_ID], mine.as_str());
    assert_eq!(c[case::TYPE], "General Inquiry");
}

#[tokio::test]
async fn when_the_text_patch_fails_the_written_case_is_still_reported_and_holds_the_stand_in() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let cases = org.count(case::OBJECT);
    let new = NewCase::portal(
        mine.clone(),
        CaseOpportunity::None,
        CaseType::GeneralInquiry,
        "Question".into(),
        "about @{case.id}".into(),
    );
    // The composite is served; every PATCH attempt after it meets an outage.
    org.emulator
        .inject(Fault::ServiceUnavailableAfter { after: 1, n: 100 });

    let written = org.portal.support().open_case(&new).await;
    org.emulator.clear_faults();

    let case_id =
        written.expect("the case was written: reporting a failure would invite a second one");
    assert_eq!(org.count(case::OBJECT), cases + 1);
    let c = org.record(case_id.as_str());
    assert_eq!(
        c[case::DESCRIPTION],
        "about @(case.id}",
        "the stand-in stays"
    );
}

#[tokio::test]
async fn an_eligibility_request_stores_the_notes_verbatim_and_still_links_the_new_opportunity() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({ account::PORTAL_STATUS: "Active" }));
    let notes = "@{opportunity.id} @{account.id} @{case.id} {@{}}";
    let plan = EligibilityPlan {
        account_id: mine.clone(),
        status: EligibilityStatus::Pending,
        requested_at: now(),
        opportunity: OpportunityPlan::Create(NewOpportunity::for_eligibility(
            mine.clone(),
            CommodityType::PersonalInternet,
            NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
        )),
        case: NewCase::portal(
            mine.clone(),
            CaseOpportunity::OfPlan,
            CaseType::EligibilityCheck,
            "Internet eligibility check".into(),
            notes.into(),
        ),
    };

    let calls = org.calls();
    let written = org
        .portal
        .eligibility()
        .request_eligibility(&plan)
        .await
        .unwrap();
    assert_eq!(org.calls() - calls, 2);
    let c = org.record(written.case_id.as_str());
    assert_eq!(c[case::DESCRIPTION], notes);
    assert_eq!(c[case::OPPORTUNITY_ID], written.opportunity_id.as_str());
    let opp = org.record(written.opportunity_id.as_str());
    assert_eq!(opp[opportunity::ACCOUNT_ID], mine.as_str());
    assert_eq!(
        org.record(mine.as_str())[account::ELIGIBILITY_STATUS],
        "Pending"
    );
}

#[tokio::test]
async fn a_registration_stores_names_holding_references_verbatim() {
    let org = org().await;
    let accounts = org.count(account::OBJECT);
    let account_name = "@{account.id} Trading";
    let last_name = "Yamada @{contact.id}";
    let Ok(last) = LastName::parse(last_name) else {
        panic!("a last name with @{{ is valid input");
    };
    let mut person = crate::registration::new_contact();
    person.last_name = last;
    let plan = RegistrationPlan::CreateAccount {
        account: NewAccount {
            name: account_name.into(),
            phone: None,
            portal_status: PortalStatus::Active,
            registration_source: RegistrationSource::PortalSignup,
        },
        contact: person,
    };

    let calls = org.calls();
    let registered = org.portal.registration().register(&plan).await.unwrap();
    assert_eq!(
        org.calls() - calls,
        3,
        "the composite, then one PATCH per record holding such text"
    );
    assert_eq!(org.count(account::OBJECT), accounts + 1);
    assert_eq!(
        org.record(registered.account_id.as_str())[account::NAME],
        account_name
    );
    let c = org.record(registered.contact_id.as_str());
    assert_eq!(c[contact::LAST_NAME], last_name);
    assert_eq!(c[contact::FIRST_NAME], "Hanako");
    assert_eq!(c[contact::ACCOUNT_ID], registered.account_id.as_str());
}
