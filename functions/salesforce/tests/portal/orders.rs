//! `OrderBook`: the order context in one composite of queries; Opportunity +
//! Order + every OrderItem (+ the number read back) in one all-or-none
//! composite; the list in one query; the detail in one composite.

use chrono::NaiveDate;
use portal_core::domain::{
    AccountId, ActivationStatus, CommodityType, EligibilityStatus, OpportunityStage, OrderId,
    OrderStatus, PortalSource, ProductFamily, ProductId, Quantity, UnitPrice, WhmcsOrderId,
    WhmcsServiceId,
};
use portal_core::portal::orders::{NewOrder, NewOrderItem, OrderPlacement};
use portal_core::portal::plans::{NewOpportunity, OpportunityPlan};
use portal_core::portal::ports::OrderBook;
use salesforce::schema::{account, opportunity, order, order_item};
use serde_json::json;

use crate::helpers::{SeededProduct, TestOrg, org};

const HOME: &str = "Personal SonixNet Home Internet";

fn item(p: &SeededProduct, quantity: i64) -> NewOrderItem {
    NewOrderItem {
        product_id: p.id.clone(),
        pricebook_entry_id: p.entry.clone(),
        quantity: Quantity::new(quantity).expect("a valid quantity"),
        unit_price: UnitPrice::new(p.price).expect("a seeded price"),
    }
}

fn placement(
    org: &TestOrg,
    account_id: &AccountId,
    opportunity: OpportunityPlan,
    items: Vec<NewOrderItem>,
) -> OrderPlacement {
    OrderPlacement {
        account_id: account_id.clone(),
        opportunity,
        order: NewOrder {
            status: OrderStatus::PendingReview,
            activation_status: ActivationStatus::PendingReview,
            effective_date: NaiveDate::from_ymd_opt(2026, 4, 1).expect("a date"),
            pricebook_id: org.standard_pricebook(),
            items,
        },
    }
}

#[tokio::test]
async fn the_context_holds_eligibility_the_open_opportunity_the_price_book_and_the_requested_entries_in_one_call()
 {
    let org = org().await;
    let mine = org.account(
        "Hanako Yamada",
        json!({ account::ELIGIBILITY_STATUS: "Checked" }),
    );
    let other = org.account(
        "Somebody Else",
        json!({ account::ELIGIBILITY_STATUS: "Checked" }),
    );
    let ready = org.opportunity(&mine, HOME, "Ready", json!({}));
    org.opportunity(&other, HOME, "Ready", json!({}));
    let fiber = org.product("INT-HOME-1G");
    let legacy = org.product("INT-HOME-1G-LEGACY");
    let sim = org.product("SIM-DATA-20GB");
    let unknown = ProductId::parse("01t000000000999").unwrap();

    let calls = org.calls();
    let context = org
        .portal
        .orders()
        .order_context(
            &mine,
            CommodityType::PersonalInternet,
            &[fiber.id.clone(), legacy.id.clone(), sim.id.clone(), unknown],
        )
        .await
        .unwrap()
        .expect("the Account exists");
    assert_eq!(org.calls() - calls, 1, "one composite");
    assert_eq!(context.eligibility_status, Some(EligibilityStatus::Checked));
    let open = context.open_opportunity.expect("the Ready Opportunity");
    assert_eq!((open.id, open.stage), (ready, OpportunityStage::Ready));
    assert_eq!(context.pricebook_id, org.standard_pricebook());
    assert_eq!(context.entries.len(), 3, "{:?}", context.entries);
    let entry = |p: &SeededProduct| {
        context
            .entries
            .iter()
            .find(|e| e.product_id == p.id)
            .unwrap_or_else(|| panic!("an entry for {}", p.name))
    };
    let f = entry(&fiber);
    assert_eq!(f.pricebook_entry_id, fiber.entry);
    assert_eq!(f.unit_price.get(), 5280.0);
    assert!(f.entry_active && f.product_active);
    assert_eq!(f.family, Some(ProductFamily::Internet));
    assert!(
        !entry(&legacy).product_active,
        "the legacy product is inactive"
    );
    assert_eq!(entry(&sim).family, Some(ProductFamily::Sim));

    let missing = AccountId::parse("001000000000999").unwrap();
    assert_eq!(
        org.portal
            .orders()
            .order_context(&missing, CommodityType::Sim, std::slice::from_ref(&sim.id))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn placing_an_order_creates_the_opportunity_the_order_and_every_item_in_one_call() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let sim = org.product("SIM-VOICE-DATA-20GB");
    let fee = org.product("SIM-ACTIVATION");
    let (opportunities, orders, items) = (
        org.count(opportunity::OBJECT),
        org.count(order::OBJECT),
        org.count(order_item::OBJECT),
    );
    let plan = placement(
        &org,
        &mine,
        OpportunityPlan::Create(NewOpportunity::for_order(
            mine.clone(),
            CommodityType::Sim,
            NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
        )),
        vec![item(&sim, 2), item(&fee, 1)],
    );

    let calls = org.calls();
    let placed = org.portal.orders().place_order(&plan).await.unwrap();
    assert_eq!(org.calls() - calls, 1, "one composite");
    assert_eq!(org.count(opportunity::OBJECT), opportunities + 1);
    assert_eq!(org.count(order::OBJECT), orders + 1);
    assert_eq!(org.count(order_item::OBJECT), items + 2);

    let opp = org.record(placed.opportunity_id.as_str());
    assert_eq!(opp[opportunity::ACCOUNT_ID], mine.as_str());
    assert_eq!(opp[opportunity::STAGE], "Post Processing");
    assert_eq!(opp[opportunity::PORTAL_SOURCE], "Portal - Order Placement");
    assert_eq!(opp[opportunity::COMMODITY_TYPE], "SIM");
    assert_eq!(opp[opportunity::CLOSE_DATE], "2026-04-01");
    let o = org.record(placed.order_id.as_str());
    assert_eq!(o[order::ACCOUNT_ID], mine.as_str());
    assert_eq!(o[order::OPPORTUNITY_ID], placed.opportunity_id.as_str());
    assert_eq!(o[order::STATUS], "Pending Review");
    assert_eq!(o[order::ACTIVATION_STATUS], "Pending Review");
    assert_eq!(o[order::EFFECTIVE_DATE], "2026-04-01");
    assert_eq!(o[order::PRICEBOOK_ID], org.standard_pricebook().as_str());
    assert_eq!(o[order::ORDER_NUMBER], placed.order_number.as_str());
    assert_eq!(o[order::TOTAL_AMOUNT], 2.0 * 2948.0 + 3300.0);
    let lines = org.records_where(
        order_item::OBJECT,
        order_item::ORDER_ID,
        placed.order_id.as_str(),
    );
    assert_eq!(lines.len(), 2);
    for (line, (p, quantity)) in lines.iter().zip([(&sim, 2.0), (&fee, 1.0)]) {
        assert_eq!(line[order_item::PRODUCT_ID], p.id.as_str());
        assert_eq!(line[order_item::PRICEBOOK_ENTRY_ID], p.entry.as_str());
        assert_eq!(line[order_item::QUANTITY], quantity);
        assert_eq!(line[order_item::UNIT_PRICE], p.price);
    }
}

#[tokio::test]
async fn the_number_placed_comes_from_the_new_order_itself_among_many() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let sim = org.product("SIM-DATA-20GB");
    let earlier: Vec<OrderId> = (0..12).map(|_| org.order(&mine, &sim, json!({}))).collect();
    let plan = placement(
        &org,
        &mine,
        OpportunityPlan::Create(NewOpportunity::for_order(
            mine.clone(),
            CommodityType::Sim,
            NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
        )),
        vec![item(&sim, 1)],
    );

    let calls = org.calls();
    let placed = org.portal.orders().place_order(&plan).await.unwrap();
    assert_eq!(
        org.calls() - calls,
        1,
        "the number is read in the same composite"
    );
    assert!(!earlier.contains(&placed.order_id));
    assert_eq!(
        org.record(placed.order_id.as_str())[order::ORDER_NUMBER],
        placed.order_number.as_str()
    );
    for other in &earlier {
        assert_ne!(
            org.record(other.as_str())[order::ORDER_NUMBER],
            placed.order_number.as_str()
        );
    }
}

#[tokio::test]
async fn placing_an_order_on_the_ready_opportunity_moves_it_to_post_processing() {
    let org = org().await;
    let mine = org.account(
        "Hanako Yamada",
        json!({ account::ELIGIBILITY_STATUS: "Checked" }),
    );
    let ready = org.opportunity(
        &mine,
        HOME,
        "Ready",
        json!({ opportunity::PORTAL_SOURCE: "Portal - Internet Eligibility Request" }),
    );
    let fiber = org.product("INT-HOME-10G");
    let opportunities = org.count(opportunity::OBJECT);
    let plan = placement(
        &org,
        &mine,
        OpportunityPlan::Update {
            id: ready.clone(),
            stage: OpportunityStage::PostProcessing,
            portal_source: PortalSource::OrderPlacement,
        },
        vec![item(&fiber, 1)],
    );

    let calls = org.calls();
    let placed = org.portal.orders().place_order(&plan).await.unwrap();
    assert_eq!(org.calls() - calls, 1);
    assert_eq!(placed.opportunity_id, ready);
    assert_eq!(org.count(opportunity::OBJECT), opportunities);
    let opp = org.record(ready.as_str());
    assert_eq!(opp[opportunity::STAGE], "Post Processing");
    assert_eq!(opp[opportunity::PORTAL_SOURCE], "Portal - Order Placement");
    assert_eq!(
        org.record(placed.order_id.as_str())[order::OPPORTUNITY_ID],
        ready.as_str()
    );
}

#[tokio::test]
async fn the_list_and_the_detail_show_only_the_accounts_orders_in_one_call_each() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let other = org.account("Somebody Else", json!({}));
    let sim = org.product("SIM-DATA-20GB");
    let service = org.opportunity(
        &mine,
        "SIM",
        "Active",
        json!({ opportunity::WHMCS_SERVICE_ID: 31 }),
    );
    let first = org.order(&mine, &sim, json!({}));
    let second = org.order(
        &mine,
        &sim,
        json!({
            order::OPPORTUNITY_ID: service.as_str(),
            order::WHMCS_ORDER_ID: 12,
            order::ACTIVATION_STATUS: "Failed",
            order::ACTIVATION_ERROR: "WHMCS refused the product",
        }),
    );
    let theirs = org.order(&other, &sim, json!({}));
    let book = org.portal.orders();

    let calls = org.calls();
    let list = book.orders(&mine).await.unwrap();
    assert_eq!(org.calls() - calls, 1);
    let ids: Vec<&OrderId> = list.iter().map(|o| &o.order_id).collect();
    assert_eq!(ids, [&second, &first], "newest first, only the caller's");
    assert!(list.iter().all(|o| o.account_id == mine));
    assert_eq!(list[1].status, OrderStatus::PendingReview);
    assert_eq!(
        list[1].activation_status,
        Some(ActivationStatus::PendingReview)
    );
    assert_eq!(
        list[1].effective_date,
        NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()
    );

    let calls = org.calls();
    let detail = book
        .order(&mine, &second)
        .await
        .unwrap()
        .expect("the order");
    assert_eq!(org.calls() - calls, 1, "one composite");
    assert_eq!(detail.order_id, second);
    assert_eq!(detail.account_id, mine);
    assert_eq!(
        detail.order_number,
        org.record(second.as_str())[order::ORDER_NUMBER]
            .as_str()
            .unwrap()
    );
    assert_eq!(detail.activation_status, Some(ActivationStatus::Failed));
    assert_eq!(
        detail.activation_error, None,
        "the staff's error text is not even read"
    );
    assert_eq!(detail.whmcs_order_id, Some(WhmcsOrderId::new(12).unwrap()));
    assert_eq!(detail.service_id, Some(WhmcsServiceId::new(31).unwrap()));
    assert_eq!(detail.items.len(), 1);
    assert_eq!(detail.items[0].product_id, sim.id);
    assert_eq!(detail.items[0].name, sim.name);
    assert_eq!(detail.items[0].quantity, 2);
    assert_eq!(detail.items[0].unit_price.get(), sim.price);

    let plain = book.order(&mine, &first).await.unwrap().expect("the order");
    assert_eq!((plain.whmcs_order_id, plain.service_id), (None, None));
    assert_eq!(
        book.order(&mine, &theirs).await.unwrap(),
        None,
        "not the caller's"
    );
}
