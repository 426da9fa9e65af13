//! Throughput of the subscriber, emulator to queue, and the CPU cost of its
//! own work per event: Avro decoding (timed directly over the same payloads
//! the emulator sends) plus event-to-message conversion, batch building and
//! replay-position bookkeeping (timed inside the loop with `Instant`, see
//! `MetricsSnapshot::own_work_nanos`). Network, SQS, DynamoDB and the
//! emulator's own work are excluded from the per-event cost and included in
//! the events-per-second figure.
//!
//! Runs with the in-memory queue and store, then with the moto server
//! (DynamoDB + SQS FIFO). On moto a consumer drains the queue meanwhile, as
//! the provisioner would: moto's FIFO `SendMessageBatch` slows down with the
//! queue's depth (about 15 ms empty, over 1 s at 500 messages), which would
//! otherwise measure moto, not the subscriber. Prints a markdown table.
//! Target: own cost under 50 µs per event.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // a bench: fail loudly, print the table

use std::sync::Arc;
use std::time::{Duration, Instant};

use apache_avro::Schema;
use portal_aws::{DynamoReplayStore, DynamoSubscriberLease, SqsDeadLetters, SqsProvisioningQueue};
use portal_core::ports::memory::{
    InMemoryDeadLetters, InMemoryQueue, InMemoryReplayStore, InMemorySubscriberLease, QueueConfig,
};
use portal_core::ports::{
    Clock, DeadLetters, LeaseOwner, ProvisioningQueue, ReplayStore, SubscriberLease, SystemClock,
};
use portal_core::workers::shutdown_channel;
use portal_core::workers::subscriber::{Metrics, Ports, Settings, StartFrom, run};
use salesforce::pubsub::{PubSubClient, PubSubConfig};
use salesforce::schema::order_provision_requested::TOPIC;
use salesforce::{RetryPolicy, SalesforceClient, SalesforceConfig};
use salesforce_emulator::events::{EventBus, schema_json};
use salesforce_emulator::{Emulator, EmulatorConfig, EventPayload, fixtures, ids};

const MEMORY_EVENTS: usize = 10_000;
const MOTO_EVENTS: usize = 1_000;
const DECODE_EVENTS: usize = 20_000;
const TARGET_MICROS: f64 = 50.0;

struct Row {
    queue: &'static str,
    events: usize,
    wall: Duration,
    own_micros: f64,
    /// Queue calls (`SendMessageBatch`) the events took.
    sends: u64,
}

/// The queue, counting its send calls (the batches).
struct Counted<Q> {
    inner: Q,
    sends: std::sync::atomic::AtomicU64,
}

impl<Q: ProvisioningQueue> ProvisioningQueue for Counted<Q> {
    async fn send(
        &self,
        messages: &[portal_core::messages::ProvisioningMessage],
    ) -> Result<Vec<portal_core::ports::SendOutcome>, portal_core::ports::QueueError> {
        self.sends
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.send(messages).await
    }
}

#[tokio::main]
async fn main() {
    let decode_micros = decode_cost();
    let memory = Ports {
        events: (),
        replay_store: Arc::new(InMemoryReplayStore::new()),
        lease: Arc::new(InMemorySubscriberLease::new()),
        queue: Arc::new(InMemoryQueue::new(
            Arc::new(SystemClock),
            QueueConfig::default(),
        )),
        dead_letters: Arc::new(InMemoryDeadLetters::new()),
        clock: SystemClock,
    };
    let mut rows = vec![end_to_end("in-memory", memory, MEMORY_EVENTS, None).await];

    let dynamo = test_support::aws::dynamo_client().await;
    let sqs = test_support::aws::sqs_client().await;
    let table = test_support::aws::create_table(&dynamo).await;
    let queue = test_support::aws::create_fifo_queue(&sqs, 5).await;
    let moto = Ports {
        events: (),
        replay_store: DynamoReplayStore::new(dynamo.clone(), table.clone()),
        lease: DynamoSubscriberLease::new(dynamo, table),
        queue: SqsProvisioningQueue::new(sqs.clone(), queue.url.clone()),
        dead_letters: SqsDeadLetters::new(sqs.clone(), queue.dlq_url),
        clock: SystemClock,
    };
    let consumer = Consumer {
        sqs,
        url: queue.url,
    };
    rows.push(
        end_to_end(
            "moto (SQS FIFO + DynamoDB)",
            moto,
            MOTO_EVENTS,
            Some(consumer),
        )
        .await,
    );

    let flush = Settings::new(LeaseOwner::new("bench").unwrap()).flush_after;
    println!(
        "{}; flush_after {} ms{}\n",
        std::env::var("THROUGHPUT_LIVE_MS").map_or_else(
            |_| "events published first (a backlog)".to_owned(),
            |ms| format!("events published one every {ms} ms while it runs")
        ),
        std::env::var("THROUGHPUT_FLUSH_AFTER_MS")
            .unwrap_or_else(|_| flush.as_millis().to_string()),
        if std::env::var_os("THROUGHPUT_FLUSH_AFTER_MS").is_some() {
            " (THROUGHPUT_FLUSH_AFTER_MS)"
        } else {
            " (the default)"
        }
    );
    println!(
        "| queue | events | wall (s) | events/s | queue calls | events per call | decode µs/event | batch + bookkeeping µs/event | own µs/event | target < {TARGET_MICROS} µs |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    for row in rows {
        let total = decode_micros + row.own_micros;
        println!(
            "| {} | {} | {:.2} | {:.0} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            row.queue,
            row.events,
            row.wall.as_secs_f64(),
            row.events as f64 / row.wall.as_secs_f64(),
            row.sends,
            row.events as f64 / row.sends.max(1) as f64,
            decode_micros,
            row.own_micros,
            total,
            if total < TARGET_MICROS {
                "met"
            } else {
                "MISSED"
            },
        );
    }
}

/// Microseconds per event to decode the emulator's Avro payloads with the writer schema.
fn decode_cost() -> f64 {
    let bus = EventBus::new(Duration::from_secs(3600));
    let payloads: Vec<Vec<u8>> = (0..DECODE_EVENTS)
        .map(|_| {
            let event = bus.publish(EventPayload::for_order(
                &ids::random_id("801"),
                &ids::random_id("005"),
                chrono::Utc::now(),
            ));
            salesforce_emulator::pubsub::avro::encode(&event).unwrap()
        })
        .collect();
    let schema = Schema::parse_str(schema_json()).unwrap();
    let started = Instant::now();
    for payload in &payloads {
        std::hint::black_box(salesforce::pubsub::event::decode(&schema, payload).unwrap());
    }
    started.elapsed().as_secs_f64() * 1e6 / DECODE_EVENTS as f64
}

/// Receives and deletes from an SQS queue until told to stop.
struct Consumer {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

impl Consumer {
    async fn drain_until(&self, done: &std::sync::atomic::AtomicBool) {
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            let entries: Vec<_> = out
                .messages()
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(m.receipt_handle().unwrap())
                        .build()
                        .unwrap()
                })
                .collect();
            if entries.is_empty() {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            self.sqs
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .unwrap();
        }
    }
}

/// Publishes `events`, runs the subscriber from EARLIEST until every event
/// was forwarded, and reports the wall time and own work per event.
async fn end_to_end<R, L, Q, D, C>(
    name: &'static str,
    ports: Ports<(), R, L, Q, D, C>,
    events: usize,
    consumer: Option<Consumer>,
) -> Row
where
    R: ReplayStore,
    L: SubscriberLease,
    Q: ProvisioningQueue,
    D: DeadLetters,
    C: Clock,
{
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let rest = SalesforceConfig::new(
        &emulator.base_url(),
        emulator.config().client_id.clone(),
        emulator.config().username.clone(),
        fixtures::CLIENT_PRIVATE_KEY_PEM.as_bytes(),
    )
    .unwrap();
    let salesforce = SalesforceClient::with_retry_policy(rest, RetryPolicy::default()).unwrap();
    let pubsub = PubSubClient::connect(
        PubSubConfig::new(&emulator.pubsub_url()).unwrap(),
        salesforce,
    )
    .await
    .unwrap();
    let admin = emulator.admin_user_id();
    let orders: Vec<String> = (0..50).map(|_| ids::random_id("801")).collect();
    // All published first (a backlog: every batch fills), or with
    // `THROUGHPUT_LIVE_MS` one every that many ms while the subscriber runs
    // (events trickling in: how batches form at that rate).
    let spacing = std::env::var("THROUGHPUT_LIVE_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map(Duration::from_millis);
    let bus = emulator.events();
    let publisher = async {
        let mut last = Vec::new();
        for i in 0..events {
            let event = bus.publish(EventPayload::for_order(
                &orders[i % orders.len()],
                &admin,
                chrono::Utc::now(),
            ));
            last = event.replay_id.to_vec();
            if let Some(every) = spacing {
                tokio::time::sleep(every).await;
            }
        }
        last
    };
    let (publisher, published) = if spacing.is_some() {
        (Some(publisher), None)
    } else {
        (None, Some(publisher.await))
    };
    let mut settings = Settings::new(LeaseOwner::new("bench").unwrap());
    settings.start_from = StartFrom::Earliest;
    if let Some(ms) = std::env::var("THROUGHPUT_FLUSH_AFTER_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        settings.flush_after = Duration::from_millis(ms);
    }
    let ports = Ports {
        events: pubsub,
        replay_store: ports.replay_store,
        lease: ports.lease,
        queue: Counted {
            inner: ports.queue,
            sends: std::sync::atomic::AtomicU64::new(0),
        },
        dead_letters: ports.dead_letters,
        clock: ports.clock,
    };
    let metrics = Metrics::discard();
    let (trigger, shutdown) = shutdown_channel();
    let started = Instant::now();
    let done = std::sync::atomic::AtomicBool::new(false);
    let watcher = async {
        while metrics.snapshot().events_forwarded < events as u64 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let wall = started.elapsed();
        trigger.trigger();
        wall
    };
    let drain = async {
        if let Some(consumer) = &consumer {
            consumer.drain_until(&done).await;
        }
    };
    let subscriber = async {
        let stopped = run(&ports, &settings, &metrics, &shutdown).await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        stopped
    };
    let live = async {
        match publisher {
            Some(publisher) => publisher.await,
            None => published.unwrap_or_default(),
        }
    };
    let (stopped, wall, (), last) = tokio::join!(subscriber, watcher, drain, live);
    let stopped = stopped.unwrap();
    assert_eq!(stopped.saved.unwrap().as_bytes(), &last[..]);
    let saved = ports.replay_store.load(TOPIC).await.unwrap().unwrap();
    assert_eq!(saved.as_bytes(), &last[..]);
    let counts = metrics.snapshot();
    assert_eq!(counts.events_forwarded, events as u64);
    Row {
        queue: name,
        events,
        wall,
        own_micros: counts.own_work_nanos as f64 / 1e3 / events as f64,
        sends: ports.queue.sends.load(std::sync::atomic::Ordering::Relaxed),
    }
}
