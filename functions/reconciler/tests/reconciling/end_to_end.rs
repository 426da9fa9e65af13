//! The re-enqueued message, given to the provisioner's entry point
//! (`provisioner::handle_batch`), provisions the Order exactly once in the
//! WHMCS emulator, even when it is delivered twice.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::TimeDelta;
use portal_aws::DynamoProvisioningRecords;
use portal_core::config::Config as _;
use portal_core::ports::{Clock, ProvisioningRecords, ProvisioningStatus, TestClock};
use portal_core::provisioning::{Provisioner, ProvisioningSettings};
use portal_core::workers::provisioner::Invocation;
use provisioner::handle_batch;
use salesforce::provisioning::SalesforceOrderLedger;
use serde_json::json;
use whmcs::billing::WhmcsBilling;
use whmcs::{WhmcsClient, WhmcsConfig};
use whmcs_emulator::{WhmcsEmulator, WhmcsEmulatorConfig, WhmcsFault};

use crate::helpers::{Received, World, salesforce_client, world};

fn sqs_event(received: &Received) -> SqsEvent {
    serde_json::from_value(json!({"Records": [{
        "messageId": received.message_id,
        "receiptHandle": "receipt",
        "body": received.body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SequenceNumber": "1000",
            "MessageGroupId": received.message.order_id.as_str(),
            "MessageDeduplicationId": received.message.dedup_id(),
        },
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:ap-northeast-1:123456789012:provisioning.fifo",
        "awsRegion": "ap-northeast-1",
    }]}))
    .unwrap()
}

/// The provisioner as the Lambda wires it, over the world's org and records
/// and a WHMCS emulator of its own (returned with it).
async fn provisioner(w: &World) -> (WhmcsEmulator, WorldProvisioner) {
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default())
        .await
        .unwrap();
    let url = whmcs.api_url();
    let whmcs_config = WhmcsConfig::from_lookup(|name| match name {
        "WHMCS_API_URL" => Some(url.clone()),
        "WHMCS_API_IDENTIFIER" | "WHMCS_API_SECRET" => Some("local".to_owned()),
        "WHMCS_TIMEOUT_MS" => Some("5000".to_owned()),
        _ => None,
    })
    .unwrap();
    let provisioner = Provisioner::new(
        SalesforceOrderLedger::new(salesforce_client(&w.sf)),
        WhmcsBilling::new(WhmcsClient::new(whmcs_config).unwrap(), "banktransfer"),
        w.records(),
        w.clock.clone(),
        ProvisioningSettings::default(),
    );
    (whmcs, provisioner)
}

type WorldProvisioner =
    Provisioner<SalesforceOrderLedger, WhmcsBilling, DynamoProvisioningRecords, TestClock>;

/// Gives the re-enqueued message `sent` to the provisioner's entry point as
/// the Lambda invocation `request`.
async fn deliver(
    w: &World,
    provisioner: &WorldProvisioner,
    sent: &Received,
    request: &str,
) -> SqsBatchResponse {
    let invocation = Invocation {
        request_id: request.to_owned(),
        deadline: w.clock.now() + TimeDelta::minutes(1),
    };
    handle_batch(provisioner, &sqs_event(sent), &invocation).await
}

#[tokio::test]
async fn a_reenqueued_order_is_provisioned_exactly_once_even_when_delivered_twice() {
    let w = world().await;
    let (whmcs, provisioner) = provisioner(&w).await;

    // Approved, but its platform event never reached the queue.
    let order = w.seed_order(&["SIM-VOICE-DATA-20GB", "SIM-ACTIVATION"]);
    w.approve(&order);
    w.clock.advance(TimeDelta::minutes(20));
    assert_eq!(w.run().await.reenqueued, 1);
    let sent = w.drain().await;
    assert_eq!(sent.len(), 1);

    for request in ["first", "redelivered"] {
        let response = deliver(&w, &provisioner, &sent[0], request).await;
        assert!(
            response.batch_item_failures.is_empty(),
            "{request}: acknowledged"
        );
    }

    assert_eq!(whmcs.orders_created(), 1, "one WHMCS order");
    assert_eq!(
        whmcs.calls("AddOrder"),
        1,
        "the repeat never reached AddOrder"
    );
    let sf_order = w.sf.record(order.as_str()).unwrap();
    assert_eq!(sf_order["Activation_Status__c"], json!("Provisioned"));
    let record = w.records().get(&order).await.unwrap().unwrap();
    assert_eq!(record.state.status(), ProvisioningStatus::Completed);

    // Provisioned: later runs leave it alone, whatever the backoff.
    w.clock.advance(TimeDelta::hours(7));
    let later = w.run().await;
    assert_eq!((later.stuck_orders, later.reenqueued), (0, 0));
    assert!(w.drain().await.is_empty());

    // Staff approve it again and that event is lost too: the Order shows
    // `Activating` with its record COMPLETED. The reconciler re-enqueues it
    // and the provisioner tells Salesforce again, without a second WHMCS order.
    w.sf.update("Order", order.as_str(), json!({"Status": "Draft"}))
        .unwrap();
    w.approve(&order);
    w.clock.advance(TimeDelta::minutes(20));
    let again = w.run().await;
    assert_eq!((again.already_provisioned, again.reenqueued), (1, 1));
    let sent = w.drain().await;
    let response = deliver(&w, &provisioner, &sent[0], "approved-again").await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        w.sf.record(order.as_str()).unwrap()["Activation_Status__c"],
        json!("Provisioned")
    );
    assert_eq!(whmcs.calls("AddOrder"), 1, "WHMCS was not asked again");
}

/// An Order failed for staff while WHMCS has its order (incomplete: WHMCS
/// dropped a line) is left to staff: the reconciler does not re-enqueue it
/// at any backoff step, so its attempts never run out (no false
/// `ReconcilerAttemptsExhaustedAlarm`); once staff complete the order and
/// approve again, it is re-enqueued and provisioned with that same order.
#[tokio::test]
async fn an_order_left_to_staff_is_not_reenqueued_until_approved_again_then_it_is_provisioned() {
    let w = world().await;
    let (whmcs, provisioner) = provisioner(&w).await;

    let order = w.seed_order(&["SIM-VOICE-DATA-20GB", "SIM-ACTIVATION"]);
    w.approve(&order);
    w.clock.advance(TimeDelta::minutes(20));
    assert_eq!(w.run().await.reenqueued, 1);
    let sent = w.drain().await;
    whmcs.inject(WhmcsFault::IncompleteOrder);
    let response = deliver(&w, &provisioner, &sent[0], "first").await;
    assert!(response.batch_item_failures.is_empty(), "failed for staff");
    assert_eq!(
        w.sf.record(order.as_str()).unwrap()["Activation_Status__c"],
        json!("Failed")
    );
    let record = w.records().get(&order).await.unwrap().unwrap();
    assert_eq!(record.state.status(), ProvisioningStatus::Ordered);
    assert!(record.left_to_staff.is_some());

    // Every backoff step for more than a day: nothing re-enqueued, nothing exhausted.
    for _ in 0..12 {
        w.clock.advance(TimeDelta::hours(3));
        let report = w.run().await;
        assert_eq!(
            (report.unsettled_records, report.reenqueued),
            (0, 0),
            "left to staff: {report:?}"
        );
        assert!(report.exhausted.is_empty());
    }
    assert!(w.drain().await.is_empty());

    // Staff add the missing service to the WHMCS order (with the Order Id), then approve again.
    let whmcs_order = whmcs.orders()[0].clone();
    assert_eq!(whmcs_order.service_ids.len(), 1);
    let activation =
        w.sf.records("Product2")
            .into_iter()
            .find(|p| p["ProductCode"] == json!("SIM-ACTIVATION"))
            .unwrap();
    let pid: u32 = match &activation["WHMCS_Product_Id__c"] {
        serde_json::Value::String(s) => s.parse().unwrap(),
        other => u32::try_from(other.as_u64().unwrap()).unwrap(),
    };
    let field = whmcs_emulator::salesforce_order_id_field(pid).unwrap();
    whmcs
        .add_service_by_hand(
            whmcs_order.id,
            pid,
            [(field, order.as_str().to_owned())].into(),
        )
        .unwrap();
    w.sf.update("Order", order.as_str(), json!({"Status": "Draft"}))
        .unwrap();
    w.approve(&order);
    w.clock.advance(TimeDelta::minutes(20));
    assert_eq!(w.run().await.reenqueued, 1, "approved again: re-enqueued");
    let sent = w.drain().await;
    let response = deliver(&w, &provisioner, &sent[0], "approved-again").await;
    assert!(response.batch_item_failures.is_empty());
    let sf_order = w.sf.record(order.as_str()).unwrap();
    assert_eq!(sf_order["Activation_Status__c"], json!("Provisioned"));
    assert_eq!(
        sf_order["WHMCS_Order_Id__c"].as_f64(),
        Some(whmcs_order.id as f64)
    );
    assert_eq!(whmcs.orders_created(), 1, "one WHMCS order");
    let record = w.records().get(&order).await.unwrap().unwrap();
    assert_eq!(record.state.status(), ProvisioningStatus::Completed);
}
