//! The `EventSource` port: a topic of platform events to subscribe to from a
//! position, yielding events and keepalives (the Salesforce Pub/Sub API in
//! production, `salesforce::pubsub`; [`super::memory::InMemoryEventSource`] in
//! tests and fault campaigns).
//!
//! Its failures are classified the way the subscriber must react to them
//! ([`SourceFailure`]); the adapter's own error stays the typed cause.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::BoxError;
use crate::domain::{OrderId, ReplayId};

/// `OrderProvisionRequested__e`, as the Order Approval Flow publishes it,
/// decoded: the Order id is typed from here on to WHMCS.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderProvisionRequested {
    /// `CreatedDate`: when the event was published.
    pub created_date: DateTime<Utc>,
    /// `CreatedById`: the user whose write triggered the flow.
    pub created_by_id: String,
    /// `OrderId__c`: an event without a valid Order id does not decode.
    pub order_id: OrderId,
    /// `IdemKey__c`.
    pub idem_key: Option<String>,
    /// `CorrelationId__c`.
    pub correlation_id: Option<String>,
    /// `RequestedBy__c`.
    pub requested_by: Option<String>,
    /// `Version__c`: the event schema version.
    pub version: Option<f64>,
}

/// One event received from a subscription.
#[derive(Debug)]
pub struct ReceivedEvent {
    /// Its position (`None` only for a malformed event without one).
    pub replay_id: Option<ReplayId>,
    /// The event's id (`EventUuid`): deduplicate on it, not on the replay id.
    pub event_id: String,
    /// The schema the payload was written with.
    pub schema_id: String,
    /// The typed event, or why the payload could not be decoded (it is then
    /// dead-lettered with [`ReceivedEvent::raw_payload`]).
    pub decoded: Result<OrderProvisionRequested, BoxError>,
    /// The payload as received.
    pub raw_payload: Vec<u8>,
}

/// What a subscription yields.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "yielded one at a time and moved straight to the batch; boxing would only add an allocation per event"
)]
pub enum StreamItem {
    /// An event.
    Event(ReceivedEvent),
    /// No event for a while, but the stream is alive.
    Keepalive {
        /// The topic's newest position (`None` when the topic has none).
        latest: Option<ReplayId>,
    },
}

/// Where a new subscription starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayFrom {
    /// Only events published after the subscription starts (`LATEST`).
    Latest,
    /// The oldest retained event (`EARLIEST`; up to 72 hours back).
    Earliest,
    /// Just after this event (`CUSTOM`); an expired or unknown id fails with
    /// [`SourceFailure::ReplayRefused`].
    After(ReplayId),
}

/// What the subscriber may do with a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicAccess {
    /// Whether the integration user may subscribe.
    pub can_subscribe: bool,
    /// The schema events are published with now (for the log).
    pub schema_id: String,
}

/// How the subscriber must react to a failure of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFailure {
    /// The replay id given to [`ReplayFrom::After`] is expired, unknown or
    /// malformed: never retried; the subscriber records a gap and resumes at `LATEST`.
    ReplayRefused,
    /// The source refused the session after its own fresh login: retried a few times.
    AuthRefused,
    /// An outage, a reset or stalled stream, a transport error: resubscribe with backoff.
    Transient,
    /// The topic is missing or may not be read: stop with a clear message.
    TopicRefused,
    /// Another request the source refuses for good.
    RequestRefused,
    /// Anything else that retrying cannot fix (a bad endpoint, a broken schema…).
    Broken,
}

impl fmt::Display for SourceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ReplayRefused => "the replay id was refused",
            Self::AuthRefused => "the session was refused",
            Self::Transient => "transient failure",
            Self::TopicRefused => "the topic was refused",
            Self::RequestRefused => "the request was refused",
            Self::Broken => "the source cannot be used",
        })
    }
}

/// A failure of the event source: its class and the adapter's typed error.
#[derive(Debug, thiserror::Error)]
#[error("{failure}")]
pub struct SourceError {
    /// How the subscriber reacts.
    pub failure: SourceFailure,
    /// The adapter's error (e.g. `salesforce::pubsub::PubSubError`).
    pub source: BoxError,
}

impl SourceError {
    /// A failure of class `failure` caused by `source`.
    pub fn new(failure: SourceFailure, source: impl Into<BoxError>) -> Self {
        Self {
            failure,
            source: source.into(),
        }
    }

    /// Whether resubscribing (from the saved position, with backoff) may succeed.
    pub fn is_transient(&self) -> bool {
        self.failure == SourceFailure::Transient
    }
}

/// A live subscription. Dropping it cancels it.
pub trait EventStream: Send {
    /// The next event or keepalive; `Some(Err)` once when the stream fails,
    /// then `None`. Cancel-safe: an event is consumed only once it is
    /// returned, so this can sit in a `tokio::select!` beside a stop signal.
    fn next(&mut self) -> impl Future<Output = Option<Result<StreamItem, SourceError>>> + Send;
}

/// A topic of platform events.
pub trait EventSource: Send + Sync {
    /// The subscription type.
    type Stream: EventStream;

    /// Whether `topic` exists and may be subscribed to.
    fn topic(&self, topic: &str) -> impl Future<Output = Result<TopicAccess, SourceError>> + Send;

    /// Subscribes to `topic` from `from`, keeping up to `batch` events requested.
    fn subscribe(
        &self,
        topic: &str,
        from: &ReplayFrom,
        batch: u32,
    ) -> impl Future<Output = Result<Self::Stream, SourceError>> + Send;
}

impl<T: EventSource> EventSource for Arc<T> {
    type Stream = T::Stream;

    fn topic(&self, topic: &str) -> impl Future<Output = Result<TopicAccess, SourceError>> + Send {
        (**self).topic(topic)
    }

    fn subscribe(
        &self,
        topic: &str,
        from: &ReplayFrom,
        batch: u32,
    ) -> impl Future<Output = Result<Self::Stream, SourceError>> + Send {
        (**self).subscribe(topic, from, batch)
    }
}
