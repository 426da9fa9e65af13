//! `ProvisioningDeliveries` behaviours (the receiving side portal-local's
//! worker polls): FIFO groups, acknowledging, releasing; and the table and
//! queues created once when missing.

use std::sync::Arc;

use portal_aws::resources::{ensure_queues, ensure_state_table};
use portal_aws::{AwsClients, SqsProvisioningQueue};
use portal_core::domain::OrderId;
use portal_core::messages::{MessageOrigin, ProvisioningMessage, Token};
use portal_core::ports::memory::{InMemoryQueue, QueueConfig};
use portal_core::ports::{Delivery, ProvisioningDeliveries, ProvisioningQueue};

use crate::{behaviours, clock};

fn message(order: &str, key: &str) -> ProvisioningMessage {
    ProvisioningMessage {
        order_id: OrderId::parse(order).unwrap(),
        idempotency_key: Token::parse("idempotencyKey", key).unwrap(),
        correlation_id: Token::parse("correlationId", key).unwrap(),
        requested_by: "reconciler".into(),
        origin: MessageOrigin::Reconciler,
    }
}

fn key(delivery: &Delivery) -> &str {
    delivery.message.as_ref().unwrap().idempotency_key.as_str()
}

/// Receives until `key` comes, handing every other delivery back.
async fn receive_until<Q: ProvisioningDeliveries>(queue: &Q, wanted: &str) -> Delivery {
    for _ in 0..10 {
        let mut found = None;
        for delivery in queue.receive(10).await.unwrap() {
            if key(&delivery) == wanted && found.is_none() {
                found = Some(delivery);
            } else {
                queue.release(&delivery.receipt).await.unwrap();
            }
        }
        if let Some(found) = found {
            return found;
        }
    }
    panic!("{wanted} never came");
}

async fn deliveries_keep_groups_in_order_and_settle<Q>(queue: Q)
where
    Q: ProvisioningQueue + ProvisioningDeliveries,
{
    let a = "801000000000001";
    let b = "801000000000002";
    queue
        .send(&[message(a, "a1"), message(a, "a2"), message(b, "b1")])
        .await
        .unwrap();
    let first = queue.receive(10).await.unwrap();
    let a1 = first.iter().find(|d| key(d).starts_with('a')).unwrap();
    assert_eq!(key(a1), "a1", "a group's first message comes first");
    assert_eq!(a1.group(), Some(OrderId::parse(a).unwrap().as_str()));
    assert_eq!(a1.receive_count, 1);
    // Handed back: delivered again, still before a2.
    queue.release(&a1.receipt).await.unwrap();
    for other in first.iter().filter(|d| key(d) != "a1") {
        if key(other) == "b1" {
            queue.acknowledge(&other.receipt).await.unwrap();
        } else {
            queue.release(&other.receipt).await.unwrap();
        }
    }
    let again = receive_until(&queue, "a1").await;
    assert_eq!(again.receive_count, 2);
    queue.acknowledge(&again.receipt).await.unwrap();
    let a2 = receive_until(&queue, "a2").await;
    queue.acknowledge(&a2.receipt).await.unwrap();
    assert!(
        queue.receive(10).await.unwrap().is_empty(),
        "b1 and a1 were deleted"
    );
}

async fn sqs() -> SqsProvisioningQueue {
    let client = test_support::aws::sqs_client().await;
    let queue = test_support::aws::create_fifo_queue(&client, 5).await;
    SqsProvisioningQueue::new(client, queue.url)
}

fn memory() -> Arc<InMemoryQueue> {
    Arc::new(InMemoryQueue::new(
        Arc::new(clock()),
        QueueConfig::default(),
    ))
}

behaviours! {
    deliveries_keep_groups_in_order_and_settle => sqs, memory;
}

#[tokio::test]
async fn the_table_and_queues_are_created_once_and_found_after() {
    let config = test_support::aws::sdk_config().await;
    let clients = AwsClients::from_sdk_config(&config);
    let name = test_support::aws::unique_name("local");
    ensure_state_table(&clients, &name).await.unwrap();
    ensure_state_table(&clients, &name).await.unwrap();
    let names = [
        format!("{name}-prov.fifo"),
        format!("{name}-prov-dlq.fifo"),
        format!("{name}-events-dlq.fifo"),
    ];
    let first = ensure_queues(&clients, &names[0], &names[1], &names[2])
        .await
        .unwrap();
    let second = ensure_queues(&clients, &names[0], &names[1], &names[2])
        .await
        .unwrap();
    assert_eq!(first, second);
    let queue = SqsProvisioningQueue::new(clients.sqs.clone(), first.provisioning);
    queue
        .send(&[message("801000000000003", "c1")])
        .await
        .unwrap();
    let delivered = receive_until(&queue, "c1").await;
    queue.acknowledge(&delivered.receipt).await.unwrap();
}
