//! Forwarding: each received event becomes a provisioning message or a dead
//! letter; a [`Batch`] tracks which of them the queue or the dead-letter
//! destination accepted, so the replay position saved is always the last
//! one of the *contiguous* accepted prefix, never past an entry that is not
//! accepted yet. [`Ctx::pump`] drives one subscription, [`Ctx::finish`] sends
//! the batch in hand and saves its position.

use chrono::{DateTime, Utc};

use super::position::Position;
use super::{Ctx, SQS_BATCH, SubscriberError};
use crate::diagnostics::error_chain;
use crate::domain::ReplayId;
use crate::messages::{MessageError, MessageOrigin, ProvisioningMessage, Token};
use crate::ports::{
    Clock, DeadLetter, DeadLetters, EventSource, EventStream, OrderProvisionRequested,
    ProvisioningQueue, ReceivedEvent, ReplayStore, SendOutcome, SourceError, SourceFailure,
    StreamItem, SubscriberLease,
};

/// What must happen to one event.
#[derive(Debug, Clone)]
pub enum Work {
    /// Send it to the provisioning queue.
    Forward(ProvisioningMessage),
    /// Send it to the dead-letter destination.
    DeadLetter(DeadLetter),
}

/// One event in hand.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its position (`None` only for a malformed event without one).
    pub replay_id: Option<ReplayId>,
    /// Its `CreatedDate`, when decoded.
    pub created: Option<DateTime<Utc>>,
    /// What to do with it.
    pub work: Work,
    /// Whether its destination accepted it.
    pub accepted: bool,
}

/// Why a decoded event cannot become a provisioning message.
#[derive(Debug, thiserror::Error)]
pub enum Unforwardable {
    /// A field does not fit the message contract.
    #[error("the event does not fit the provisioning message")]
    Message(#[from] MessageError),
    /// The event came without a replay id.
    #[error("the event has no replay id")]
    NoReplayId,
}

/// The provisioning message for a decoded event. Missing optional fields
/// fall back: idempotency key and correlation id to the event id, requester
/// to `CreatedById`. The Order id goes over as decoded, typed.
pub fn to_message(
    event: &OrderProvisionRequested,
    event_id: &str,
    replay_id: Option<&ReplayId>,
) -> Result<ProvisioningMessage, Unforwardable> {
    let replay_id = replay_id.ok_or(Unforwardable::NoReplayId)?.clone();
    let event_id = Token::parse("eventId", event_id)?;
    let fallback = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(event_id.as_str())
            .to_owned()
    };
    let idempotency_key = Token::parse("idempotencyKey", &fallback(&event.idem_key))?;
    let correlation_id = Token::parse("correlationId", &fallback(&event.correlation_id))?;
    let requested_by = event
        .requested_by
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(&event.created_by_id)
        .to_owned();
    if requested_by.is_empty() {
        return Err(MessageError::RequestedBy.into());
    }
    Ok(ProvisioningMessage {
        order_id: event.order_id.clone(),
        idempotency_key,
        correlation_id,
        requested_by,
        origin: MessageOrigin::PubSub {
            event_id,
            replay_id,
        },
    })
}

/// A received event, ready for the batch.
#[derive(Debug)]
pub struct Prepared {
    /// The entry.
    pub entry: Entry,
    /// Whether its payload did not decode (the caller counts decode failures).
    pub undecodable: bool,
}

/// The entry for a received event.
pub fn prepare(event: ReceivedEvent, topic: &str, now: DateTime<Utc>) -> Prepared {
    let ReceivedEvent {
        replay_id,
        event_id,
        schema_id,
        decoded,
        raw_payload,
    } = event;
    let letter = |error: String, payload: Vec<u8>| DeadLetter {
        topic: topic.to_owned(),
        event_id: event_id.clone(),
        replay_id: replay_id.clone(),
        schema_id: schema_id.clone(),
        payload,
        error,
        detected_at: now,
    };
    let (created, work, undecodable) = match decoded {
        Ok(decoded) => {
            let work = match to_message(&decoded, &event_id, replay_id.as_ref()) {
                Ok(message) => Work::Forward(message),
                Err(error) => Work::DeadLetter(letter(error_chain(&error), raw_payload)),
            };
            (Some(decoded.created_date), work, false)
        }
        Err(error) => (
            None,
            Work::DeadLetter(letter(error_chain(&*error), raw_payload)),
            true,
        ),
    };
    Prepared {
        entry: Entry {
            replay_id,
            created,
            work,
            accepted: false,
        },
        undecodable,
    }
}

/// The events in hand, in stream order.
#[derive(Debug, Default)]
pub struct Batch {
    entries: Vec<Entry>,
}

impl Batch {
    /// No event in hand.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next event of the stream.
    pub fn push(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    /// Events in hand.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no event is in hand.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Indices and messages of the entries still to forward, in order.
    pub fn pending_messages(&self) -> (Vec<usize>, Vec<ProvisioningMessage>) {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.work {
                Work::Forward(m) if !e.accepted => Some((i, m.clone())),
                _ => None,
            })
            .unzip()
    }

    /// Indices of the dead letters still to send, in order.
    pub fn pending_letters(&self) -> Vec<usize> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.accepted && matches!(e.work, Work::DeadLetter(_)))
            .map(|(i, _)| i)
            .collect()
    }

    /// The dead letter at `index`, if that entry is one.
    pub fn letter(&self, index: usize) -> Option<&DeadLetter> {
        match self.entries.get(index).map(|e| &e.work) {
            Some(Work::DeadLetter(letter)) => Some(letter),
            _ => None,
        }
    }

    /// Marks the entry at `index` accepted by its destination.
    pub fn accept(&mut self, index: usize) {
        if let Some(entry) = self.entries.get_mut(index) {
            entry.accepted = true;
        }
    }

    /// Turns the message at `index`, which the queue refused for good, into a
    /// dead letter (the raw payload is gone by then: the message body is kept).
    pub fn divert(&mut self, index: usize, topic: &str, reason: String, now: DateTime<Utc>) {
        let Some(entry) = self.entries.get_mut(index) else {
            return;
        };
        if let Work::Forward(message) = &entry.work {
            let event_id = message.dedup_id().to_owned();
            entry.work = Work::DeadLetter(DeadLetter {
                topic: topic.to_owned(),
                event_id,
                replay_id: entry.replay_id.clone(),
                schema_id: String::new(),
                payload: message.to_json().into_bytes(),
                error: reason,
                detected_at: now,
            });
        }
    }

    /// Whether every entry was accepted.
    pub fn all_accepted(&self) -> bool {
        self.entries.iter().all(|e| e.accepted)
    }

    /// The position to save: the last replay id (and `CreatedDate`) of the
    /// accepted prefix; `None` when the first entry is not accepted.
    pub fn accepted_through(&self) -> Option<(ReplayId, Option<DateTime<Utc>>)> {
        self.entries
            .iter()
            .take_while(|e| e.accepted)
            .filter_map(|e| e.replay_id.clone().map(|id| (id, e.created)))
            .last()
    }
}

/// How a subscription ended.
pub(super) enum StreamEnd {
    /// The stop was requested (the batch in hand was sent).
    Shutdown,
    /// The stream failed (the events received before were forwarded first).
    Failed(SourceError),
}

/// The stream ended without an error: a transient failure for the loop.
#[derive(Debug, thiserror::Error)]
#[error("the event stream ended")]
struct StreamEnded;

impl<E, R, L, Q, D, C> Ctx<'_, E, R, L, Q, D, C>
where
    E: EventSource,
    R: ReplayStore,
    L: SubscriberLease,
    Q: ProvisioningQueue,
    D: DeadLetters,
    C: Clock,
{
    /// Drives one subscription until it fails or the stop is requested.
    pub(super) async fn pump(
        &self,
        stream: &mut E::Stream,
        position: &mut Position,
    ) -> Result<StreamEnd, SubscriberError> {
        let mut batch = Batch::new();
        loop {
            if self.shutdown.is_requested() {
                self.finish(&mut batch, position).await?;
                return Ok(StreamEnd::Shutdown);
            }
            // With events in hand, an event the source has ready joins the
            // batch; otherwise the batch goes once `flush_after` passes
            // without one, at once when it is zero.
            let item = tokio::select! {
                biased;
                () = self.shutdown.requested() => continue,
                item = stream.next() => item,
                () = self.flush_wait(), if !batch.is_empty() => {
                    self.finish(&mut batch, position).await?;
                    continue;
                }
            };
            match item {
                None => {
                    self.finish(&mut batch, position).await?;
                    let ended = SourceError::new(SourceFailure::Transient, StreamEnded);
                    return Ok(StreamEnd::Failed(ended));
                }
                Some(Err(error)) => {
                    // Events received before the failure are good: forward them first.
                    self.finish(&mut batch, position).await?;
                    return Ok(StreamEnd::Failed(error));
                }
                Some(Ok(StreamItem::Keepalive { latest })) => {
                    self.finish(&mut batch, position).await?;
                    self.on_keepalive(latest, position).await?;
                }
                Some(Ok(StreamItem::Event(event))) => {
                    position.event_seen();
                    let now = self.now();
                    let lag = event
                        .decoded
                        .as_ref()
                        .ok()
                        .map(|e| (now - e.created_date).num_milliseconds());
                    let started = std::time::Instant::now();
                    let prepared = prepare(event, self.topic(), now);
                    if prepared.undecodable {
                        self.metrics.decode_failure();
                    }
                    batch.push(prepared.entry);
                    self.metrics.own_work(started.elapsed());
                    self.metrics.received(lag);
                    if batch.len() >= SQS_BATCH {
                        self.finish(&mut batch, position).await?;
                    }
                }
            }
        }
    }

    /// How long a partial batch waits for another event: `flush_after`, or
    /// not at all when that is zero (`tokio::time::sleep` would still wait
    /// for the timer's next millisecond tick).
    async fn flush_wait(&self) {
        if !self.settings.flush_after.is_zero() {
            tokio::time::sleep(self.settings.flush_after).await;
        }
    }

    /// Sends the batch in hand (retrying until every entry is accepted, or
    /// the drain deadline passes when stopping), then saves the position of
    /// its accepted prefix and empties it.
    pub(super) async fn finish(
        &self,
        batch: &mut Batch,
        position: &mut Position,
    ) -> Result<(), SubscriberError> {
        if batch.is_empty() {
            return Ok(());
        }
        let drain = self.settings.drain_budget();
        let mut backoff = self.backoff();
        'attempts: loop {
            let (indices, messages) = batch.pending_messages();
            if !messages.is_empty() {
                match self.bounded(drain, self.ports.queue.send(&messages)).await {
                    None => break 'attempts,
                    Some(Ok(outcomes)) => {
                        let mut sent = 0;
                        for (index, outcome) in indices.into_iter().zip(outcomes) {
                            match outcome {
                                SendOutcome::Sent => {
                                    batch.accept(index);
                                    sent += 1;
                                }
                                SendOutcome::Failed(failure) if !failure.retryable => {
                                    tracing::warn!(code = %failure.code, "the queue refused a message for good; dead-lettering it");
                                    batch.divert(
                                        index,
                                        self.topic(),
                                        format!(
                                            "the provisioning queue refused the message for good ({})",
                                            failure.code
                                        ),
                                        self.now(),
                                    );
                                }
                                SendOutcome::Failed(failure) => {
                                    tracing::warn!(code = %failure.code, "the queue did not take a message; retrying");
                                }
                            }
                        }
                        self.metrics.forwarded(sent);
                    }
                    Some(Err(error)) if error.is_retryable() => {
                        tracing::warn!(error = %error_chain(&error), "the provisioning queue is unavailable; retrying");
                    }
                    Some(Err(error)) => return Err(SubscriberError::Queue(error)),
                }
            }
            for index in batch.pending_letters() {
                let Some(letter) = batch.letter(index).cloned() else {
                    continue;
                };
                match self
                    .bounded(drain, self.ports.dead_letters.send(&letter))
                    .await
                {
                    None => break 'attempts,
                    Some(Ok(())) => {
                        batch.accept(index);
                        self.metrics.dead_lettered(1);
                        tracing::warn!(
                            event_id = %letter.event_id,
                            replay_id = ?letter.replay_id,
                            schema_id = %letter.schema_id,
                            error = %letter.error,
                            "event dead-lettered"
                        );
                    }
                    Some(Err(error)) if error.is_retryable() => {
                        tracing::warn!(error = %error_chain(&error), "the dead-letter destination is unavailable; retrying");
                        break;
                    }
                    Some(Err(error)) => return Err(SubscriberError::DeadLetters(error)),
                }
            }
            if batch.all_accepted() {
                break;
            }
            if self
                .bounded(drain, tokio::time::sleep(backoff.next_delay()))
                .await
                .is_none()
            {
                break;
            }
        }
        let started = std::time::Instant::now();
        let through = batch.accepted_through();
        if !batch.all_accepted() {
            tracing::warn!(
                in_hand = batch.len(),
                "stop deadline reached with events not accepted; they replay on the next start"
            );
        }
        *batch = Batch::new();
        self.metrics.own_work(started.elapsed());
        if let Some((replay_id, created)) = through {
            self.save(position, replay_id, created).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::OrderId;

    use super::*;

    const EVENT_ID: &str = "9b0c6d1e-0000-4000-8000-000000000001";

    fn decoded() -> OrderProvisionRequested {
        OrderProvisionRequested {
            created_date: DateTime::from_timestamp(1_714_557_600, 0).unwrap(),
            created_by_id: "005000000000001AAA".into(),
            order_id: OrderId::parse("801000000000001").unwrap(),
            idem_key: Some("801000000000001AAA-2024-05-01T10:00:00.000Z".into()),
            correlation_id: Some("corr-1".into()),
            requested_by: None,
            version: Some(1.0),
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("the payload is not a record")]
    struct NotARecord;

    fn event(
        n: u8,
        decoded: Result<OrderProvisionRequested, crate::ports::BoxError>,
    ) -> ReceivedEvent {
        ReceivedEvent {
            replay_id: ReplayId::new(vec![0, 0, 0, 0, 0, 0, 0, n]),
            event_id: format!("event-{n}"),
            schema_id: "schema".into(),
            decoded,
            raw_payload: vec![n, 0xff],
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_714_557_601, 0).unwrap()
    }

    #[test]
    fn when_decoded_should_build_the_message_with_fallbacks() {
        let replay = ReplayId::new(vec![1]).unwrap();
        let message = to_message(&decoded(), EVENT_ID, Some(&replay)).unwrap();
        assert_eq!(message.order_id.as_str(), "801000000000001AAA");
        assert_eq!(message.group_id(), "801000000000001AAA");
        assert_eq!(message.dedup_id(), EVENT_ID);
        assert_eq!(message.correlation_id.as_str(), "corr-1");
        assert_eq!(message.requested_by, "005000000000001AAA");
        let mut bare = decoded();
        bare.idem_key = None;
        bare.correlation_id = Some(" ".into());
        let message = to_message(&bare, EVENT_ID, Some(&replay)).unwrap();
        assert_eq!(message.idempotency_key.as_str(), EVENT_ID);
        assert_eq!(message.correlation_id.as_str(), EVENT_ID);
        assert!(matches!(
            to_message(&decoded(), EVENT_ID, None),
            Err(Unforwardable::NoReplayId)
        ));
        assert!(matches!(
            to_message(&decoded(), "not a token", Some(&replay)),
            Err(Unforwardable::Message(MessageError::Token {
                field: "eventId"
            }))
        ));
    }

    #[test]
    fn when_undecodable_should_become_a_dead_letter_with_the_raw_payload() {
        let prepared = prepare(event(3, Err(Box::new(NotARecord))), "/event/T", now());
        assert!(prepared.undecodable);
        let entry = prepared.entry;
        let Work::DeadLetter(letter) = &entry.work else {
            panic!("expected a dead letter");
        };
        assert_eq!(letter.payload, vec![3, 0xff]);
        assert_eq!(letter.event_id, "event-3");
        assert_eq!(letter.schema_id, "schema");
        assert_eq!(letter.error, "the payload is not a record");
        assert_eq!(letter.replay_id.as_ref().unwrap().as_bytes()[7], 3);
        let good = prepare(event(4, Ok(decoded())), "/event/T", now()).entry;
        assert!(matches!(good.work, Work::Forward(_)));
    }

    #[test]
    fn when_an_entry_is_not_accepted_the_position_should_stop_before_it() {
        let mut batch = Batch::new();
        for n in 1..=4 {
            batch.push(prepare(event(n, Ok(decoded())), "/event/T", now()).entry);
        }
        assert!(batch.accepted_through().is_none());
        batch.accept(0);
        batch.accept(2);
        batch.accept(3);
        let (through, created) = batch.accepted_through().unwrap();
        assert_eq!(
            through.as_bytes()[7],
            1,
            "never past the failed second entry"
        );
        assert_eq!(created, Some(decoded().created_date));
        let (pending, _) = batch.pending_messages();
        assert_eq!(pending, [1]);
        batch.divert(1, "/event/T", "refused".into(), now());
        assert_eq!(batch.pending_letters(), [1]);
        assert!(batch.pending_messages().0.is_empty());
        batch.accept(1);
        assert!(batch.all_accepted());
        assert_eq!(batch.accepted_through().unwrap().0.as_bytes()[7], 4);
    }
}
