//! The org's Pub/Sub API face: a gRPC server for `eventbus.v1.PubSub` over the
//! org's [`EventBus`](crate::EventBus), on its own port beside the REST one.
//!
//! - `service`: `GetTopic`, `GetSchema`, `Subscribe` and the auth metadata checks;
//! - `stream`: one `Subscribe` stream (owed count capped at 100, keepalives,
//!   idle close, the fault switches);
//! - [`avro`]: the events' Avro payloads;
//! - [`PubSubFaults`]: drop every stream, go silent, refuse the next subscriptions;
//! - [`PubSubStats`]: the counters tests assert on (also `GET /_emulator/pubsub/stats`);
//! - `tls`: the TLS option (`EmulatorConfig::pubsub_tls`), a self-signed
//!   certificate for `localhost` and `127.0.0.1` made at start.
//!
//! Plaintext by default; over TLS when `pubsub_tls` is on.

pub mod avro;
mod service;
mod stream;
mod tls;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use salesforce::pubsub::proto::pub_sub_server::PubSubServer;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;

use crate::events::{EventPayload, PublishedEvent};
use crate::server::{Shared, lock};

pub use avro::UNDECODABLE_PAYLOAD;
pub use tls::PubSubTlsError;
pub(crate) use tls::SelfSigned;

/// The Pub/Sub faults, armed through [`crate::Fault`]; part of the org's faults.
#[derive(Debug, Default)]
pub struct PubSubFaults {
    /// Bumped to end every open `Subscribe` stream with `UNAVAILABLE`.
    drops: watch::Sender<u64>,
    /// While true, open streams send nothing at all (no events, no keepalives).
    silent: watch::Sender<bool>,
    /// `Subscribe` calls still to refuse with `UNAVAILABLE`.
    unavailable: AtomicU32,
    /// `Subscribe` calls still to refuse with the corrupted-replay error.
    corrupted: AtomicU32,
}

impl PubSubFaults {
    /// Ends every open `Subscribe` stream now.
    pub fn drop_streams(&self) {
        self.drops.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Makes open and new streams silent (or speaking again).
    pub fn set_silent(&self, silent: bool) {
        self.silent.send_replace(silent);
    }

    /// Refuses the next `n` `Subscribe` calls with `UNAVAILABLE`.
    pub fn refuse_subscriptions(&self, n: u32) {
        self.unavailable.fetch_add(n, Ordering::SeqCst);
    }

    /// Refuses the next `n` `Subscribe` calls with the corrupted-replay error,
    /// whatever their replay preset.
    pub fn refuse_as_corrupted(&self, n: u32) {
        self.corrupted.fetch_add(n, Ordering::SeqCst);
    }

    /// Disarms silence and refusals (dropped streams stay dropped).
    pub fn clear(&self) {
        self.set_silent(false);
        self.unavailable.store(0, Ordering::SeqCst);
        self.corrupted.store(0, Ordering::SeqCst);
    }

    fn take_refusal(&self) -> bool {
        take_one(&self.unavailable)
    }

    fn take_corrupted(&self) -> bool {
        take_one(&self.corrupted)
    }

    fn watch_drops(&self) -> watch::Receiver<u64> {
        self.drops.subscribe()
    }

    fn watch_silence(&self) -> watch::Receiver<bool> {
        self.silent.subscribe()
    }
}

/// Consumes one armed count, if any.
fn take_one(count: &AtomicU32) -> bool {
    count
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// The Pub/Sub counters of one org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PubSubStats {
    /// `Subscribe` calls received (refused ones included).
    pub subscribe_calls: u64,
    /// `Subscribe` streams open now.
    pub open_streams: u64,
    /// `GetTopic` calls received.
    pub get_topic_calls: u64,
    /// `GetSchema` calls received.
    pub get_schema_calls: u64,
    /// The largest owed count any stream ever had (at most 100).
    pub max_owed: u32,
    /// Streams closed because nothing was requested within the idle time.
    pub idle_closes: u64,
    /// Keepalive responses sent.
    pub keepalives: u64,
}

/// The Pub/Sub state of one org: counters and payload overrides.
#[derive(Debug, Default)]
pub struct PubSubState {
    subscribe_calls: AtomicU64,
    open_streams: AtomicU64,
    get_topic_calls: AtomicU64,
    get_schema_calls: AtomicU64,
    max_owed: AtomicU32,
    idle_closes: AtomicU64,
    keepalives: AtomicU64,
    /// Wire payloads that replace the Avro encoding of some events, by replay id.
    raw_payloads: Mutex<HashMap<[u8; 8], Vec<u8>>>,
}

impl PubSubState {
    /// The counters now.
    pub fn stats(&self) -> PubSubStats {
        PubSubStats {
            subscribe_calls: self.subscribe_calls.load(Ordering::SeqCst),
            open_streams: self.open_streams.load(Ordering::SeqCst),
            get_topic_calls: self.get_topic_calls.load(Ordering::SeqCst),
            get_schema_calls: self.get_schema_calls.load(Ordering::SeqCst),
            max_owed: self.max_owed.load(Ordering::SeqCst),
            idle_closes: self.idle_closes.load(Ordering::SeqCst),
            keepalives: self.keepalives.load(Ordering::SeqCst),
        }
    }

    /// The payload to send for `event`: its override, or its Avro encoding.
    fn payload(&self, event: &PublishedEvent) -> Result<Vec<u8>, avro::EncodeError> {
        if let Some(raw) = lock(&self.raw_payloads).get(&event.replay_id) {
            return Ok(raw.clone());
        }
        avro::encode(event)
    }
}

/// Publishes `payload` on the org's bus with `raw` as its wire payload instead of
/// its Avro encoding (the override is in place before any stream can send it).
pub(crate) fn publish_raw(shared: &Shared, payload: EventPayload, raw: Vec<u8>) -> PublishedEvent {
    let mut overrides = lock(&shared.pubsub.raw_payloads);
    let event = shared.events.publish(payload);
    overrides.insert(event.replay_id, raw);
    event
}

/// Serves the Pub/Sub API on `listener` until the task is aborted, over TLS with
/// `tls`'s certificate when given, else plaintext.
pub(crate) fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<&SelfSigned>,
) -> Result<JoinHandle<()>, PubSubTlsError> {
    let mut server = match tls {
        Some(tls) => tls.server()?,
        None => tonic::transport::Server::builder(),
    };
    let service = PubSubServer::new(service::PubSubService::new(shared));
    Ok(tokio::spawn(async move {
        // TCP_NODELAY on every accepted connection, as a gRPC server sets it
        // (tonic does on the listeners it binds itself, not on one handed to
        // it): without it an answer written in two pieces, such as a unary
        // `GetSchema`'s, waits for the client's delayed ACK (40 ms on Linux).
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let result = server
            .add_service(service)
            .serve_with_incoming(incoming)
            .await;
        if let Err(error) = result {
            tracing::error!(%error, "the emulator's Pub/Sub server stopped");
        }
    }))
}

/// The `/_emulator/pubsub` control routes.
pub(crate) fn control_router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/stats", get(stats))
        .route("/undecodable-event", post(undecodable_event))
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<PubSubStats> {
    Json(shared.pubsub.stats())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UndecodableEvent {
    order_id: String,
}

/// `POST /_emulator/pubsub/undecodable-event` `{"orderId":"801…"}`: publishes an
/// event for that Order whose payload is not Avro of the schema.
async fn undecodable_event(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<UndecodableEvent>(&body) {
        Ok(request) => {
            let payload = EventPayload::for_order(
                &request.order_id,
                &shared.admin_user_id,
                chrono::Utc::now(),
            );
            let event = publish_raw(&shared, payload, UNDECODABLE_PAYLOAD.to_vec());
            (
                StatusCode::CREATED,
                Json(json!({
                    "replayId": u64::from_be_bytes(event.replay_id),
                    "eventId": event.event_id,
                })),
            )
                .into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}
