//! `ReconcileAttempts` behaviours, and the dead-letter depths on SQS.

use chrono::TimeDelta;
use portal_aws::{DynamoReconcileAttempts, SqsQueueDepths};
use portal_core::domain::OrderId;
use portal_core::ports::memory::InMemoryReconcileAttempts;
use portal_core::ports::{
    QueueDepth, QueueDepths, QueueError, ReconcileAttempt, ReconcileAttempts,
};

use crate::{behaviours, start};

async fn dynamo() -> DynamoReconcileAttempts {
    let (client, table) = crate::table().await;
    DynamoReconcileAttempts::new(client, table)
}

fn memory() -> InMemoryReconcileAttempts {
    InMemoryReconcileAttempts::new()
}

fn order(n: u32) -> OrderId {
    OrderId::parse(&format!("801000000000{n:03}")).unwrap()
}

async fn an_attempt_round_trips_and_expires(store: impl ReconcileAttempts) {
    let id = order(1);
    assert_eq!(store.attempt(&id, start()).await.unwrap(), None);
    let first = ReconcileAttempt {
        attempts: 1,
        next_at: start() + TimeDelta::minutes(15),
        last_at: start(),
        order_modified_at: Some(start() - TimeDelta::minutes(20)),
        expires_at: start() + TimeDelta::days(30),
    };
    store.record_attempt(&id, &first).await.unwrap();
    assert_eq!(
        store.attempt(&id, start()).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.attempt(&order(2), start()).await.unwrap(), None);

    let second = ReconcileAttempt {
        attempts: 2,
        next_at: start() + TimeDelta::minutes(45),
        last_at: start() + TimeDelta::minutes(15),
        order_modified_at: None,
        expires_at: start() + TimeDelta::days(30),
    };
    store.record_attempt(&id, &second).await.unwrap();
    assert_eq!(
        store.attempt(&id, start()).await.unwrap(),
        Some(second.clone()),
        "a write overwrites"
    );
    assert_eq!(
        store.attempt(&id, second.expires_at).await.unwrap(),
        None,
        "expired at its TTL, whether or not DynamoDB removed it yet"
    );
}

behaviours! {
    an_attempt_round_trips_and_expires => dynamo, memory;
}

#[tokio::test]
async fn sqs_depths_count_the_waiting_and_the_in_flight_messages() {
    let client = test_support::aws::sqs_client().await;
    let queues = test_support::aws::create_fifo_queue(&client, 5).await;
    for n in 0..3 {
        client
            .send_message()
            .queue_url(&queues.dlq_url)
            .message_body(format!("dead letter {n}"))
            .message_group_id("g")
            .message_deduplication_id(format!("d-{n}"))
            .send()
            .await
            .unwrap();
    }
    client
        .receive_message()
        .queue_url(&queues.dlq_url)
        .max_number_of_messages(1)
        .send()
        .await
        .unwrap();
    let depths = SqsQueueDepths::new(
        client,
        vec![
            ("dlq".to_owned(), queues.dlq_url.clone()),
            ("main".to_owned(), queues.url.clone()),
        ],
    );
    assert_eq!(
        depths.depths().await.unwrap(),
        vec![
            QueueDepth {
                queue: "dlq".into(),
                visible: 2,
                in_flight: 1
            },
            QueueDepth {
                queue: "main".into(),
                visible: 0,
                in_flight: 0
            },
        ]
    );
}

#[tokio::test]
async fn sqs_depths_of_a_missing_queue_fail_for_good() {
    let client = test_support::aws::sqs_client().await;
    let depths = SqsQueueDepths::new(
        client,
        vec![(
            "gone".to_owned(),
            format!(
                "{}/123456789012/absent-dlq.fifo",
                test_support::moto::endpoint()
            ),
        )],
    );
    let err = depths.depths().await.unwrap_err();
    assert!(matches!(err, QueueError::Permanent(_)), "{err:?}");
}
