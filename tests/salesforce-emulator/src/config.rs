//! The emulator's settings, with defaults that suit a test.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::fixtures;
use crate::flow::OrderFlowSetup;
use crate::gaps::SchemaGaps;
use crate::ids;

/// Everything that shapes one emulated org.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where the HTTP server listens; default `127.0.0.1:0` (any free port).
    pub bind: SocketAddr,
    /// The Connected App's consumer key, expected as the assertion's `iss`.
    pub client_id: String,
    /// The pre-authorised integration user, expected as the assertion's `sub`.
    pub username: String,
    /// PEM of the public key the Connected App verifies assertions with.
    pub public_key_pem: String,
    /// Accepted `aud` values besides the emulator's own base URL.
    pub extra_audiences: Vec<String>,
    /// How long an access token lives; an expired one gets 401 `INVALID_SESSION_ID`.
    pub session_ttl: Duration,
    /// A static staff token accepted as a Bearer token (`None` disables it).
    pub admin_token: Option<String>,
    /// The daily API request allowance, the M of `Sforce-Limit-Info: api-usage=N/M`.
    pub daily_api_limit: u64,
    /// The rolling window the allowance is counted over (Salesforce: 24 hours); a
    /// call stops counting once it is this old.
    pub api_usage_window: Duration,
    /// Records per query page before `nextRecordsUrl`.
    pub query_batch_size: usize,
    /// How long published platform events are kept for replay.
    pub event_retention: Duration,
    /// Load the Standard Price Book and the documented catalog at start.
    pub seed_catalog: bool,
    /// The org id (18 characters, prefix `00D`).
    pub org_id: String,
    /// Where the Pub/Sub gRPC server listens; default `127.0.0.1:0` (any free port).
    pub pubsub_bind: SocketAddr,
    /// A `Subscribe` stream owed no events is closed after this long without a
    /// `FetchRequest` (Salesforce: 60 s).
    pub pubsub_idle_timeout: Duration,
    /// With requests pending and no events, a keepalive is sent this often
    /// (Salesforce: within 270 s).
    pub pubsub_keepalive_interval: Duration,
    /// Serve Pub/Sub over TLS with a self-signed certificate for `localhost` and
    /// `127.0.0.1`, made at start (see `Emulator::pubsub_ca_pem`); default plaintext.
    pub pubsub_tls: bool,
    /// Parts of the product's schema this org lacks (default: none).
    pub schema_gaps: SchemaGaps,
    /// How the Order Approval Flow is set up (default: deployed and active).
    pub order_flow: OrderFlowSetup,
}

/// The default Connected App consumer key.
pub const DEFAULT_CLIENT_ID: &str = "3MVG9LocalEmulatorConsumerKey";
/// The default integration username.
pub const DEFAULT_USERNAME: &str = "integration@portal.local";
/// The default static staff token.
pub const DEFAULT_ADMIN_TOKEN: &str = "local-admin";

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            username: DEFAULT_USERNAME.to_owned(),
            public_key_pem: fixtures::CLIENT_PUBLIC_KEY_PEM.to_owned(),
            extra_audiences: vec![
                "https://login.salesforce.com".to_owned(),
                "https://test.salesforce.com".to_owned(),
            ],
            session_ttl: Duration::from_secs(2 * 60 * 60),
            admin_token: Some(DEFAULT_ADMIN_TOKEN.to_owned()),
            daily_api_limit: 15_000,
            api_usage_window: Duration::from_secs(24 * 60 * 60),
            query_batch_size: 2000,
            event_retention: Duration::from_secs(72 * 60 * 60),
            seed_catalog: true,
            org_id: ids::random_id("00D"),
            pubsub_bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            pubsub_idle_timeout: Duration::from_secs(60),
            pubsub_keepalive_interval: Duration::from_secs(60),
            pubsub_tls: false,
            schema_gaps: SchemaGaps::default(),
            order_flow: OrderFlowSetup::default(),
        }
    }
}
