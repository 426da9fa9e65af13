//! `InMemoryQueue`: a FIFO queue with the SQS semantics the functions rely
//! on: message groups delivered in order with one group locked while a
//! message of it is in flight, 5-minute deduplication, a visibility timeout,
//! and a dead-letter list after too many receives. Like SQS it keeps message
//! bodies (text), so a body that is not a provisioning message can sit in it
//! too ([`InMemoryQueue::send_body`]). It implements [`ProvisioningQueue`]
//! for senders and [`ProvisioningDeliveries`] for the provisioner worker;
//! tests also use its synchronous `receive`/`ack`/`nack`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use super::lock;
use crate::messages::ProvisioningMessage;
use crate::ports::{
    Clock, Delivery, ProvisioningDeliveries, ProvisioningQueue, QueueError, ReceiptHandle,
    SendOutcome,
};

/// How the queue behaves.
#[derive(Debug, Clone, Copy)]
pub struct QueueConfig {
    /// How long a received message stays invisible before it is delivered again.
    pub visibility_timeout: TimeDelta,
    /// Receives after which the next receive moves the message to the dead letters
    /// (SQS `maxReceiveCount`).
    pub max_receives: u32,
    /// How long a deduplication id drops repeats (SQS: 5 minutes).
    pub dedup_window: TimeDelta,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            visibility_timeout: TimeDelta::seconds(30),
            max_receives: 5,
            dedup_window: TimeDelta::minutes(5),
        }
    }
}

/// The receipt is not the current delivery of a message in the queue (the
/// message was acknowledged, or delivered again after its visibility timeout).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the receipt handle is not the current delivery of a queued message")]
pub struct UnknownReceipt;

#[derive(Debug)]
struct Queued {
    message_id: String,
    group: String,
    body: String,
    receive_count: u32,
    invisible_until: Option<DateTime<Utc>>,
    receipt: Option<ReceiptHandle>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    messages: VecDeque<Queued>,
    dedup: HashMap<String, DateTime<Utc>>,
    dead_letters: Vec<String>,
}

/// A FIFO provisioning queue in memory (see the module docs).
pub struct InMemoryQueue {
    clock: Arc<dyn Clock>,
    config: QueueConfig,
    state: Mutex<State>,
}

impl fmt::Debug for InMemoryQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryQueue")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl InMemoryQueue {
    /// An empty queue reading time from `clock`.
    pub fn new(clock: Arc<dyn Clock>, config: QueueConfig) -> Self {
        Self {
            clock,
            config,
            state: Mutex::new(State::default()),
        }
    }

    /// Enqueues `body` in `group` unless `dedup_id` was seen within the window
    /// (SQS `SendMessage` on a FIFO queue, whatever the body holds).
    pub fn send_body(&self, group: &str, dedup_id: &str, body: &str) {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        self.enqueue(&mut state, group, dedup_id, body, now);
    }

    fn enqueue(
        &self,
        state: &mut State,
        group: &str,
        dedup_id: &str,
        body: &str,
        now: DateTime<Utc>,
    ) {
        let window = self.config.dedup_window;
        state.dedup.retain(|_, seen| *seen + window > now);
        if state.dedup.contains_key(dedup_id) {
            return;
        }
        state.dedup.insert(dedup_id.to_owned(), now);
        state.next_id += 1;
        let message_id = format!("m-{}", state.next_id);
        state.messages.push_back(Queued {
            message_id,
            group: group.to_owned(),
            body: body.to_owned(),
            receive_count: 0,
            invisible_until: None,
            receipt: None,
        });
    }

    /// Up to `max` visible messages, oldest first. A group with a message in
    /// flight from an earlier receive delivers nothing until that message is
    /// acknowledged or becomes visible again; several messages of one group
    /// may come in the same call, in order. A message already delivered
    /// `max_receives` times goes to the dead letters instead.
    pub fn receive(&self, max: usize) -> Vec<Delivery> {
        let now = self.clock.now();
        let mut guard = lock(&self.state);
        let state = &mut *guard;
        let mut locked: HashSet<String> = HashSet::new();
        let mut deliveries = Vec::new();
        let mut dead = Vec::new();
        let timeout = self.config.visibility_timeout;
        let max_receives = self.config.max_receives;
        let next_id = &mut state.next_id;
        for (index, queued) in state.messages.iter_mut().enumerate() {
            if deliveries.len() >= max {
                break;
            }
            if locked.contains(&queued.group) {
                continue;
            }
            if queued.invisible_until.is_some_and(|until| until > now) {
                locked.insert(queued.group.clone());
                continue;
            }
            if queued.receive_count >= max_receives {
                dead.push(index);
                continue;
            }
            *next_id += 1;
            let receipt = ReceiptHandle::new(format!("r-{next_id}"));
            queued.receive_count += 1;
            queued.invisible_until = Some(now + timeout);
            queued.receipt = Some(receipt.clone());
            deliveries.push(Delivery::from_body(
                queued.message_id.clone(),
                receipt,
                Some(queued.group.clone()),
                queued.receive_count,
                &queued.body,
            ));
        }
        for index in dead.into_iter().rev() {
            if let Some(queued) = state.messages.remove(index) {
                state.dead_letters.push(queued.body);
            }
        }
        deliveries
    }

    /// Deletes the delivered message.
    pub fn ack(&self, receipt: &ReceiptHandle) -> Result<(), UnknownReceipt> {
        let mut state = lock(&self.state);
        let index = Self::current(&state, receipt, self.clock.now())?;
        state.messages.remove(index);
        Ok(())
    }

    /// Makes the delivered message visible again at once (a failed attempt).
    pub fn nack(&self, receipt: &ReceiptHandle) -> Result<(), UnknownReceipt> {
        let mut state = lock(&self.state);
        let index = Self::current(&state, receipt, self.clock.now())?;
        if let Some(queued) = state.messages.get_mut(index) {
            queued.invisible_until = None;
            queued.receipt = None;
        }
        Ok(())
    }

    /// The index of the in-flight message `receipt` names.
    fn current(
        state: &State,
        receipt: &ReceiptHandle,
        now: DateTime<Utc>,
    ) -> Result<usize, UnknownReceipt> {
        state
            .messages
            .iter()
            .position(|q| {
                q.receipt.as_ref() == Some(receipt)
                    && q.invisible_until.is_some_and(|until| until > now)
            })
            .ok_or(UnknownReceipt)
    }

    /// Whether the message `message_id` is still in the queue (visible or in flight).
    pub fn holds(&self, message_id: &str) -> bool {
        lock(&self.state)
            .messages
            .iter()
            .any(|q| q.message_id == message_id)
    }

    /// Bodies of the messages moved to the dead letters, oldest first.
    pub fn dead_letters(&self) -> Vec<String> {
        lock(&self.state).dead_letters.clone()
    }

    /// Messages in the queue (visible or in flight), not counting dead letters.
    pub fn len(&self) -> usize {
        lock(&self.state).messages.len()
    }

    /// Whether the queue holds no message.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ProvisioningQueue for InMemoryQueue {
    async fn send(&self, messages: &[ProvisioningMessage]) -> Result<Vec<SendOutcome>, QueueError> {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        Ok(messages
            .iter()
            .map(|message| {
                let body = message.to_json();
                self.enqueue(
                    &mut state,
                    message.group_id(),
                    message.dedup_id(),
                    &body,
                    now,
                );
                SendOutcome::Sent
            })
            .collect())
    }
}

impl ProvisioningDeliveries for InMemoryQueue {
    async fn receive(&self, max: usize) -> Result<Vec<Delivery>, QueueError> {
        Ok(InMemoryQueue::receive(self, max))
    }

    async fn acknowledge(&self, receipt: &ReceiptHandle) -> Result<(), QueueError> {
        self.ack(receipt)
            .map_err(|e| QueueError::Permanent(Box::new(e)))
    }

    async fn release(&self, receipt: &ReceiptHandle) -> Result<(), QueueError> {
        self.nack(receipt)
            .map_err(|e| QueueError::Permanent(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderId;
    use crate::messages::Token;
    use crate::ports::TestClock;
    use crate::ports::memory::InMemoryQueue;

    fn message(order: &str, key: &str) -> ProvisioningMessage {
        ProvisioningMessage {
            order_id: OrderId::parse(order).unwrap(),
            idempotency_key: Token::parse("idempotencyKey", key).unwrap(),
            correlation_id: Token::parse("correlationId", "c").unwrap(),
            requested_by: "reconciler".into(),
            origin: crate::messages::MessageOrigin::Reconciler,
        }
    }

    fn queue() -> (TestClock, InMemoryQueue) {
        let clock = TestClock::starting_now();
        let queue = InMemoryQueue::new(Arc::new(clock.clone()), QueueConfig::default());
        (clock, queue)
    }

    #[tokio::test]
    async fn when_a_group_has_a_message_in_flight_should_hold_back_the_rest_of_the_group() {
        let (_clock, queue) = queue();
        let a = "801000000000001";
        let b = "801000000000002";
        queue
            .send(&[message(a, "a1"), message(a, "a2"), message(b, "b1")])
            .await
            .unwrap();
        let first = queue.receive(1);
        assert_eq!(
            first[0].message.as_ref().unwrap().idempotency_key.as_str(),
            "a1"
        );
        let next = queue.receive(10);
        let keys: Vec<_> = next
            .iter()
            .map(|d| d.message.as_ref().unwrap().idempotency_key.as_str())
            .collect();
        assert_eq!(keys, ["b1"]);
        queue.ack(&first[0].receipt).unwrap();
        let after = queue.receive(10);
        assert_eq!(
            after[0].message.as_ref().unwrap().idempotency_key.as_str(),
            "a2"
        );
    }

    #[tokio::test]
    async fn when_the_visibility_timeout_passes_should_deliver_again_and_dead_letter_after_max() {
        let (clock, queue) = queue();
        queue
            .send(&[message("801000000000001", "k")])
            .await
            .unwrap();
        for attempt in 1..=5 {
            let got = queue.receive(10);
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].receive_count, attempt);
            assert!(queue.receive(10).is_empty(), "invisible while in flight");
            clock.advance(TimeDelta::seconds(31));
            assert_eq!(queue.ack(&got[0].receipt), Err(UnknownReceipt));
        }
        assert!(queue.receive(10).is_empty());
        assert_eq!(queue.dead_letters().len(), 1);
        assert!(queue.is_empty());
    }

    #[tokio::test]
    async fn when_a_dedup_id_repeats_within_five_minutes_should_drop_it() {
        let (clock, queue) = queue();
        let m = message("801000000000001", "k");
        queue.send(&[m.clone(), m.clone()]).await.unwrap();
        assert_eq!(queue.len(), 1);
        clock.advance(TimeDelta::minutes(5));
        queue.send(std::slice::from_ref(&m)).await.unwrap();
        assert_eq!(queue.len(), 2);
    }

    #[tokio::test]
    async fn when_nacked_should_be_delivered_again_at_once() {
        let (_clock, queue) = queue();
        queue
            .send(&[message("801000000000001", "k")])
            .await
            .unwrap();
        let got = queue.receive(1);
        queue.nack(&got[0].receipt).unwrap();
        let again = queue.receive(1);
        assert_eq!(again[0].message_id, got[0].message_id);
        assert_eq!(again[0].receive_count, 2);
    }
}
