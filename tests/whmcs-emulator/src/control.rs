//! The emulator's own control routes under `/_emulator` (no authentication), so
//! that a process outside the tests (portal-local, a campaign, curl) can arm the
//! same faults as [`crate::WhmcsEmulator::inject`]. The JSON shapes are the org
//! emulator's where the fault is the same, naming the action it hits:
//!
//! - `{"type":"commitThenStall","action":"AddOrder","millis":30000,"n":1}`: the
//!   next `n` calls of the action commit, then answer `millis` late;
//! - `{"type":"commitThenDrop","action":"AddOrder","n":1}`: … commit, then the
//!   connection is cut mid-answer;
//! - `{"type":"serverError","action":"AddOrder","n":1}`: HTTP 500 HTML page,
//!   nothing done; `{"type":"htmlBody","action":"GetClientsProducts","n":1}`:
//!   HTTP 200 HTML page (a WAF), nothing done;
//! - `{"type":"incompleteOrder","n":1}`: the next AddOrder drops its last line;
//!   `{"type":"incompleteOrderThenDrop","n":1}`: … and its connection is cut
//!   after the commit;
//! - `{"type":"latency","millis":200}`: every call waits, until cleared.
//!
//! `DELETE /_emulator/faults` clears them; `GET /_emulator/stats` answers
//! `{"calls":{"addorder":1,…},"ordersCreated","clientsCreated"}`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::api::canonical_action;
use crate::{Shared, WhmcsFault};

/// A fault as `POST /_emulator/faults` takes it.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
enum FaultSpec {
    CommitThenStall { action: String, millis: u64, n: u32 },
    CommitThenDrop { action: String, n: u32 },
    ServerError { action: String, n: u32 },
    HtmlBody { action: String, n: u32 },
    IncompleteOrder { n: u32 },
    IncompleteOrderThenDrop { n: u32 },
    Latency { millis: u64 },
}

impl FaultSpec {
    /// The faults to arm, or why the spec names no action the emulator has.
    fn faults(self) -> Result<Vec<WhmcsFault>, String> {
        let known = |action: &str| {
            canonical_action(action).ok_or_else(|| format!("unknown action {action:?}"))
        };
        let times = |n: u32, fault: WhmcsFault| vec![fault; n as usize];
        Ok(match self {
            Self::CommitThenStall { action, millis, n } => times(
                n,
                WhmcsFault::stall_after_commit(known(&action)?, Duration::from_millis(millis)),
            ),
            Self::CommitThenDrop { action, n } => {
                times(n, WhmcsFault::drop_after_commit(known(&action)?))
            }
            Self::ServerError { action, n } => times(n, WhmcsFault::server_error(known(&action)?)),
            Self::HtmlBody { action, n } => times(n, WhmcsFault::html_body(known(&action)?)),
            Self::IncompleteOrder { n } => times(n, WhmcsFault::IncompleteOrder),
            Self::IncompleteOrderThenDrop { n } => times(n, WhmcsFault::IncompleteOrderThenDrop),
            Self::Latency { millis } => vec![WhmcsFault::Latency(Duration::from_millis(millis))],
        })
    }
}

/// The `/_emulator` routes.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/faults", post(inject).delete(clear))
        .route("/stats", get(stats))
}

async fn inject(AxumState(shared): AxumState<Arc<Shared>>, body: Bytes) -> Response {
    let faults = serde_json::from_slice::<FaultSpec>(&body)
        .map_err(|e| e.to_string())
        .and_then(FaultSpec::faults);
    match faults {
        Ok(faults) => {
            let mut state = shared.state();
            for fault in faults {
                state.inject(fault);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response(),
    }
}

async fn clear(AxumState(shared): AxumState<Arc<Shared>>) -> StatusCode {
    shared.state().clear_faults();
    StatusCode::NO_CONTENT
}

async fn stats(AxumState(shared): AxumState<Arc<Shared>>) -> Json<serde_json::Value> {
    let state = shared.state();
    Json(json!({
        "calls": state.calls,
        "ordersCreated": state.orders_created,
        "clientsCreated": state.clients_created,
    }))
}
