//! [`ChaosQueue`]: the in-memory FIFO provisioning queue (SQS semantics) with
//! the delivery faults the campaign injects — messages enqueued twice,
//! visible only later, handed over in another order, or made visible again
//! while a worker holds them (its visibility timeout lapsing) — armed by
//! count and drawn from the seed's generator. It also notes every Pub/Sub
//! event the queue accepted, for the replay audit.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use portal_core::messages::{MessageOrigin, ProvisioningMessage};
use portal_core::ports::memory::InMemoryQueue;
use portal_core::ports::{
    Delivery, ProvisioningDeliveries, ProvisioningQueue, QueueError, ReceiptHandle, SendOutcome,
};
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use tokio::task::JoinHandle;

use super::audit::Accepted;
use super::hops::Hops;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug)]
struct Armed {
    duplicate: u32,
    delay: u32,
    delay_by: Duration,
    reorder: u32,
    expire: u32,
    rng: StdRng,
    /// Sends held back by a delay, still to be enqueued.
    held: Vec<JoinHandle<()>>,
    duplicated: u32,
    delayed: u32,
    reordered: u32,
    expired: u32,
}

/// What the faults did, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChaosCounts {
    /// Messages enqueued twice.
    pub duplicated: u32,
    /// Messages held back.
    pub delayed: u32,
    /// Receives handed over shuffled.
    pub reordered: u32,
    /// Deliveries made visible again while in hand.
    pub expired: u32,
}

/// The provisioning queue with delivery faults (see the module docs).
#[derive(Debug)]
pub struct ChaosQueue {
    inner: Arc<InMemoryQueue>,
    accepted: Arc<Accepted>,
    hops: Arc<Hops>,
    armed: Mutex<Armed>,
    /// How long an empty receive waits for a send (long polling).
    receive_wait: Duration,
    sent: tokio::sync::Notify,
}

impl Drop for ChaosQueue {
    fn drop(&mut self) {
        for task in &lock(&self.armed).held {
            task.abort();
        }
    }
}

impl ChaosQueue {
    /// Over `inner`, noting accepted events into `accepted` and each send
    /// and receive into `hops`, shuffling with a generator seeded from `seed`.
    pub fn new(
        inner: Arc<InMemoryQueue>,
        accepted: Arc<Accepted>,
        hops: Arc<Hops>,
        seed: u64,
    ) -> Self {
        Self {
            inner,
            accepted,
            hops,
            receive_wait: Duration::ZERO,
            sent: tokio::sync::Notify::new(),
            armed: Mutex::new(Armed {
                duplicate: 0,
                delay: 0,
                delay_by: Duration::ZERO,
                reorder: 0,
                expire: 0,
                rng: StdRng::seed_from_u64(seed),
                held: Vec::new(),
                duplicated: 0,
                delayed: 0,
                reordered: 0,
                expired: 0,
            }),
        }
    }

    /// A receive from an empty queue waits up to `wait` for a send (SQS
    /// long polling) instead of answering at once.
    #[must_use]
    pub fn with_receive_wait(mut self, wait: Duration) -> Self {
        self.receive_wait = wait;
        self
    }

    /// The queue underneath.
    pub fn inner(&self) -> &Arc<InMemoryQueue> {
        &self.inner
    }

    /// The next `n` messages sent are enqueued twice.
    pub fn duplicate(&self, n: u32) {
        lock(&self.armed).duplicate += n;
    }

    /// The next `n` messages sent become visible `by` later.
    pub fn delay(&self, n: u32, by: Duration) {
        let mut armed = lock(&self.armed);
        armed.delay += n;
        armed.delay_by = by;
    }

    /// The next `n` receives hand their deliveries over shuffled.
    pub fn reorder(&self, n: u32) {
        lock(&self.armed).reorder += n;
    }

    /// The next `n` deliveries become visible again while in hand.
    pub fn expire_visibility(&self, n: u32) {
        lock(&self.armed).expire += n;
    }

    /// Disarms every fault (messages already held back still arrive).
    pub fn clear(&self) {
        let mut armed = lock(&self.armed);
        armed.duplicate = 0;
        armed.delay = 0;
        armed.reorder = 0;
        armed.expire = 0;
    }

    /// Whether a delayed message is still held back.
    pub fn holding(&self) -> bool {
        lock(&self.armed).held.iter().any(|t| !t.is_finished())
    }

    /// What the faults did so far.
    pub fn counts(&self) -> ChaosCounts {
        let armed = lock(&self.armed);
        ChaosCounts {
            duplicated: armed.duplicated,
            delayed: armed.delayed,
            reordered: armed.reordered,
            expired: armed.expired,
        }
    }
}

impl ProvisioningQueue for ChaosQueue {
    async fn send(&self, messages: &[ProvisioningMessage]) -> Result<Vec<SendOutcome>, QueueError> {
        let mut outcomes = Vec::with_capacity(messages.len());
        for message in messages {
            let (duplicate, delay) = {
                let mut armed = lock(&self.armed);
                let duplicate = armed.duplicate > 0;
                if duplicate {
                    armed.duplicate -= 1;
                    armed.duplicated += 1;
                }
                let delay = (armed.delay > 0).then_some(armed.delay_by);
                if delay.is_some() {
                    armed.delay -= 1;
                    armed.delayed += 1;
                }
                (duplicate, delay)
            };
            self.hops.note_queued(message.order_id.as_str());
            let body = message.to_json();
            let group = message.group_id().to_owned();
            let dedup = message.dedup_id().to_owned();
            match delay {
                Some(by) => {
                    let inner = Arc::clone(&self.inner);
                    let task = tokio::spawn(async move {
                        tokio::time::sleep(by).await;
                        inner.send_body(&group, &dedup, &body);
                        if duplicate {
                            inner.send_body(&group, &format!("{dedup}#again"), &body);
                        }
                    });
                    lock(&self.armed).held.push(task);
                }
                None => {
                    self.inner.send_body(&group, &dedup, &body);
                    if duplicate {
                        // A second copy, as a second producer (or SQS's
                        // at-least-once delivery) would bring it.
                        self.inner
                            .send_body(&group, &format!("{dedup}#again"), &body);
                    }
                }
            }
            if let MessageOrigin::PubSub { event_id, .. } = &message.origin {
                self.accepted.insert(event_id.as_str());
            }
            outcomes.push(SendOutcome::Sent);
        }
        self.sent.notify_waiters();
        Ok(outcomes)
    }
}

impl ProvisioningDeliveries for ChaosQueue {
    async fn receive(&self, max: usize) -> Result<Vec<Delivery>, QueueError> {
        // Registered before the queue is read, so no send in between is missed.
        let sent = self.sent.notified();
        let mut deliveries = InMemoryQueue::receive(&self.inner, max);
        if deliveries.is_empty() && !self.receive_wait.is_zero() {
            // A message made visible by a delay or a timeout, not a send,
            // is seen at the next receive, as a long poll would at the latest.
            let _ = tokio::time::timeout(self.receive_wait, sent).await;
            deliveries = InMemoryQueue::receive(&self.inner, max);
        }
        if deliveries.is_empty() {
            return Ok(deliveries);
        }
        for delivery in &deliveries {
            if let Ok(message) = &delivery.message {
                self.hops.note_received(message.order_id.as_str());
            }
        }
        let mut armed = lock(&self.armed);
        if armed.reorder > 0 && deliveries.len() > 1 {
            armed.reorder -= 1;
            armed.reordered += 1;
            let Armed { rng, .. } = &mut *armed;
            deliveries.shuffle(rng);
        }
        if armed.expire > 0 {
            armed.expire -= 1;
            armed.expired += 1;
            // Visible again at once: another worker may take it while this
            // one works on it, and this one's receipt is no longer current.
            let _ = self.inner.nack(&deliveries[0].receipt);
        }
        Ok(deliveries)
    }

    async fn acknowledge(&self, receipt: &ReceiptHandle) -> Result<(), QueueError> {
        self.inner.acknowledge(receipt).await
    }

    async fn release(&self, receipt: &ReceiptHandle) -> Result<(), QueueError> {
        self.inner.release(receipt).await
    }
}
