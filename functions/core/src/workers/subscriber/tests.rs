//! The subscriber loop against in-memory ports, with tokio time paused (every
//! wait of the loop is virtual, so the tests run in milliseconds and replay
//! exactly) and a seeded jitter.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use super::*;
use crate::domain::OrderId;
use crate::messages::{MessageOrigin, ProvisioningMessage};
use crate::ports::memory::{
    InMemoryDeadLetters, InMemoryEventSource, InMemoryQueue, InMemoryReplayStore,
    InMemorySubscriberLease, QueueConfig, replay_id_at,
};
use crate::ports::{
    LeaseAcquisition, LeaseOwner, OrderProvisionRequested, QueueError, SendFailure, SendOutcome,
    TokioClock,
};
use crate::schema::order_provision_requested::TOPIC;
use crate::workers::{SeededJitter, ShutdownTrigger, shutdown_channel};

type TestPorts = Ports<
    InMemoryEventSource,
    Arc<InMemoryReplayStore>,
    Arc<InMemorySubscriberLease>,
    Arc<FlakyQueue>,
    Arc<InMemoryDeadLetters>,
    TokioClock,
>;

/// The in-memory queue, failing the next sends it is told to.
#[derive(Debug)]
struct FlakyQueue {
    queue: InMemoryQueue,
    failures: std::sync::Mutex<Vec<SendOutcome>>,
    sends: std::sync::atomic::AtomicUsize,
}

impl FlakyQueue {
    /// The next send answers `outcome` for its first message (the rest are sent).
    fn fail_next(&self, outcome: SendOutcome) {
        self.failures.lock().unwrap().push(outcome);
    }
}

impl ProvisioningQueue for FlakyQueue {
    async fn send(&self, messages: &[ProvisioningMessage]) -> Result<Vec<SendOutcome>, QueueError> {
        self.sends.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let failure = self.failures.lock().unwrap().pop();
        match failure {
            None => self.queue.send(messages).await,
            Some(failed) => {
                let mut outcomes = vec![failed];
                outcomes.extend(self.queue.send(&messages[1..]).await?);
                Ok(outcomes)
            }
        }
    }
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_714_557_600, 0).unwrap()
}

fn ports() -> TestPorts {
    let clock = TokioClock::starting_at(start());
    Ports {
        events: InMemoryEventSource::new().with_keepalive_every(Duration::from_secs(5)),
        replay_store: Arc::new(InMemoryReplayStore::new()),
        lease: Arc::new(InMemorySubscriberLease::new()),
        queue: Arc::new(FlakyQueue {
            queue: InMemoryQueue::new(Arc::new(clock), QueueConfig::default()),
            failures: std::sync::Mutex::default(),
            sends: std::sync::atomic::AtomicUsize::new(0),
        }),
        dead_letters: Arc::new(InMemoryDeadLetters::new()),
        clock,
    }
}

fn settings(instance: &str) -> Settings {
    let mut settings = Settings::new(LeaseOwner::new(instance).unwrap());
    settings.start_from = StartFrom::Earliest;
    settings.jitter = Arc::new(SeededJitter::new(11));
    settings.metrics_interval = Duration::from_secs(3600);
    settings
}

/// An event for Order number `n`.
fn event(n: u64) -> OrderProvisionRequested {
    OrderProvisionRequested {
        created_date: start(),
        created_by_id: "005000000000001AAA".into(),
        order_id: OrderId::parse(&format!("801{n:012}")).unwrap(),
        idem_key: None,
        correlation_id: None,
        requested_by: None,
        version: Some(1.0),
    }
}

fn publish(ports: &TestPorts, n: u64) -> ReplayId {
    ports.events.publish(&format!("event-{n}"), event(n))
}

struct Running {
    handle: JoinHandle<Result<Stopped, SubscriberError>>,
    trigger: ShutdownTrigger,
    metrics: Metrics,
}

impl Running {
    async fn stop(self) -> Result<Stopped, SubscriberError> {
        self.trigger.trigger();
        self.handle.await.unwrap()
    }
}

fn spawn(ports: &TestPorts, settings: Settings) -> Running {
    let (trigger, shutdown) = shutdown_channel();
    let metrics = Metrics::discard();
    let ports = ports.clone();
    let task_metrics = metrics.clone();
    let handle =
        tokio::spawn(async move { run(&ports, &settings, &task_metrics, &shutdown).await });
    Running {
        handle,
        trigger,
        metrics,
    }
}

/// Lets the loop run for `time` of virtual time.
async fn after(time: Duration) {
    tokio::time::sleep(time).await;
}

/// The event ids the queue holds, in order.
fn queued_event_ids(ports: &TestPorts) -> Vec<String> {
    ports
        .queue
        .queue
        .receive(100)
        .into_iter()
        .map(|d| d.message.unwrap().dedup_id().to_owned())
        .collect()
}

async fn saved(ports: &TestPorts) -> Option<ReplayId> {
    ports.replay_store.load(TOPIC).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn when_events_arrive_they_should_be_queued_in_order_and_the_position_saved_after() {
    let ports = ports();
    for n in 1..=3 {
        publish(&ports, n);
    }
    let running = spawn(&ports, settings("a"));
    after(Duration::from_secs(1)).await;
    let last = publish(&ports, 4);
    after(Duration::from_secs(1)).await;
    assert_eq!(saved(&ports).await, Some(last.clone()));
    let stopped = running.stop().await.unwrap();
    assert_eq!(stopped.saved, Some(last));
    assert_eq!(
        queued_event_ids(&ports),
        ["event-1", "event-2", "event-3", "event-4"]
    );
    assert_eq!(ports.events.subscriptions(), [ReplayFrom::Earliest]);
    let next = ports
        .lease
        .acquire(
            "subscriber#/event/OrderProvisionRequested__e",
            &LeaseOwner::new("b").unwrap(),
            Duration::from_secs(30),
            ports.clock.now(),
        )
        .await
        .unwrap();
    assert!(
        matches!(next, LeaseAcquisition::Acquired { .. }),
        "the lease was released on stop"
    );
}

#[tokio::test(start_paused = true)]
async fn when_the_queue_fails_an_entry_the_position_should_stop_before_it_until_it_is_accepted() {
    let ports = ports();
    ports.queue.fail_next(SendOutcome::Failed(SendFailure {
        retryable: true,
        code: "InternalError".into(),
    }));
    let first = publish(&ports, 1);
    publish(&ports, 2);
    let running = spawn(&ports, settings("a"));
    // Watch every position saved, beside what the queue holds, while the
    // first entry is retried.
    let mut seen = Vec::new();
    for _ in 0..200 {
        seen.push((saved(&ports).await, ports.queue.queue.len()));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    running.stop().await.unwrap();
    assert!(
        seen.iter()
            .any(|(saved, queued)| saved.is_none() && *queued == 1),
        "the second was accepted first, and nothing was saved then: {seen:?}"
    );
    assert!(
        seen.iter()
            .all(|(saved, queued)| saved.is_none() || *queued == 2),
        "a position is saved only once both are accepted: {seen:?}"
    );
    assert!(seen.iter().all(|(saved, _)| saved.as_ref() != Some(&first)));
    assert_eq!(seen.last().unwrap().0, Some(replay_id_at(2)));
    let mut queued = queued_event_ids(&ports);
    queued.sort();
    assert_eq!(queued, ["event-1", "event-2"], "retried, nothing lost");
}

#[tokio::test(start_paused = true)]
async fn when_the_queue_refuses_an_entry_for_good_it_should_be_dead_lettered_and_passed() {
    let ports = ports();
    ports.queue.fail_next(SendOutcome::Failed(SendFailure {
        retryable: false,
        code: "InvalidParameterValue".into(),
    }));
    publish(&ports, 1);
    let running = spawn(&ports, settings("a"));
    after(Duration::from_secs(1)).await;
    running.stop().await.unwrap();
    let letters = ports.dead_letters.letters();
    assert_eq!(letters.len(), 1);
    assert!(letters[0].error.contains("InvalidParameterValue"));
    assert_eq!(saved(&ports).await, Some(replay_id_at(1)));
}

#[tokio::test(start_paused = true)]
async fn when_an_event_does_not_decode_it_should_be_dead_lettered_with_its_payload() {
    let ports = ports();
    ports
        .events
        .publish_undecodable("bad-1", &[1, 2, 3], "the payload is not Avro of its schema");
    publish(&ports, 2);
    let running = spawn(&ports, settings("a"));
    after(Duration::from_secs(1)).await;
    let metrics = running.metrics.clone();
    running.stop().await.unwrap();
    let letters = ports.dead_letters.letters();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].payload, [1, 2, 3]);
    assert_eq!(letters[0].error, "the payload is not Avro of its schema");
    assert_eq!(queued_event_ids(&ports), ["event-2"]);
    assert_eq!(metrics.snapshot().decode_failures, 1);
    assert_eq!(saved(&ports).await, Some(replay_id_at(2)));
}

#[tokio::test(start_paused = true)]
async fn when_the_stream_breaks_it_should_resubscribe_after_the_saved_position() {
    let ports = ports();
    publish(&ports, 1);
    let running = spawn(&ports, settings("a"));
    after(Duration::from_secs(1)).await;
    ports.events.break_streams(SourceFailure::Transient);
    after(Duration::from_secs(1)).await;
    publish(&ports, 2);
    after(Duration::from_secs(1)).await;
    let metrics = running.metrics.clone();
    running.stop().await.unwrap();
    assert_eq!(
        ports.events.subscriptions(),
        [ReplayFrom::Earliest, ReplayFrom::After(replay_id_at(1))]
    );
    assert_eq!(queued_event_ids(&ports), ["event-1", "event-2"]);
    assert_eq!(metrics.snapshot().reconnects, 1);
}

#[tokio::test(start_paused = true)]
async fn when_the_saved_position_is_refused_it_should_record_a_gap_and_resume_at_latest_once() {
    let ports = ports();
    let old = publish(&ports, 1);
    publish(&ports, 2);
    ports.replay_store.save(TOPIC, &old).await.unwrap();
    ports.events.forget_through(&replay_id_at(2));
    let running = spawn(&ports, settings("a"));
    after(Duration::from_secs(1)).await;
    publish(&ports, 3);
    after(Duration::from_secs(1)).await;
    let metrics = running.metrics.clone();
    running.stop().await.unwrap();
    let gaps = ports.replay_store.gaps(TOPIC).await.unwrap();
    assert_eq!(gaps.len(), 1, "one gap, no loop");
    assert_eq!(gaps[0].from, Some(old.clone()));
    assert!(
        gaps[0].reason.contains("resumed at LATEST"),
        "{}",
        gaps[0].reason
    );
    assert_eq!(
        ports.events.subscriptions(),
        [ReplayFrom::After(old), ReplayFrom::Latest]
    );
    assert_eq!(queued_event_ids(&ports), ["event-3"], "LATEST: no replay");
    assert_eq!(metrics.snapshot().gap_records, 1);
    assert_eq!(metrics.snapshot().reconnects, 0);
}

#[tokio::test(start_paused = true)]
async fn when_latest_is_refused_too_it_should_stop_instead_of_looping() {
    let ports = ports();
    let old = publish(&ports, 1);
    ports.replay_store.save(TOPIC, &old).await.unwrap();
    // The saved position refused, then LATEST refused as well.
    ports
        .events
        .fail_subscriptions(SourceFailure::ReplayRefused, 2);
    let result = spawn(&ports, settings("a")).handle.await.unwrap();
    assert!(
        matches!(result, Err(SubscriberError::ReplayLoop(ref e)) if e.failure == SourceFailure::ReplayRefused),
        "{result:?}"
    );
    assert_eq!(ports.replay_store.gaps(TOPIC).await.unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn when_quiet_the_position_should_move_to_a_keepalive_id_seen_twice_only() {
    let ports = ports();
    // Published before the subscriber starts from LATEST: never delivered.
    let latest = publish(&ports, 1);
    let mut settings = settings("a");
    settings.start_from = StartFrom::Latest;
    let running = spawn(&ports, settings);
    after(Duration::from_secs(6)).await;
    assert_eq!(saved(&ports).await, None, "one keepalive is not enough");
    after(Duration::from_secs(5)).await;
    assert_eq!(saved(&ports).await, Some(latest), "the same id twice");
    running.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn when_another_instance_holds_the_lease_it_should_wait_and_take_over_when_released() {
    let ports = ports();
    let other = LeaseOwner::new("other").unwrap();
    let name = settings("a").lease_name;
    ports
        .lease
        .acquire(&name, &other, Duration::from_secs(30), ports.clock.now())
        .await
        .unwrap();
    publish(&ports, 1);
    let running = spawn(&ports, settings("a"));
    after(Duration::from_secs(12)).await;
    assert!(
        queued_event_ids(&ports).is_empty(),
        "waiting: nothing consumed"
    );
    assert!(running.metrics.snapshot().lease_waits >= 2);
    ports.lease.release(&name, &other).await.unwrap();
    after(Duration::from_secs(6)).await;
    running.stop().await.unwrap();
    assert_eq!(queued_event_ids(&ports), ["event-1"]);
}

#[tokio::test(start_paused = true)]
async fn when_the_lease_is_lost_it_should_stop_consuming_and_wait_again() {
    let ports = ports();
    let running = spawn(&ports, settings("a"));
    after(Duration::from_secs(1)).await;
    assert_eq!(ports.events.open_streams(), 1);
    let name = settings("a").lease_name;
    ports
        .lease
        .release(&name, &LeaseOwner::new("a").unwrap())
        .await
        .unwrap();
    ports
        .lease
        .acquire(
            &name,
            &LeaseOwner::new("b").unwrap(),
            Duration::from_secs(300),
            ports.clock.now(),
        )
        .await
        .unwrap();
    after(Duration::from_secs(11)).await;
    assert_eq!(ports.events.open_streams(), 0, "stopped consuming");
    publish(&ports, 1);
    after(Duration::from_secs(1)).await;
    assert!(queued_event_ids(&ports).is_empty());
    assert_eq!(running.metrics.snapshot().leases_lost, 1);
    running.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn when_the_topic_may_not_be_read_it_should_stop_with_the_topic_error() {
    let ports = ports();
    ports.events.set_can_subscribe(false);
    let result = spawn(&ports, settings("a")).handle.await.unwrap();
    assert!(
        matches!(result, Err(SubscriberError::Topic { source: None, .. })),
        "{result:?}"
    );
    let ports = self::ports();
    ports.events.fail_topic_checks(SourceFailure::Transient, 3);
    ports
        .events
        .fail_topic_checks(SourceFailure::TopicRefused, 1);
    let result = spawn(&ports, settings("a")).handle.await.unwrap();
    assert!(
        matches!(
            result,
            Err(SubscriberError::Topic {
                source: Some(_),
                ..
            })
        ),
        "transient failures are retried, a refusal is not: {result:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn when_the_session_is_refused_again_and_again_it_should_give_up_after_five() {
    let ports = ports();
    ports
        .events
        .fail_subscriptions(SourceFailure::AuthRefused, 10);
    let result = spawn(&ports, settings("a")).handle.await.unwrap();
    assert!(
        matches!(result, Err(SubscriberError::Source(ref e)) if e.failure == SourceFailure::AuthRefused),
        "{result:?}"
    );
    assert_eq!(ports.events.subscriptions().len(), 5);
}

#[tokio::test(start_paused = true)]
async fn when_no_further_event_is_ready_the_batch_should_be_sent_at_once_with_every_ready_event() {
    let sends = |ports: &TestPorts| ports.queue.sends.load(std::sync::atomic::Ordering::SeqCst);
    let ports = ports();
    for n in 1..=3 {
        publish(&ports, n);
    }
    let running = spawn(&ports, settings("a"));
    after(Duration::from_secs(1)).await;
    assert_eq!(sends(&ports), 1, "the events ready together go together");
    let published = Instant::now();
    publish(&ports, 4);
    // Paused time moves only when every task waits: yielding keeps it still.
    for _ in 0..1_000 {
        if ports.queue.queue.len() == 4 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        ports.queue.queue.len(),
        4,
        "a lone event is sent without a wait"
    );
    assert_eq!(Instant::now(), published);
    assert_eq!(sends(&ports), 2);
    running.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn when_stopped_with_events_in_hand_it_should_forward_them_and_save_before_returning() {
    let ports = ports();
    let mut settings = settings("a");
    // A partial batch waits this long for more events before it is sent.
    settings.flush_after = Duration::from_secs(3600);
    let running = spawn(&ports, settings);
    after(Duration::from_secs(1)).await;
    publish(&ports, 1);
    let last = publish(&ports, 2);
    after(Duration::from_millis(10)).await;
    assert!(queued_event_ids(&ports).is_empty(), "still in hand");
    let stopped = running.stop().await.unwrap();
    assert_eq!(stopped.saved, Some(last));
    assert_eq!(queued_event_ids(&ports), ["event-1", "event-2"]);
}

#[tokio::test(start_paused = true)]
async fn when_run_twice_with_one_seed_the_reconnect_times_should_be_the_same() {
    async fn reconnect_times() -> Vec<Duration> {
        let ports = ports();
        ports.events.fail_subscriptions(SourceFailure::Transient, 4);
        let started = Instant::now();
        let running = spawn(&ports, settings("a"));
        let mut seen = 0;
        let mut times = Vec::new();
        while times.len() < 5 {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let now = ports.events.subscriptions().len();
            if now > seen {
                seen = now;
                times.push(started.elapsed());
            }
        }
        running.stop().await.unwrap();
        times
    }
    let first = reconnect_times().await;
    assert_eq!(first, reconnect_times().await);
    assert!(first.windows(2).all(|w| w[0] <= w[1]));
}

/// The message of a queued Pub/Sub event carries the decoded, typed Order id.
#[tokio::test(start_paused = true)]
async fn when_forwarded_the_message_should_carry_the_event_ids() {
    let ports = ports();
    let replay = publish(&ports, 7);
    let running = spawn(&ports, settings("a"));
    after(Duration::from_secs(1)).await;
    running.stop().await.unwrap();
    let delivered = ports.queue.queue.receive(10);
    let message = delivered[0].message.as_ref().unwrap();
    assert_eq!(message.order_id, event(7).order_id);
    assert_eq!(
        message.origin,
        MessageOrigin::PubSub {
            event_id: crate::messages::Token::parse("eventId", "event-7").unwrap(),
            replay_id: replay
        }
    );
}
