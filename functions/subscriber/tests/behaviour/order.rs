//! Events reach the SQS FIFO queue in order per Order, with the contract's fields.

use std::collections::HashMap;

use portal_core::messages::MessageOrigin;
use salesforce_emulator::ids;

use crate::helpers::{aws_world, by_order, drain, eventually, org, saved, settings, spawn};

#[tokio::test]
async fn events_of_several_orders_are_forwarded_in_order_per_order() {
    let org = org().await;
    let world = aws_world(&org).await;
    let orders: Vec<String> = (0..3).map(|_| ids::random_id("801")).collect();
    let mut published = Vec::new();
    for _ in 0..4 {
        for order in &orders {
            published.push(org.publish_for(order));
        }
    }
    let running = spawn(world.ports.clone(), settings("order-test"));
    let last = published.last().unwrap().replay_id.to_vec();
    eventually("the last event's position is saved", || async {
        saved(&world.ports.replay_store).await.as_deref() == Some(&last[..])
    })
    .await;
    let stopped = running.stop().await.unwrap();
    assert_eq!(stopped.saved.unwrap().as_bytes(), &last[..]);

    let received = drain(&world.sqs, &world.queue_url, published.len()).await;
    assert_eq!(received.len(), published.len());
    let groups = by_order(&received);
    let mut expected: HashMap<String, Vec<String>> = HashMap::new();
    for event in &published {
        let order = portal_core::domain::OrderId::parse(&event.order_id).unwrap();
        expected
            .entry(order.as_str().to_owned())
            .or_default()
            .push(event.event_id.clone());
    }
    assert_eq!(groups.len(), orders.len());
    for (order, messages) in &groups {
        let event_ids: Vec<String> = messages.iter().map(|m| m.dedup_id().to_owned()).collect();
        assert_eq!(&event_ids, &expected[order], "order of Order {order}");
    }
    let first = &groups[expected.keys().next().unwrap()][0];
    let event = published
        .iter()
        .find(|e| e.event_id == first.dedup_id())
        .unwrap();
    assert_eq!(first.idempotency_key.as_str(), event.idem_key);
    assert_eq!(first.correlation_id.as_str(), event.correlation_id);
    assert_eq!(first.requested_by, event.requested_by);
    match &first.origin {
        MessageOrigin::PubSub { replay_id, .. } => {
            assert_eq!(replay_id.as_bytes(), &event.replay_id[..]);
        }
        MessageOrigin::Reconciler => panic!("expected a Pub/Sub message"),
    }
    assert!(drain(&world.sqs, &world.dlq_url, 0).await.is_empty());
}
