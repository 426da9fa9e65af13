//! Every test's own world: an emulated org, the real Salesforce adapters
//! logged in to it, in-memory API state (the idempotency store gated, to hold
//! a request in flight; login links, deactivations and counters), a signing
//! key for tokens, and the API served on 127.0.0.1:0. Every response a test
//! receives is checked against `openapi.json`, and no problem it receives
//! carries Salesforce's words.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portal_core::domain::{AccountId, Login};
use portal_core::ports::memory::{
    InMemoryAccountStatuses, InMemoryIdempotencyStore, InMemoryLoginLimits, InMemoryLoginLinks,
};
use portal_core::ports::{
    AccountStatusSync, IdempotencyClaim, IdempotencyId, IdempotencyOutcome, IdempotencyStore,
    LeaseError, LeaseOwner, LoginLink, LoginLinks, StoreError, StoredResponse,
};
use portal_http::{
    Api, ApiStores, AuthConfig, Authenticator, IdentitySettings, KeySource, SalesforcePorts,
};
use salesforce::portal::PriceBook;
use salesforce::schema::{account, opportunity};
use salesforce::{RetryPolicy, SalesforceClient, SalesforceConfig};
use salesforce_emulator::config::{DEFAULT_CLIENT_ID, DEFAULT_USERNAME};
use salesforce_emulator::{Emulator, EmulatorConfig, fixtures};
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const ISSUER: &str = "https://id.portal.test/";
pub const AUDIENCE: &str = "portal-api";

/// An ES256 key pair for signing test tokens.
pub struct SigningKey {
    pub encoding: EncodingKey,
    pub public_pem: String,
    /// The public point's JWK coordinates (base64url).
    pub x: String,
    pub y: String,
}

impl SigningKey {
    pub fn generate() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("generating a P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("reading the generated key");
        let point = pair.public_key().as_ref().to_vec();
        assert_eq!(point.len(), 65, "an uncompressed P-256 point");
        let mut spki = hex_bytes("3059301306072a8648ce3d020106082a8648ce3d030107034200");
        spki.extend_from_slice(&point);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&spki);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        Self {
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            public_pem: format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n"),
            x: url.encode(&point[1..33]),
            y: url.encode(&point[33..]),
        }
    }

    /// Signs `claims` with ES256 and `kid`.
    pub fn sign(&self, claims: &Value, kid: Option<&str>) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing a token")
    }

    /// The public key as a JWK.
    pub fn jwk(&self, kid: &str) -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": self.x, "y": self.y, "kid": kid, "alg": "ES256", "use": "sig"})
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Standard claims for `sub`/`email` (verified), valid for an hour, with an
/// optional account claim.
pub fn claims(sub: &str, email: &str, account: Option<&str>) -> Value {
    let now = Utc::now().timestamp();
    let mut claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "email": email, "email_verified": true,
        "iat": now, "nbf": now - 5, "exp": now + 3600,
    });
    if let Some(account) = account {
        claims["sf_account_id"] = json!(account);
    }
    claims
}

/// An idempotency store that can hold `complete` until the test opens the gate,
/// so a request stays in flight deterministically.
#[derive(Default)]
pub struct GatedStore {
    inner: InMemoryIdempotencyStore,
    hold: Mutex<bool>,
    entered: Notify,
    gate: Notify,
    claimed: Notify,
}

impl GatedStore {
    /// From now on, `complete` waits for [`GatedStore::open`].
    pub fn hold_completions(&self) {
        *self.hold.lock().expect("lock") = true;
    }

    /// Waits until a request is inside `complete`.
    pub async fn wait_until_completing(&self) {
        self.entered.notified().await;
    }

    /// Waits until some request has claimed a record (a key or a lock).
    pub async fn wait_until_claimed(&self) {
        self.claimed.notified().await;
    }

    /// Lets held completions through.
    pub fn open(&self) {
        *self.hold.lock().expect("lock") = false;
        self.gate.notify_waiters();
    }
}

impl IdempotencyStore for GatedStore {
    async fn claim(&self, claim: &IdempotencyClaim) -> Result<IdempotencyOutcome, StoreError> {
        let outcome = self.inner.claim(claim).await;
        self.claimed.notify_one();
        outcome
    }

    async fn complete(
        &self,
        id: &IdempotencyId,
        owner: &LeaseOwner,
        response: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> Result<(), LeaseError> {
        let opened = self.gate.notified();
        tokio::pin!(opened);
        opened.as_mut().enable();
        let held = *self.hold.lock().expect("lock");
        if held {
            self.entered.notify_one();
            opened.await;
        }
        self.inner.complete(id, owner, response, expires_at).await
    }

    async fn release(&self, id: &IdempotencyId, owner: &LeaseOwner) -> Result<(), LeaseError> {
        self.inner.release(id, owner).await
    }
}

/// The OpenAPI document, and validators of its response schemas.
pub struct Contract {
    doc: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl Contract {
    pub fn load() -> Self {
        Self {
            doc: serde_json::from_str(portal_http::OPENAPI_JSON).expect("openapi.json is JSON"),
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The response object documented for `method template` and `status`
    /// (the shared ones for 405 and unknown routes), `$ref`s resolved.
    fn response(&self, method: &str, template: Option<&str>, status: u16) -> Value {
        let shared = |name: &str| self.doc["components"]["responses"][name].clone();
        let documented = match (template, status) {
            (_, 405) => shared("MethodNotAllowed"),
            (None, 404) => shared("NotFound"),
            (None, other) => panic!("an unknown route answered {other}"),
            (Some(t), _) => {
                let op = &self.doc["paths"][t][method.to_ascii_lowercase()];
                assert!(op.is_object(), "{method} {t} is not documented");
                op["responses"][status.to_string()].clone()
            }
        };
        assert!(
            documented.is_object(),
            "{method} {template:?} answered {status}, which openapi.json does not document"
        );
        match documented.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().expect("a $ref has a name");
                shared(name)
            }
            None => documented,
        }
    }

    fn validator(&self, schema: &Value) -> Arc<jsonschema::Validator> {
        let key = schema.to_string();
        let mut cache = self.validators.lock().expect("lock");
        cache
            .entry(key)
            .or_insert_with(|| {
                let root = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "components": self.doc["components"].clone(),
                    "allOf": [schema],
                });
                Arc::new(jsonschema::draft202012::new(&root).expect("a valid schema"))
            })
            .clone()
    }

    /// Checks a response against the document: status, media type, body, headers.
    pub fn check(&self, method: &str, template: Option<&str>, response: &Response) {
        let documented = self.response(method, template, response.status);
        let content = documented["content"]
            .as_object()
            .expect("every documented response has content");
        let media = response.header("content-type").unwrap_or_else(|| {
            panic!(
                "{method} {template:?} {} has no Content-Type",
                response.status
            )
        });
        let (_, spec) = content
            .iter()
            .find(|(m, _)| media.starts_with(m.as_str()))
            .unwrap_or_else(|| {
                panic!(
                    "{method} {template:?} {}: undocumented media type {media}",
                    response.status
                )
            });
        let body: Value = serde_json::from_slice(&response.body).unwrap_or_else(|e| {
            panic!(
                "{method} {template:?} {}: body is not JSON ({e}): {:?}",
                response.status,
                String::from_utf8_lossy(&response.body)
            )
        });
        let validator = self.validator(&spec["schema"]);
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {template:?} {}: body violates openapi.json: {errors:?}\nbody: {body}",
            response.status
        );
        if let Some(headers) = documented.get("headers").and_then(Value::as_object) {
            for name in ["Retry-After", "WWW-Authenticate", "Allow"] {
                if headers.contains_key(name) {
                    assert!(
                        response.header(name).is_some(),
                        "{method} {template:?} {}: missing {name}",
                        response.status
                    );
                }
            }
        }
    }
}

/// Salesforce's words: its error codes (`UPPER_CASE_WITH_UNDERSCORES`), API
/// names (`Field__c`), and texts of its error messages.
const UPSTREAM_MARKERS: &[&str] = &[
    "__c",
    "__e",
    "Salesforce",
    "salesforce",
    "WHMCS",
    "duplicate value",
    "duplicates value",
    "bad value for restricted picklist",
    "Required fields are missing",
    "data value too large",
    "invalid email address",
    "unable to obtain exclusive access",
    "Limit exceeded",
];

/// Panics when a problem carries upstream text: an error code, a Salesforce
/// API name or message, or a Salesforce record id.
pub fn assert_no_upstream_text(response: &Response) {
    if !response
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/problem+json"))
    {
        return;
    }
    let text = String::from_utf8_lossy(&response.body);
    for marker in UPSTREAM_MARKERS {
        assert!(
            !text.contains(marker),
            "a problem carries upstream text {marker:?}: {text}"
        );
    }
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        let code = word.len() > 3
            && word.contains('_')
            && word.chars().all(|c| c.is_ascii_uppercase() || c == '_');
        assert!(!code, "a problem carries an error code {word:?}: {text}");
        let record_id = matches!(word.len(), 15 | 18)
            && word.chars().all(|c| c.is_ascii_alphanumeric())
            && word.chars().any(|c| c.is_ascii_digit())
            && [
                "001", "003", "006", "500", "801", "802", "01t", "01u", "00D", "005",
            ]
            .iter()
            .any(|prefix| word.starts_with(prefix));
        assert!(!record_id, "a problem carries a record id {word:?}: {text}");
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// The problem `type`'s code (after `urn:portal:problem:`).
    pub fn problem(&self) -> String {
        self.json()["type"]
            .as_str()
            .and_then(|t| t.strip_prefix("urn:portal:problem:"))
            .unwrap_or_else(|| panic!("not a problem: {:?}", String::from_utf8_lossy(&self.body)))
            .to_owned()
    }
}

/// One request, built fluently.
pub struct Call<'a> {
    app: &'a TestApp,
    method: reqwest::Method,
    template: Option<&'static str>,
    path: String,
    token: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    body: Option<Vec<u8>>,
}

impl Call<'_> {
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    pub fn key(self, key: &str) -> Self {
        self.header("Idempotency-Key", key.as_bytes())
    }

    pub fn header(mut self, name: &str, value: &[u8]) -> Self {
        self.headers.push((name.to_owned(), value.to_vec()));
        self
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, body: &Value) -> Self {
        self.raw(b"application/json", body.to_string().into_bytes())
    }

    /// A body of any bytes with the given content type (empty: none).
    pub fn raw(mut self, content_type: &[u8], body: Vec<u8>) -> Self {
        if !content_type.is_empty() {
            self.headers
                .push(("content-type".to_owned(), content_type.to_vec()));
        }
        self.body = Some(body);
        self
    }

    /// Sends, reads and checks the response against the contract.
    pub async fn send(self) -> Response {
        let mut request = self.app.http.request(
            self.method.clone(),
            format!("{}{}", self.app.base_url, self.path),
        );
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in &self.headers {
            let name =
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("header name");
            let value = reqwest::header::HeaderValue::from_bytes(value).expect("header value");
            request = request.header(name, value);
        }
        if let Some(body) = self.body {
            request = request.body(body);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("a body").to_vec();
        let response = Response {
            status,
            headers,
            body,
        };
        self.app
            .contract
            .check(self.method.as_str(), self.template, &response);
        assert_no_upstream_text(&response);
        response
    }
}

/// The API's state in a test: the gated idempotency store and in-memory
/// links, deactivations and counters.
pub type TestStores =
    ApiStores<GatedStore, InMemoryLoginLinks, InMemoryAccountStatuses, InMemoryLoginLimits>;

/// One test's world.
pub struct TestApp {
    pub base_url: String,
    pub emulator: Emulator,
    pub stores: Arc<TestStores>,
    pub key: SigningKey,
    pub contract: Arc<Contract>,
    http: reqwest::Client,
    _server: tokio::task::JoinHandle<()>,
}

/// The client the adapters use: fast retries, so exhausted retries are quick.
pub fn test_client(emulator: &Emulator) -> SalesforceClient {
    let config = SalesforceConfig::new(
        &emulator.base_url(),
        DEFAULT_CLIENT_ID,
        DEFAULT_USERNAME,
        fixtures::CLIENT_PRIVATE_KEY_PEM.as_bytes(),
    )
    .expect("a Salesforce configuration");
    let retry = RetryPolicy {
        max_attempts: 2,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    };
    SalesforceClient::with_retry_policy(config, retry).expect("a Salesforce client")
}

/// The authenticator of the tests' keys (a PEM key).
pub fn auth_config(key: &SigningKey) -> AuthConfig {
    AuthConfig {
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        keys: KeySource::PublicKeyPem(key.public_pem.clone()),
        account_claim: "sf_account_id".to_owned(),
        email_verified_claim: "email_verified".to_owned(),
        leeway: Duration::from_secs(30),
    }
}

/// Per-login limits high enough never to get in a test's way.
pub fn roomy_identity() -> IdentitySettings {
    let mut identity = IdentitySettings::default();
    identity.limits.posts_per_minute = 10_000;
    identity.limits.posts_per_day = 100_000;
    identity.limits.registrations_per_hour = 1_000;
    identity
}

pub async fn spawn_app() -> TestApp {
    spawn_app_full(auth_config, roomy_identity()).await
}

/// A world whose authenticator is configured by `auth`.
pub async fn spawn_app_with(auth: impl FnOnce(&SigningKey) -> AuthConfig) -> TestApp {
    spawn_app_full(auth, roomy_identity()).await
}

/// A world with these identity settings (link cache, per-login limits).
pub async fn spawn_app_with_identity(identity: IdentitySettings) -> TestApp {
    spawn_app_full(auth_config, identity).await
}

/// A world whose authenticator is configured by `auth`, with `identity`.
pub async fn spawn_app_full(
    auth: impl FnOnce(&SigningKey) -> AuthConfig,
    identity: IdentitySettings,
) -> TestApp {
    spawn_app_tuned(auth, identity, portal_http::auth::JWKS_MIN_REFRESH).await
}

/// A world whose JWKS may be refreshed every `jwks_min_refresh`.
pub async fn spawn_app_tuned(
    auth: impl FnOnce(&SigningKey) -> AuthConfig,
    identity: IdentitySettings,
    jwks_min_refresh: Duration,
) -> TestApp {
    spawn(EmulatorConfig::default(), auth, identity, jwks_min_refresh).await
}

/// A world over an org started with `org`.
pub async fn spawn_app_on(org: EmulatorConfig) -> TestApp {
    spawn(
        org,
        auth_config,
        roomy_identity(),
        portal_http::auth::JWKS_MIN_REFRESH,
    )
    .await
}

async fn spawn(
    org: EmulatorConfig,
    auth: impl FnOnce(&SigningKey) -> AuthConfig,
    identity: IdentitySettings,
    jwks_min_refresh: Duration,
) -> TestApp {
    let emulator = Emulator::start(org).await.expect("the emulator starts");
    let key = SigningKey::generate();
    let authenticator = Authenticator::new(&auth(&key))
        .expect("an authenticator")
        .with_jwks_min_refresh(jwks_min_refresh);
    let ports = SalesforcePorts::new(test_client(&emulator), PriceBook::Standard);
    let stores = Arc::new(TestStores::default());
    let router = Api::new(
        Arc::new(ports),
        Arc::clone(&stores),
        Arc::new(authenticator),
    )
    .with_identity(identity)
    .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding the API");
    let base_url = format!("http://{}", listener.local_addr().expect("an address"));
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("the API serves");
    });
    TestApp {
        base_url,
        emulator,
        stores,
        key,
        contract: Arc::new(Contract::load()),
        http: reqwest::Client::new(),
        _server: server,
    }
}

impl TestApp {
    /// A request to `path`, checked against `template` (`None`: an unknown route).
    pub fn call(&self, method: &str, template: Option<&'static str>, path: &str) -> Call<'_> {
        Call {
            app: self,
            method: reqwest::Method::from_bytes(method.as_bytes()).expect("a method"),
            template,
            path: path.to_owned(),
            token: None,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(&self, template: &'static str, path: &str) -> Call<'_> {
        self.call("GET", Some(template), path)
    }

    pub fn post(&self, template: &'static str) -> Call<'_> {
        self.call("POST", Some(template), template)
    }

    /// A valid token for `sub`/`email` (verified), with the account claim when given.
    pub fn token(&self, sub: &str, email: &str, account: Option<&str>) -> String {
        self.key.sign(&claims(sub, email, account), None)
    }

    /// Registers a new customer through the API; returns their token (the
    /// same one: the registration linked its login) and the Account id.
    pub async fn customer(&self, name: &str) -> (String, String) {
        let sub = format!("sub-{name}");
        let email = format!("{name}@example.jp");
        let token = self.token(&sub, &email, None);
        let response = self
            .post("/registrations")
            .token(&token)
            .key(&format!("register-{name}"))
            .json(&json!({"firstName": "Hanako", "lastName": name}))
            .send()
            .await;
        assert_eq!(response.status, 201, "{:?}", response.json());
        let account_id = response.json()["accountId"]
            .as_str()
            .expect("an account id")
            .to_owned();
        (token, account_id)
    }

    /// The login of `sub` at the tests' issuer.
    pub fn login(sub: &str) -> Login {
        Login::new(ISSUER, sub).expect("a login")
    }

    /// The link of `sub`'s login, if any.
    pub async fn link_of(&self, sub: &str) -> Option<LoginLink> {
        self.stores
            .links
            .link_of(&Self::login(sub))
            .await
            .expect("the in-memory links answer")
    }

    /// How many logins are linked.
    pub fn links(&self) -> usize {
        self.stores.links.len()
    }

    /// The reconciler's sync saw staff deactivate `account_id`.
    pub async fn sync_deactivation(&self, account_id: &str) {
        let account = AccountId::parse(account_id).expect("an Account id");
        self.stores
            .inactive
            .record(&account, true, Utc::now())
            .await
            .expect("the in-memory statuses answer");
    }

    /// The first orderable catalog product of `family`.
    pub async fn product(&self, token: &str, family: &str) -> String {
        let catalog = self.get("/catalog", "/catalog").token(token).send().await;
        assert_eq!(catalog.status, 200);
        catalog.json()["products"]
            .as_array()
            .expect("products")
            .iter()
            .find(|p| p["family"] == family && p["itemClass"] == "Service")
            .unwrap_or_else(|| panic!("no {family} service in the catalog"))["productId"]
            .as_str()
            .expect("a product id")
            .to_owned()
    }

    /// An active service (Opportunity with a WHMCS service id) of `account_id`.
    pub fn active_service(&self, account_id: &str, service_id: u64) -> String {
        self.emulator
            .insert(
                opportunity::OBJECT,
                json!({
                    opportunity::NAME: "SIM - seeded",
                    opportunity::ACCOUNT_ID: account_id,
                    opportunity::COMMODITY_TYPE: "SIM",
                    opportunity::STAGE: "Active",
                    opportunity::CLOSE_DATE: "2026-01-01",
                    opportunity::WHMCS_SERVICE_ID: service_id,
                }),
            )
            .expect("seeding a service")
    }

    /// Staff mark the Account's Internet eligibility `Checked`.
    pub fn mark_eligibility_checked(&self, account_id: &str) {
        self.emulator
            .update(
                account::OBJECT,
                account_id,
                json!({account::ELIGIBILITY_STATUS: "Checked"}),
            )
            .expect("staff update the Account");
    }
}
