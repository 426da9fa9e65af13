//! [`Emulator`]: a running emulated org — its HTTP server, its data, its
//! counters, its faults and its event bus — and the Rust API tests use.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::routing::{any, get, post};
use chrono::{DateTime, Utc};
use jsonwebtoken::DecodingKey;
use salesforce::schema::{self, ObjectDef};
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::config::EmulatorConfig;
use crate::error::{ApiError, EmulatorError};
use crate::events::EventBus;
use crate::faults::{Fault, Faults};
use crate::flow::OrderFlowSetup;
use crate::ids;
use crate::net::{Connection, KillableListener};
use crate::oauth::{self, Sessions};
use crate::observe::Observed;
use crate::pubsub::{self, PubSubState, PubSubStats};
use crate::rest::{self, QueryCursor};
use crate::store::{Actor, Role, Sequences, Store, Txn};
use crate::usage::ApiUsage;
use crate::{control, identity, seed};

/// The state shared by every request of one org.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: EmulatorConfig,
    pub base_url: String,
    pub integration_user_id: String,
    pub admin_user_id: String,
    pub decoding_key: DecodingKey,
    pub store: Mutex<Store>,
    pub sequences: Sequences,
    pub faults: Faults,
    pub events: EventBus,
    pub sessions: Sessions,
    pub cursors: Mutex<HashMap<String, QueryCursor>>,
    pub api_calls: AtomicU64,
    /// Calls counted against `daily_api_limit` over the rolling window.
    pub api_usage: ApiUsage,
    pub token_requests: AtomicU64,
    pub successful_logins: AtomicU64,
    pub pubsub: PubSubState,
    /// Bench observation points (off unless switched on).
    pub observed: Observed,
}

/// Locks a mutex, carrying on after a panic elsewhere (the guarded data stays consistent:
/// writes swap whole values).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Runs `work` in a transaction as `actor`; commits (swaps the data in and publishes
    /// the flow's events) when `work` says so. Requests are serialised on the store.
    pub fn transact<T>(&self, actor: Actor, work: impl FnOnce(&mut Txn<'_>) -> (T, bool)) -> T {
        self.transact_as_of(actor, Utc::now(), self.config.order_flow, work)
    }

    /// [`Self::transact`] as if it ran at `now`, with the Order Approval Flow set up as `order_flow`.
    fn transact_as_of<T>(
        &self,
        actor: Actor,
        now: DateTime<Utc>,
        order_flow: OrderFlowSetup,
        work: impl FnOnce(&mut Txn<'_>) -> (T, bool),
    ) -> T {
        let mut store = lock(&self.store);
        let mut txn = Txn::new(store.clone(), &self.sequences, &self.faults, actor, now)
            .with_gaps(&self.config.schema_gaps)
            .with_order_flow(order_flow);
        let (out, commit) = work(&mut txn);
        if commit {
            let (data, events) = txn.into_parts();
            *store = data;
            for event in events {
                let event = self.events.publish(event);
                self.observed.published(&event.order_id, &event.event_id);
            }
            self.observed.committed();
        }
        out
    }

    /// Arms a fault; [`Fault::RevokeSessions`] revokes every access token now.
    pub fn inject(&self, fault: Fault) {
        if matches!(fault, Fault::RevokeSessions) {
            tracing::info!("fault: every session revoked");
            self.sessions.expire_all();
        }
        self.faults.inject(fault);
    }

    /// Who a token belongs to: the staff user for the static admin token, else the
    /// user of a live OAuth session (the integration user).
    pub fn actor_of_token(&self, token: &str) -> Option<Actor> {
        if self
            .config
            .admin_token
            .as_deref()
            .is_some_and(|t| t == token)
        {
            return Some(self.staff_actor());
        }
        self.sessions.user_of(token).map(|user_id| Actor {
            user_id,
            role: Role::Integration,
        })
    }

    /// The identity URL of a user (the `id` of the token answer).
    pub fn identity_url(&self, user_id: &str) -> String {
        format!("{}/id/{}/{user_id}", self.base_url, self.config.org_id)
    }

    /// The staff user behind the admin token, who also performs the Rust API's writes.
    pub fn staff_actor(&self) -> Actor {
        Actor {
            user_id: self.admin_user_id.clone(),
            role: Role::Staff,
        }
    }
}

/// A running emulated org. Dropping it stops its HTTP server.
#[derive(Debug)]
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: JoinHandle<()>,
    pubsub_addr: SocketAddr,
    pubsub_task: JoinHandle<()>,
    /// The self-signed certificate (PEM) in TLS mode.
    pubsub_ca_pem: Option<String>,
}

impl Emulator {
    /// Binds, spawns the HTTP server on the current tokio runtime and returns once it accepts connections.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        if !config.org_id.starts_with("00D")
            || ids::normalize(&config.org_id).as_deref() != Some(config.org_id.as_str())
        {
            return Err(EmulatorError::OrgId(config.org_id.clone()));
        }
        let decoding_key = DecodingKey::from_rsa_pem(config.public_key_pem.as_bytes())
            .map_err(EmulatorError::PublicKey)?;
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
        let base_url = format!("http://{addr}");
        let pubsub_bind = |source| EmulatorError::Bind {
            addr: config.pubsub_bind,
            source,
        };
        let pubsub_listener = tokio::net::TcpListener::bind(config.pubsub_bind)
            .await
            .map_err(pubsub_bind)?;
        let pubsub_addr = pubsub_listener.local_addr().map_err(pubsub_bind)?;
        let pubsub_tls = if config.pubsub_tls {
            Some(pubsub::SelfSigned::generate()?)
        } else {
            None
        };
        let sequences = Sequences::default();
        let faults = Faults::default();
        let mut store = Store::default();
        let users = seed::seed(&mut store, &sequences, &faults, &config)?;
        let shared = Arc::new(Shared {
            events: EventBus::new(config.event_retention),
            sessions: Sessions::default(),
            base_url,
            integration_user_id: users.integration,
            admin_user_id: users.staff,
            decoding_key,
            store: Mutex::new(store),
            sequences,
            faults,
            cursors: Mutex::new(HashMap::new()),
            api_calls: AtomicU64::new(0),
            api_usage: ApiUsage::new(config.api_usage_window),
            token_requests: AtomicU64::new(0),
            successful_logins: AtomicU64::new(0),
            pubsub: PubSubState::default(),
            observed: Observed::default(),
            config,
        });
        let pubsub_task = pubsub::serve(pubsub_listener, shared.clone(), pubsub_tls.as_ref())?;
        let app = router(shared.clone());
        let task = tokio::spawn(async move {
            let listener = KillableListener(listener);
            let service = app.into_make_service_with_connect_info::<Connection>();
            if let Err(error) = axum::serve(listener, service).await {
                tracing::error!(%error, "the emulator's HTTP server stopped");
            }
        });
        tracing::info!(base_url = %shared.base_url, pubsub = %pubsub_addr, pubsub_tls = pubsub_tls.is_some(), org_id = %shared.config.org_id, "Salesforce emulator listening");
        Ok(Emulator {
            shared,
            addr,
            task,
            pubsub_addr,
            pubsub_task,
            pubsub_ca_pem: pubsub_tls.map(|tls| tls.cert_pem().to_owned()),
        })
    }

    /// Stops the HTTP and gRPC servers and ends the Pub/Sub streams now (as dropping does).
    pub fn shutdown(self) {
        drop(self);
    }

    /// The Pub/Sub API endpoint: plaintext gRPC, e.g. `http://127.0.0.1:41235`, or in
    /// TLS mode `https://localhost:41235` (the name the certificate is made for).
    pub fn pubsub_url(&self) -> String {
        if self.pubsub_ca_pem.is_some() {
            format!("https://localhost:{}", self.pubsub_addr.port())
        } else {
            format!("http://{}", self.pubsub_addr)
        }
    }

    /// In TLS mode, the Pub/Sub server's self-signed certificate (PEM): the one root a
    /// client must trust. `None` in plaintext mode.
    pub fn pubsub_ca_pem(&self) -> Option<String> {
        self.pubsub_ca_pem.clone()
    }

    /// The Pub/Sub counters (calls, open streams, the largest owed count…).
    pub fn pubsub_stats(&self) -> PubSubStats {
        self.shared.pubsub.stats()
    }

    /// Publishes an `OrderProvisionRequested__e` for `order_id` whose Pub/Sub payload is
    /// [`pubsub::UNDECODABLE_PAYLOAD`], not Avro of the schema (for dead-letter tests).
    pub fn publish_undecodable(&self, order_id: &str) -> crate::PublishedEvent {
        let payload =
            crate::EventPayload::for_order(order_id, &self.shared.admin_user_id, Utc::now());
        pubsub::publish_raw(&self.shared, payload, pubsub::UNDECODABLE_PAYLOAD.to_vec())
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`; also the token endpoint's `instance_url`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration the org was started with.
    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.config
    }

    /// The 18-character org id.
    pub fn org_id(&self) -> String {
        self.shared.config.org_id.clone()
    }

    /// The `005` id of the integration user (`config.username`).
    pub fn integration_user_id(&self) -> String {
        self.shared.integration_user_id.clone()
    }

    /// The `005` id of the staff user behind the admin token.
    pub fn admin_user_id(&self) -> String {
        self.shared.admin_user_id.clone()
    }

    /// Switches the bench observation points on or off (see [`Observed`]).
    pub fn observe(&self, on: bool) -> &Observed {
        self.shared.observed.switch(on);
        &self.shared.observed
    }

    /// What was observed (see [`Emulator::observe`]).
    pub fn observed(&self) -> &Observed {
        &self.shared.observed
    }

    /// REST API calls counted as Salesforce counts them (a composite is one).
    pub fn api_calls(&self) -> u64 {
        self.shared.api_calls.load(Ordering::SeqCst)
    }

    /// POSTs to the OAuth token endpoint, successful or not.
    pub fn token_requests(&self) -> u64 {
        self.shared.token_requests.load(Ordering::SeqCst)
    }

    /// Access tokens issued.
    pub fn successful_logins(&self) -> u64 {
        self.shared.successful_logins.load(Ordering::SeqCst)
    }

    /// Arms a fault.
    pub fn inject(&self, fault: Fault) {
        self.shared.inject(fault);
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Invalidates every access token issued so far.
    pub fn expire_all_sessions(&self) {
        self.shared.sessions.expire_all();
    }

    /// Creates a record as the staff user, bypassing the API (no call counted) but with the
    /// same validation and the same Order Approval Flow. Returns the 18-character id.
    pub fn insert(&self, object: &str, fields: Value) -> Result<String, EmulatorError> {
        let object = object_def(object)?;
        let body = body_map(fields)?;
        let result = self.shared.transact(self.shared.staff_actor(), |txn| {
            let result = txn.create(object, &body);
            let ok = result.is_ok();
            (result, ok)
        });
        Ok(result?)
    }

    /// Creates a record without required-field, content, reference, uniqueness or Order
    /// checks (JSON types are still checked): for states the API cannot reach, such as
    /// legacy duplicates of an external id (which make an upsert answer 300).
    pub fn insert_unchecked(&self, object: &str, fields: Value) -> Result<String, EmulatorError> {
        let object = object_def(object)?;
        let body = body_map(fields)?;
        let result = self.shared.transact(self.shared.staff_actor(), |txn| {
            let result = txn.insert_unchecked(object, &body);
            let ok = result.is_ok();
            (result, ok)
        });
        Ok(result?)
    }

    /// Creates records as the org has held them since `at`, history older than
    /// the test (Orders approved long ago, say): in one transaction, without
    /// the checks of [`Self::insert_unchecked`], `CreatedDate` and
    /// `LastModifiedDate` stamped `at`. The Order Approval Flow runs on them
    /// as it did then (an approved Order becomes `Activating`), but the events
    /// it published then are long past their retention: none is published now.
    /// Returns the 18-character ids, in order.
    pub fn insert_history(
        &self,
        object: &str,
        records: &[Value],
        at: DateTime<Utc>,
    ) -> Result<Vec<String>, EmulatorError> {
        let object = object_def(object)?;
        let bodies = records
            .iter()
            .map(|fields| body_map(fields.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let result = self.shared.transact_as_of(
            self.shared.staff_actor(),
            at,
            OrderFlowSetup::WithoutEvent,
            |txn| {
                let result = bodies
                    .iter()
                    .map(|body| txn.insert_unchecked(object, body))
                    .collect::<Result<Vec<_>, _>>();
                let ok = result.is_ok();
                (result, ok)
            },
        );
        Ok(result?)
    }

    /// Updates a record as the staff user, bypassing the API (no call counted) but with the
    /// same validation and the same Order Approval Flow.
    pub fn update(&self, object: &str, id: &str, fields: Value) -> Result<(), EmulatorError> {
        let object = object_def(object)?;
        let body = body_map(fields)?;
        let id = ids::normalize(id).ok_or_else(ApiError::not_found)?;
        let result = self.shared.transact(self.shared.staff_actor(), |txn| {
            let result = txn.update(object, &id, &body);
            let ok = result.is_ok();
            (result, ok)
        });
        Ok(result?)
    }

    /// The stored record (wire form, no `attributes`), by 15- or 18-character id.
    pub fn record(&self, id: &str) -> Option<Value> {
        let id = ids::normalize(id)?;
        lock(&self.shared.store)
            .get(&id)
            .cloned()
            .map(Value::Object)
    }

    /// Every record of `object`, in insertion order (empty for an unknown object).
    pub fn records(&self, object: &str) -> Vec<Value> {
        let Some(object) = crate::platform::object(object) else {
            return Vec::new();
        };
        lock(&self.shared.store)
            .of(object)
            .cloned()
            .map(Value::Object)
            .collect()
    }

    /// How many records `object` has.
    pub fn count(&self, object: &str) -> usize {
        crate::platform::object(object).map_or(0, |o| lock(&self.shared.store).count(o))
    }

    /// The org's platform-event bus.
    pub fn events(&self) -> EventBus {
        self.shared.events.clone()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.task.abort();
        self.pubsub_task.abort();
        self.shared.faults.pubsub.drop_streams();
    }
}

fn object_def(name: &str) -> Result<&'static ObjectDef, EmulatorError> {
    schema::object(name).ok_or_else(|| EmulatorError::Rejected(ApiError::not_found()))
}

fn body_map(fields: Value) -> Result<serde_json::Map<String, Value>, EmulatorError> {
    match fields {
        Value::Object(map) => Ok(map),
        _ => Err(EmulatorError::Rejected(ApiError::new(
            400,
            "JSON_PARSER_ERROR",
            "Cannot deserialize instance of sObject from a value that is not a JSON object",
        ))),
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/services/oauth2/token", post(oauth::token))
        .route(
            "/services/oauth2/userinfo",
            get(identity::userinfo).post(identity::userinfo),
        )
        .route("/id/{org_id}/{user_id}", get(identity::identity_url))
        .route("/services/data", get(rest::versions))
        .route("/services/data/", get(rest::versions))
        .route(
            "/services/data/{*rest}",
            // Read a little past Salesforce's request limit so that it is
            // refused as Salesforce does (400), not by the framework.
            any(rest::handle).layer(axum::extract::DefaultBodyLimit::max(
                rest::MAX_REQUEST_BYTES + 1024 * 1024,
            )),
        )
        .nest("/_emulator", control::router())
        .nest("/_emulator/pubsub", pubsub::control_router())
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            crate::observe::time_requests,
        ))
        .with_state(shared)
}
