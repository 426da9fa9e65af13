//! `SalesforceStuckOrders` against the emulated org: the one sweep query
//! selects Orders `Activating` by age or gap window, oldest first, and says
//! when more remain.

use chrono::{TimeDelta, Utc};
use portal_core::ports::{StuckOrderQuery, StuckOrders, TimeWindow};

use salesforce::reconcile::SalesforceStuckOrders;
use serde_json::json;

use crate::helpers::{TestOrg, org, unique};

/// An Order for a new Account; approved (the flow sets `Activating`) when asked.
fn seed_order(org: &TestOrg, approved: bool) -> String {
    let e = &org.emulator;
    let account = e
        .insert("Account", json!({"Name": unique("Sweep Customer")}))
        .expect("the Account is created");
    let book = e
        .records("Pricebook2")
        .into_iter()
        .find(|b| b["IsStandard"] == json!(true))
        .expect("the standard price book is seeded");
    let order = e
        .insert(
            "Order",
            json!({
                "AccountId": account,
                "EffectiveDate": "2030-01-01",
                "Pricebook2Id": book["Id"],
                "Status": "Pending Review",
                "Activation_Status__c": "Pending Review",
            }),
        )
        .expect("the Order is created");
    if approved {
        e.update("Order", &order, json!({"Status": "Approved"}))
            .expect("staff approve the Order");
        let record = e.record(&order).expect("the Order exists");
        assert_eq!(record["Activation_Status__c"], "Activating");
    }
    order
}

fn ids(page: &portal_core::ports::StuckOrderPage) -> Vec<String> {
    page.orders
        .iter()
        .map(|o| o.order_id.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn finds_activating_orders_older_than_the_threshold_page_by_page_in_id_order() {
    let org = org().await;
    let first = seed_order(&org, true);
    let second = seed_order(&org, true);
    let _pending = seed_order(&org, false);
    let sweep = SalesforceStuckOrders::new(org.client.clone());

    let later = StuckOrderQuery {
        modified_before: Utc::now() + TimeDelta::minutes(1),
        gap_windows: Vec::new(),
        after: None,
        limit: 200,
    };
    let page = sweep.activating(&later).await.unwrap();
    let second_id = second.clone();
    assert_eq!(
        ids(&page),
        vec![first.clone(), second],
        "never the Pending Review one"
    );
    assert!(!page.more);
    assert!(page.orders[0].last_modified <= page.orders[1].last_modified);
    assert!((Utc::now() - page.orders[0].last_modified).num_minutes() < 5);

    let one = sweep
        .activating(&StuckOrderQuery {
            limit: 1,
            ..later.clone()
        })
        .await
        .unwrap();
    assert_eq!(ids(&one), vec![first]);
    assert!(one.more, "a second Order remains");
    let next = sweep
        .activating(&StuckOrderQuery {
            limit: 1,
            after: Some(one.orders[0].order_id.clone()),
            ..later
        })
        .await
        .unwrap();
    assert_eq!(ids(&next), vec![second_id]);
    assert!(!next.more, "the last page");

    let recent = StuckOrderQuery {
        modified_before: Utc::now() - TimeDelta::minutes(15),
        gap_windows: Vec::new(),
        after: None,
        limit: 200,
    };
    assert!(sweep.activating(&recent).await.unwrap().orders.is_empty());
}

#[tokio::test]
async fn a_gap_window_finds_recent_orders_whatever_the_threshold() {
    let org = org().await;
    let order = seed_order(&org, true);
    let sweep = SalesforceStuckOrders::new(org.client.clone());
    let now = Utc::now();
    let query = |window: TimeWindow| StuckOrderQuery {
        modified_before: now - TimeDelta::minutes(15),
        gap_windows: vec![window],
        after: None,
        limit: 200,
    };

    let covering = query(TimeWindow {
        start: Some(now - TimeDelta::minutes(2)),
        end: now,
    });
    assert_eq!(
        ids(&sweep.activating(&covering).await.unwrap()),
        vec![order.clone()]
    );

    let open_start = query(TimeWindow {
        start: None,
        end: now,
    });
    assert_eq!(
        ids(&sweep.activating(&open_start).await.unwrap()),
        vec![order]
    );

    let before = query(TimeWindow {
        start: Some(now - TimeDelta::hours(2)),
        end: now - TimeDelta::hours(1),
    });
    assert!(sweep.activating(&before).await.unwrap().orders.is_empty());
}

#[tokio::test]
async fn finds_portal_accounts_modified_since_the_cursor_with_their_status_in_one_call() {
    use portal_core::ports::PortalStatusChanges as _;
    use salesforce::reconcile::SalesforcePortalStatuses;

    let org = org().await;
    let e = &org.emulator;
    let before = Utc::now() - TimeDelta::seconds(2);
    let active = e
        .insert(
            "Account",
            json!({"Name": unique("Active"), "Portal_Status__c": "Active"}),
        )
        .expect("an Account");
    let deactivated = e
        .insert(
            "Account",
            json!({"Name": unique("Leaving"), "Portal_Status__c": "Active"}),
        )
        .expect("an Account");
    let _never_portal = e
        .insert("Account", json!({"Name": unique("Legacy")}))
        .expect("an Account");
    e.update(
        "Account",
        &deactivated,
        json!({"Portal_Status__c": "Inactive"}),
    )
    .expect("staff deactivate it");
    let sync = SalesforcePortalStatuses::new(org.client.clone());

    let calls = e.api_calls();
    let page = sync.changed_since(Some(before), 2000).await.unwrap();
    assert_eq!(e.api_calls() - calls, 1, "one query");
    assert!(!page.more);
    let seen: Vec<(String, bool)> = page
        .changes
        .iter()
        .map(|c| (c.account_id.as_str().to_owned(), c.inactive))
        .collect();
    assert_eq!(seen, [(active, false), (deactivated.clone(), true)]);

    let one = sync.changed_since(Some(before), 1).await.unwrap();
    assert!(one.more);
    assert_eq!(one.changes.len(), 1);
    let later = sync
        .changed_since(Some(Utc::now() + TimeDelta::minutes(1)), 2000)
        .await
        .unwrap();
    assert!(later.changes.is_empty());
}
