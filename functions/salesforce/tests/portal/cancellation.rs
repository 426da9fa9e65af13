//! `CancellationDesk`: the service's Opportunity and its cancellation case in
//! one composite of queries; Opportunity + Case in one all-or-none composite.

use chrono::{TimeZone, Utc};
use portal_core::domain::{CaseType, OpportunityStage, WhmcsServiceId};
use portal_core::portal::cancellation::CancellationPlan;
use portal_core::portal::plans::{CaseOpportunity, NewCase};
use portal_core::portal::ports::CancellationDesk;
use salesforce::schema::{case, opportunity};
use serde_json::json;

use crate::helpers::org;

#[tokio::test]
async fn the_service_is_found_by_its_whmcs_id_with_its_account_and_newest_cancellation_case() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let other = org.account("Somebody Else", json!({}));
    let service = org.opportunity(
        &mine,
        "SIM",
        "△Cancelling",
        json!({
            opportunity::WHMCS_SERVICE_ID: 31,
            opportunity::SCHEDULED_CANCELLATION: "2026-04-04T15:00:00Z",
        }),
    );
    org.opportunity(
        &other,
        "SIM",
        "Active",
        json!({ opportunity::WHMCS_SERVICE_ID: 32 }),
    );
    org.case(
        &mine,
        "Cancellation Request",
        json!({ case::OPPORTUNITY_ID: service.as_str(), case::STATUS: "Closed" }),
    );
    let newest = org.case(
        &mine,
        "Cancellation Request",
        json!({ case::OPPORTUNITY_ID: service.as_str() }),
    );
    org.case(
        &mine,
        "General Inquiry",
        json!({ case::OPPORTUNITY_ID: service.as_str() }),
    );
    let desk = org.portal.cancellation();

    let calls = org.calls();
    let record = desk
        .service(&mine, WhmcsServiceId::new(31).unwrap())
        .await
        .unwrap()
        .expect("the service");
    assert_eq!(org.calls() - calls, 1, "one composite");
    assert_eq!(record.opportunity_id, service);
    assert_eq!(record.account_id, mine);
    assert_eq!(record.stage, OpportunityStage::Cancelling);
    assert_eq!(
        record.scheduled_at,
        Some(Utc.with_ymd_and_hms(2026, 4, 4, 15, 0, 0).unwrap())
    );
    assert_eq!(record.cancellation_case, Some(newest));

    assert_eq!(
        desk.service(&mine, WhmcsServiceId::new(32).unwrap())
            .await
            .unwrap(),
        None,
        "another Account's service is not read at all"
    );
    let theirs = desk
        .service(&other, WhmcsServiceId::new(32).unwrap())
        .await
        .unwrap()
        .expect("their own service");
    assert_eq!(theirs.account_id, other);
    assert_eq!(theirs.cancellation_case, None);
    assert_eq!(
        desk.service(&other, WhmcsServiceId::new(31).unwrap())
            .await
            .unwrap(),
        None,
        "nor is mine, nor my case, from theirs"
    );
    assert_eq!(
        desk.service(&mine, WhmcsServiceId::new(99).unwrap())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_cancellation_moves_the_opportunity_and_opens_the_case_in_one_call() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let service = org.opportunity(
        &mine,
        "VPN",
        "Active",
        json!({ opportunity::WHMCS_SERVICE_ID: 41 }),
    );
    let cases = org.count(case::OBJECT);
    let plan = CancellationPlan {
        opportunity_id: service.clone(),
        stage: OpportunityStage::Cancelling,
        scheduled_at: Utc.with_ymd_and_hms(2026, 4, 4, 15, 0, 0).unwrap(),
        case: NewCase::portal(
            mine.clone(),
            CaseOpportunity::Existing(service.clone()),
            CaseType::CancellationRequest,
            "Cancellation request - WHMCS service 41".into(),
            "Requested cancellation date: 2026-04-05\n".into(),
        ),
    };

    let calls = org.calls();
    let case_id = org
        .portal
        .cancellation()
        .request_cancellation(&plan)
        .await
        .unwrap();
    assert_eq!(org.calls() - calls, 1);
    assert_eq!(org.count(case::OBJECT), cases + 1);
    let opp = org.record(service.as_str());
    assert_eq!(opp[opportunity::STAGE], "△Cancelling");
    assert_eq!(
        opp[opportunity::SCHEDULED_CANCELLATION],
        "2026-04-04T15:00:00.000+0000"
    );
    let c = org.record(case_id.as_str());
    assert_eq!(c[case::TYPE], "Cancellation Request");
    assert_eq!(c[case::OPPORTUNITY_ID], service.as_str());
    assert_eq!(c[case::ACCOUNT_ID], mine.as_str());
    assert_eq!(c[case::STATUS], "New");
    assert_eq!(c[case::ORIGIN], "Portal");
}
