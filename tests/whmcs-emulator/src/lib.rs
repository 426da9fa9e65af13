//! An emulated WHMCS External API over real HTTP, as strict as WHMCS and
//! stricter where WHMCS silently accepts a client's mistake.
//!
//! `POST /includes/api.php` takes the form-encoded parameters WHMCS takes and
//! answers `responsetype=json`. It keeps clients, orders, services and
//! invoice ids in memory, seeds the product catalog of `README.md`, and lets
//! tests inject faults (a call that commits and then never answers, a 500
//! with an HTML page, latency), watch them fire ([`WhmcsEmulator::spent_faults`])
//! and read counters.
//!
//! ```no_run
//! # async fn demo() -> Result<(), whmcs_emulator::EmulatorError> {
//! use whmcs_emulator::{WhmcsEmulator, WhmcsEmulatorConfig, WhmcsFault};
//! let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default()).await?;
//! whmcs.inject(WhmcsFault::timeout_after_commit("AddOrder"));
//! let url = whmcs.api_url();
//! # let _ = url; Ok(()) }
//! ```

mod api;
pub mod catalog;
mod control;
pub mod form;
pub mod php;
mod state;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State as AxumState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use api::{ACTIONS, DEFAULT_PAGE, canonical_action};
pub use catalog::{
    CATALOG, DATA_PLAN_OPTION_ID, FIXED_IP_OPTION_ID, Product, REGION_OPTION_ID,
    SALESFORCE_ORDER_ID_FIELD_NAME, SPEED_OPTION_ID, VOICE_OPTION_ID, find_product,
    salesforce_order_id_field,
};
pub use state::{ClientRecord, OrderRecord, OrderStatus, ServiceRecord, ServiceStatus, WhmcsFault};

use crate::api::{ActionContext, Reply};
use crate::form::Params;
use crate::state::State;

/// The path WHMCS serves its API on.
pub const API_PATH: &str = "/includes/api.php";

/// The emulated server's time zone, as hours east of UTC (Asia/Tokyo). Real
/// WHMCS writes dates (GetOrders' `date`) in its server's local time and names
/// no zone, so a client must not read them as UTC; a zone other than UTC here
/// keeps clients honest about that.
pub const SERVER_UTC_OFFSET_HOURS: i64 = 9;

/// How the emulator is started.
#[derive(Debug, Clone)]
pub struct WhmcsEmulatorConfig {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub bind: SocketAddr,
    /// API credential identifier the emulator accepts.
    pub identifier: String,
    /// API credential secret the emulator accepts.
    pub secret: String,
    /// When set, every call must carry this `accesskey` (as when the caller's
    /// IP is not on WHMCS's allow-list).
    pub access_key: Option<String>,
    /// Active payment gateways (system names).
    pub payment_methods: Vec<String>,
    /// Seed the product catalog; without it every product id is unknown.
    pub seed: bool,
}

impl Default for WhmcsEmulatorConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            identifier: "local".to_owned(),
            secret: "local".to_owned(),
            access_key: None,
            payment_methods: vec!["banktransfer".to_owned()],
            seed: true,
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listening socket could not be bound.
    #[error("cannot bind the WHMCS emulator to {addr}")]
    Bind {
        /// Requested address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug)]
struct Shared {
    config: WhmcsEmulatorConfig,
    state: Mutex<State>,
    shutdown: watch::Receiver<bool>,
    /// Every one-shot fault spent so far, oldest first.
    spent: watch::Sender<Vec<SpentFault>>,
    observing: AtomicBool,
    observed: Mutex<Vec<ObservedCall>>,
}

/// A one-shot fault as a call spent it: the fault, and what WHMCS did and
/// would have answered (the JSON the client never read whole, for a fault
/// after commit; `null` for a fault that did nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct SpentFault {
    /// The fault.
    pub fault: WhmcsFault,
    /// The answer behind it (e.g. AddOrder's `orderid` and `serviceids`).
    pub answer: serde_json::Value,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn spend(&self, fault: &WhmcsFault, answer: serde_json::Value) {
        self.spent.send_modify(|spent| {
            spent.push(SpentFault {
                fault: fault.clone(),
                answer,
            });
        });
    }
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct WhmcsEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WhmcsEmulator {
    /// Binds and starts serving in the background.
    ///
    /// # Errors
    /// [`EmulatorError::Bind`] when the address cannot be bound.
    pub async fn start(config: WhmcsEmulatorConfig) -> Result<Self, EmulatorError> {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: config.bind,
                source,
            })?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State::new()),
            shutdown: shutdown_rx.clone(),
            spent: watch::Sender::new(Vec::new()),
            observing: AtomicBool::new(false),
            observed: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route(API_PATH, post(handle))
            .nest("/_emulator", control::router())
            .with_state(Arc::clone(&shared));
        let mut stop = shutdown_rx;
        let task = tokio::spawn(async move {
            let server = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                // An error means the sender is gone: shut down as well.
                let _ = stop.wait_for(|stopped| *stopped).await;
            });
            if let Err(error) = server.await {
                tracing::error!(%error, "WHMCS emulator server failed");
            }
        });
        tracing::info!(%addr, "WHMCS emulator listening");
        Ok(Self {
            addr,
            shared,
            shutdown,
            task,
        })
    }

    /// The address the emulator listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API URL (`http://127.0.0.1:PORT/includes/api.php`).
    #[must_use]
    pub fn api_url(&self) -> String {
        format!("http://{}{API_PATH}", self.addr)
    }

    /// Arms a fault (see [`WhmcsFault`]).
    pub fn inject(&self, fault: WhmcsFault) {
        self.shared.state().inject(fault);
    }

    /// Disarms every fault, including latency.
    pub fn clear_faults(&self) {
        self.shared.state().clear_faults();
    }

    /// The one-shot faults spent so far, oldest first, as a watch: a test can
    /// wait for a fault to fire and act at once (while the client is still
    /// waiting for an answer that will not come).
    #[must_use]
    pub fn spent_faults(&self) -> watch::Receiver<Vec<SpentFault>> {
        self.shared.spent.subscribe()
    }

    /// How many requests named `action` (case-insensitive) arrived, whatever their outcome.
    #[must_use]
    pub fn calls(&self, action: &str) -> u64 {
        self.shared
            .state()
            .calls
            .get(&action.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// Switches the bench observation point on or off: while on, every call's
    /// action, arrival and answer time is noted ([`WhmcsEmulator::observed`]).
    pub fn observe(&self, on: bool) {
        self.shared.observing.store(on, Ordering::Relaxed);
    }

    /// The calls observed so far, in order of answer.
    #[must_use]
    pub fn observed(&self) -> Vec<ObservedCall> {
        self.shared
            .observed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many orders AddOrder created.
    #[must_use]
    pub fn orders_created(&self) -> u64 {
        self.shared.state().orders_created
    }

    /// How many clients AddClient created.
    #[must_use]
    pub fn clients_created(&self) -> u64 {
        self.shared.state().clients_created
    }

    /// Every order, oldest first.
    #[must_use]
    pub fn orders(&self) -> Vec<OrderRecord> {
        self.shared.state().orders.clone()
    }

    /// Every service, oldest first.
    #[must_use]
    pub fn services(&self) -> Vec<ServiceRecord> {
        self.shared.state().services.clone()
    }

    /// Every client, oldest first.
    #[must_use]
    pub fn clients(&self) -> Vec<ClientRecord> {
        self.shared.state().clients.clone()
    }

    /// Services whose custom field `field_id` equals `value`.
    #[must_use]
    pub fn find_services_by_custom_field(&self, field_id: u32, value: &str) -> Vec<ServiceRecord> {
        self.shared
            .state()
            .services
            .iter()
            .filter(|s| s.custom_fields.get(&field_id).is_some_and(|v| v == value))
            .cloned()
            .collect()
    }

    /// What staff do by hand in WHMCS's admin area to complete an order WHMCS
    /// made without every line: a service of product `pid` (monthly, pending)
    /// added to order `order_id`, with its custom field values by field id.
    /// Returns the new service's id; `None` when the order does not exist.
    pub fn add_service_by_hand(
        &self,
        order_id: u64,
        pid: u32,
        custom_fields: std::collections::BTreeMap<u32, String>,
    ) -> Option<u64> {
        let mut state = self.shared.state();
        let client_id = state.orders.iter().find(|o| o.id == order_id)?.client_id;
        let id = state.next_service_id;
        state.next_service_id += 1;
        state.services.push(ServiceRecord {
            id,
            order_id,
            client_id,
            pid,
            billing_cycle: "monthly".to_owned(),
            status: ServiceStatus::Pending,
            custom_fields,
            config_options: std::collections::BTreeMap::new(),
        });
        if let Some(order) = state.orders.iter_mut().find(|o| o.id == order_id) {
            order.service_ids.push(id);
        }
        Some(id)
    }

    /// Stops serving and waits for the server to finish. Held responses are released.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        // A join error only means the task panicked or was aborted: nothing to report.
        let _ = task.await;
    }
}

impl Drop for WhmcsEmulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.task.abort();
    }
}

const HTML_500: &str = "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n<body><h1>Oops! Something went wrong.</h1><p>A fatal error occurred. Please check the WHMCS system logs.</p></body></html>\n";
const HTML_WAF: &str = "<!DOCTYPE html>\n<html><head><title>Attention Required!</title></head>\n<body><h1>Sorry, you have been blocked</h1><p>This website is using a security service to protect itself from online attacks.</p></body></html>\n";

fn json_reply(reply: Reply) -> Response {
    (reply.status, axum::Json(reply.body)).into_response()
}

fn html(status: StatusCode, page: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

/// One API call, as observed (see [`WhmcsEmulator::observe`]).
#[derive(Debug, Clone)]
pub struct ObservedCall {
    /// The `action` parameter.
    pub action: String,
    /// When the request reached the handler.
    pub arrived: Instant,
    /// When the handler had its answer (injected latency and work included).
    pub answered: Instant,
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !shared.observing.load(Ordering::Relaxed) {
        return answer(&shared, peer, &headers, &body).await;
    }
    let arrived = Instant::now();
    let response = answer(&shared, peer, &headers, &body).await;
    let answered = Instant::now();
    let action = Params::parse(&body)
        .ok()
        .and_then(|p| p.scalar("action").map(str::to_owned))
        .unwrap_or_default();
    shared
        .observed
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(ObservedCall {
            action,
            arrived,
            answered,
        });
    response
}

async fn answer(shared: &Shared, peer: SocketAddr, headers: &HeaderMap, body: &Bytes) -> Response {
    let arrived = Instant::now();
    // PHP only fills $_POST from a form body: anything else has no credentials.
    let params = if is_form(headers) {
        match Params::parse(body) {
            Ok(params) => params,
            Err(error) => {
                return json_reply(Reply::error_with_status(
                    StatusCode::BAD_REQUEST,
                    error.to_string(),
                ));
            }
        }
    } else {
        Params::default()
    };
    let action = params.scalar("action").unwrap_or_default().to_owned();
    let latency = {
        let mut state = shared.state();
        *state.calls.entry(action.to_ascii_lowercase()).or_insert(0) += 1;
        state.latency()
    };
    if let Some(delay) = latency {
        wait_out(arrived, delay).await;
    }
    let config = &shared.config;
    if let Some(key) = &config.access_key
        && params.scalar("accesskey") != Some(key.as_str())
    {
        return json_reply(Reply::error_with_status(
            StatusCode::FORBIDDEN,
            format!("Invalid IP {}", peer.ip()),
        ));
    }
    if params.scalar("identifier") != Some(config.identifier.as_str())
        || params.scalar("secret") != Some(config.secret.as_str())
    {
        return json_reply(Reply::error_with_status(
            StatusCode::FORBIDDEN,
            "Authentication Failed",
        ));
    }
    if params.scalar("responsetype") != Some("json") {
        return json_reply(Reply::error_with_status(
            StatusCode::BAD_REQUEST,
            "This emulator answers JSON only: send responsetype=json (WHMCS would answer XML)",
        ));
    }
    let Some(action) = canonical_action(&action) else {
        return json_reply(Reply::error("Command Not Found"));
    };
    let (reply, fault) = {
        let mut state = shared.state();
        let fault = state.take_fault(action);
        match &fault {
            Some(fault @ WhmcsFault::ServerError { .. }) => {
                shared.spend(fault, serde_json::Value::Null);
                return html(StatusCode::INTERNAL_SERVER_ERROR, HTML_500);
            }
            Some(fault @ WhmcsFault::HtmlBody { .. }) => {
                shared.spend(fault, serde_json::Value::Null);
                return html(StatusCode::OK, HTML_WAF);
            }
            _ => {}
        }
        let ctx = ActionContext {
            payment_methods: &config.payment_methods,
            seed: config.seed,
            drop_last_line: matches!(
                fault,
                Some(WhmcsFault::IncompleteOrder | WhmcsFault::IncompleteOrderThenDrop)
            ),
        };
        let reply = api::run(action, &params, &mut state, &ctx);
        if let Some(fault) = &fault {
            shared.spend(fault, reply.body.clone());
        }
        (reply, fault)
    };
    match fault {
        Some(WhmcsFault::TimeoutAfterCommit { .. }) => {
            tracing::info!(action, "fault: committed, holding the response");
            let mut stop = shared.shutdown.clone();
            tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => {}
                () = tokio::time::sleep(Duration::from_secs(600)) => {}
            }
            json_reply(reply)
        }
        Some(WhmcsFault::StallAfterCommit { delay, .. }) => {
            tracing::info!(action, ?delay, "fault: committed, answering late");
            let mut stop = shared.shutdown.clone();
            tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => {}
                () = tokio::time::sleep(delay) => {}
            }
            json_reply(reply)
        }
        Some(WhmcsFault::DropAfterCommit { .. } | WhmcsFault::IncompleteOrderThenDrop) => {
            tracing::info!(action, "fault: committed, cutting the connection");
            let stream = broken_body();
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        _ => json_reply(reply),
    }
}

/// Waits until `latency` after `since`, to within microseconds. tokio's timer
/// rounds a deadline up to the next millisecond and wakes on a millisecond
/// tick, so a plain `sleep(latency)` lasts about 1 ms longer than asked, and
/// every emulated call with it: a latency bench would count that as the
/// caller's own time. So: sleep to 1 ms short of the deadline, then yield
/// until it is due.
async fn wait_out(since: Instant, latency: Duration) {
    let due = since + latency;
    if let Some(coarse) = latency.checked_sub(Duration::from_millis(1)) {
        tokio::time::sleep_until((since + coarse).into()).await;
    }
    while Instant::now() < due {
        tokio::task::yield_now().await;
    }
}

/// A body stream that sends a fragment and then fails, which makes hyper
/// abort the connection mid-body.
fn broken_body() -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures::stream::iter([
        Ok(Bytes::from_static(b"{\"result\":\"succ")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fault: connection dropped after commit",
        )),
    ])
}
