//! The world every benchmark (and the Lambda wiring test) builds: an emulated
//! org at zero latency, the real Salesforce adapters logged in to it, an
//! in-memory idempotency store, an ES256 key for the portal's tokens, and the
//! real router; plus the environment that points a `portal-api` process at
//! the same org, and small statistics helpers.

#![allow(
    dead_code,
    reason = "each bench target includes this module and uses a part of it"
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use axum::Router;
use axum::body::{Body, Bytes};
use base64::Engine as _;
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portal_http::{Api, AuthConfig, Authenticator, InMemoryApiStores, KeySource, SalesforcePorts};
use salesforce::portal::PriceBook;
use salesforce::{SalesforceClient, SalesforceConfig};
use salesforce_emulator::config::{DEFAULT_CLIENT_ID, DEFAULT_USERNAME};
use salesforce_emulator::{Emulator, EmulatorConfig, fixtures};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The tokens' issuer.
pub const ISSUER: &str = "https://id.portal.bench/";
/// The tokens' audience.
pub const AUDIENCE: &str = "portal-api";

/// An ES256 key pair signing the portal's tokens.
pub struct SigningKey {
    encoding: EncodingKey,
    /// The public key, PEM (SPKI).
    pub public_pem: String,
}

impl SigningKey {
    /// A fresh P-256 key.
    pub fn generate() -> anyhow::Result<Self> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow::anyhow!("generating a P-256 key failed"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|_| anyhow::anyhow!("reading the generated key failed"))?;
        // SPKI = the fixed P-256 algorithm header + the uncompressed point.
        let mut spki = b"\x30\x59\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07\x03\x42\x00".to_vec();
        spki.extend_from_slice(pair.public_key().as_ref());
        let b64 = base64::engine::general_purpose::STANDARD.encode(&spki);
        Ok(Self {
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            public_pem: format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n"),
        })
    }

    /// A token for `sub` (its e-mail verified), valid for an hour, with the
    /// account claim when given.
    pub fn token(&self, sub: &str, account: Option<&str>) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "email": format!("{sub}@example.jp"),
            "email_verified": true, "iat": now, "nbf": now - 5, "exp": now + 3600,
        });
        if let Some(account) = account {
            claims["sf_account_id"] = json!(account);
        }
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.encoding)
            .context("signing a token")
    }

    /// How the API verifies these tokens.
    pub fn auth_config(&self) -> AuthConfig {
        AuthConfig {
            issuer: ISSUER.to_owned(),
            audience: AUDIENCE.to_owned(),
            keys: KeySource::PublicKeyPem(self.public_pem.clone()),
            account_claim: "sf_account_id".to_owned(),
            email_verified_claim: "email_verified".to_owned(),
            leeway: Duration::from_secs(30),
        }
    }
}

/// A Salesforce client logged in to `emulator` as the integration user, with
/// the production retry policy.
pub fn salesforce_client(emulator: &Emulator) -> anyhow::Result<SalesforceClient> {
    let config = SalesforceConfig::new(
        &emulator.base_url(),
        DEFAULT_CLIENT_ID,
        DEFAULT_USERNAME,
        fixtures::CLIENT_PRIVATE_KEY_PEM.as_bytes(),
    )
    .context("a Salesforce configuration")?;
    SalesforceClient::new(config).context("a Salesforce client")
}

/// An emulated org at zero latency with the seeded catalog, and a daily API
/// limit no benchmark reaches (the default, 15 000, is a real org's).
pub async fn emulator() -> anyhow::Result<Emulator> {
    let config = EmulatorConfig {
        daily_api_limit: u64::MAX / 2,
        ..EmulatorConfig::default()
    };
    Emulator::start(config)
        .await
        .context("starting the org emulator")
}

/// Where the API keeps its state in a benchmark's world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// In memory (links cached as in Lambda, default TTL).
    InMemory,
    /// The DynamoDB adapters on the moto server, login links cached for this long
    /// (zero: every request reads the link and the Account's status).
    Moto {
        /// `PORTAL_LINK_CACHE_SECS`.
        link_cache: Duration,
    },
}

/// One benchmark's world.
pub struct World {
    /// The emulated org.
    pub emulator: Emulator,
    /// The tokens' key.
    pub key: SigningKey,
    /// The adapters the router uses (for direct calls).
    pub ports: Arc<SalesforcePorts>,
    /// The real router over them.
    pub router: Router,
}

impl World {
    /// A fresh org, adapters, in-memory API state and router.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(State::InMemory).await
    }

    /// A fresh org, adapters, API state in `state` and router.
    pub async fn start_with(state: State) -> anyhow::Result<Self> {
        let emulator = emulator().await?;
        let key = SigningKey::generate()?;
        let auth = Authenticator::new(&key.auth_config()).context("an authenticator")?;
        let ports = Arc::new(SalesforcePorts::new(
            salesforce_client(&emulator)?,
            PriceBook::Standard,
        ));
        let router = match state {
            State::InMemory => Api::new(
                Arc::clone(&ports),
                Arc::new(InMemoryApiStores::default()),
                Arc::new(auth),
            )
            .with_identity(roomy_identity())
            .router(),
            State::Moto { link_cache } => {
                let table = StateTable::create().await;
                let (client, name) = (table.client.clone(), table.table.as_str());
                let stores = portal_http::ApiStores {
                    idempotency: portal_aws::DynamoIdempotencyStore::new(client.clone(), name),
                    links: portal_aws::DynamoLoginLinks::new(client.clone(), name),
                    inactive: portal_aws::DynamoAccountStatuses::new(client.clone(), name),
                    limits: portal_aws::DynamoLoginLimits::new(client, name),
                };
                let mut identity = roomy_identity();
                identity.link_cache_ttl = link_cache;
                Api::new(Arc::clone(&ports), Arc::new(stores), Arc::new(auth))
                    .with_identity(identity)
                    .router()
            }
        };
        Ok(Self {
            emulator,
            key,
            ports,
            router,
        })
    }

    /// Sends `request` through the router (in process, as `lambda_http` does).
    pub async fn send(&self, request: Request<Body>) -> anyhow::Result<(StatusCode, Bytes)> {
        send(&self.router, request).await
    }

    /// Registers a customer through the API; returns its token (linked by the
    /// registration) and the Account id.
    pub async fn customer(&self, sub: &str) -> anyhow::Result<(String, String)> {
        let token = self.key.token(sub, None)?;
        let (status, body) = self
            .send(post(
                "/registrations",
                &token,
                &format!("reg-{sub}"),
                &json!({"firstName": "Hanako", "lastName": sub}),
            )?)
            .await?;
        anyhow::ensure!(
            status == StatusCode::CREATED,
            "registration answered {status}"
        );
        let body: Value = serde_json::from_slice(&body)?;
        let account = body["accountId"]
            .as_str()
            .context("registration returned no accountId")?
            .to_owned();
        Ok((token, account))
    }
}

/// Per-login limits no benchmark reaches.
pub fn roomy_identity() -> portal_http::IdentitySettings {
    let mut identity = portal_http::IdentitySettings::default();
    identity.limits.posts_per_minute = u32::MAX;
    identity.limits.posts_per_day = u32::MAX;
    identity.limits.registrations_per_hour = u32::MAX;
    identity
}

/// Sends `request` through `router` and reads the whole answer.
pub async fn send(router: &Router, request: Request<Body>) -> anyhow::Result<(StatusCode, Bytes)> {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .context("the router is infallible")?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .context("reading a response body")?
        .to_bytes();
    Ok((status, body))
}

/// `GET path` with a bearer token.
pub fn get(path: &str, token: &str) -> anyhow::Result<Request<Body>> {
    Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .context("building a request")
}

/// `POST path` with a bearer token, an `Idempotency-Key` and a JSON body.
pub fn post(path: &str, token: &str, key: &str, body: &Value) -> anyhow::Result<Request<Body>> {
    Request::post(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .context("building a request")
}

/// A state table on the moto server (`test_support`), as `portal-api` reads it.
pub struct StateTable {
    /// The moto server.
    pub endpoint: String,
    /// The table.
    pub table: String,
    /// A client for it.
    pub client: aws_sdk_dynamodb::Client,
}

impl StateTable {
    /// A fresh table on the moto server.
    pub async fn create() -> Self {
        let client = test_support::aws::dynamo_client().await;
        let table = test_support::aws::create_table(&client).await;
        Self {
            endpoint: test_support::moto::endpoint(),
            table,
            client,
        }
    }

    /// Links the login `sub` (at [`ISSUER`]) to `account_id`, as a registration would.
    pub async fn link(&self, sub: &str, account_id: &str) -> anyhow::Result<()> {
        use portal_core::ports::LoginLinks as _;
        let link = portal_core::ports::LoginLink {
            login: portal_core::domain::Login::new(ISSUER, sub)?,
            account_id: portal_core::domain::AccountId::parse(account_id)?,
            contact_id: portal_core::domain::ContactId::parse("003000000000001")?,
            linked_at: chrono::Utc::now(),
            method: portal_core::ports::LinkMethod::VerifiedEmail,
        };
        portal_aws::DynamoLoginLinks::new(self.client.clone(), self.table.clone())
            .create(&link)
            .await?;
        Ok(())
    }
}

/// The `PORTAL_*`, `IDEMPOTENCY_TABLE`, `SF_*` and AWS variables that point a
/// `portal-api` process at `emulator`, `key` and the `state` table on moto
/// (dummy credentials; the region is moto's).
pub fn lambda_env(
    emulator: &Emulator,
    key: &SigningKey,
    state: &StateTable,
) -> Vec<(String, String)> {
    let sf_key = base64::engine::general_purpose::STANDARD.encode(fixtures::CLIENT_PRIVATE_KEY_PEM);
    [
        ("PORTAL_JWT_ISSUER", ISSUER.to_owned()),
        ("PORTAL_JWT_AUDIENCE", AUDIENCE.to_owned()),
        ("PORTAL_JWT_PUBLIC_KEY_PEM", key.public_pem.clone()),
        ("IDEMPOTENCY_TABLE", state.table.clone()),
        ("AWS_ENDPOINT_URL", state.endpoint.clone()),
        ("SF_LOGIN_URL", emulator.base_url()),
        ("SF_CLIENT_ID", DEFAULT_CLIENT_ID.to_owned()),
        ("SF_USERNAME", DEFAULT_USERNAME.to_owned()),
        ("SF_PRIVATE_KEY_BASE64", sf_key),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "AKIDBENCHMARK".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "benchmark".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("RUST_LOG", "info".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The `portal-api` binary to measure: `PORTAL_API_BIN` if set, else the
/// one Cargo built for this target (`built_by_cargo`: for a bench, the bench
/// profile = release optimisation and LTO, symbols kept). `cargo bench`
/// rewrites `target/release/portal-api`, so measure the stripped release
/// build from a copy (see `benches/README.md`). A relative `PORTAL_API_BIN`
/// is relative to the repository root (cargo runs a bench in its package's
/// folder; the commands in `BENCHMARKS.md` run from the root). Returns the
/// path and its origin.
pub fn portal_api_binary(built_by_cargo: &str) -> (PathBuf, &'static str) {
    match std::env::var_os("PORTAL_API_BIN") {
        Some(path) => {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            (root.join(PathBuf::from(path)), "PORTAL_API_BIN")
        }
        None => (
            PathBuf::from(built_by_cargo),
            "built by cargo for this bench",
        ),
    }
}

/// The `q`-quantile (0..=1) of sorted `values`, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// The median of `values` (sorted here).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    quantile(values, 0.5)
}

/// `nproc` and the CPU model, for the report.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|rest| rest.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    format!("{cpus} CPUs, {model}")
}

/// Logs to stderr at `RUST_LOG` (default `error`), so a failing run says why.
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A number of repetitions from the environment variable `name`, else `default`.
pub fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}
