//! The provisioner worker: deliveries of the provisioning queue in, each one
//! acknowledged, retried or left for the dead-letter queue out.
//!
//! [`settle`] is the rule, one function for every host: the Lambda's SQS
//! handler (`provisioner::handle_batch`) and [`poll`], portal-local's loop
//! over a [`ProvisioningDeliveries`] queue (SQS or in memory), call it with
//! the deliveries of one receive.
//!
//! Deliveries are attempted one after the other, in the order the queue gave
//! them. A message is done with — [`Settlement::Acknowledge`] — once the use
//! case provisioned it, skipped it or failed it for good (written to
//! Salesforce). A [`ProvisioningOutcome::Retry`] leaves it for redelivery
//! after the visibility timeout ([`Settlement::Retry`]). FIFO: after a retry,
//! every later delivery of the *same group* is handed back unattempted
//! ([`Settlement::Return`]), so no message overtakes an earlier one of its
//! Order; other groups carry on, so one Order that keeps failing never burns
//! the receive count of the messages batched behind it. When the invocation
//! runs out of time ([`RetryReason::DeadlineTooClose`]) or a stop is
//! requested, everything not yet attempted is returned. A body that is not a
//! provisioning message can never succeed: [`Settlement::DeadLetter`] leaves it
//! for the queue's redrive policy (after `maxReceiveCount` receives it waits
//! in the dead-letter queue), holding its group back like a retry; with no
//! group known at all, everything after it is returned.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tracing::Instrument as _;

use super::Shutdown;
use crate::diagnostics::error_chain;
use crate::messages::ProvisioningMessage;
use crate::ports::{BillingGateway, OrderLedger};
use crate::ports::{Clock, Delivery, LeaseOwner, ProvisioningDeliveries, ProvisioningRecords};
use crate::provisioning::{Provisioner, ProvisioningOutcome, RetryReason};

/// The provisioning use case as the worker sees it: one message, one outcome.
pub trait Provision: Send + Sync {
    /// Provisions the message's Order as `owner` (unique to this delivery),
    /// within an invocation that ends at `deadline`.
    fn provision(
        &self,
        message: &ProvisioningMessage,
        owner: &LeaseOwner,
        deadline: DateTime<Utc>,
    ) -> impl Future<Output = ProvisioningOutcome> + Send;
}

impl<P: Provision> Provision for std::sync::Arc<P> {
    fn provision(
        &self,
        message: &ProvisioningMessage,
        owner: &LeaseOwner,
        deadline: DateTime<Utc>,
    ) -> impl Future<Output = ProvisioningOutcome> + Send {
        (**self).provision(message, owner, deadline)
    }
}

impl<L, B, R, C> Provision for Provisioner<L, B, R, C>
where
    L: OrderLedger,
    B: BillingGateway,
    R: ProvisioningRecords,
    C: Clock,
{
    fn provision(
        &self,
        message: &ProvisioningMessage,
        owner: &LeaseOwner,
        deadline: DateTime<Utc>,
    ) -> impl Future<Output = ProvisioningOutcome> + Send {
        Provisioner::provision(self, message, owner, deadline)
    }
}

/// The invocation a batch is processed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// Unique per invocation (the Lambda request id): part of every lease owner.
    pub request_id: String,
    /// When the invocation must be over (the Lambda's deadline).
    pub deadline: DateTime<Utc>,
}

impl Invocation {
    /// The lease owner of `message_id`'s delivery in this invocation.
    pub fn owner(&self, message_id: &str) -> LeaseOwner {
        let text: String = format!("{}/{message_id}", self.request_id)
            .chars()
            .filter(char::is_ascii_graphic)
            .take(256)
            .collect();
        LeaseOwner::new(text)
            .or_else(|_| LeaseOwner::new("delivery"))
            .expect("a fixed word is a valid lease owner")
    }
}

/// What the queue must do with one delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// Done with: delete it.
    Acknowledge,
    /// Attempted and must be tried again: leave it in flight until its
    /// visibility timeout.
    Retry,
    /// Not attempted: hand it back (visible again now where the queue allows).
    Return,
    /// Can never succeed: leave it for the redrive policy's dead-letter queue.
    DeadLetter,
}

impl Settlement {
    /// Whether the delivery is done with.
    pub fn is_acknowledged(self) -> bool {
        self == Self::Acknowledge
    }
}

/// Settles the deliveries of one receive, in order (see the module docs).
/// One settlement per delivery, in the same order.
pub async fn settle<P: Provision>(
    provisioner: &P,
    deliveries: &[Delivery],
    invocation: &Invocation,
    shutdown: &Shutdown,
) -> Vec<Settlement> {
    let mut held: HashSet<&str> = HashSet::new();
    let mut stopped = false;
    let mut settlements = Vec::with_capacity(deliveries.len());
    for delivery in deliveries {
        let group = delivery.group();
        if stopped || shutdown.is_requested() || group.is_some_and(|g| held.contains(g)) {
            settlements.push(Settlement::Return);
            continue;
        }
        let span = tracing::info_span!(
            "message",
            message_id = %delivery.message_id,
            order_id = tracing::field::Empty,
            correlation_id = tracing::field::Empty
        );
        let settlement = attempt(provisioner, delivery, invocation)
            .instrument(span)
            .await;
        match (&settlement, group) {
            (Ok(Settlement::Acknowledge), _) => {}
            (Err(RetryReason::DeadlineTooClose), _) | (_, None) => stopped = true,
            (_, Some(group)) => {
                held.insert(group);
            }
        }
        settlements.push(settlement.unwrap_or(Settlement::Retry));
    }
    let unsettled = settlements.iter().filter(|s| !s.is_acknowledged()).count();
    if unsettled > 0 {
        tracing::warn!(
            deliveries = deliveries.len(),
            unsettled,
            "messages left for redelivery"
        );
    }
    settlements
}

/// One delivery: `Ok` with how it is settled, or `Err` with why it must be retried.
async fn attempt<P: Provision>(
    provisioner: &P,
    delivery: &Delivery,
    invocation: &Invocation,
) -> Result<Settlement, RetryReason> {
    let message = match &delivery.message {
        Ok(message) => message,
        Err(error) => {
            tracing::error!(
                error = %error_chain(error),
                "not a provisioning message; leaving it to the dead-letter queue"
            );
            return Ok(Settlement::DeadLetter);
        }
    };
    let span = tracing::Span::current();
    span.record("order_id", message.order_id.as_str());
    span.record("correlation_id", message.correlation_id.as_str());
    let owner = invocation.owner(&delivery.message_id);
    // Boxed: the use case's future is deep (HTTP clients, SDK calls) and
    // would otherwise be laid out inline in every caller's future.
    match Box::pin(provisioner.provision(message, &owner, invocation.deadline)).await {
        ProvisioningOutcome::Retry(reason) => Err(reason),
        _ => Ok(Settlement::Acknowledge),
    }
}

/// How [`poll`] takes messages off the queue.
#[derive(Clone, Debug)]
pub struct PollSettings {
    /// Messages per receive (the Lambda trigger's batch size).
    pub batch: usize,
    /// How long one receive's messages may take (the Lambda's timeout).
    pub invocation_time: Duration,
    /// The wait before asking an empty or failing queue again.
    pub idle_wait: Duration,
    /// Prefix of every invocation's request id (`<prefix>-<n>`): unique per process.
    pub name: String,
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            batch: 5,
            invocation_time: Duration::from_secs(60),
            idle_wait: Duration::from_millis(100),
            name: "worker".to_owned(),
        }
    }
}

/// What [`poll`] did since it started.
#[derive(Debug, Default)]
pub struct PollCounters {
    settled: AtomicU64,
    retried: AtomicU64,
}

impl PollCounters {
    /// Deliveries acknowledged (provisioned, skipped or failed for good).
    pub fn settled(&self) -> u64 {
        self.settled.load(Ordering::Relaxed)
    }

    /// Deliveries attempted and left for redelivery.
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }
}

/// The stand-in for the Lambda's SQS trigger: receives from `queue` and
/// hands each receive to [`settle_received`] as one invocation (its own
/// request id, a deadline `invocation_time` away), until `shutdown`. A
/// receive in hand is finished first.
pub async fn poll<P, Q, C>(
    provisioner: &P,
    queue: &Q,
    clock: &C,
    settings: &PollSettings,
    counters: &PollCounters,
    shutdown: &Shutdown,
) where
    P: Provision,
    Q: ProvisioningDeliveries,
    C: Clock,
{
    tracing::info!("the provisioner worker is running");
    let invocation_time = TimeDelta::from_std(settings.invocation_time).unwrap_or(TimeDelta::MAX);
    let mut invocations = 0_u64;
    while !shutdown.is_requested() {
        let received = tokio::select! {
            biased;
            () = shutdown.requested() => break,
            received = queue.receive(settings.batch) => received,
        };
        let deliveries = match received {
            Ok(deliveries) if !deliveries.is_empty() => deliveries,
            Ok(_) => {
                pause(settings.idle_wait, shutdown).await;
                continue;
            }
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "receiving from the provisioning queue failed");
                pause(settings.idle_wait, shutdown).await;
                continue;
            }
        };
        invocations += 1;
        let invocation = Invocation {
            request_id: format!("{}-{invocations}", settings.name),
            deadline: clock.now() + invocation_time,
        };
        settle_received(
            provisioner,
            queue,
            &deliveries,
            &invocation,
            counters,
            shutdown,
        )
        .await;
    }
    tracing::info!("the provisioner worker stopped");
}

/// One receive's deliveries: [`settle`], then the queue told (acknowledge,
/// release the returned ones, leave the rest in flight).
pub async fn settle_received<P, Q>(
    provisioner: &P,
    queue: &Q,
    deliveries: &[Delivery],
    invocation: &Invocation,
    counters: &PollCounters,
    shutdown: &Shutdown,
) where
    P: Provision,
    Q: ProvisioningDeliveries,
{
    let settlements = settle(provisioner, deliveries, invocation, shutdown).await;
    for (delivery, settlement) in deliveries.iter().zip(settlements) {
        let told = match settlement {
            Settlement::Acknowledge => {
                counters.settled.fetch_add(1, Ordering::Relaxed);
                queue.acknowledge(&delivery.receipt).await
            }
            Settlement::Return => queue.release(&delivery.receipt).await,
            Settlement::Retry | Settlement::DeadLetter => {
                counters.retried.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        };
        if let Err(error) = told {
            // The visibility timeout lapsed first: the message comes
            // again, and the use case's records make that harmless.
            tracing::warn!(
                message_id = %delivery.message_id,
                error = %error_chain(&error),
                "the delivery could not be settled with the queue"
            );
        }
    }
}

/// Sleeps `wait` unless the stop comes first.
async fn pause(wait: Duration, shutdown: &Shutdown) {
    tokio::select! {
        () = shutdown.requested() => {}
        () = tokio::time::sleep(wait) => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, VecDeque};
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::domain::OrderId;
    use crate::messages::{MessageOrigin, Token};
    use crate::ports::memory::{InMemoryQueue, QueueConfig};
    use crate::ports::{ProvisioningQueue as _, ReceiptHandle, TokioClock, WhmcsOrder};
    use crate::provisioning::SkipReason;
    use crate::workers::shutdown_channel;

    /// Answers scripted outcomes per Order (then `Provisioned`), recording each call.
    #[derive(Debug, Default)]
    struct Scripted {
        outcomes: Mutex<HashMap<String, VecDeque<ProvisioningOutcome>>>,
        calls: Mutex<Vec<(String, String)>>,
    }

    impl Scripted {
        fn answer(&self, order: &str, outcome: ProvisioningOutcome) {
            self.outcomes
                .lock()
                .unwrap()
                .entry(order_id(order).as_str().to_owned())
                .or_default()
                .push_back(outcome);
        }

        /// The Orders attempted, in order.
        fn orders(&self) -> Vec<String> {
            self.calls
                .lock()
                .unwrap()
                .iter()
                .map(|(o, _)| o[3..].trim_start_matches('0')[..1].to_owned())
                .collect()
        }

        fn owners(&self) -> Vec<String> {
            self.calls
                .lock()
                .unwrap()
                .iter()
                .map(|(_, o)| o.clone())
                .collect()
        }
    }

    impl Provision for Scripted {
        async fn provision(
            &self,
            message: &ProvisioningMessage,
            owner: &LeaseOwner,
            _deadline: DateTime<Utc>,
        ) -> ProvisioningOutcome {
            let order = message.order_id.as_str().to_owned();
            self.calls
                .lock()
                .unwrap()
                .push((order.clone(), owner.as_str().to_owned()));
            self.outcomes
                .lock()
                .unwrap()
                .get_mut(&order)
                .and_then(VecDeque::pop_front)
                .unwrap_or(ProvisioningOutcome::Provisioned(WhmcsOrder {
                    order_id: 1,
                    service_ids: vec![1],
                }))
        }
    }

    /// Order `n` (a digit from 1 to 9).
    fn order_id(n: &str) -> OrderId {
        OrderId::parse(&format!("801{n:0>12}")).unwrap()
    }

    fn message(order: &str, key: &str) -> ProvisioningMessage {
        ProvisioningMessage {
            order_id: order_id(order),
            idempotency_key: Token::parse("idempotencyKey", key).unwrap(),
            correlation_id: Token::parse("correlationId", key).unwrap(),
            requested_by: "reconciler".into(),
            origin: MessageOrigin::Reconciler,
        }
    }

    /// A delivery of `order`'s message `key`, as the queue reports it.
    fn delivery(order: &str, key: &str) -> Delivery {
        let message = message(order, key);
        Delivery::from_body(
            key,
            ReceiptHandle::new(format!("r-{key}")),
            Some(message.group_id().to_owned()),
            1,
            &message.to_json(),
        )
    }

    fn invocation() -> Invocation {
        Invocation {
            request_id: "req-1".into(),
            deadline: DateTime::from_timestamp(1_714_557_660, 0).unwrap(),
        }
    }

    fn retry(reason: RetryReason) -> ProvisioningOutcome {
        ProvisioningOutcome::Retry(reason)
    }

    use Settlement::{Acknowledge, DeadLetter, Retry, Return};

    #[tokio::test]
    async fn when_a_message_must_be_retried_its_group_should_be_held_back_and_others_carry_on() {
        let p = Scripted::default();
        p.answer("1", retry(RetryReason::Whmcs));
        p.answer(
            "2",
            ProvisioningOutcome::Skipped(SkipReason::AlreadyProvisioned),
        );
        let deliveries = [
            delivery("1", "a1"),
            delivery("2", "b1"),
            delivery("1", "a2"),
            delivery("3", "c1"),
        ];
        let settled = settle(&p, &deliveries, &invocation(), &Shutdown::never()).await;
        assert_eq!(settled, [Retry, Acknowledge, Return, Acknowledge]);
        assert_eq!(p.orders(), ["1", "2", "3"], "a2 is never attempted");
        assert_eq!(p.owners(), ["req-1/a1", "req-1/b1", "req-1/c1"]);
    }

    #[tokio::test]
    async fn when_the_invocation_runs_out_of_time_everything_after_should_be_returned() {
        let p = Scripted::default();
        p.answer("2", retry(RetryReason::DeadlineTooClose));
        let deliveries = [
            delivery("1", "a1"),
            delivery("2", "b1"),
            delivery("3", "c1"),
        ];
        let settled = settle(&p, &deliveries, &invocation(), &Shutdown::never()).await;
        assert_eq!(settled, [Acknowledge, Retry, Return]);
        assert_eq!(p.orders(), ["1", "2"]);
    }

    #[tokio::test]
    async fn when_a_body_is_not_a_message_it_should_be_dead_lettered_holding_its_group() {
        let p = Scripted::default();
        let malformed = |group: Option<&str>| {
            Delivery::from_body(
                "bad",
                ReceiptHandle::new("r-bad"),
                group.map(str::to_owned),
                1,
                "not json at all",
            )
        };
        let group_1 = order_id("1").as_str().to_owned();
        let deliveries = [
            malformed(Some(&group_1)),
            delivery("1", "a1"),
            delivery("2", "b1"),
        ];
        let settled = settle(&p, &deliveries, &invocation(), &Shutdown::never()).await;
        assert_eq!(settled, [DeadLetter, Return, Acknowledge]);
        let deliveries = [malformed(None), delivery("2", "b2")];
        let settled = settle(&p, &deliveries, &invocation(), &Shutdown::never()).await;
        assert_eq!(
            settled,
            [DeadLetter, Return],
            "no group known: nothing may overtake it"
        );
    }

    #[tokio::test]
    async fn when_the_stop_is_requested_nothing_more_should_be_attempted() {
        let p = Scripted::default();
        let (trigger, shutdown) = shutdown_channel();
        trigger.trigger();
        let settled = settle(&p, &[delivery("1", "a1")], &invocation(), &shutdown).await;
        assert_eq!(settled, [Return]);
        assert!(p.orders().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn when_polling_the_queue_should_acknowledge_leave_retries_in_flight_and_return_the_rest()
    {
        let clock = TokioClock::starting_at(DateTime::from_timestamp(1_714_557_600, 0).unwrap());
        let queue = Arc::new(InMemoryQueue::new(Arc::new(clock), QueueConfig::default()));
        queue
            .send(&[message("1", "a1"), message("2", "b1"), message("1", "a2")])
            .await
            .unwrap();
        let p = Scripted::default();
        p.answer("1", retry(RetryReason::Whmcs));
        let counters = PollCounters::default();
        let (trigger, shutdown) = shutdown_channel();
        let settings = PollSettings {
            name: "local".into(),
            ..PollSettings::default()
        };
        let worker = poll(&p, &*queue, &clock, &settings, &counters, &shutdown);
        let check = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            // a1 in flight (retried), a2 behind it, b1 done.
            assert_eq!(p.orders(), ["1", "2"]);
            assert_eq!(queue.len(), 2);
            assert_eq!((counters.settled(), counters.retried()), (1, 1));
            // After the visibility timeout a1 comes again, then a2.
            tokio::time::sleep(Duration::from_secs(31)).await;
            trigger.trigger();
        };
        tokio::join!(worker, check);
        assert_eq!(p.orders(), ["1", "2", "1", "1"]);
        assert!(queue.is_empty());
        let owners = p.owners();
        assert_eq!(owners[0], "local-1/m-1");
        assert_ne!(owners[0], owners[2], "one owner per delivery");
    }
}
