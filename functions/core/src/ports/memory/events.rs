//! `InMemoryEventSource`: a topic of platform events in memory, with the
//! Pub/Sub API's behaviour the subscriber relies on: replay ids are 8-byte
//! positions; a subscription starts at `LATEST`, `EARLIEST` or just after a
//! retained replay id (anything else is refused as
//! [`SourceFailure::ReplayRefused`]); a quiet stream sends a keepalive
//! carrying the topic's newest replay id every `keepalive_every` (tokio time).
//!
//! Faults are scripted: the next topic checks or subscriptions fail with a
//! given class, open streams break, old events stop being retained, the topic
//! may not be read. Every subscription's starting point is recorded.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use super::lock;
use crate::domain::ReplayId;
use crate::ports::{
    EventSource, EventStream, OrderProvisionRequested, ReceivedEvent, ReplayFrom, SourceError,
    SourceFailure, StreamItem, TopicAccess,
};

/// A scripted failure of the in-memory source.
#[derive(Debug, Clone, thiserror::Error)]
#[error("in-memory event source: {0}")]
pub struct InjectedFault(pub SourceFailure);

/// The payload of an event published as undecodable.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Undecodable(pub String);

/// One published event.
#[derive(Debug, Clone)]
struct Stored {
    event_id: String,
    decoded: Result<OrderProvisionRequested, String>,
    payload: Vec<u8>,
}

#[derive(Debug)]
struct State {
    /// Every event published, position `n` at index `n - 1`.
    log: Vec<Stored>,
    /// Events at positions up to this one are no longer retained.
    forgotten_through: u64,
    can_subscribe: bool,
    topic_failures: VecDeque<SourceFailure>,
    subscribe_failures: VecDeque<SourceFailure>,
    subscribes: Vec<ReplayFrom>,
    /// Bumped by [`InMemoryEventSource::break_streams`]; older streams fail.
    generation: u64,
    broken_with: SourceFailure,
    keepalive_every: Duration,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    changed: Notify,
    open: AtomicUsize,
}

/// A topic in memory (see the module docs). Clones share the topic.
#[derive(Debug, Clone)]
pub struct InMemoryEventSource {
    shared: Arc<Shared>,
}

impl Default for InMemoryEventSource {
    fn default() -> Self {
        Self::new()
    }
}

/// The replay id of position `n` (8 bytes, big-endian).
pub fn replay_id_at(position: u64) -> ReplayId {
    ReplayId::new(position.to_be_bytes().to_vec()).expect("eight bytes are never empty")
}

fn position_of(id: &ReplayId) -> Option<u64> {
    <[u8; 8]>::try_from(id.as_bytes())
        .ok()
        .map(u64::from_be_bytes)
}

impl InMemoryEventSource {
    /// An empty topic that may be subscribed to, with keepalives every 270 s
    /// (the Pub/Sub API's interval).
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    log: Vec::new(),
                    forgotten_through: 0,
                    can_subscribe: true,
                    topic_failures: VecDeque::new(),
                    subscribe_failures: VecDeque::new(),
                    subscribes: Vec::new(),
                    generation: 0,
                    broken_with: SourceFailure::Transient,
                    keepalive_every: Duration::from_secs(270),
                }),
                changed: Notify::new(),
                open: AtomicUsize::new(0),
            }),
        }
    }

    /// Sets how long a stream stays quiet before a keepalive.
    pub fn with_keepalive_every(self, every: Duration) -> Self {
        lock(&self.shared.state).keepalive_every = every;
        self
    }

    fn publish_stored(&self, stored: Stored) -> ReplayId {
        let position = {
            let mut state = lock(&self.shared.state);
            state.log.push(stored);
            state.log.len() as u64
        };
        self.shared.changed.notify_waiters();
        replay_id_at(position)
    }

    /// Publishes `event` with `event_id`; its replay id.
    pub fn publish(&self, event_id: &str, event: OrderProvisionRequested) -> ReplayId {
        self.publish_stored(Stored {
            event_id: event_id.to_owned(),
            decoded: Ok(event),
            payload: event_id.as_bytes().to_vec(),
        })
    }

    /// Publishes an event whose payload does not decode (`why`); its replay id.
    pub fn publish_undecodable(&self, event_id: &str, payload: &[u8], why: &str) -> ReplayId {
        self.publish_stored(Stored {
            event_id: event_id.to_owned(),
            decoded: Err(why.to_owned()),
            payload: payload.to_vec(),
        })
    }

    /// The newest replay id, if anything was published.
    pub fn latest(&self) -> Option<ReplayId> {
        let len = lock(&self.shared.state).log.len() as u64;
        (len > 0).then(|| replay_id_at(len))
    }

    /// Events up to `id` are no longer retained: subscribing after them is refused.
    pub fn forget_through(&self, id: &ReplayId) {
        if let Some(position) = position_of(id) {
            lock(&self.shared.state).forgotten_through = position;
        }
    }

    /// Whether the topic may be subscribed to.
    pub fn set_can_subscribe(&self, can: bool) {
        lock(&self.shared.state).can_subscribe = can;
    }

    /// The next `times` topic checks fail with `failure`.
    pub fn fail_topic_checks(&self, failure: SourceFailure, times: usize) {
        lock(&self.shared.state)
            .topic_failures
            .extend(std::iter::repeat_n(failure, times));
    }

    /// The next `times` subscriptions fail with `failure`.
    pub fn fail_subscriptions(&self, failure: SourceFailure, times: usize) {
        lock(&self.shared.state)
            .subscribe_failures
            .extend(std::iter::repeat_n(failure, times));
    }

    /// Every open stream fails with `failure` at its next read.
    pub fn break_streams(&self, failure: SourceFailure) {
        {
            let mut state = lock(&self.shared.state);
            state.generation += 1;
            state.broken_with = failure;
        }
        self.shared.changed.notify_waiters();
    }

    /// Where every subscription asked to start, in order.
    pub fn subscriptions(&self) -> Vec<ReplayFrom> {
        lock(&self.shared.state).subscribes.clone()
    }

    /// Streams currently open.
    pub fn open_streams(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }
}

impl EventSource for InMemoryEventSource {
    type Stream = InMemoryStream;

    async fn topic(&self, _topic: &str) -> Result<TopicAccess, SourceError> {
        let mut state = lock(&self.shared.state);
        if let Some(failure) = state.topic_failures.pop_front() {
            return Err(SourceError::new(failure, InjectedFault(failure)));
        }
        Ok(TopicAccess {
            can_subscribe: state.can_subscribe,
            schema_id: "in-memory".to_owned(),
        })
    }

    async fn subscribe(
        &self,
        _topic: &str,
        from: &ReplayFrom,
        _batch: u32,
    ) -> Result<InMemoryStream, SourceError> {
        let mut state = lock(&self.shared.state);
        state.subscribes.push(from.clone());
        if let Some(failure) = state.subscribe_failures.pop_front() {
            return Err(SourceError::new(failure, InjectedFault(failure)));
        }
        let published = state.log.len() as u64;
        let next = match from {
            ReplayFrom::Latest => published + 1,
            ReplayFrom::Earliest => state.forgotten_through + 1,
            ReplayFrom::After(id) => match position_of(id) {
                Some(p) if p > state.forgotten_through && p <= published => p + 1,
                _ => {
                    let failure = SourceFailure::ReplayRefused;
                    return Err(SourceError::new(failure, InjectedFault(failure)));
                }
            },
        };
        self.shared.open.fetch_add(1, Ordering::SeqCst);
        Ok(InMemoryStream {
            shared: Arc::clone(&self.shared),
            next,
            generation: state.generation,
            finished: false,
        })
    }
}

/// A subscription of an [`InMemoryEventSource`].
#[derive(Debug)]
pub struct InMemoryStream {
    shared: Arc<Shared>,
    /// The position of the next event to yield.
    next: u64,
    generation: u64,
    finished: bool,
}

impl Drop for InMemoryStream {
    fn drop(&mut self) {
        self.shared.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl InMemoryStream {
    /// The next event if one was published, the failure if the stream was broken.
    fn ready(&mut self) -> Result<Option<StreamItem>, SourceError> {
        let state = lock(&self.shared.state);
        if state.generation != self.generation {
            let failure = state.broken_with;
            return Err(SourceError::new(failure, InjectedFault(failure)));
        }
        let index = usize::try_from(self.next - 1).unwrap_or(usize::MAX);
        let Some(stored) = state.log.get(index).cloned() else {
            return Ok(None);
        };
        drop(state);
        let replay_id = replay_id_at(self.next);
        self.next += 1;
        Ok(Some(StreamItem::Event(ReceivedEvent {
            replay_id: Some(replay_id),
            event_id: stored.event_id,
            schema_id: "in-memory".to_owned(),
            decoded: stored
                .decoded
                .map_err(|why| Box::new(Undecodable(why)) as crate::ports::BoxError),
            raw_payload: stored.payload,
        })))
    }
}

impl EventStream for InMemoryStream {
    async fn next(&mut self) -> Option<Result<StreamItem, SourceError>> {
        if self.finished {
            return None;
        }
        let shared = Arc::clone(&self.shared);
        loop {
            let notified = shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.ready() {
                Ok(Some(item)) => return Some(Ok(item)),
                Err(error) => {
                    self.finished = true;
                    return Some(Err(error));
                }
                Ok(None) => {}
            }
            let keepalive_every = lock(&self.shared.state).keepalive_every;
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep(keepalive_every) => {
                    let len = lock(&self.shared.state).log.len() as u64;
                    let latest = (len > 0).then(|| replay_id_at(len));
                    return Some(Ok(StreamItem::Keepalive { latest }));
                }
            }
        }
    }
}
