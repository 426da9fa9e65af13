//! Duplicates, timeouts, locks, permanent errors and a deadline passing
//! midway: still exactly one WHMCS order per approved Order.

use std::time::Duration;

use chrono::TimeDelta;
use futures::future::join_all;
use portal_core::ports::memory::InMemoryProvisioningRecords;
use portal_core::ports::{ProvisioningRecords, ProvisioningStatus};
use salesforce_emulator::Fault;
use serde_json::json;
use whmcs_emulator::WhmcsFault;

use crate::helpers::{SALESFORCE_ATTEMPTS, world, world_on_dynamo, world_with};

#[tokio::test]
async fn the_same_message_delivered_three_times_at_once_makes_one_whmcs_order() {
    // In memory, where a claim is atomic like a DynamoDB conditional write:
    // the three claims race for real.
    let w = world().await;
    let order = w.seed_order("VPN", &["VPN-MONTHLY"]);
    let message = w.approve(&order);
    let deliveries = ["a", "b", "c"].map(|id| {
        let w = &w;
        let message = &message;
        async move { w.deliver(&[(id, message)]).await }
    });
    let responses = join_all(deliveries).await;
    let acknowledged = responses
        .iter()
        .filter(|r| r.batch_item_failures.is_empty())
        .count();
    assert!(acknowledged >= 1, "one delivery provisions the Order");
    assert_eq!(w.whmcs.orders_created(), 1);
    assert_eq!(w.whmcs.calls("AddOrder"), 1);
    assert_eq!(
        w.record(&order.order_id)["Activation_Status__c"],
        json!("Provisioned")
    );
}

#[tokio::test]
async fn the_same_message_delivered_three_times_concurrently_makes_one_whmcs_order() {
    // On DynamoDB (moto). moto applies an UpdateItem attribute by attribute
    // without a lock, so two claims arriving at the same instant may both
    // pass its condition (real DynamoDB never lets them); the duplicates
    // therefore arrive once the first claim is stored, while the first
    // delivery is still at work.
    let w = world_on_dynamo().await;
    let order = w.seed_order("SIM", &["SIM-DATA-20GB", "SIM-ACTIVATION"]);
    let message = w.approve(&order);

    let batch = [("a", &message)];
    let first = w.deliver(&batch);
    let duplicates = async {
        while w.record_status_now(&order).await.is_none() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        join_all(["b", "c"].map(|id| {
            let w = &w;
            let message = &message;
            async move { w.deliver(&[(id, message)]).await }
        }))
        .await
    };
    let (first, duplicates) = tokio::join!(first, duplicates);
    let responses: Vec<_> = std::iter::once(first).chain(duplicates).collect();
    assert_eq!(w.whmcs.orders_created(), 1);

    // SQS delivers the retried ones again after the visibility timeout, by
    // which time any lease has lapsed. (moto applies an UpdateItem attribute
    // by attribute, so a concurrent claim there may see a half-written record
    // and fail, which real DynamoDB never shows; the redeliveries settle it.)
    let mut pending = responses
        .iter()
        .filter(|r| !r.batch_item_failures.is_empty())
        .count();
    let mut rounds = 0;
    while pending > 0 {
        rounds += 1;
        assert!(rounds <= 3, "the message settles within a few redeliveries");
        w.clock.advance(TimeDelta::minutes(2));
        let mut still = 0;
        for _ in 0..pending {
            if !w.deliver_one(&message).await {
                still += 1;
            }
        }
        pending = still;
    }
    assert_eq!(w.whmcs.orders_created(), 1);
    assert_eq!(w.whmcs.calls("AddOrder"), 1);
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Completed)
    );
    assert_eq!(
        w.record(&order.order_id)["Activation_Status__c"],
        json!("Provisioned")
    );
}

#[tokio::test]
async fn whmcs_timing_out_after_committing_is_settled_by_the_next_delivery() {
    let w = world_with(
        InMemoryProvisioningRecords::new(),
        Duration::from_millis(500),
    )
    .await;
    let order = w.seed_order(
        "Personal SonixNet Home Internet",
        &["INT-HOME-10G", "INT-ACTIVATION"],
    );
    let message = w.approve(&order);
    w.whmcs.inject(WhmcsFault::timeout_after_commit("AddOrder"));

    assert!(
        !w.deliver_one(&message).await,
        "retried: the outcome is unknown"
    );
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Unknown)
    );
    assert_eq!(w.whmcs.orders_created(), 1, "WHMCS committed the order");
    assert_eq!(
        w.record(&order.order_id)["Activation_Status__c"],
        json!("Activating")
    );

    assert!(w.deliver_one(&message).await, "settled and provisioned");
    assert_eq!(w.whmcs.orders_created(), 1, "no second order");
    assert_eq!(w.whmcs.calls("AddOrder"), 1);
    assert_eq!(
        w.whmcs.calls("GetClientsProducts"),
        1,
        "settled by custom field"
    );
    let whmcs_order = w.whmcs.orders().into_iter().next().expect("the order");
    let sf_order = w.record(&order.order_id);
    assert_eq!(sf_order["Activation_Status__c"], json!("Provisioned"));
    assert_eq!(
        sf_order["WHMCS_Order_Id__c"].as_f64(),
        Some(whmcs_order.id as f64)
    );
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Completed)
    );
}

#[tokio::test]
async fn a_locked_salesforce_write_is_retried_on_redelivery_without_a_second_order() {
    let w = world().await;
    let order = w.seed_order("VPN", &["VPN-MONTHLY"]);
    let message = w.approve(&order);
    // More lock failures than the client retries: every attempt of the write fails.
    w.sf.inject(Fault::LockRowOnNextWrites(SALESFORCE_ATTEMPTS));

    assert!(
        !w.deliver_one(&message).await,
        "retried: Salesforce is locked"
    );
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Ordered)
    );
    assert_eq!(
        w.record(&order.order_id)["Activation_Status__c"],
        json!("Activating")
    );

    assert!(w.deliver_one(&message).await);
    assert_eq!(w.whmcs.orders_created(), 1);
    assert_eq!(w.whmcs.calls("AddOrder"), 1);
    assert_eq!(
        w.record(&order.order_id)["Activation_Status__c"],
        json!("Provisioned")
    );
    assert_eq!(
        w.record(&order.opportunity_id)["StageName"],
        json!("Active")
    );
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Completed)
    );
}

#[tokio::test]
async fn a_product_without_a_whmcs_product_id_fails_the_order_with_a_readable_error() {
    let w = world().await;
    w.add_product(
        "NO-WHMCS-ID",
        json!({"Family": "SIM", "Billing_Cycle__c": "Monthly", "Item_Class__c": "Add-on"}),
    );
    let order = w.seed_order("SIM", &["SIM-DATA-20GB", "NO-WHMCS-ID"]);
    let message = w.approve(&order);

    assert!(
        w.deliver_one(&message).await,
        "a permanent failure is acknowledged"
    );
    let sf_order = w.record(&order.order_id);
    assert_eq!(sf_order["Activation_Status__c"], json!("Failed"));
    assert_eq!(sf_order["Status"], json!("Approved"));
    let error = sf_order["Activation_Error__c"]
        .as_str()
        .expect("an error text");
    assert!(error.contains("Product NO-WHMCS-ID"), "{error}");
    assert!(error.contains("WHMCS Product Id"), "{error}");
    assert!(sf_order["Activation_Error_DateTime__c"].is_string());
    assert_eq!(w.whmcs.orders_created(), 0);
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Failed)
    );

    // A redelivery does nothing more.
    assert!(w.deliver_one(&message).await);
    assert_eq!(
        w.whmcs_calls(),
        0,
        "the mapping is checked before WHMCS is called"
    );

    // Staff fix the mapping and ask again (Activation Status back to Activating).
    let product =
        w.sf.records("Product2")
            .into_iter()
            .find(|p| p["ProductCode"] == json!("NO-WHMCS-ID"))
            .expect("the product");
    let product_id = product["Id"].as_str().expect("an id");
    w.sf.update(
        "Product2",
        product_id,
        json!({"WHMCS_Product_Id__c": "203", "Billing_Cycle__c": "One-time"}),
    )
    .expect("staff fix the product");
    w.sf.update(
        "Order",
        &order.order_id,
        json!({"Activation_Status__c": "Activating"}),
    )
    .expect("staff retry");
    let retry = w.approve_again(&order);
    assert!(
        w.deliver_one(&retry).await,
        "the new approval is provisioned"
    );
    let sf_order = w.record(&order.order_id);
    assert_eq!(sf_order["Activation_Status__c"], json!("Provisioned"));
    assert_eq!(sf_order["Activation_Error__c"], serde_json::Value::Null);
    assert_eq!(w.whmcs.orders_created(), 1);
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Completed)
    );
}

#[tokio::test]
async fn a_whmcs_validation_error_fails_the_order_with_its_message() {
    let w = world().await;
    // WHMCS product 101 is sold monthly only.
    w.add_product(
        "YEARLY-1G",
        json!({"Family": "Internet", "WHMCS_Product_Id__c": "101", "Billing_Cycle__c": "Annually", "Item_Class__c": "Service"}),
    );
    let order = w.seed_order("Personal SonixNet Home Internet", &["YEARLY-1G"]);
    let message = w.approve(&order);

    assert!(w.deliver_one(&message).await);
    let sf_order = w.record(&order.order_id);
    assert_eq!(sf_order["Activation_Status__c"], json!("Failed"));
    let error = sf_order["Activation_Error__c"]
        .as_str()
        .expect("an error text");
    assert!(error.contains("Invalid Billing Cycle Requested"), "{error}");
    assert_eq!(w.whmcs.orders_created(), 0);
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Failed)
    );
}

#[tokio::test]
async fn a_deadline_passing_after_the_order_was_recorded_is_resumed_by_the_next_delivery() {
    let w = world_on_dynamo().await;
    let order = w.seed_order("SIM", &["SIM-DATA-20GB"]);
    let message = w.approve(&order);
    // AcceptOrder commits and never answers: the invocation is stuck there
    // until Lambda kills it at its deadline.
    w.whmcs
        .inject(WhmcsFault::timeout_after_commit("AcceptOrder"));

    let first = {
        let invocation = w.invocation();
        let event = crate::helpers::sqs_event(&[("m0", message.to_json())]);
        let provisioner = &w.provisioner;
        async move { provisioner::handle_batch(provisioner, &event, &invocation).await }
    };
    // "Kill" the first invocation once its AddOrder is recorded and it waits
    // on AcceptOrder.
    let killed = tokio::select! {
        _ = first => false,
        () = async {
            // AddOrder recorded, and AcceptOrder sent (WHMCS holds its answer).
            while w.record_status_now(&order).await != Some(ProvisioningStatus::Ordered)
                || w.whmcs.calls("AcceptOrder") == 0
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        } => true,
    };
    assert!(
        killed,
        "the first invocation was stopped after AddOrder was recorded"
    );
    assert_eq!(w.whmcs.orders_created(), 1);

    // While the dead invocation's lease is live, a redelivery comes back later.
    assert!(!w.deliver_one(&message).await);
    // The lease lapses (it ended before the dead invocation's deadline).
    w.clock.advance(TimeDelta::minutes(2));
    assert!(w.deliver_one(&message).await, "resumed");

    assert_eq!(w.whmcs.orders_created(), 1, "no second order");
    assert_eq!(w.whmcs.calls("AddOrder"), 1);
    let sf_order = w.record(&order.order_id);
    assert_eq!(sf_order["Activation_Status__c"], json!("Provisioned"));
    let whmcs_order = w.whmcs.orders().into_iter().next().expect("the order");
    assert_eq!(
        sf_order["WHMCS_Order_Id__c"].as_f64(),
        Some(whmcs_order.id as f64)
    );
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Completed)
    );
    let records = w.provisioner.records();
    let id = portal_core::domain::OrderId::parse(&order.order_id).expect("an Order id");
    let record = records.get(&id).await.expect("store").expect("record");
    assert!(record.attempts >= 2);
}

/// Defect 3: WHMCS created the order but dropped a line (`IncompleteOrder`);
/// the record must keep that order, so that a new approval never places a
/// second one.
#[tokio::test]
async fn an_incomplete_whmcs_order_is_recorded_and_never_placed_again() {
    let w = world().await;
    let order = w.seed_order(
        "Personal SonixNet Home Internet",
        &["INT-HOME-10G", "INT-ACTIVATION"],
    );
    let message = w.approve(&order);
    w.whmcs.inject(WhmcsFault::IncompleteOrder);

    assert!(
        w.deliver_one(&message).await,
        "a permanent failure is acknowledged"
    );
    assert_eq!(w.whmcs.orders_created(), 1);
    let sf_order = w.record(&order.order_id);
    assert_eq!(sf_order["Activation_Status__c"], json!("Failed"));
    let whmcs_order = w.whmcs.orders().into_iter().next().expect("the order");
    let error = sf_order["Activation_Error__c"]
        .as_str()
        .expect("an error text");
    assert!(
        error.contains(&whmcs_order.id.to_string()),
        "names the WHMCS order: {error}"
    );
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Ordered),
        "the record keeps the order WHMCS made"
    );

    // Staff approve again without completing the order in WHMCS: WHMCS
    // still lacks the line, so the Order is never written back Provisioned
    // (seed 552); it fails again for staff, and nothing is ordered twice.
    // (Staff completing it by hand, then approving, is provisioned: the
    // use case's unit test `when_an_incomplete_order_could_not_be_failed_...`.)
    w.sf.update(
        "Order",
        &order.order_id,
        json!({"Activation_Status__c": "Activating"}),
    )
    .expect("staff retry");
    let retry = w.approve_again(&order);
    assert!(w.deliver_one(&retry).await);
    assert_eq!(w.whmcs.orders_created(), 1, "no second WHMCS order");
    assert_eq!(w.whmcs.calls("AddOrder"), 1);
    let sf_order = w.record(&order.order_id);
    assert_eq!(sf_order["Activation_Status__c"], json!("Failed"));
    let error = sf_order["Activation_Error__c"]
        .as_str()
        .expect("an error text");
    assert!(error.contains("by hand"), "{error}");
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Ordered),
        "the record still keeps the order WHMCS made"
    );
}

/// The Salesforce Product2 id of `code`.
fn product_id(w: &crate::helpers::World<InMemoryProvisioningRecords>, code: &str) -> String {
    w.sf.records("Product2")
        .into_iter()
        .find(|p| p["ProductCode"] == json!(code))
        .and_then(|p| p["Id"].as_str().map(str::to_owned))
        .expect("the product")
}

/// Defect 4: an UNKNOWN record (AddOrder's answer lost) must be settled before
/// anything may fail it; here the product mapping breaks in between, which used
/// to fail the record (forgetting that WHMCS may have the order) so a new
/// approval ordered again.
#[tokio::test]
async fn an_unknown_record_is_settled_before_a_broken_mapping_can_fail_it() {
    let w = world_with(
        InMemoryProvisioningRecords::new(),
        Duration::from_millis(500),
    )
    .await;
    let order = w.seed_order("SIM", &["SIM-DATA-20GB"]);
    let message = w.approve(&order);
    w.whmcs.inject(WhmcsFault::drop_after_commit("AddOrder"));
    assert!(!w.deliver_one(&message).await, "retried: outcome unknown");
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Unknown)
    );
    assert_eq!(w.whmcs.orders_created(), 1);

    // Staff break the product's WHMCS mapping before the redelivery.
    let product = product_id(&w, "SIM-DATA-20GB");
    w.sf.update("Product2", &product, json!({"WHMCS_Product_Id__c": null}))
        .expect("staff edit the product");
    assert!(w.deliver_one(&message).await, "a permanent failure");
    assert_eq!(
        w.record(&order.order_id)["Activation_Status__c"],
        json!("Failed")
    );
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Ordered),
        "settled first: the record keeps the order WHMCS made"
    );

    // Staff fix the mapping and approve again: no second order.
    w.sf.update("Product2", &product, json!({"WHMCS_Product_Id__c": "201"}))
        .expect("staff fix the product");
    w.sf.update(
        "Order",
        &order.order_id,
        json!({"Activation_Status__c": "Activating"}),
    )
    .expect("staff retry");
    assert!(w.deliver_one(&w.approve_again(&order)).await);
    assert_eq!(w.whmcs.orders_created(), 1, "no second WHMCS order");
    assert_eq!(
        w.record(&order.order_id)["Activation_Status__c"],
        json!("Provisioned")
    );
}

/// Defect 4: a record reopened after FAILED is settled before AddOrder when an
/// earlier attempt may have reached WHMCS (here: AddOrder's answer was lost,
/// then the record was failed).
#[tokio::test]
async fn a_reopened_record_is_settled_before_ordering_again() {
    let w = world_with(
        InMemoryProvisioningRecords::new(),
        Duration::from_millis(500),
    )
    .await;
    let order = w.seed_order("SIM", &["SIM-DATA-20GB"]);
    let message = w.approve(&order);
    w.whmcs.inject(WhmcsFault::drop_after_commit("AddOrder"));
    assert!(!w.deliver_one(&message).await, "retried: outcome unknown");
    assert_eq!(w.whmcs.orders_created(), 1);
    // The record ends FAILED although WHMCS has the order (as a record failed
    // before this fix, or by hand).
    let id = portal_core::domain::OrderId::parse(&order.order_id).expect("an Order id");
    let records = w.provisioner.records();
    let me = portal_core::ports::LeaseOwner::new("staff-tool").expect("an owner");
    let now = portal_core::ports::Clock::now(&w.clock);
    records
        .claim(&id, &me, now + TimeDelta::seconds(30), now)
        .await
        .expect("claimed");
    records
        .fail(&id, &me, "failed by hand", now)
        .await
        .expect("failed");
    w.sf.update(
        "Order",
        &order.order_id,
        json!({"Activation_Status__c": "Failed"}),
    )
    .expect("failed in Salesforce");

    // Staff approve again: the record is reopened, and settled before AddOrder.
    w.sf.update(
        "Order",
        &order.order_id,
        json!({"Activation_Status__c": "Activating"}),
    )
    .expect("staff retry");
    assert!(w.deliver_one(&w.approve_again(&order)).await);
    assert_eq!(w.whmcs.orders_created(), 1, "no second WHMCS order");
    assert_eq!(w.whmcs.calls("AddOrder"), 1);
    assert_eq!(
        w.record(&order.order_id)["Activation_Status__c"],
        json!("Provisioned")
    );
}

/// A one-line Order whose AddOrder made an order with no service (WHMCS
/// dropped the line it could not sell) and whose answer was lost (the
/// connection cut after the commit). No service carries the Order Id, so the
/// lookup by it finds nothing; the client's orders (GetOrders, every page)
/// show an order with no service, placed during the attempt. It may be
/// this Order's: nothing is ordered again, the Order is left to staff and
/// the reconciler leaves it alone; whatever is redelivered or approved
/// again, WHMCS holds one order for it.
#[tokio::test]
async fn a_lost_answer_to_an_order_without_services_is_left_to_staff_and_never_ordered_again() {
    let w = world().await;
    // The client already has more orders than one page of GetOrders (25),
    // each with its service and its own Salesforce Order.
    let (account_id, email) = w.seed_account();
    for _ in 0..26 {
        let order = w.seed_order_for(&account_id, &email, "SIM", &["SIM-DATA-20GB"]);
        let message = w.approve(&order);
        assert!(w.deliver_one(&message).await);
    }
    assert_eq!(w.whmcs.orders_created(), 26);

    let order = w.seed_order_for(&account_id, &email, "SIM", &["SIM-DATA-20GB"]);
    let message = w.approve(&order);
    w.whmcs.inject(WhmcsFault::IncompleteOrderThenDrop);
    assert!(!w.deliver_one(&message).await, "retried: outcome unknown");
    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Unknown)
    );
    assert_eq!(w.whmcs.orders_created(), 27);
    let empty = w.whmcs.orders().into_iter().last().expect("the lost order");
    assert!(
        empty.service_ids.is_empty(),
        "WHMCS made it with no service"
    );

    // The queue's redelivery: settled, left to staff, nothing ordered.
    assert!(w.deliver_one(&message).await, "acknowledged: left to staff");
    assert_eq!(w.whmcs.orders_created(), 27, "no second WHMCS order");
    let sf_order = w.record(&order.order_id);
    assert_eq!(sf_order["Activation_Status__c"], json!("Failed"));
    let error = sf_order["Activation_Error__c"].as_str().expect("an error");
    assert!(error.contains(&empty.id.to_string()), "{error}");
    assert!(
        w.whmcs.calls("GetOrders") >= 1,
        "the client's orders were read"
    );
    let id = portal_core::domain::OrderId::parse(&order.order_id).expect("an Order id");
    let kept = w
        .provisioner
        .records()
        .get(&id)
        .await
        .expect("store")
        .expect("record");
    assert_eq!(
        kept.state.status(),
        ProvisioningStatus::Unknown,
        "never FAILED: WHMCS may have the order"
    );
    assert!(kept.left_to_staff.is_some());
    w.clock.advance(TimeDelta::hours(1));
    assert!(
        w.provisioner
            .records()
            .list_unsettled(portal_core::ports::Clock::now(&w.clock), 100)
            .await
            .expect("store")
            .is_empty(),
        "nothing for the reconciler to re-enqueue"
    );

    // A duplicate of the approval, then staff approving again without
    // looking: still one order.
    assert!(w.deliver_one(&message).await);
    w.sf.update(
        "Order",
        &order.order_id,
        json!({"Activation_Status__c": "Activating"}),
    )
    .expect("staff retry");
    assert!(w.deliver_one(&w.approve_again(&order)).await);
    assert_eq!(w.whmcs.orders_created(), 27, "no second WHMCS order");
    assert_eq!(w.whmcs.calls("AddOrder"), 27);
    assert_eq!(
        w.record(&order.order_id)["Activation_Status__c"],
        json!("Failed")
    );
}
