//! Partial batch responses: what is acknowledged, what SQS delivers again,
//! and the FIFO rule (after a transient failure, the rest of that Order's
//! message group; other Orders carry on).

use chrono::TimeDelta;
use portal_core::domain::OrderId;
use portal_core::ports::{Clock, LeaseOwner, ProvisioningClaim, ProvisioningRecords};
use provisioner::handle_batch;
use provisioner::metrics::BatchCounts;
use provisioner::process_batch;
use serde_json::json;

use crate::helpers::{failures, world};

#[tokio::test]
async fn a_mixed_batch_holds_back_the_group_of_a_transient_failure_and_carries_on_with_others() {
    let w = world().await;
    w.add_product(
        "BROKEN",
        json!({"Family": "VPN", "Item_Class__c": "Service", "Billing_Cycle__c": "Monthly"}),
    );
    let good = w.seed_order("VPN", &["VPN-MONTHLY"]);
    let broken = w.seed_order("VPN", &["BROKEN"]);
    let busy = w.seed_order("SIM", &["SIM-DATA-20GB"]);
    let later = w.seed_order("VPN", &["VPN-ANNUAL"]);
    let (m_good, m_broken, m_busy, m_later) = (
        w.approve(&good),
        w.approve(&broken),
        w.approve(&busy),
        w.approve(&later),
    );
    // Another invocation holds `busy` (a transient failure for this batch).
    let busy_id = OrderId::parse(&busy.order_id).expect("an Order id");
    let claim = w
        .provisioner
        .records()
        .claim(
            &busy_id,
            &LeaseOwner::new("another-invocation").expect("an owner"),
            w.clock.now() + TimeDelta::minutes(5),
            w.clock.now(),
        )
        .await
        .expect("the store answers");
    assert!(matches!(claim, ProvisioningClaim::Acquired { .. }));

    let response = w
        .deliver(&[
            ("good", &m_good),
            ("broken", &m_broken),
            ("busy", &m_busy),
            ("busy-again", &m_busy),
            ("later", &m_later),
        ])
        .await;

    assert_eq!(failures(&response), ["busy", "busy-again"]);
    assert_eq!(
        w.record(&good.order_id)["Activation_Status__c"],
        json!("Provisioned")
    );
    assert_eq!(
        w.record(&broken.order_id)["Activation_Status__c"],
        json!("Failed")
    );
    assert_eq!(
        w.record(&busy.order_id)["Activation_Status__c"],
        json!("Activating")
    );
    // Another Order's message after the failure is provisioned: one Order
    // that keeps failing does not hold the others back.
    assert_eq!(
        w.record(&later.order_id)["Activation_Status__c"],
        json!("Provisioned")
    );
    assert_eq!(w.whmcs.orders_created(), 2);

    // The answer Lambda sends back.
    let wire = serde_json::to_value(&response).expect("serializes");
    assert_eq!(
        wire,
        json!({"batchItemFailures": [{"itemIdentifier": "busy"}, {"itemIdentifier": "busy-again"}]})
    );
}

#[tokio::test]
async fn a_recorded_lambda_event_is_read_and_a_malformed_body_is_left_to_the_dlq() {
    let w = world().await;
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(include_str!("../data/sqs-fifo-event.json"))
            .expect("a Lambda SQS event");
    // The first record's Order does not exist in this org: acknowledged and skipped.
    let response = handle_batch(&w.provisioner, &event, &w.invocation()).await;
    assert_eq!(
        failures(&response),
        ["2e1424d4-f796-459a-8184-9c92662be6da"]
    );
    assert_eq!(w.whmcs_calls(), 0);
}

#[tokio::test]
async fn an_empty_batch_has_no_failures() {
    let w = world().await;
    let response = w.deliver(&[]).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        serde_json::to_value(&response).expect("serializes"),
        json!({"batchItemFailures": []})
    );
}

#[tokio::test]
async fn a_batch_counts_each_outcome_for_the_metrics() {
    let w = world().await;
    w.add_product(
        "BROKEN",
        json!({"Family": "VPN", "Item_Class__c": "Service", "Billing_Cycle__c": "Monthly"}),
    );
    let good = w.seed_order("VPN", &["VPN-MONTHLY"]);
    let broken = w.seed_order("VPN", &["BROKEN"]);
    let (m_good, m_broken) = (w.approve(&good), w.approve(&broken));
    let event = crate::helpers::sqs_event(&[
        ("good", m_good.to_json()),
        ("broken", m_broken.to_json()),
        ("again", m_good.to_json()),
        // Not a provisioning message, in the good Order's group: it holds the
        // group back, so the next message of that group is returned unseen.
        (
            "garbage",
            json!({"orderId": m_good.order_id.as_str()}).to_string(),
        ),
        ("unseen", m_good.to_json()),
    ]);

    let (response, counts) = process_batch(&w.provisioner, &event, &w.invocation()).await;

    assert_eq!(failures(&response), ["garbage", "unseen"]);
    assert_eq!(
        counts,
        BatchCounts {
            provisioned: 1,
            skipped: 1,
            failed: 1,
            retried: 2,
        }
    );
}
