//! The Order Approval Flow and its platform event.

use salesforce_emulator::EventPayload;
use serde_json::json;

use crate::helpers::{V, spawn};

#[tokio::test]
async fn approving_an_order_sets_activating_and_publishes_one_event() {
    let org = spawn().await;
    let order = org.pending_order().await;
    org.emu
        .update("Order", &order, json!({"Activation_Error__c": "old failure", "Activation_Error_DateTime__c": "2024-01-01T00:00:00Z"}))
        .unwrap();
    assert!(org.emu.events().all().is_empty());
    let mut live = org.emu.events().subscribe();

    let approved = org
        .admin(
            "PATCH",
            &format!("sobjects/Order/{order}"),
            Some(json!({"Status": "Approved"})),
        )
        .await;
    assert_eq!(approved.status, 204, "{}", approved.text);

    let record = org.emu.record(&order).unwrap();
    assert_eq!(record["Activation_Status__c"], "Activating");
    assert_eq!(record["Activation_Error__c"], serde_json::Value::Null);
    assert_eq!(
        record["Activation_Error_DateTime__c"],
        serde_json::Value::Null
    );
    let events = org.emu.events().all();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.order_id, order);
    assert_eq!(event.requested_by, org.emu.admin_user_id());
    assert_eq!(event.created_by_id, org.emu.admin_user_id());
    assert!(event.idem_key.starts_with(&format!("{order}-")));
    assert_eq!(
        event.version,
        salesforce::schema::order_provision_requested::CURRENT_VERSION
    );
    assert!(uuid_like(&event.correlation_id) && uuid_like(&event.event_id));
    assert_eq!(org.emu.events().latest_replay_id(), Some(event.replay_id));
    assert_eq!(live.recv().await.unwrap(), *event);

    let unrelated = org
        .admin(
            "PATCH",
            &format!("sobjects/Order/{order}"),
            Some(json!({"WHMCS_Order_Id__c": 7})),
        )
        .await;
    assert_eq!(unrelated.status, 204);
    assert_eq!(
        org.emu.events().all().len(),
        1,
        "no event without an entry condition"
    );
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.matches('-').count() == 4
}

#[tokio::test]
async fn a_rolled_back_approval_publishes_nothing() {
    let org = spawn().await;
    let order = org.pending_order().await;
    let answer = org
        .admin(
            "POST",
            "composite",
            Some(json!({"allOrNone": true, "compositeRequest": [
                {"method": "PATCH", "url": format!("/services/data/{V}/sobjects/Order/{order}"), "referenceId": "approve", "body": {"Status": "Approved"}},
                {"method": "POST", "url": format!("/services/data/{V}/sobjects/Case"), "referenceId": "bad", "body": {"Status": "Nope"}},
            ]})),
        )
        .await;
    assert_eq!(
        answer.body["compositeResponse"][0]["body"][0]["errorCode"],
        "PROCESSING_HALTED"
    );
    assert!(org.emu.events().all().is_empty());
    let record = org.emu.record(&order).unwrap();
    assert_eq!(
        (
            record["Status"].as_str(),
            record["Activation_Status__c"].as_str()
        ),
        (Some("Pending Review"), Some("Pending Review"))
    );
}

#[tokio::test]
async fn setting_activating_again_publishes_a_second_event_with_a_larger_replay_id() {
    let org = spawn().await;
    let order = org.pending_order().await;
    org.emu
        .update("Order", &order, json!({"Status": "Approved"}))
        .unwrap();
    let first = org.emu.events().all().pop().unwrap();
    let failed = org
        .patch(
            &format!("sobjects/Order/{order}"),
            json!({"Activation_Status__c": "Failed", "Activation_Error__c": "WHMCS down"}),
        )
        .await;
    assert_eq!(failed.status, 204);
    assert_eq!(org.emu.events().all().len(), 1);
    let retry = org
        .patch(
            &format!("sobjects/Order/{order}"),
            json!({"Activation_Status__c": "Activating"}),
        )
        .await;
    assert_eq!(retry.status, 204);
    let events = org.emu.events().all();
    assert_eq!(events.len(), 2);
    let second = &events[1];
    assert!(second.replay_id > first.replay_id);
    assert_ne!(second.event_id, first.event_id);
    assert_eq!(second.requested_by, org.emu.integration_user_id());
    assert_eq!(
        org.emu.record(&order).unwrap()["Activation_Error__c"],
        serde_json::Value::Null
    );
    assert_eq!(
        org.emu.events().after(Some(first.replay_id)),
        vec![second.clone()]
    );
}

#[tokio::test]
async fn tests_can_publish_arbitrary_events() {
    let org = spawn().await;
    let bus = org.emu.events();
    let published = bus.publish(EventPayload::for_order(
        "801Em0000000099AAA",
        "005Em0000000099AAA",
        chrono::Utc::now(),
    ));
    assert_eq!(bus.all(), vec![published.clone()]);
    assert_eq!(
        published.schema_id,
        salesforce_emulator::events::schema_id()
    );
}

#[tokio::test]
async fn orders_inserted_as_history_are_activating_and_stamped_then_without_an_event() {
    let org = spawn().await;
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let approved = json!({"Status": "Approved", "EffectiveDate": "2026-01-01"});
    let ids = org
        .emu
        .insert_history("Order", &[approved.clone(), approved], at)
        .unwrap();
    assert_eq!(ids.len(), 2);
    for id in &ids {
        let record = org.emu.record(id).unwrap();
        assert_eq!(record["Activation_Status__c"], "Activating");
        assert_eq!(record["LastModifiedDate"], "2026-01-02T03:04:05.000+0000");
        assert_eq!(record["CreatedDate"], "2026-01-02T03:04:05.000+0000");
    }
    assert!(
        org.emu.events().all().is_empty(),
        "their events are long past retention"
    );
    // The Flow still publishes for what happens now.
    org.emu
        .update("Order", &ids[0], json!({"Activation_Status__c": "Failed"}))
        .unwrap();
    org.emu
        .update(
            "Order",
            &ids[0],
            json!({"Activation_Status__c": "Activating"}),
        )
        .unwrap();
    assert_eq!(org.emu.events().all().len(), 1);
}
