//! The emulator's own control routes under `/_emulator` (no authentication, not
//! counted as API calls), so the runnable binary can be steered over HTTP:
//! faults, session expiry, counters and the published events.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::faults::{Fault, FaultSpec};
use crate::server::Shared;

/// The `/_emulator` routes.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/faults", post(inject).delete(clear))
        .route("/sessions/expire", post(expire_sessions))
        .route("/stats", get(stats))
        .route("/events", get(events))
}

async fn inject(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<FaultSpec>(&body) {
        Ok(spec) => {
            shared.inject(Fault::from(spec));
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn clear(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.faults.clear();
    StatusCode::NO_CONTENT
}

async fn expire_sessions(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.sessions.expire_all();
    StatusCode::NO_CONTENT
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({
        "apiCalls": shared.api_calls.load(Ordering::SeqCst),
        "tokenRequests": shared.token_requests.load(Ordering::SeqCst),
        "successfulLogins": shared.successful_logins.load(Ordering::SeqCst),
    }))
}

async fn events(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let events: Vec<Value> = shared
        .events
        .all()
        .into_iter()
        .map(|e| {
            json!({
                "replayId": u64::from_be_bytes(e.replay_id),
                "eventId": e.event_id,
                "schemaId": e.schema_id,
                "CreatedDate": e.created_date.timestamp_millis(),
                "CreatedById": e.created_by_id,
                "OrderId__c": e.order_id,
                "IdemKey__c": e.idem_key,
                "CorrelationId__c": e.correlation_id,
                "RequestedBy__c": e.requested_by,
                "Version__c": e.version,
            })
        })
        .collect();
    Json(json!({"events": events}))
}
