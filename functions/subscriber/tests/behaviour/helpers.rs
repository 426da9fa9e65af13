//! A world per test: an emulated org, clients of it, fast settings, ports in
//! memory or on the moto server, and a subscriber running on its own task.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use portal_aws::{DynamoReplayStore, DynamoSubscriberLease, SqsDeadLetters, SqsProvisioningQueue};
use portal_core::messages::ProvisioningMessage;
use portal_core::ports::memory::{
    InMemoryDeadLetters, InMemoryQueue, InMemoryReplayStore, InMemorySubscriberLease, QueueConfig,
};
use portal_core::ports::{
    Clock, DeadLetters, EventSource, LeaseAcquisition, LeaseOwner, ProvisioningQueue, ReplayStore,
    SubscriberLease, SystemClock,
};
use portal_core::workers::subscriber::{
    Metrics, Ports, Settings, StartFrom, Stopped, SubscriberError, run,
};
use portal_core::workers::{BackoffPolicy, ShutdownTrigger, shutdown_channel};
use salesforce::pubsub::{PubSubClient, PubSubConfig};
use salesforce::{RetryPolicy, SalesforceClient, SalesforceConfig};
use salesforce_emulator::{Emulator, EmulatorConfig, EventPayload, PublishedEvent, fixtures, ids};
use tokio::task::JoinHandle;

/// A watchdog long enough never to trip in a test that does not test it.
pub const PATIENT: Duration = Duration::from_secs(20);

/// How long a test waits for something that should happen soon before failing.
const EVENTUALLY: Duration = Duration::from_secs(60);

/// An org and a Pub/Sub client of it.
pub struct Org {
    pub emulator: Emulator,
    pub pubsub: PubSubClient,
}

/// An org with `config`, and a Pub/Sub client whose watchdog is `watchdog`.
pub async fn org_with(config: EmulatorConfig, watchdog: Duration) -> Org {
    let emulator = Emulator::start(config).await.unwrap();
    let rest = SalesforceConfig::new(
        &emulator.base_url(),
        emulator.config().client_id.clone(),
        emulator.config().username.clone(),
        fixtures::CLIENT_PRIVATE_KEY_PEM.as_bytes(),
    )
    .unwrap();
    let retry = RetryPolicy {
        max_attempts: 2,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    };
    let salesforce = SalesforceClient::with_retry_policy(rest, retry).unwrap();
    let config = PubSubConfig::new(&emulator.pubsub_url())
        .unwrap()
        .with_watchdog(watchdog);
    let pubsub = PubSubClient::connect(config, salesforce).await.unwrap();
    Org { emulator, pubsub }
}

/// An org with default settings.
pub async fn org() -> Org {
    org_with(EmulatorConfig::default(), PATIENT).await
}

impl Org {
    /// Publishes an event for `order_id`.
    pub fn publish_for(&self, order_id: &str) -> PublishedEvent {
        self.emulator.events().publish(EventPayload::for_order(
            order_id,
            &self.emulator.admin_user_id(),
            chrono::Utc::now(),
        ))
    }

    /// Publishes an event for a fresh Order.
    pub fn publish(&self) -> PublishedEvent {
        self.publish_for(&ids::random_id("801"))
    }
}

/// Settings with millisecond timings for `instance`.
pub fn settings(instance: &str) -> Settings {
    let mut settings = Settings::new(LeaseOwner::new(instance).unwrap());
    settings.flow_batch = 20;
    settings.start_from = StartFrom::Earliest;
    settings.lease_ttl = Duration::from_secs(3);
    settings.lease_poll = Duration::from_millis(50);
    settings.stop_timeout = Duration::from_secs(10);
    settings.flush_after = Duration::from_millis(5);
    settings.backoff = BackoffPolicy {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(200),
        healthy_after: Duration::from_secs(1),
    };
    settings.metrics_interval = Duration::from_secs(3600);
    settings
}

/// The in-memory ports, shared, with `E` as the event source.
pub type MemoryPorts<E = PubSubClient> = Ports<
    E,
    Arc<InMemoryReplayStore>,
    Arc<InMemorySubscriberLease>,
    Arc<InMemoryQueue>,
    Arc<InMemoryDeadLetters>,
    SystemClock,
>;

/// Fresh in-memory ports around the org's Pub/Sub client.
pub fn memory_ports(org: &Org) -> MemoryPorts {
    Ports {
        events: org.pubsub.clone(),
        replay_store: Arc::new(InMemoryReplayStore::new()),
        lease: Arc::new(InMemorySubscriberLease::new()),
        queue: Arc::new(InMemoryQueue::new(
            Arc::new(SystemClock),
            QueueConfig::default(),
        )),
        dead_letters: Arc::new(InMemoryDeadLetters::new()),
        clock: SystemClock,
    }
}

/// The AWS ports on the moto server.
pub type AwsPorts = Ports<
    PubSubClient,
    DynamoReplayStore,
    DynamoSubscriberLease,
    SqsProvisioningQueue,
    SqsDeadLetters,
    SystemClock,
>;

/// A fresh table, FIFO queue and dead-letter queue on the moto server.
pub struct AwsWorld {
    pub ports: AwsPorts,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub dlq_url: String,
    pub table: String,
}

/// Creates an [`AwsWorld`] around the org's Pub/Sub client.
pub async fn aws_world(org: &Org) -> AwsWorld {
    let dynamo = test_support::aws::dynamo_client().await;
    let sqs = test_support::aws::sqs_client().await;
    let table = test_support::aws::create_table(&dynamo).await;
    let queue = test_support::aws::create_fifo_queue(&sqs, 5).await;
    AwsWorld {
        ports: Ports {
            events: org.pubsub.clone(),
            replay_store: DynamoReplayStore::new(dynamo.clone(), table.clone()),
            lease: DynamoSubscriberLease::new(dynamo, table.clone()),
            queue: SqsProvisioningQueue::new(sqs.clone(), queue.url.clone()),
            dead_letters: SqsDeadLetters::new(sqs.clone(), queue.dlq_url.clone()),
            clock: SystemClock,
        },
        sqs,
        queue_url: queue.url,
        dlq_url: queue.dlq_url,
        table,
    }
}

/// One message read back from SQS.
#[derive(Debug, Clone)]
pub struct Received {
    pub group_id: String,
    pub dedup_id: String,
    pub body: String,
}

/// Receives and deletes messages from `url` until at least `expected` arrived
/// and one more receive comes back empty.
pub async fn drain(sqs: &aws_sdk_sqs::Client, url: &str, expected: usize) -> Vec<Received> {
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        let messages = out.messages();
        if messages.is_empty() {
            if received.len() >= expected {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {expected} messages arrived",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        for message in messages {
            let attribute = |name: MessageSystemAttributeName| {
                message
                    .attributes()
                    .and_then(|a| a.get(&name))
                    .cloned()
                    .unwrap_or_default()
            };
            received.push(Received {
                group_id: attribute(MessageSystemAttributeName::MessageGroupId),
                dedup_id: attribute(MessageSystemAttributeName::MessageDeduplicationId),
                body: message.body().unwrap_or_default().to_owned(),
            });
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

/// The provisioning messages of `received`, grouped by Order, in arrival order.
pub fn by_order(received: &[Received]) -> HashMap<String, Vec<ProvisioningMessage>> {
    let mut groups: HashMap<String, Vec<ProvisioningMessage>> = HashMap::new();
    for r in received {
        let message = ProvisioningMessage::from_json(&r.body).unwrap();
        assert_eq!(r.group_id, message.order_id.as_str());
        assert_eq!(r.dedup_id, message.dedup_id());
        groups.entry(r.group_id.clone()).or_default().push(message);
    }
    groups
}

/// A subscriber running on its own task.
pub struct Running {
    pub handle: JoinHandle<Result<Stopped, SubscriberError>>,
    pub trigger: ShutdownTrigger,
    pub metrics: Metrics,
}

/// Starts the subscriber with `ports` (moved onto the task) and `settings`.
pub fn spawn<E, R, L, Q, D, C>(ports: Ports<E, R, L, Q, D, C>, settings: Settings) -> Running
where
    E: EventSource + 'static,
    R: ReplayStore + 'static,
    L: SubscriberLease + 'static,
    Q: ProvisioningQueue + 'static,
    D: DeadLetters + 'static,
    C: Clock + 'static,
{
    let (trigger, shutdown) = shutdown_channel();
    let metrics = Metrics::discard();
    let task_metrics = metrics.clone();
    let handle =
        tokio::spawn(async move { run(&ports, &settings, &task_metrics, &shutdown).await });
    Running {
        handle,
        trigger,
        metrics,
    }
}

impl Running {
    /// Triggers the stop and waits for the result.
    pub async fn stop(self) -> Result<Stopped, SubscriberError> {
        self.trigger.trigger();
        self.handle.await.unwrap()
    }
}

/// Polls `check` until it holds; panics naming `what` if it never does.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The saved replay position of the Order event topic.
pub async fn saved<R: ReplayStore>(store: &R) -> Option<Vec<u8>> {
    store
        .load(salesforce::schema::order_provision_requested::TOPIC)
        .await
        .unwrap()
        .map(|id| id.as_bytes().to_vec())
}

/// What another task asking for the lease `name` now gets (it takes it when free).
pub async fn next_task_asks_for_the_lease<L: SubscriberLease>(
    lease: &L,
    name: &str,
) -> LeaseAcquisition {
    lease
        .acquire(
            name,
            &LeaseOwner::new("next-task").unwrap(),
            Duration::from_secs(30),
            chrono::Utc::now(),
        )
        .await
        .unwrap()
}
