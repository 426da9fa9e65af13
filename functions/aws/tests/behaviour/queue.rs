//! `ProvisioningQueue` behaviours, plus the SQS adapter's chunking.

use std::sync::{Arc, Mutex};

use aws_sdk_sqs::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_sqs::config::{ConfigBag, Intercept};
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchInput;
use portal_aws::SqsProvisioningQueue;
use portal_core::domain::OrderId;
use portal_core::domain::ReplayId;
use portal_core::messages::{MessageOrigin, ProvisioningMessage, Token};
use portal_core::ports::memory::{InMemoryQueue, QueueConfig};
use portal_core::ports::{ProvisioningQueue, QueueError, SendOutcome};

use crate::{behaviours, clock};

/// A queue adapter plus a way to read back what it sent.
trait QueueUnderTest {
    /// The adapter.
    fn sender(&self) -> &impl ProvisioningQueue;
    /// Receives and deletes every message, in delivery order.
    async fn drain(&self) -> Vec<ProvisioningMessage>;
}

struct Sqs {
    queue: SqsProvisioningQueue,
    client: aws_sdk_sqs::Client,
    url: String,
}

impl QueueUnderTest for Sqs {
    fn sender(&self) -> &impl ProvisioningQueue {
        &self.queue
    }

    async fn drain(&self) -> Vec<ProvisioningMessage> {
        let mut received = Vec::new();
        loop {
            let out = self
                .client
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            let messages = out.messages();
            if messages.is_empty() {
                return received;
            }
            for message in messages {
                received.push(ProvisioningMessage::from_json(message.body().unwrap()).unwrap());
                self.client
                    .delete_message()
                    .queue_url(&self.url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

struct Memory {
    queue: InMemoryQueue,
}

impl QueueUnderTest for Memory {
    fn sender(&self) -> &impl ProvisioningQueue {
        &self.queue
    }

    async fn drain(&self) -> Vec<ProvisioningMessage> {
        let mut received = Vec::new();
        loop {
            let deliveries = self.queue.receive(10);
            if deliveries.is_empty() {
                return received;
            }
            for delivery in deliveries {
                self.queue.ack(&delivery.receipt).unwrap();
                received.push(delivery.message.expect("a provisioning message"));
            }
        }
    }
}

async fn sqs_with(client: aws_sdk_sqs::Client) -> Sqs {
    let created = test_support::aws::create_fifo_queue(&client, 5).await;
    Sqs {
        queue: SqsProvisioningQueue::new(client.clone(), created.url.clone()),
        client,
        url: created.url,
    }
}

async fn sqs() -> Sqs {
    sqs_with(test_support::aws::sqs_client().await).await
}

fn memory() -> Memory {
    Memory {
        queue: InMemoryQueue::new(Arc::new(clock()), QueueConfig::default()),
    }
}

/// The `seq`-th Pub/Sub event for Order `n`.
fn event(n: u32, seq: u8) -> ProvisioningMessage {
    ProvisioningMessage {
        order_id: OrderId::parse(&format!("801{n:012}")).unwrap(),
        idempotency_key: Token::parse("idempotencyKey", &format!("key-{n}-{seq}")).unwrap(),
        correlation_id: Token::parse("correlationId", &format!("corr-{n}-{seq}")).unwrap(),
        requested_by: "005000000000001AAA".into(),
        origin: MessageOrigin::PubSub {
            event_id: Token::parse("eventId", &format!("evt-{n}-{seq}")).unwrap(),
            replay_id: ReplayId::new(vec![0, 0, 0xff, u8::try_from(n).unwrap(), seq]).unwrap(),
        },
    }
}

async fn send_all(queue: &impl QueueUnderTest, messages: &[ProvisioningMessage]) {
    let outcomes = queue.sender().send(messages).await.unwrap();
    assert_eq!(outcomes, vec![SendOutcome::Sent; messages.len()]);
}

async fn batch_of_25_arrives_whole(queue: impl QueueUnderTest) {
    let messages: Vec<_> = (0..25)
        .map(|i| event(i % 4, u8::try_from(i).unwrap()))
        .collect();
    send_all(&queue, &messages).await;
    let mut received = queue.drain().await;
    assert_eq!(received.len(), 25);
    let key = |m: &ProvisioningMessage| m.idempotency_key.as_str().to_owned();
    received.sort_by_key(key);
    let mut expected = messages;
    expected.sort_by_key(key);
    assert_eq!(
        received, expected,
        "every message arrives intact (JSON round trip)"
    );
}

async fn fifo_order_within_a_group(queue: impl QueueUnderTest) {
    let messages = [
        event(1, 1),
        event(2, 1),
        event(1, 2),
        event(2, 2),
        event(1, 3),
    ];
    send_all(&queue, &messages).await;
    let received = queue.drain().await;
    let of_group = |n: u32| -> Vec<ProvisioningMessage> {
        let id = OrderId::parse(&format!("801{n:012}")).unwrap();
        received
            .iter()
            .filter(|m| m.order_id == id)
            .cloned()
            .collect()
    };
    assert_eq!(of_group(1), vec![event(1, 1), event(1, 2), event(1, 3)]);
    assert_eq!(of_group(2), vec![event(2, 1), event(2, 2)]);
}

async fn dedup_id_drops_a_repeat(queue: impl QueueUnderTest) {
    let first = event(1, 1);
    send_all(&queue, std::slice::from_ref(&first)).await;
    let mut repeat = first.clone();
    repeat.correlation_id = Token::parse("correlationId", "another-attempt").unwrap();
    send_all(&queue, &[repeat, event(1, 2)]).await;
    assert_eq!(queue.drain().await, vec![first, event(1, 2)]);
}

async fn reconciler_message_round_trips(queue: impl QueueUnderTest) {
    let message = ProvisioningMessage {
        origin: MessageOrigin::Reconciler,
        requested_by: "reconciler".into(),
        ..event(3, 1)
    };
    send_all(&queue, std::slice::from_ref(&message)).await;
    assert_eq!(queue.drain().await, vec![message]);
}

behaviours! {
    batch_of_25_arrives_whole => sqs, memory;
    fifo_order_within_a_group => sqs, memory;
    dedup_id_drops_a_repeat => sqs, memory;
    reconciler_message_round_trips => sqs, memory;
}

/// Records the entry count of every `SendMessageBatch` call.
#[derive(Debug, Clone, Default)]
struct BatchSizes(Arc<Mutex<Vec<usize>>>);

impl Intercept for BatchSizes {
    fn name(&self) -> &'static str {
        "BatchSizes"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if let Some(input) = context.input().downcast_ref::<SendMessageBatchInput>() {
            self.0.lock().unwrap().push(input.entries().len());
        }
        Ok(())
    }
}

#[tokio::test]
async fn sqs_sends_25_messages_in_3_batches_grouped_and_deduplicated_by_the_message() {
    let sizes = BatchSizes::default();
    let config = aws_sdk_sqs::config::Builder::from(&test_support::aws::sdk_config().await)
        .interceptor(sizes.clone())
        .build();
    let queue = sqs_with(aws_sdk_sqs::Client::from_conf(config)).await;
    let messages: Vec<_> = (0..25).map(|i| event(i, 1)).collect();
    send_all(&queue, &messages).await;
    assert_eq!(*sizes.0.lock().unwrap(), vec![10, 10, 5]);

    let out = queue
        .client
        .receive_message()
        .queue_url(&queue.url)
        .max_number_of_messages(1)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let received = &out.messages()[0];
    let attributes = received.attributes().unwrap();
    use aws_sdk_sqs::types::MessageSystemAttributeName as A;
    let parsed = ProvisioningMessage::from_json(received.body().unwrap()).unwrap();
    assert_eq!(
        attributes.get(&A::MessageGroupId).map(String::as_str),
        Some(parsed.order_id.as_str())
    );
    assert_eq!(
        attributes
            .get(&A::MessageDeduplicationId)
            .map(String::as_str),
        Some(parsed.dedup_id())
    );
}

#[tokio::test]
async fn sqs_missing_queue_is_a_permanent_error_with_nothing_sent() {
    let client = test_support::aws::sqs_client().await;
    let url = format!(
        "{}/123456789012/absent.fifo",
        test_support::moto::endpoint()
    );
    let queue = SqsProvisioningQueue::new(client, url).with_attempts(1);
    let err = queue.send(&[event(1, 1)]).await.unwrap_err();
    assert!(matches!(err, QueueError::Permanent(_)), "{err:?}");
}
