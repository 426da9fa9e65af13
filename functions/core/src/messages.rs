//! The provisioning queue message: what the subscriber and the reconciler put
//! on the FIFO queue and the provisioner takes off it.
//!
//! The JSON form (camelCase, one object) is the contract between functions:
//!
//! ```json
//! {
//!   "schemaVersion": 1,
//!   "orderId": "801000000000001AAA",
//!   "idempotencyKey": "2f0c…",
//!   "correlationId": "c-123",
//!   "requestedBy": "005000000000001AAA",
//!   "source": "pubsub",
//!   "eventId": "9b0c6d1e-…",
//!   "replayId": "AAAAAAAAAAE="
//! }
//! ```
//!
//! - `schemaVersion`: always `1`; any other value is refused, so a newer
//!   producer never gets its messages half-understood.
//! - `orderId`: the Salesforce Order (key prefix `801`), 15 or 18 characters;
//!   always written in the 18-character form. It is the FIFO message group.
//! - `idempotencyKey`: the key of this provisioning request (1–128 printable
//!   ASCII characters, the SQS deduplication-id alphabet).
//! - `correlationId`: traces one request across functions (1–128 printable ASCII).
//! - `requestedBy`: who asked (a Salesforce user id, or `reconciler`); not logged.
//! - `source`: `pubsub` (from the platform event; then `eventId` and
//!   `replayId` are required) or `reconciler` (neither is present).
//! - `eventId`: the platform event's `EventUuid`, the deduplication id on the queue.
//! - `replayId`: the event's replay id, base64 of the opaque bytes.
//!
//! A malformed message parses into a [`MessageError`], never a panic.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::domain::{OrderId, ReplayId, TypedIdError};

/// The only schema version this code writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Longest idempotency key, correlation id or event id accepted (SQS's limit
/// for a deduplication id).
pub const MAX_TOKEN_LEN: usize = 128;

/// Why a message (or one of its fields) is not valid.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MessageError {
    /// The body is not JSON of the expected shape.
    #[error("the message is not valid JSON of the expected shape")]
    Json(#[source] Arc<serde_json::Error>),
    /// A schema version this code does not know.
    #[error("unsupported schema version {0} (expected {SCHEMA_VERSION})")]
    SchemaVersion(u32),
    /// The Order id is not a Salesforce Order id.
    #[error("orderId is not a Salesforce Order id: {0}")]
    OrderId(#[from] TypedIdError),
    /// A required text field is empty, too long or has characters outside printable ASCII.
    #[error("{field} must be 1 to {MAX_TOKEN_LEN} printable ASCII characters")]
    Token {
        /// The JSON field name.
        field: &'static str,
    },
    /// `requestedBy` is empty.
    #[error("requestedBy must not be empty")]
    RequestedBy,
    /// `replayId` is not base64 or is empty.
    #[error("replayId must be non-empty base64")]
    ReplayId,
    /// A Pub/Sub message without its event id or replay id, or a reconciler message with one.
    #[error("source {origin} requires eventId and replayId exactly when the source is pubsub")]
    SourceFields {
        /// The message's `source` value.
        origin: &'static str,
    },
}

/// A short opaque token (idempotency key, correlation id, event id): 1–128
/// printable ASCII characters, so it is also a valid SQS deduplication id.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Token(String);

impl Token {
    /// Checks `value`; `field` names it in the error.
    pub fn parse(field: &'static str, value: &str) -> Result<Self, MessageError> {
        let ok = !value.is_empty()
            && value.len() <= MAX_TOKEN_LEN
            && value.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(MessageError::Token { field })
        }
    }

    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a provisioning message came from.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MessageOrigin {
    /// The subscriber, from an `OrderProvisionRequested__e` platform event.
    PubSub {
        /// The event's `EventUuid`; the queue's deduplication id.
        event_id: Token,
        /// The event's replay id.
        replay_id: ReplayId,
    },
    /// The reconciler, re-enqueueing an Order stuck in `Activating`.
    Reconciler,
}

/// One request to provision one Salesforce Order.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(try_from = "RawMessage", into = "RawMessage")]
pub struct ProvisioningMessage {
    /// The Order to provision; the FIFO message group.
    pub order_id: OrderId,
    /// The key of this provisioning request.
    pub idempotency_key: Token,
    /// Traces the request across functions.
    pub correlation_id: Token,
    /// Who asked (a Salesforce user id or `reconciler`). Not logged.
    pub requested_by: String,
    /// Where the message came from, with the Pub/Sub event's ids.
    pub origin: MessageOrigin,
}

impl ProvisioningMessage {
    /// The SQS deduplication id: the event id for Pub/Sub messages, the
    /// idempotency key for reconciler ones.
    pub fn dedup_id(&self) -> &str {
        match &self.origin {
            MessageOrigin::PubSub { event_id, .. } => event_id.as_str(),
            MessageOrigin::Reconciler => self.idempotency_key.as_str(),
        }
    }

    /// The FIFO message group: the Order id.
    pub fn group_id(&self) -> &str {
        self.order_id.as_str()
    }

    /// Parses and validates a message body.
    pub fn from_json(body: &str) -> Result<Self, MessageError> {
        let raw: RawMessage =
            serde_json::from_str(body).map_err(|e| MessageError::Json(Arc::new(e)))?;
        Self::try_from(raw)
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&RawMessage::from(self.clone()))
            .expect("a struct of strings and integers always serializes")
    }
}

/// The wire shape, before validation.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    schema_version: u32,
    order_id: String,
    idempotency_key: String,
    correlation_id: String,
    requested_by: String,
    source: RawSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replay_id: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawSource {
    Pubsub,
    Reconciler,
}

impl TryFrom<RawMessage> for ProvisioningMessage {
    type Error = MessageError;

    fn try_from(raw: RawMessage) -> Result<Self, Self::Error> {
        if raw.schema_version != SCHEMA_VERSION {
            return Err(MessageError::SchemaVersion(raw.schema_version));
        }
        let order_id = OrderId::parse(&raw.order_id)?;
        let idempotency_key = Token::parse("idempotencyKey", &raw.idempotency_key)?;
        let correlation_id = Token::parse("correlationId", &raw.correlation_id)?;
        if raw.requested_by.trim().is_empty() {
            return Err(MessageError::RequestedBy);
        }
        let origin = match (raw.source, raw.event_id, raw.replay_id) {
            (RawSource::Pubsub, Some(event_id), Some(replay_id)) => {
                let bytes = BASE64
                    .decode(replay_id.as_bytes())
                    .map_err(|_| MessageError::ReplayId)?;
                MessageOrigin::PubSub {
                    event_id: Token::parse("eventId", &event_id)?,
                    replay_id: ReplayId::new(bytes).ok_or(MessageError::ReplayId)?,
                }
            }
            (RawSource::Reconciler, None, None) => MessageOrigin::Reconciler,
            (RawSource::Pubsub, _, _) => {
                return Err(MessageError::SourceFields { origin: "pubsub" });
            }
            (RawSource::Reconciler, _, _) => {
                return Err(MessageError::SourceFields {
                    origin: "reconciler",
                });
            }
        };
        Ok(Self {
            order_id,
            idempotency_key,
            correlation_id,
            requested_by: raw.requested_by,
            origin,
        })
    }
}

impl From<ProvisioningMessage> for RawMessage {
    fn from(m: ProvisioningMessage) -> Self {
        let (source, event_id, replay_id) = match m.origin {
            MessageOrigin::PubSub {
                event_id,
                replay_id,
            } => (
                RawSource::Pubsub,
                Some(event_id.0),
                Some(BASE64.encode(replay_id.as_bytes())),
            ),
            MessageOrigin::Reconciler => (RawSource::Reconciler, None, None),
        };
        Self {
            schema_version: SCHEMA_VERSION,
            order_id: m.order_id.as_str().to_owned(),
            idempotency_key: m.idempotency_key.0,
            correlation_id: m.correlation_id.0,
            requested_by: m.requested_by,
            source,
            event_id,
            replay_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SalesforceIdError;

    fn pubsub_json() -> serde_json::Value {
        serde_json::json!({
            "schemaVersion": 1,
            "orderId": "801000000000001",
            "idempotencyKey": "key-1",
            "correlationId": "corr-1",
            "requestedBy": "005000000000001AAA",
            "source": "pubsub",
            "eventId": "9b0c6d1e-0000-4000-8000-000000000001",
            "replayId": "AAAAAAAAAAE="
        })
    }

    #[test]
    fn when_parsing_a_pubsub_message_should_normalise_the_order_id_and_decode_the_replay_id() {
        let message = ProvisioningMessage::from_json(&pubsub_json().to_string()).unwrap();
        assert_eq!(message.order_id.as_str(), "801000000000001AAA");
        assert_eq!(message.dedup_id(), "9b0c6d1e-0000-4000-8000-000000000001");
        match &message.origin {
            MessageOrigin::PubSub { replay_id, .. } => {
                assert_eq!(replay_id.as_bytes(), &[0, 0, 0, 0, 0, 0, 0, 1]);
            }
            MessageOrigin::Reconciler => panic!("expected a Pub/Sub message"),
        }
        let round_trip = ProvisioningMessage::from_json(&message.to_json()).unwrap();
        assert_eq!(round_trip, message);
        let json: serde_json::Value = serde_json::from_str(&message.to_json()).unwrap();
        assert_eq!(json["replayId"], "AAAAAAAAAAE=");
        assert_eq!(json["schemaVersion"], 1);
    }

    #[test]
    fn when_parsing_a_reconciler_message_should_use_the_idempotency_key_as_dedup_id() {
        let mut json = pubsub_json();
        json["source"] = "reconciler".into();
        let obj = json.as_object_mut().unwrap();
        obj.remove("eventId");
        obj.remove("replayId");
        let message = ProvisioningMessage::from_json(&json.to_string()).unwrap();
        assert_eq!(message.origin, MessageOrigin::Reconciler);
        assert_eq!(message.dedup_id(), "key-1");
        assert!(!message.to_json().contains("eventId"));
    }

    #[test]
    fn when_a_field_is_malformed_should_return_a_typed_error() {
        let cases: Vec<(&str, serde_json::Value, MessageError)> = vec![
            ("schemaVersion", 2.into(), MessageError::SchemaVersion(2)),
            (
                "orderId",
                "001000000000001".into(),
                MessageError::OrderId(TypedIdError::WrongObject {
                    object: "Order",
                    expected: "801",
                }),
            ),
            (
                "orderId",
                "801000000000001AAB".into(),
                MessageError::OrderId(TypedIdError::Id(SalesforceIdError::Checksum)),
            ),
            (
                "orderId",
                "8010000".into(),
                MessageError::OrderId(TypedIdError::Id(SalesforceIdError::Length(7))),
            ),
            (
                "idempotencyKey",
                "".into(),
                MessageError::Token {
                    field: "idempotencyKey",
                },
            ),
            (
                "correlationId",
                "has space".into(),
                MessageError::Token {
                    field: "correlationId",
                },
            ),
            ("requestedBy", " ".into(), MessageError::RequestedBy),
            ("replayId", "***".into(), MessageError::ReplayId),
            ("replayId", "".into(), MessageError::ReplayId),
        ];
        for (field, value, expected) in cases {
            let mut json = pubsub_json();
            json[field] = value;
            let error = ProvisioningMessage::from_json(&json.to_string())
                .expect_err("a malformed field is refused");
            // Debug shows every field of the typed error.
            assert_eq!(
                format!("{error:?}"),
                format!("{expected:?}"),
                "field {field}"
            );
        }
    }

    #[test]
    fn when_pubsub_fields_are_missing_or_extra_should_be_refused() {
        let mut json = pubsub_json();
        json.as_object_mut().unwrap().remove("eventId");
        assert!(matches!(
            ProvisioningMessage::from_json(&json.to_string()),
            Err(MessageError::SourceFields { .. })
        ));
        let mut json = pubsub_json();
        json["source"] = "reconciler".into();
        assert!(matches!(
            ProvisioningMessage::from_json(&json.to_string()),
            Err(MessageError::SourceFields { .. })
        ));
        assert!(matches!(
            ProvisioningMessage::from_json("{not json"),
            Err(MessageError::Json(_))
        ));
    }

    #[test]
    fn when_two_spellings_name_one_order_should_be_equal() {
        let short = OrderId::parse("801aB0000000XyZ").unwrap();
        let long = OrderId::parse(short.as_str()).unwrap();
        assert_eq!(short, long);
        assert_eq!(long.as_str().len(), 18);
    }
}
