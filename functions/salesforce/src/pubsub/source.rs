//! The Pub/Sub client as the subscriber's event source: [`PubSubClient`]
//! implements the core port [`EventSource`] and [`Subscription`] its
//! [`EventStream`], each [`PubSubError`] classified into the
//! [`SourceFailure`] the subscriber reacts to (the error stays the typed cause).

use portal_core::ports::{
    EventSource, EventStream, ReceivedEvent, ReplayFrom, SourceError, SourceFailure, StreamItem,
    TopicAccess,
};
use tonic::Code;

use super::client::PubSubClient;
use super::error::PubSubError;
use super::subscription::{Subscription, SubscriptionItem};

/// How the subscriber must react to `error`.
pub fn classify(error: &PubSubError) -> SourceFailure {
    match error {
        PubSubError::ReplayIdCorrupted { .. } => SourceFailure::ReplayRefused,
        PubSubError::AuthFailed { .. } => SourceFailure::AuthRefused,
        error if error.is_transient() => SourceFailure::Transient,
        PubSubError::Permanent {
            code: Code::NotFound | Code::PermissionDenied,
            ..
        } => SourceFailure::TopicRefused,
        PubSubError::Permanent { .. } => SourceFailure::RequestRefused,
        _ => SourceFailure::Broken,
    }
}

fn source_error(error: PubSubError) -> SourceError {
    SourceError::new(classify(&error), error)
}

impl EventSource for PubSubClient {
    type Stream = Subscription;

    async fn topic(&self, topic: &str) -> Result<TopicAccess, SourceError> {
        let info = self.get_topic(topic).await.map_err(source_error)?;
        Ok(TopicAccess {
            can_subscribe: info.can_subscribe,
            schema_id: info.schema_id,
        })
    }

    async fn subscribe(
        &self,
        topic: &str,
        from: &ReplayFrom,
        batch: u32,
    ) -> Result<Subscription, SourceError> {
        PubSubClient::subscribe(self, topic, from.clone(), batch)
            .await
            .map_err(source_error)
    }
}

impl EventStream for Subscription {
    async fn next(&mut self) -> Option<Result<StreamItem, SourceError>> {
        let item = Subscription::next(self).await?;
        Some(match item {
            Ok(SubscriptionItem::Event(event)) => Ok(StreamItem::Event(ReceivedEvent {
                replay_id: event.replay_id,
                event_id: event.event_id,
                schema_id: event.schema_id,
                decoded: event.decoded.map_err(Into::into),
                raw_payload: event.raw_payload,
            })),
            Ok(SubscriptionItem::Keepalive { latest_replay_id }) => Ok(StreamItem::Keepalive {
                latest: latest_replay_id,
            }),
            Err(error) => Err(source_error(error)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pubsub::TransientError;

    #[test]
    fn every_pubsub_error_should_map_to_the_reaction_the_subscriber_had_for_it() {
        let permanent = |code| PubSubError::Permanent {
            code,
            message: String::new(),
            error_code: None,
        };
        let cases = [
            (
                PubSubError::ReplayIdCorrupted {
                    message: String::new(),
                },
                SourceFailure::ReplayRefused,
            ),
            (
                PubSubError::AuthFailed {
                    message: String::new(),
                },
                SourceFailure::AuthRefused,
            ),
            (
                PubSubError::Transient(TransientError::StreamEnded),
                SourceFailure::Transient,
            ),
            (permanent(Code::NotFound), SourceFailure::TopicRefused),
            (
                permanent(Code::PermissionDenied),
                SourceFailure::TopicRefused,
            ),
            (
                permanent(Code::InvalidArgument),
                SourceFailure::RequestRefused,
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(classify(&error), expected, "{error:?}");
        }
    }
}
