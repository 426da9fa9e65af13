//! The `DeadLetters` port: where the subscriber puts a platform event it
//! cannot turn into a provisioning message (an undecodable payload, no
//! `OrderId__c`, a message the queue refuses for good), with everything
//! needed to look at it or replay it by hand. Never dropped, never blocking.
//!
//! The JSON form (camelCase, one object):
//!
//! ```json
//! {
//!   "kind": "undeliverablePlatformEvent",
//!   "topic": "/event/OrderProvisionRequested__e",
//!   "eventId": "9b0c6d1e-…",
//!   "replayId": "AAAAAAAAAAE=",
//!   "schemaId": "Zq3…",
//!   "payload": "3q2+7w==",
//!   "payloadBytes": 4,
//!   "payloadTruncated": false,
//!   "error": "the payload is not Avro of its schema: …",
//!   "detectedAt": "2024-05-01T10:00:00.000Z"
//! }
//! ```
//!
//! `replayId` and `payload` are base64 of the bytes as received; `replayId`
//! is `null` when the event had none. A payload too large for the
//! destination is cut (`payloadTruncated: true`, `payloadBytes` keeps the
//! original length) rather than refused.

use std::future::Future;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, SecondsFormat, Utc};

use super::QueueError;
use crate::domain::ReplayId;

/// The `kind` of every dead letter this code writes.
pub const DEAD_LETTER_KIND: &str = "undeliverablePlatformEvent";

/// One platform event that could not be forwarded.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DeadLetter {
    /// The Pub/Sub topic it came from.
    pub topic: String,
    /// The event's id (`EventUuid`), as received (may be empty or malformed).
    pub event_id: String,
    /// The event's replay id, when it had one.
    pub replay_id: Option<ReplayId>,
    /// The schema id the payload names.
    pub schema_id: String,
    /// The payload exactly as received.
    pub payload: Vec<u8>,
    /// Why it could not be forwarded (the error and its causes).
    pub error: String,
    /// When the subscriber gave up on it.
    pub detected_at: DateTime<Utc>,
}

impl DeadLetter {
    /// The JSON body, with the payload cut so the body stays within
    /// `max_bytes` when it would not otherwise (never below an empty payload).
    pub fn to_json_within(&self, max_bytes: usize) -> String {
        let full = self.body(self.payload.len());
        if full.len() <= max_bytes {
            return full;
        }
        // Base64 grows by 4/3: keep what fits beside the rest of the body.
        let overhead = self.body(0).len();
        let room = max_bytes.saturating_sub(overhead);
        let keep = (room / 4 * 3).min(self.payload.len());
        self.body(keep)
    }

    /// The JSON body with the whole payload.
    pub fn to_json(&self) -> String {
        self.body(self.payload.len())
    }

    /// A deduplication id for FIFO destinations: the event id when it is a
    /// valid one (1–128 printable ASCII), else `replay-<hex>`, else `unknown`.
    pub fn dedup_id(&self) -> String {
        let id = self.event_id.as_str();
        if !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()) {
            return id.to_owned();
        }
        match &self.replay_id {
            Some(replay) => {
                let hex: String = replay
                    .as_bytes()
                    .iter()
                    .take(60)
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!("replay-{hex}")
            }
            None => "unknown".to_owned(),
        }
    }

    fn body(&self, keep: usize) -> String {
        let kept = &self.payload[..keep.min(self.payload.len())];
        serde_json::json!({
            "kind": DEAD_LETTER_KIND,
            "topic": self.topic,
            "eventId": self.event_id,
            "replayId": self.replay_id.as_ref().map(|r| BASE64.encode(r.as_bytes())),
            "schemaId": self.schema_id,
            "payload": BASE64.encode(kept),
            "payloadBytes": self.payload.len(),
            "payloadTruncated": kept.len() < self.payload.len(),
            "error": self.error,
            "detectedAt": self.detected_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        })
        .to_string()
    }
}

/// Takes dead letters.
pub trait DeadLetters: Send + Sync {
    /// Stores `letter`; `Ok` once the destination accepted it. A retryable
    /// [`QueueError`] is worth sending again; the caller does not move on
    /// until it is accepted.
    fn send(&self, letter: &DeadLetter) -> impl Future<Output = Result<(), QueueError>> + Send;
}

impl<T: DeadLetters> DeadLetters for Arc<T> {
    fn send(&self, letter: &DeadLetter) -> impl Future<Output = Result<(), QueueError>> + Send {
        (**self).send(letter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(payload: Vec<u8>) -> DeadLetter {
        DeadLetter {
            topic: "/event/OrderProvisionRequested__e".into(),
            event_id: "9b0c6d1e-0000-4000-8000-000000000001".into(),
            replay_id: ReplayId::new(vec![0, 0, 0, 0, 0, 0, 0, 1]),
            schema_id: "schema-1".into(),
            payload,
            error: "the payload is not Avro of its schema".into(),
            detected_at: DateTime::from_timestamp(1_714_557_600, 0).expect("valid timestamp"),
        }
    }

    #[test]
    fn when_serialised_should_carry_the_raw_payload_and_ids_in_base64() {
        let json: serde_json::Value =
            serde_json::from_str(&letter(vec![0xde, 0xad, 0xbe, 0xef]).to_json()).unwrap();
        assert_eq!(json["kind"], DEAD_LETTER_KIND);
        assert_eq!(json["payload"], "3q2+7w==");
        assert_eq!(json["replayId"], "AAAAAAAAAAE=");
        assert_eq!(json["payloadBytes"], 4);
        assert_eq!(json["payloadTruncated"], false);
        assert_eq!(json["detectedAt"], "2024-05-01T10:00:00.000Z");
    }

    #[test]
    fn when_too_large_should_cut_the_payload_to_fit() {
        let big = letter(vec![7; 10_000]);
        let body = big.to_json_within(2_000);
        assert!(body.len() <= 2_000, "{}", body.len());
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["payloadTruncated"], true);
        assert_eq!(json["payloadBytes"], 10_000);
        assert_eq!(big.to_json_within(1_000_000), big.to_json());
    }

    #[test]
    fn when_the_event_id_is_unusable_should_dedup_on_the_replay_id() {
        let mut l = letter(vec![]);
        assert_eq!(l.dedup_id(), "9b0c6d1e-0000-4000-8000-000000000001");
        l.event_id = "has space".into();
        assert_eq!(l.dedup_id(), "replay-0000000000000001");
        l.replay_id = None;
        assert_eq!(l.dedup_id(), "unknown");
    }
}
