//! A minimal AWS Lambda Runtime API on `127.0.0.1`, so that a real Lambda
//! binary (`lambda_runtime` / `lambda_http`) runs outside Lambda: point its
//! `AWS_LAMBDA_RUNTIME_API` at [`RuntimeApi::address`], queue events with
//! [`RuntimeApi::enqueue`], and read what the function posted back with
//! [`RuntimeApi::wait_for`].
//!
//! Served, as in the AWS documentation ("Using the Lambda runtime API for
//! custom runtimes"):
//! - `GET /2018-06-01/runtime/invocation/next`: long-polls the queue and hands
//!   out the next event with `Lambda-Runtime-Aws-Request-Id`,
//!   `Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn` and
//!   `Lambda-Runtime-Trace-Id`;
//! - `POST …/invocation/{id}/response` and `POST …/invocation/{id}/error`:
//!   202, or 400 `InvalidRequestID` for an id that is not awaiting an answer;
//!   bodies up to 6 MiB (413 beyond);
//! - `POST /2018-06-01/runtime/init/error`: 202, kept for [`RuntimeApi::init_error`].
//!
//! Every `GET …/next` is timestamped ([`RuntimeApi::next_polls`]), so a
//! benchmark can split a cold start into init (process start → first poll)
//! and the first invocation. [`event`] builds API Gateway HTTP API events and
//! reads the responses; [`process`] starts a function binary against the
//! emulator and reads its peak RSS. An event handed to a poller whose connection then
//! drops is lost, as it would be in Lambda (which times the invocation out).

pub mod event;
pub mod process;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

pub use event::{EventError, HttpApiEvent, HttpApiResponse};
pub use process::{FunctionProcess, Memory, ProcessError};

/// The path prefix of every Runtime API route.
pub const API_PREFIX: &str = "/2018-06-01/runtime";
/// The function ARN handed out with every invocation.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:ap-northeast-1:123456789012:function:portal-api";
/// The largest response or error body accepted (Lambda's synchronous limit).
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// The deadline given to an invocation queued with [`RuntimeApi::enqueue`].
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

/// `Lambda-Runtime-Aws-Request-Id`.
pub const REQUEST_ID_HEADER: &str = "lambda-runtime-aws-request-id";
/// `Lambda-Runtime-Deadline-Ms`.
pub const DEADLINE_HEADER: &str = "lambda-runtime-deadline-ms";
/// `Lambda-Runtime-Invoked-Function-Arn`.
pub const FUNCTION_ARN_HEADER: &str = "lambda-runtime-invoked-function-arn";
/// `Lambda-Runtime-Trace-Id`.
pub const TRACE_ID_HEADER: &str = "lambda-runtime-trace-id";
/// `Lambda-Runtime-Function-Error-Type`, sent by the function with errors.
pub const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";

/// The Runtime API cannot start, or an invocation was not answered in time.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeApiError {
    /// The listener cannot be bound.
    #[error("cannot bind the Runtime API on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No response or error was posted for the invocation in time.
    #[error("invocation {request_id} was not answered within {waited:?}")]
    Timeout {
        /// The invocation.
        request_id: String,
        /// How long [`RuntimeApi::wait_for`] waited.
        waited: Duration,
    },
}

/// What the function posted for one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `POST …/invocation/{id}/response`: the function's result.
    Response(Bytes),
    /// `POST …/invocation/{id}/error`.
    Error {
        /// `Lambda-Runtime-Function-Error-Type`, when sent.
        error_type: Option<String>,
        /// The error document (`{"errorType","errorMessage",…}`).
        body: Bytes,
    },
}

/// One answered invocation.
#[derive(Debug, Clone)]
pub struct Settled {
    /// The invocation's request id.
    pub request_id: String,
    /// What the function posted.
    pub outcome: Outcome,
    /// When the event was handed to the function.
    pub delivered_at: Instant,
    /// When the function's answer arrived.
    pub settled_at: Instant,
}

impl Settled {
    /// The API Gateway response, when the function answered (not errored).
    pub fn http_response(&self) -> Option<Result<HttpApiResponse, EventError>> {
        match &self.outcome {
            Outcome::Response(body) => Some(HttpApiResponse::parse(body)),
            Outcome::Error { .. } => None,
        }
    }
}

/// An initialisation error the function reported.
#[derive(Debug, Clone)]
pub struct InitError {
    /// `Lambda-Runtime-Function-Error-Type`, when sent.
    pub error_type: Option<String>,
    /// The error document.
    pub body: Bytes,
    /// When it arrived.
    pub at: Instant,
}

/// A queued invocation.
#[derive(Debug)]
struct Invocation {
    request_id: String,
    deadline: Duration,
    payload: Bytes,
}

#[derive(Debug, Default)]
struct Ledger {
    /// Handed out, not answered: request id → when it was handed out.
    pending: HashMap<String, Instant>,
    settled: HashMap<String, Settled>,
    polls: Vec<Instant>,
    init_error: Option<InitError>,
}

#[derive(Debug)]
struct Shared {
    queue: mpsc::UnboundedSender<Invocation>,
    /// One poller takes from the queue at a time (Lambda runs one per process).
    next: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    state: Mutex<Ledger>,
    settled: Notify,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, Ledger> {
        // The state stays consistent even if a holder panicked: every update is one insert.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running Runtime API. Dropping it stops the server.
#[derive(Debug)]
pub struct RuntimeApi {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl RuntimeApi {
    /// Binds `127.0.0.1:0` and serves on the current tokio runtime.
    pub async fn start() -> Result<Self, RuntimeApiError> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Binds `addr` and serves on the current tokio runtime.
    pub async fn bind(addr: SocketAddr) -> Result<Self, RuntimeApiError> {
        let bind_error = |source| RuntimeApiError::Bind { addr, source };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;
        let (queue, next) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue,
            next: tokio::sync::Mutex::new(next),
            state: Mutex::new(Ledger::default()),
            settled: Notify::new(),
        });
        let app = router(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the Lambda Runtime API emulator stopped");
            }
        });
        Ok(Self {
            shared,
            addr: local,
            task,
        })
    }

    /// `host:port`, the value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues `event` with the default deadline (30 s); returns its request id.
    pub fn enqueue(&self, event: &Value) -> String {
        self.enqueue_with_deadline(event, DEFAULT_DEADLINE)
    }

    /// Queues `event`, due `deadline` after it is handed out; returns its request id.
    pub fn enqueue_with_deadline(&self, event: &Value, deadline: Duration) -> String {
        let request_id = uuid::Uuid::new_v4().to_string();
        let invocation = Invocation {
            request_id: request_id.clone(),
            deadline,
            payload: Bytes::from(event.to_string()),
        };
        // The receiver lives in `shared`, as long as `self`: sending cannot fail.
        let _ = self.shared.queue.send(invocation);
        request_id
    }

    /// The answer to `request_id`, if it has arrived.
    pub fn settled(&self, request_id: &str) -> Option<Settled> {
        self.shared.state().settled.get(request_id).cloned()
    }

    /// Waits up to `timeout` for the answer to `request_id`.
    pub async fn wait_for(
        &self,
        request_id: &str,
        timeout: Duration,
    ) -> Result<Settled, RuntimeApiError> {
        let wait = async {
            loop {
                let notified = self.shared.settled.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if let Some(settled) = self.settled(request_id) {
                    return settled;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| RuntimeApiError::Timeout {
                request_id: request_id.to_owned(),
                waited: timeout,
            })
    }

    /// When each `GET …/invocation/next` arrived, oldest first.
    pub fn next_polls(&self) -> Vec<Instant> {
        self.shared.state().polls.clone()
    }

    /// The initialisation error the function reported, if any.
    pub fn init_error(&self) -> Option<InitError> {
        self.shared.state().init_error.clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(&format!("{API_PREFIX}/invocation/next"), get(next))
        .route(
            &format!("{API_PREFIX}/invocation/{{request_id}}/response"),
            post(response),
        )
        .route(
            &format!("{API_PREFIX}/invocation/{{request_id}}/error"),
            post(error),
        )
        .route(&format!("{API_PREFIX}/init/error"), post(init_error))
        .layer(DefaultBodyLimit::max(MAX_PAYLOAD_BYTES))
        .with_state(shared)
}

/// `Root=1-<epoch hex>-<24 hex>;Parent=<16 hex>;Sampled=0`, the X-Ray format.
fn trace_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        Utc::now().timestamp(),
        &id[..24],
        &parent[..16]
    )
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.state().polls.push(Instant::now());
    let invocation = {
        let mut queue = shared.next.lock().await;
        queue.recv().await
    };
    let Some(invocation) = invocation else {
        // The sender lives in `shared`: the queue never closes while we serve.
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    shared
        .state()
        .pending
        .insert(invocation.request_id.clone(), Instant::now());
    let deadline_ms = Utc::now().timestamp_millis()
        + i64::try_from(invocation.deadline.as_millis()).unwrap_or(i64::MAX / 2);
    let mut response = (StatusCode::OK, invocation.payload).into_response();
    let headers = response.headers_mut();
    let values = [
        (header::CONTENT_TYPE.as_str(), "application/json".to_owned()),
        (REQUEST_ID_HEADER, invocation.request_id),
        (DEADLINE_HEADER, deadline_ms.to_string()),
        (FUNCTION_ARN_HEADER, FUNCTION_ARN.to_owned()),
        (TRACE_ID_HEADER, trace_id()),
    ];
    for (name, value) in values {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

fn error_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(ERROR_TYPE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Records the answer to a pending invocation: 202, or 400 for an unknown id.
fn settle(shared: &Shared, request_id: String, outcome: Outcome) -> Response {
    let mut state = shared.state();
    let Some(delivered_at) = state.pending.remove(&request_id) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({
                "errorMessage": "Invalid request ID",
                "errorType": "InvalidRequestID",
            })),
        )
            .into_response();
    };
    state.settled.insert(
        request_id.clone(),
        Settled {
            request_id,
            outcome,
            delivered_at,
            settled_at: Instant::now(),
        },
    );
    drop(state);
    shared.settled.notify_waiters();
    accepted()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    settle(&shared, request_id, Outcome::Response(body))
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome = Outcome::Error {
        error_type: error_type(&headers),
        body,
    };
    settle(&shared, request_id, outcome)
}

async fn init_error(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.state().init_error = Some(InitError {
        error_type: error_type(&headers),
        body,
        at: Instant::now(),
    });
    accepted()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(api: &RuntimeApi, path: &str) -> String {
        format!("http://{}{API_PREFIX}{path}", api.address())
    }

    #[tokio::test]
    async fn when_an_event_is_queued_should_hand_it_out_with_the_runtime_headers_and_record_the_response()
     {
        let api = RuntimeApi::start().await.unwrap();
        let http = reqwest::Client::new();
        let event = HttpApiEvent::get("/health").to_json();
        let id = api.enqueue(&event);

        let next = http
            .get(url(&api, "/invocation/next"))
            .send()
            .await
            .unwrap();
        assert_eq!(next.status(), 200);
        let headers = next.headers().clone();
        assert_eq!(headers[REQUEST_ID_HEADER], id.as_str());
        assert_eq!(headers[FUNCTION_ARN_HEADER], FUNCTION_ARN);
        assert!(
            headers[TRACE_ID_HEADER]
                .to_str()
                .unwrap()
                .starts_with("Root=1-")
        );
        let deadline: i64 = headers[DEADLINE_HEADER].to_str().unwrap().parse().unwrap();
        assert!(deadline > Utc::now().timestamp_millis());
        assert_eq!(next.json::<Value>().await.unwrap(), event);
        assert!(api.settled(&id).is_none());

        let answer = r#"{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"status\":\"ok\"}","isBase64Encoded":false}"#;
        let posted = http
            .post(url(&api, &format!("/invocation/{id}/response")))
            .body(answer)
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 202);
        let settled = api.wait_for(&id, Duration::from_secs(5)).await.unwrap();
        assert!(settled.settled_at >= settled.delivered_at);
        let response = settled.http_response().unwrap().unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.json().unwrap(), json!({"status": "ok"}));
        assert_eq!(api.next_polls().len(), 1);

        // Answering twice, or an id never handed out, is refused.
        for id in [id.as_str(), "not-an-invocation"] {
            let again = http
                .post(url(&api, &format!("/invocation/{id}/response")))
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 400);
        }
    }

    #[tokio::test]
    async fn when_the_queue_is_empty_should_hold_the_poll_until_an_event_arrives() {
        let api = RuntimeApi::start().await.unwrap();
        let poll = tokio::spawn(
            reqwest::Client::new()
                .get(url(&api, "/invocation/next"))
                .send(),
        );
        while api.next_polls().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(!poll.is_finished());
        let id = api.enqueue(&json!({"n": 1}));
        let next = poll.await.unwrap().unwrap();
        assert_eq!(next.headers()[REQUEST_ID_HEADER], id.as_str());
    }

    #[tokio::test]
    async fn when_the_function_fails_should_record_invocation_and_init_errors() {
        let api = RuntimeApi::start().await.unwrap();
        let http = reqwest::Client::new();
        let id = api.enqueue(&json!({}));
        http.get(url(&api, "/invocation/next"))
            .send()
            .await
            .unwrap();
        let failed = http
            .post(url(&api, &format!("/invocation/{id}/error")))
            .header(ERROR_TYPE_HEADER, "Runtime.Unhandled")
            .body(r#"{"errorType":"Boom","errorMessage":"it broke"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(failed.status(), 202);
        let settled = api.wait_for(&id, Duration::from_secs(5)).await.unwrap();
        assert!(settled.http_response().is_none());
        let Outcome::Error { error_type, body } = settled.outcome else {
            panic!("expected an error outcome");
        };
        assert_eq!(error_type.as_deref(), Some("Runtime.Unhandled"));
        assert!(String::from_utf8_lossy(&body).contains("it broke"));

        assert!(api.init_error().is_none());
        let init = http
            .post(url(&api, "/init/error"))
            .header(ERROR_TYPE_HEADER, "Runtime.InitError")
            .body(r#"{"errorType":"Config","errorMessage":"SF_LOGIN_URL is not set"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(init.status(), 202);
        let init = api.init_error().unwrap();
        assert_eq!(init.error_type.as_deref(), Some("Runtime.InitError"));
    }

    #[tokio::test]
    async fn when_no_answer_comes_should_time_out_naming_the_invocation() {
        let api = RuntimeApi::start().await.unwrap();
        let id = api.enqueue(&json!({}));
        let err = api
            .wait_for(&id, Duration::from_millis(20))
            .await
            .unwrap_err();
        assert!(err.to_string().contains(&id), "{err}");
    }

    #[tokio::test]
    async fn when_a_body_exceeds_six_mib_should_answer_413() {
        let api = RuntimeApi::start().await.unwrap();
        let http = reqwest::Client::new();
        let id = api.enqueue(&json!({}));
        http.get(url(&api, "/invocation/next"))
            .send()
            .await
            .unwrap();
        let big = vec![b'x'; MAX_PAYLOAD_BYTES + 1];
        let refused = http
            .post(url(&api, &format!("/invocation/{id}/response")))
            .body(big)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 413);
        assert!(api.settled(&id).is_none());
    }
}
