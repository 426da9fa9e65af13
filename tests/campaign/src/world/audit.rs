//! Watching the subscriber's promise as it is kept or broken: every event the
//! org published ([`EventLog`]), every event the queue or the dead-letter
//! destination accepted ([`Accepted`]), and a replay store that checks, at
//! each save, that no event at or before the saved position is missing from
//! both — unless a gap the subscriber recorded covers it
//! ([`AuditedReplayStore`]).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};
use portal_core::domain::ReplayId;
use portal_core::ports::memory::{InMemoryDeadLetters, InMemoryReplayStore};
use portal_core::ports::{
    DeadLetter, DeadLetters, Gap, GapId, GapSweeps, QueueError, ReplayStore, StoreError,
    SweepCursor, UnsweptGap,
};
use salesforce_emulator::{EventBus, PublishedEvent};
use tokio::task::JoinHandle;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every event the org published, recorded from its bus as it happens (the
/// bus itself forgets events past their retention).
#[derive(Debug)]
pub struct EventLog {
    events: Arc<Mutex<Vec<PublishedEvent>>>,
    bus: EventBus,
    task: JoinHandle<()>,
}

impl Drop for EventLog {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EventLog {
    /// Starts recording `bus`.
    pub fn record(bus: EventBus) -> Self {
        let events = Arc::new(Mutex::new(Vec::new()));
        let mut live = bus.subscribe();
        let sink = Arc::clone(&events);
        let task = tokio::spawn(async move {
            while let Ok(event) = live.recv().await {
                lock(&sink).push(event);
            }
        });
        Self { events, bus, task }
    }

    /// Every event published so far, in replay order (the recorder's copy
    /// merged with what the bus still retains, so nothing published before
    /// this call is missing).
    pub fn all(&self) -> Vec<PublishedEvent> {
        let mut events = lock(&self.events).clone();
        let known: HashSet<[u8; 8]> = events.iter().map(|e| e.replay_id).collect();
        events.extend(
            self.bus
                .all()
                .into_iter()
                .filter(|e| !known.contains(&e.replay_id)),
        );
        events.sort_by_key(|e| e.replay_id);
        events
    }

    /// The position of the newest event published, if any.
    pub fn latest(&self) -> Option<u64> {
        self.bus.latest_replay_id().map(u64::from_be_bytes)
    }
}

/// Event ids the provisioning queue or the dead-letter destination accepted.
#[derive(Debug, Default)]
pub struct Accepted {
    events: Mutex<HashSet<String>>,
}

impl Accepted {
    /// Notes that `event_id` was accepted.
    pub fn insert(&self, event_id: &str) {
        lock(&self.events).insert(event_id.to_owned());
    }

    /// Whether `event_id` was accepted.
    pub fn contains(&self, event_id: &str) -> bool {
        lock(&self.events).contains(event_id)
    }
}

/// The subscriber's dead letters, noting each accepted event.
#[derive(Debug)]
pub struct AuditedDeadLetters {
    /// The destination.
    pub inner: Arc<InMemoryDeadLetters>,
    accepted: Arc<Accepted>,
}

impl AuditedDeadLetters {
    /// Over `inner`, noting into `accepted`.
    pub fn new(inner: Arc<InMemoryDeadLetters>, accepted: Arc<Accepted>) -> Self {
        Self { inner, accepted }
    }
}

impl DeadLetters for AuditedDeadLetters {
    async fn send(&self, letter: &DeadLetter) -> Result<(), QueueError> {
        self.inner.send(letter).await?;
        self.accepted.insert(&letter.event_id);
        Ok(())
    }
}

/// A replay position saved past an event that was neither queued, nor
/// dead-lettered, nor inside a gap the subscriber recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEvent {
    /// The position saved.
    pub saved: u64,
    /// The event's position.
    pub event: u64,
    /// Its Order.
    pub order_id: String,
}

/// The replay store, checking every save against the events published.
#[derive(Debug)]
pub struct AuditedReplayStore {
    inner: InMemoryReplayStore,
    log: Arc<EventLog>,
    accepted: Arc<Accepted>,
    gaps: Mutex<Vec<Gap>>,
    skipped: Mutex<Vec<SkippedEvent>>,
    saves: Mutex<u64>,
    /// The position last saved.
    saved: Mutex<Option<u64>>,
    /// Events retention had dropped when the first position was saved.
    before_first: Mutex<HashSet<[u8; 8]>>,
}

fn position(bytes: &[u8]) -> u64 {
    <[u8; 8]>::try_from(bytes).map_or(0, u64::from_be_bytes)
}

impl AuditedReplayStore {
    /// An empty store checking against `log` and `accepted`.
    pub fn new(log: Arc<EventLog>, accepted: Arc<Accepted>) -> Self {
        Self {
            inner: InMemoryReplayStore::new(),
            log,
            accepted,
            gaps: Mutex::new(Vec::new()),
            skipped: Mutex::new(Vec::new()),
            saves: Mutex::new(0),
            saved: Mutex::new(None),
            before_first: Mutex::new(HashSet::new()),
        }
    }

    /// The saves that skipped an event.
    pub fn skipped(&self) -> Vec<SkippedEvent> {
        lock(&self.skipped).clone()
    }

    /// Positions saved so far.
    pub fn saves(&self) -> u64 {
        *lock(&self.saves)
    }

    /// The position last saved, if any.
    pub fn saved_position(&self) -> Option<u64> {
        *lock(&self.saved)
    }

    /// Whether the subscriber has caught up with the org: its saved position
    /// is at or past the newest event published (or nothing was published).
    /// Every event up to a saved position was queued, dead-lettered or lost
    /// inside a recorded gap (each save is audited for that); events after
    /// it are still owed — by a subscriber that is down, waiting for its
    /// lease, or not through its batch yet. A running subscriber always gets
    /// there: each batch saves its last event, and a quiet topic's position
    /// moves to the keepalives' latest replay id (after a gap too).
    pub fn caught_up(&self) -> bool {
        self.log
            .latest()
            .is_none_or(|latest| self.saved_position() >= Some(latest))
    }

    /// Whether retention had dropped the event at `replay_id` when the first
    /// position was saved (see [`ReplayStore::save`] below).
    pub fn dropped_before_first(&self, replay_id: [u8; 8]) -> bool {
        lock(&self.before_first).contains(&replay_id)
    }

    /// Whether a recorded gap covers an event published at `created` at
    /// position `event`: after the gap's refused position, and no later than
    /// the moment the gap was noticed (the window the reconciler sweeps,
    /// whose end it rounds up a second).
    pub fn gap_covers(&self, event: u64, created: DateTime<Utc>) -> bool {
        lock(&self.gaps).iter().any(|gap| {
            let after = gap
                .from
                .as_ref()
                .is_none_or(|from| event > position(from.as_bytes()));
            after && created <= gap.detected_at + TimeDelta::seconds(1)
        })
    }
}

impl ReplayStore for AuditedReplayStore {
    async fn load(&self, topic: &str) -> Result<Option<ReplayId>, StoreError> {
        self.inner.load(topic).await
    }

    async fn save(&self, topic: &str, replay_id: &ReplayId) -> Result<(), StoreError> {
        let saved = position(replay_id.as_bytes());
        // Before the first position there is no replay id the org could
        // refuse: a subscriber starting from EARLIEST cannot know of events
        // retention dropped before it subscribed (in production, events
        // older than 72 hours at the first deployment). Those are the
        // reconciler's (none-left-activating checks that it finds them).
        if self.inner.load(topic).await?.is_none() {
            let retained: HashSet<[u8; 8]> =
                self.log.bus.all().iter().map(|e| e.replay_id).collect();
            lock(&self.before_first).extend(
                self.log
                    .all()
                    .into_iter()
                    .filter(|e| !retained.contains(&e.replay_id))
                    .map(|e| e.replay_id),
            );
        }
        let before_first = lock(&self.before_first).clone();
        let missing: Vec<SkippedEvent> = self
            .log
            .all()
            .into_iter()
            .filter(|e| u64::from_be_bytes(e.replay_id) <= saved)
            .filter(|e| !self.accepted.contains(&e.event_id))
            .filter(|e| !before_first.contains(&e.replay_id))
            .filter(|e| !self.gap_covers(u64::from_be_bytes(e.replay_id), e.created_date))
            .map(|e| SkippedEvent {
                saved,
                event: u64::from_be_bytes(e.replay_id),
                order_id: e.order_id,
            })
            .collect();
        lock(&self.skipped).extend(missing);
        *lock(&self.saves) += 1;
        self.inner.save(topic, replay_id).await?;
        *lock(&self.saved) = Some(saved);
        Ok(())
    }

    async fn record_gap(&self, topic: &str, gap: &Gap) -> Result<(), StoreError> {
        lock(&self.gaps).push(gap.clone());
        self.inner.record_gap(topic, gap).await
    }

    async fn gaps(&self, topic: &str) -> Result<Vec<Gap>, StoreError> {
        self.inner.gaps(topic).await
    }
}

impl GapSweeps for AuditedReplayStore {
    async fn unswept_gaps(&self, topic: &str) -> Result<Vec<UnsweptGap>, StoreError> {
        self.inner.unswept_gaps(topic).await
    }

    async fn mark_gap_swept(
        &self,
        topic: &str,
        id: &GapId,
        swept_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.inner.mark_gap_swept(topic, id, swept_at).await
    }

    async fn sweep_cursor(&self, topic: &str) -> Result<Option<SweepCursor>, StoreError> {
        self.inner.sweep_cursor(topic).await
    }

    async fn save_sweep_cursor(&self, topic: &str, cursor: &SweepCursor) -> Result<(), StoreError> {
        self.inner.save_sweep_cursor(topic, cursor).await
    }
}
