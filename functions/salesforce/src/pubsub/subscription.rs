//! [`Subscription`]: one `Subscribe` stream, driven by the caller.
//!
//! Flow control is pull-based and tied to consumption: the subscription keeps
//! at most `batch` events requested-or-buffered, and asks for more as soon as
//! that count falls to half, so the server's owed count does not reach 0 while
//! events trickle in. Each [`Subscription::next`] yields an event (decoded with
//! its own schema id, or with the [`DecodeError`] and the raw payload, never
//! dropped), a keepalive, or the error that ended the stream; after an error it
//! yields `None`. A watchdog ends the stream with [`TransientError::Stalled`]
//! when neither an event nor a keepalive arrives in time.
//!
//! `next` is cancel-safe: an event is removed from the buffer only once it is
//! returned, so it can sit in a `tokio::select!` beside a shutdown signal.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use portal_core::domain::ReplayId;
use portal_core::ports::OrderProvisionRequested;
use tokio::sync::mpsc;
use tonic::{Code, Streaming};
use tracing::Instrument as _;

use super::client::PubSubClient;
use super::error::{PubSubError, TransientError};
use super::event::{self, DecodeError};
use super::proto::{ConsumerEvent, FetchRequest, FetchResponse};
use crate::auth::Session;

/// One event received from the stream.
#[derive(Debug)]
pub struct Event {
    /// Its position: save it (once the event is handled) to resume after it
    /// (`None` for a malformed event that came without one).
    pub replay_id: Option<ReplayId>,
    /// The event's id (a UUID): deduplicate on it, not on the replay id.
    pub event_id: String,
    /// The schema the payload was written with.
    pub schema_id: String,
    /// The typed event, or why the payload could not be decoded (dead-letter it
    /// with [`Event::raw_payload`]).
    pub decoded: Result<OrderProvisionRequested, DecodeError>,
    /// The Avro payload as received.
    pub raw_payload: Vec<u8>,
}

/// What a subscription yields.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "yielded one at a time and moved straight to the caller; boxing would only add an allocation per event"
)]
pub enum SubscriptionItem {
    /// An event.
    Event(Event),
    /// No event for a while, but the stream is alive; `latest_replay_id` is the
    /// topic's newest position (`None` when the topic has none).
    Keepalive {
        /// The newest position in the topic.
        latest_replay_id: Option<ReplayId>,
    },
}

/// A live `Subscribe` stream. Dropping it cancels the stream.
pub struct Subscription {
    client: PubSubClient,
    topic: String,
    session: Arc<Session>,
    requests: mpsc::UnboundedSender<FetchRequest>,
    responses: Streaming<FetchResponse>,
    /// Events received and not yet returned, oldest first.
    buffer: VecDeque<ConsumerEvent>,
    /// Events requested and not yet received.
    owed: u32,
    batch: u32,
    watchdog: Duration,
    finished: bool,
    span: tracing::Span,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.topic)
            .field("batch", &self.batch)
            .field("owed", &self.owed)
            .field("buffered", &self.buffer.len())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    pub(crate) fn new(
        client: PubSubClient,
        topic: String,
        session: Arc<Session>,
        requests: mpsc::UnboundedSender<FetchRequest>,
        responses: Streaming<FetchResponse>,
        batch: u32,
    ) -> Self {
        let watchdog = client.config().watchdog();
        let span = tracing::info_span!("pubsub.subscription", topic = %topic);
        Self {
            client,
            topic,
            session,
            requests,
            responses,
            buffer: VecDeque::new(),
            owed: batch,
            batch,
            watchdog,
            finished: false,
            span,
        }
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The next event or keepalive; `Some(Err)` once when the stream fails, then `None`.
    pub async fn next(&mut self) -> Option<Result<SubscriptionItem, PubSubError>> {
        if self.finished {
            return None;
        }
        let span = self.span.clone();
        let result = self.next_item().instrument(span).await;
        if let Err(error) = &result {
            self.finished = true;
            if matches!(error, PubSubError::AuthFailed { .. }) {
                // The next subscription logs in again.
                self.client.invalidate(&self.session).await;
            }
            tracing::warn!(error = %error, transient = error.is_transient(), "the subscription ended");
        }
        Some(result)
    }

    async fn next_item(&mut self) -> Result<SubscriptionItem, PubSubError> {
        loop {
            self.top_up()?;
            if let Some(front) = self.buffer.front() {
                let span = event_span(front);
                let decoded = self.decode(front).instrument(span.clone()).await?;
                let Some(consumer) = self.buffer.pop_front() else {
                    continue;
                };
                let producer = consumer.event.unwrap_or_default();
                let event = Event {
                    replay_id: ReplayId::new(consumer.replay_id),
                    event_id: producer.id,
                    schema_id: producer.schema_id,
                    decoded,
                    raw_payload: producer.payload,
                };
                span.in_scope(|| match &event.decoded {
                    Ok(_) => tracing::debug!("event received"),
                    Err(error) => {
                        tracing::warn!(error = %error, "event received but not decodable")
                    }
                });
                return Ok(SubscriptionItem::Event(event));
            }
            let received = tokio::time::timeout(self.watchdog, self.responses.message()).await;
            match received {
                Err(_elapsed) => return Err(TransientError::Stalled(self.watchdog).into()),
                Ok(Err(status)) => return Err(PubSubError::from_status(&status)),
                Ok(Ok(None)) => return Err(TransientError::StreamEnded.into()),
                Ok(Ok(Some(response))) => {
                    let count = u32::try_from(response.events.len()).unwrap_or(u32::MAX);
                    self.owed = self.owed.saturating_sub(count);
                    if response.events.is_empty() {
                        let latest_replay_id = ReplayId::new(response.latest_replay_id);
                        tracing::debug!(latest_replay_id = ?latest_replay_id, "keepalive");
                        return Ok(SubscriptionItem::Keepalive { latest_replay_id });
                    }
                    self.buffer.extend(response.events);
                }
            }
        }
    }

    /// Asks for more events once requested-or-buffered falls to half the batch.
    fn top_up(&mut self) -> Result<(), PubSubError> {
        let buffered = u32::try_from(self.buffer.len()).unwrap_or(u32::MAX);
        let outstanding = self.owed.saturating_add(buffered);
        if outstanding > self.batch / 2 {
            return Ok(());
        }
        let more = self.batch - outstanding;
        let request = FetchRequest {
            num_requested: i32::try_from(more).unwrap_or(i32::MAX),
            ..FetchRequest::default()
        };
        self.requests
            .send(request)
            .map_err(|_| PubSubError::Transient(TransientError::StreamEnded))?;
        self.owed += more;
        Ok(())
    }

    /// Decodes the event with its own writer schema. An unknown or invalid schema
    /// is the event's decode error; a failed `GetSchema` call ends the stream.
    async fn decode(
        &self,
        consumer: &ConsumerEvent,
    ) -> Result<Result<OrderProvisionRequested, DecodeError>, PubSubError> {
        let Some(producer) = consumer.event.as_ref() else {
            return Ok(Err(DecodeError::NotARecord));
        };
        match self.client.get_schema(&producer.schema_id).await {
            Ok(schema) => Ok(event::decode(&schema, &producer.payload)),
            Err(PubSubError::Permanent {
                code: Code::NotFound,
                ..
            }) => Ok(Err(DecodeError::UnknownSchema {
                schema_id: producer.schema_id.clone(),
            })),
            Err(PubSubError::InvalidSchema { schema_id, source }) => {
                Ok(Err(DecodeError::InvalidSchema { schema_id, source }))
            }
            Err(other) => Err(other),
        }
    }
}

fn event_span(consumer: &ConsumerEvent) -> tracing::Span {
    let replay_id = ReplayId::new(consumer.replay_id.clone());
    let event_id = consumer.event.as_ref().map_or("", |e| e.id.as_str());
    tracing::info_span!("pubsub.event", replay_id = ?replay_id, event_id = %event_id)
}
