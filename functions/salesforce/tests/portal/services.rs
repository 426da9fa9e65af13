//! `ServiceBook`: the Account's services in one query, nobody else's.

use portal_core::domain::{CommodityType, OpportunityStage, WhmcsServiceId};
use portal_core::portal::ServiceBook;
use salesforce::schema::{opportunity, order, order_item};
use serde_json::json;

use crate::helpers::org;

#[tokio::test]
async fn the_services_are_the_provisioned_opportunities_with_their_order_and_product_in_one_call() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let other = org.account("Somebody Else", json!({}));
    let sim = org.product("SIM-DATA-20GB");
    let fee = org.product("SIM-ACTIVATION");

    let active = org.opportunity(
        &mine,
        "SIM",
        "Active",
        json!({ opportunity::WHMCS_SERVICE_ID: 9001 }),
    );
    let first = org.order(
        &mine,
        &fee,
        json!({ order::OPPORTUNITY_ID: active.as_str() }),
    );
    // The service line comes after the fee: the product is still the plan.
    org.insert(
        order_item::OBJECT,
        json!({
            order_item::ORDER_ID: first.as_str(),
            order_item::PRICEBOOK_ENTRY_ID: sim.entry.as_str(),
            order_item::QUANTITY: 1,
            order_item::UNIT_PRICE: sim.price,
        }),
    );
    let cancelling = org.opportunity(
        &mine,
        "SIM",
        "△Cancelling",
        json!({
            opportunity::WHMCS_SERVICE_ID: 9002,
            opportunity::SCHEDULED_CANCELLATION: "2026-05-31T15:00:00.000Z",
        }),
    );
    let second = org.order(
        &mine,
        &sim,
        json!({ order::OPPORTUNITY_ID: cancelling.as_str() }),
    );
    // Not a service (yet): no WHMCS id, or not at a service stage.
    let pending = org.opportunity(&mine, "SIM", "Post Processing", json!({}));
    org.order(
        &mine,
        &sim,
        json!({ order::OPPORTUNITY_ID: pending.as_str() }),
    );
    let void = org.opportunity(
        &mine,
        "VPN",
        "Void",
        json!({ opportunity::WHMCS_SERVICE_ID: 9004 }),
    );
    org.order(&mine, &sim, json!({ order::OPPORTUNITY_ID: void.as_str() }));
    // Another account's service.
    let theirs = org.opportunity(
        &other,
        "SIM",
        "Active",
        json!({ opportunity::WHMCS_SERVICE_ID: 9003 }),
    );
    org.order(
        &other,
        &sim,
        json!({ order::OPPORTUNITY_ID: theirs.as_str() }),
    );

    org.warm_up().await;
    let calls = org.calls();
    let services = org.portal.services().services(&mine).await.unwrap();
    assert_eq!(org.calls() - calls, 1);
    let ids: Vec<u64> = services.iter().map(|s| s.service_id.get()).collect();
    assert_eq!(
        ids,
        [9002, 9001],
        "newest first, only the caller's provisioned ones"
    );

    let newest = &services[0];
    assert_eq!(newest.stage, OpportunityStage::Cancelling);
    assert_eq!(newest.opportunity_id, cancelling);
    assert_eq!(newest.order_id, second);
    assert_eq!(newest.commodity_type, Some(CommodityType::Sim));
    assert_eq!(
        newest.scheduled_cancellation_at.map(|t| t.to_rfc3339()),
        Some("2026-05-31T15:00:00+00:00".to_owned())
    );
    let oldest = &services[1];
    assert_eq!(oldest.service_id, WhmcsServiceId::new(9001).unwrap());
    assert_eq!(oldest.order_id, first);
    let product = oldest.product.as_ref().expect("the plan");
    assert_eq!(
        (product.product_id.clone(), product.name.as_str()),
        (sim.id.clone(), sim.name.as_str())
    );
    assert_eq!(oldest.account_id, mine);
}
