//! [`Api`]: the shared state of every route (the ports, the API's store, the
//! authenticator, the login links with their cache, the clock, the settings)
//! and the two request pipelines every handler goes through — GET (identity →
//! use case) and POST (identity → `Content-Type` → `Idempotency-Key` → body →
//! claim → per-login limits → use case → settle the claim).
//!
//! Identity is the token (verified by [`Authenticator`]) resolved through the
//! login's link item ([`Logins`]): the Account every route acts on.

use portal_core::portal::ports::{
    AccountProfile, CancellationDesk, Catalog, EligibilityDesk, IdVerificationDesk, OrderBook,
    RegistrationDirectory, SupportDesk,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use portal_core::domain::CustomerNumber;
use portal_core::portal::{
    Caller, Logins, PortalError, PortalSettings, RegistrationRequest, enforce,
};
use portal_core::ports::{
    Clock, IdempotencyClaim, IdempotencyId, IdempotencyOutcome, IdempotencyScope, StoredResponse,
    SystemClock,
};
use serde::Serialize;

use crate::auth::{AuthError, Authenticator};
use crate::body::{MAX_BODY_BYTES, RequestBody, drain, is_json, parse_json, read_limited};
use crate::config::IdentitySettings;
use crate::idempotency::{self, IDEMPOTENCY_REPLAYED, IN_FLIGHT, RECORD_TTL, sha256_hex};
use crate::lock::{self, Lock};
use crate::problem::{Problem, from_portal_error};
use crate::store::ApiStore;
use portal_core::diagnostics::error_chain;

/// The ports the routes use, one per capability: each handler asks for
/// exactly the port of its use case, so its dependencies stay as narrow as
/// the use case's. An adapter set implements each port with its own type
/// (the Salesforce ones: [`SalesforcePorts`](crate::salesforce::SalesforcePorts)); a test fake may
/// implement all of them with one type and return `self` everywhere.
pub trait PortalPorts: Send + Sync + 'static {
    /// `POST /registrations`.
    type Registration: RegistrationDirectory;
    /// `GET /account`.
    type Account: AccountProfile;
    /// `POST /eligibility-requests`.
    type Eligibility: EligibilityDesk;
    /// `POST /id-verifications`.
    type IdVerification: IdVerificationDesk;
    /// `GET /catalog`.
    type Catalog: Catalog;
    /// `POST /orders`, `GET /orders`, `GET /orders/{orderId}`.
    type Orders: OrderBook;
    /// `POST /cancellations`.
    type Cancellation: CancellationDesk;
    /// `POST /support-cases`, `GET /support-cases`.
    type Support: SupportDesk;

    /// The registration port.
    fn registration(&self) -> &Self::Registration;
    /// The account port.
    fn account(&self) -> &Self::Account;
    /// The eligibility port.
    fn eligibility(&self) -> &Self::Eligibility;
    /// The ID verification port.
    fn id_verification(&self) -> &Self::IdVerification;
    /// The catalog port.
    fn catalog(&self) -> &Self::Catalog;
    /// The orders port.
    fn orders(&self) -> &Self::Orders;
    /// The cancellation port.
    fn cancellation(&self) -> &Self::Cancellation;
    /// The support port.
    fn support(&self) -> &Self::Support;
}

/// Limits of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body, in bytes (default 64 KiB; more is 413).
    pub max_body_bytes: usize,
    /// How long an idempotency claim holds before a duplicate may run.
    pub in_flight: Duration,
    /// How long a completed idempotency record is replayed.
    pub record_ttl: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: MAX_BODY_BYTES,
            in_flight: IN_FLIGHT,
            record_ttl: RECORD_TTL,
        }
    }
}

/// The login links of an API over the store `S`.
pub type StoreLogins<S> = Logins<Arc<S>, Arc<S>>;

/// The API's state, shared by every route. Cheap to clone.
pub struct Api<P, S> {
    pub(crate) ports: Arc<P>,
    store: Arc<S>,
    auth: Arc<Authenticator>,
    pub(crate) logins: Arc<StoreLogins<S>>,
    pub(crate) identity: IdentitySettings,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: PortalSettings,
    limits: Limits,
}

impl<P, S> Clone for Api<P, S> {
    fn clone(&self) -> Self {
        Self {
            ports: Arc::clone(&self.ports),
            store: Arc::clone(&self.store),
            auth: Arc::clone(&self.auth),
            logins: Arc::clone(&self.logins),
            identity: self.identity,
            clock: Arc::clone(&self.clock),
            settings: self.settings,
            limits: self.limits,
        }
    }
}

impl<P, S> std::fmt::Debug for Api<P, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("auth", &self.auth)
            .field("identity", &self.identity)
            .field("settings", &self.settings)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Whether a route needs the token's account claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Account {
    /// 403 without it.
    Required,
    /// Registration: the claim is how it is obtained.
    Optional,
}

/// A successful answer: status and JSON body.
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    body: Vec<u8>,
}

impl Reply {
    /// `value` as JSON with `status`.
    pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Self, Problem> {
        serde_json::to_vec(value)
            .map(|body| Self { status, body })
            .map_err(|error| {
                tracing::error!(%error, "serialising a response failed");
                Problem::internal()
            })
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

impl<P: PortalPorts, S: ApiStore> Api<P, S> {
    /// Takes the locks of a registration (see [`crate::lock`]): the caller's
    /// login (one link per login), its e-mail (what "already registered" is
    /// decided on) and the customer number it links, if any — all as SHA-256
    /// digests, no personal data in the table. 409 `registration-in-progress`
    /// when any is held.
    pub(crate) async fn lock_registration(
        &self,
        caller: &Caller,
        body: &RegistrationRequest,
    ) -> Result<Vec<Lock>, Problem> {
        let now = self.clock.now();
        let hold = delta(self.limits.in_flight);
        let email = caller.email.as_str().to_lowercase();
        let login = caller.login.to_string();
        let mut wanted = vec![
            ("registration-login", sha256_hex(&[login.as_bytes()])),
            ("registration-email", sha256_hex(&[email.as_bytes()])),
        ];
        let number = body
            .customer_number
            .as_deref()
            .and_then(|raw| CustomerNumber::parse(raw).ok());
        if let Some(number) = number {
            wanted.push((
                "registration-customer-number",
                sha256_hex(&[number.as_str().as_bytes()]),
            ));
        }
        let mut locks = Vec::with_capacity(wanted.len());
        for (kind, digest) in wanted {
            match lock::acquire(&*self.store, kind, &digest, now, hold).await {
                Ok(lock) => locks.push(lock),
                Err(problem) => {
                    self.unlock(locks).await;
                    return Err(problem);
                }
            }
        }
        Ok(locks)
    }

    /// Counts a registration attempt of the caller (429 past the hourly limit).
    pub(crate) async fn limit_registration(&self, caller: &Caller) -> Result<(), Problem> {
        let window = self.identity.limits.registration_window();
        enforce(&*self.store, &caller.login, &[window], self.clock.now())
            .await
            .map_err(from_portal_error)
    }

    /// Gives back locks taken by [`Self::lock_registration`].
    pub(crate) async fn unlock(&self, locks: Vec<Lock>) {
        for taken in locks {
            lock::release(&*self.store, taken).await;
        }
    }

    /// The API over `ports`, keeping its records (idempotency, login links,
    /// counters) in `store`, with the system clock, default settings
    /// (Asia/Tokyo, JPY), default identity settings and default limits.
    pub fn new(ports: Arc<P>, store: Arc<S>, auth: Arc<Authenticator>) -> Self {
        let identity = IdentitySettings::default();
        Self {
            ports,
            logins: Arc::new(Logins::new(
                Arc::clone(&store),
                Arc::clone(&store),
                identity.link_cache_ttl,
            )),
            store,
            auth,
            identity,
            clock: Arc::new(SystemClock),
            settings: PortalSettings::default(),
            limits: Limits::default(),
        }
    }

    /// Uses `identity` (link cache, per-login limits).
    pub fn with_identity(mut self, identity: IdentitySettings) -> Self {
        self.logins = Arc::new(Logins::new(
            Arc::clone(&self.store),
            Arc::clone(&self.store),
            identity.link_cache_ttl,
        ));
        self.identity = identity;
        self
    }

    /// Uses `clock` for "now".
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `settings` (timezone, currency).
    pub fn with_settings(mut self, settings: PortalSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Uses `limits`.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The caller of a request — the verified token resolved through its
    /// login's link — or the 401/403/503 problem.
    async fn caller(&self, headers: &HeaderMap, account: Account) -> Result<Caller, Problem> {
        let authorization = headers.get(AUTHORIZATION).map(HeaderValue::as_bytes);
        let token = self
            .auth
            .authenticate(authorization)
            .await
            .map_err(|error| match error {
                AuthError::Missing => {
                    Problem::unauthorized("Send a bearer token in the Authorization header.", false)
                }
                AuthError::Invalid(reason) => {
                    tracing::info!(reason, "bearer token refused");
                    Problem::unauthorized("The bearer token is invalid or has expired.", true)
                }
                AuthError::KeysUnavailable { retry_after, .. } => {
                    tracing::warn!(error = %error_chain(&error), "cannot verify tokens");
                    Problem::unavailable(Some(retry_after))
                }
            })?;
        let caller = self
            .logins
            .resolve(token, self.clock.now())
            .await
            .map_err(from_portal_error)?;
        if account == Account::Required && caller.account_id.is_none() {
            return Err(from_portal_error(PortalError::NotLinked));
        }
        Ok(caller)
    }

    /// The GET pipeline: identity, then `run`.
    pub(crate) async fn get<F, Fut>(&self, request: Request, run: F) -> Response
    where
        F: FnOnce(Caller) -> Fut,
        Fut: Future<Output = Result<Reply, Problem>>,
    {
        let (parts, body) = request.into_parts();
        drain(body).await;
        let caller = match self.caller(&parts.headers, Account::Required).await {
            Ok(caller) => caller,
            Err(problem) => return problem.into_response(),
        };
        run(caller).await.into_response()
    }

    /// The POST pipeline: identity, `Content-Type`, `Idempotency-Key`, body,
    /// claim, then `run`, then the claim is settled.
    pub(crate) async fn post<B, F, Fut>(
        &self,
        request: Request,
        account: Account,
        run: F,
    ) -> Response
    where
        B: RequestBody,
        F: FnOnce(Caller, B) -> Fut,
        Fut: Future<Output = Result<Reply, Problem>>,
    {
        match self.post_inner(request, account, run).await {
            Ok(response) => response,
            Err(problem) => problem.into_response(),
        }
    }

    async fn post_inner<B, F, Fut>(
        &self,
        request: Request,
        account: Account,
        run: F,
    ) -> Result<Response, Problem>
    where
        B: RequestBody,
        F: FnOnce(Caller, B) -> Fut,
        Fut: Future<Output = Result<Reply, Problem>>,
    {
        let (parts, body) = request.into_parts();
        // Read first (bounded) so that every answer reaches the client whole;
        // the checks still answer in this order: 401/403, 415, 400 (key), 413.
        let bytes = read_limited(&parts.headers, body, self.limits.max_body_bytes).await;
        let caller = self.caller(&parts.headers, account).await?;
        if !is_json(&parts.headers) {
            return Err(Problem::unsupported_media_type());
        }
        let key = idempotency::key(&parts.headers)?;
        let bytes = bytes?;
        let input: B = parse_json(&bytes, self.settings.timezone.today(self.clock.now()))?;
        let Some(key) = key else {
            self.limit_post(&caller).await?;
            return Ok(run(caller, input).await.into_response());
        };
        let scope = IdempotencyScope::new(caller.login.subject().to_owned())
            .map_err(|_| Problem::unauthorized("The bearer token is invalid.", true))?;
        let id = IdempotencyId { scope, key };
        let owner = idempotency::owner();
        let now = self.clock.now();
        let claim = IdempotencyClaim {
            id: id.clone(),
            fingerprint: idempotency::fingerprint(&parts.method, parts.uri.path(), &bytes),
            owner: owner.clone(),
            in_flight_until: now + delta(self.limits.in_flight),
            expires_at: now + delta(self.limits.record_ttl),
            now,
        };
        let outcome = self.store.claim(&claim).await.map_err(|error| {
            tracing::error!(error = %error_chain(&error), "claiming the idempotency key failed");
            if error.is_retryable() {
                Problem::unavailable(None)
            } else {
                Problem::internal()
            }
        })?;
        match outcome {
            IdempotencyOutcome::Acquired => {}
            IdempotencyOutcome::Replay(stored) => return Ok(replay(stored)),
            IdempotencyOutcome::InFlight => return Err(Problem::idempotency_in_flight()),
            IdempotencyOutcome::Mismatch => return Err(Problem::idempotency_mismatch()),
        }
        let result = match self.limit_post(&caller).await {
            Ok(()) => run(caller, input).await,
            Err(problem) => Err(problem),
        };
        let (stored, response) = match result {
            Ok(reply) => (
                StoredResponse {
                    status: reply.status.as_u16(),
                    content_type: "application/json".to_owned(),
                    body: reply.body.clone(),
                },
                reply.into_response(),
            ),
            Err(problem) => (
                StoredResponse {
                    status: problem.status,
                    content_type: crate::problem::PROBLEM_JSON.to_owned(),
                    body: Vec::new(),
                },
                problem.into_response(),
            ),
        };
        let expires_at = self.clock.now() + delta(self.limits.record_ttl);
        idempotency::settle(&*self.store, &id, &owner, stored, expires_at).await;
        Ok(response)
    }
}

impl<P: PortalPorts, S: ApiStore> Api<P, S> {
    /// Counts a POST of the caller in each per-login window (429 past one).
    async fn limit_post(&self, caller: &Caller) -> Result<(), Problem> {
        let windows = self.identity.limits.post_windows();
        enforce(&*self.store, &caller.login, &windows, self.clock.now())
            .await
            .map_err(from_portal_error)
    }
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(&stored.content_type)
            .unwrap_or(HeaderValue::from_static("application/json")),
    );
    headers.insert(IDEMPOTENCY_REPLAYED, HeaderValue::from_static("true"));
    response
}

/// A configured duration as a `TimeDelta`, capped at a year (limits come
/// from code, never from clients; the cap keeps `now + delta` in range).
fn delta(duration: Duration) -> TimeDelta {
    let year = TimeDelta::days(366);
    TimeDelta::from_std(duration).map_or(year, |d| d.min(year))
}
