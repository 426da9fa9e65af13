//! Observation points for benches ([`Observed`]): when each HTTP request
//! arrived and was answered, when each platform event was published and when
//! a Pub/Sub stream handed it to the transport. Off until
//! [`crate::Emulator::observe`] switches it on; then one lock and one push per
//! request or event, nothing else changes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::server::{Shared, lock};

/// One HTTP request the org answered (REST, token, identity, control).
#[derive(Debug, Clone)]
pub struct ObservedCall {
    /// `GET`, `POST`, `PATCH`…
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// When the request reached the handler.
    pub arrived: Instant,
    /// When the handler had its answer (injected latency and work included).
    pub answered: Instant,
}

/// One platform event.
#[derive(Debug, Clone)]
pub struct ObservedEvent {
    /// Its `Order__c`.
    pub order_id: String,
    /// Its event id.
    pub event_id: String,
    /// When the committing transaction published it.
    pub published: Instant,
}

/// What was observed so far (see the module docs).
#[derive(Debug, Default)]
pub struct Observed {
    on: AtomicBool,
    calls: Mutex<Vec<ObservedCall>>,
    published: Mutex<Vec<ObservedEvent>>,
    streamed: Mutex<Vec<(String, Instant)>>,
    committed: tokio::sync::Notify,
}

impl Observed {
    pub(crate) fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    pub(crate) fn switch(&self, on: bool) {
        self.on.store(on, Ordering::Relaxed);
    }

    pub(crate) fn published(&self, order_id: &str, event_id: &str) {
        if self.is_on() {
            lock(&self.published).push(ObservedEvent {
                order_id: order_id.to_owned(),
                event_id: event_id.to_owned(),
                published: Instant::now(),
            });
        }
    }

    /// A stream handed the FetchResponse carrying `event_id` to the transport.
    pub(crate) fn streamed(&self, event_id: &str, at: Instant) {
        if self.is_on() {
            lock(&self.streamed).push((event_id.to_owned(), at));
        }
    }

    /// A transaction committed (whether observing or not).
    pub(crate) fn committed(&self) {
        self.committed.notify_waiters();
    }

    /// Completes at the next commit of a transaction after this call: a
    /// bench waiting for a record to change checks it, then awaits this,
    /// instead of polling on a timer.
    pub fn next_commit(&self) -> tokio::sync::futures::Notified<'_> {
        self.committed.notified()
    }

    /// Every request answered while observing, in order of answer.
    pub fn calls(&self) -> Vec<ObservedCall> {
        lock(&self.calls).clone()
    }

    /// Every event published while observing.
    pub fn events(&self) -> Vec<ObservedEvent> {
        lock(&self.published).clone()
    }

    /// When each event (by id) was first handed to a stream's transport.
    pub fn streamed_at(&self, event_id: &str) -> Option<Instant> {
        lock(&self.streamed)
            .iter()
            .find(|(id, _)| id == event_id)
            .map(|(_, at)| *at)
    }
}

/// The middleware noting every request while observing.
pub(crate) async fn time_requests(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if !shared.observed.is_on() {
        return next.run(request).await;
    }
    let arrived = Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let answered = Instant::now();
    lock(&shared.observed.calls).push(ObservedCall {
        method,
        path,
        arrived,
        answered,
    });
    response
}
