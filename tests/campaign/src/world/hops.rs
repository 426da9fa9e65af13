//! [`Hops`]: when each Order's message crossed the harness's own seams — an
//! event handed by the Pub/Sub client to the subscriber, a message sent to
//! the queue, a delivery received by a provisioner — for the latency bench's
//! per-hop table. One lock and one push per crossing; nothing else changes.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use portal_core::ports::{
    EventSource, EventStream, ReplayFrom, SourceError, StreamItem, TopicAccess,
};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The crossings noted so far, each `(key, when)`: an event id for
/// `delivered`, an Order id for `queued` and `received`.
#[derive(Debug, Default)]
pub struct Hops {
    delivered: Mutex<Vec<(String, Instant)>>,
    queued: Mutex<Vec<(String, Instant)>>,
    received: Mutex<Vec<(String, Instant)>>,
}

/// Whether two record ids name one record (15- or 18-character forms).
fn same_record(a: &str, b: &str) -> bool {
    a.get(..15).is_some_and(|a| b.get(..15) == Some(a))
}

fn first(list: &Mutex<Vec<(String, Instant)>>, order_id: &str, after: Instant) -> Option<Instant> {
    lock(list)
        .iter()
        .find(|(k, at)| same_record(k, order_id) && *at >= after)
        .map(|(_, at)| *at)
}

impl Hops {
    /// The subscriber got event `event_id` from its source.
    pub fn note_delivered(&self, event_id: &str) {
        lock(&self.delivered).push((event_id.to_owned(), Instant::now()));
    }

    /// The subscriber's queue call carried Order `order_id`'s message.
    pub fn note_queued(&self, order_id: &str) {
        lock(&self.queued).push((order_id.to_owned(), Instant::now()));
    }

    /// A provisioner received Order `order_id`'s message.
    pub fn note_received(&self, order_id: &str) {
        lock(&self.received).push((order_id.to_owned(), Instant::now()));
    }

    /// When event `event_id` first reached the subscriber.
    pub fn delivered(&self, event_id: &str) -> Option<Instant> {
        lock(&self.delivered)
            .iter()
            .find(|(k, _)| k == event_id)
            .map(|(_, at)| *at)
    }

    /// When Order `order_id`'s message was first sent to the queue after `after`.
    pub fn queued(&self, order_id: &str, after: Instant) -> Option<Instant> {
        first(&self.queued, order_id, after)
    }

    /// When Order `order_id`'s message was first received after `after`.
    pub fn received(&self, order_id: &str, after: Instant) -> Option<Instant> {
        first(&self.received, order_id, after)
    }
}

/// An event source noting, in [`Hops`], each event it hands to the subscriber.
#[derive(Debug, Clone)]
pub struct Noted<S> {
    /// The source.
    pub inner: S,
    /// Where the crossings go.
    pub hops: Arc<Hops>,
}

impl<S: EventSource> EventSource for Noted<S> {
    type Stream = Noted<S::Stream>;

    async fn topic(&self, topic: &str) -> Result<TopicAccess, SourceError> {
        self.inner.topic(topic).await
    }

    async fn subscribe(
        &self,
        topic: &str,
        from: &ReplayFrom,
        batch: u32,
    ) -> Result<Self::Stream, SourceError> {
        let inner = self.inner.subscribe(topic, from, batch).await?;
        Ok(Noted {
            inner,
            hops: Arc::clone(&self.hops),
        })
    }
}

impl<S: EventStream> EventStream for Noted<S> {
    async fn next(&mut self) -> Option<Result<StreamItem, SourceError>> {
        let item = self.inner.next().await;
        if let Some(Ok(StreamItem::Event(event))) = &item {
            self.hops.note_delivered(&event.event_id);
        }
        item
    }
}
