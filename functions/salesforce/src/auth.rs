//! Logging in with the OAuth 2.0 JWT bearer flow, and the session cache that
//! every clone of a client shares.
//!
//! The assertion is `{"alg":"RS256"}` over `iss` (consumer key), `sub`
//! (username), `aud` (login URL) and `exp` (at most three minutes ahead), posted
//! form-encoded to `{login}/services/oauth2/token`. There is no refresh token:
//! a new assertion is minted whenever the session dies.
//!
//! [`TokenCache`] makes logins single-flight: however many callers find the
//! cache empty (or the same session dead) at once, one of them logs in and the
//! others wait for and share its result.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::Id;
use crate::config::{PrivateKey, SalesforceConfig};
use crate::error::snippet;

/// How far ahead of `now` the assertion expires (Salesforce allows at most 3 minutes).
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(150);

/// The grant type of the JWT bearer flow.
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token endpoint refused the assertion (`invalid_grant`,
    /// `invalid_client_id`…): a configuration problem, not retryable.
    #[error("the token endpoint refused the assertion (HTTP {status}): {error}: {description}")]
    Refused {
        /// The HTTP status, usually 400.
        status: u16,
        /// The OAuth `error`, e.g. `invalid_grant`.
        error: String,
        /// Salesforce's `error_description`, e.g. `audience is invalid`.
        description: String,
    },
    /// The token endpoint answered an error status without an OAuth error body
    /// (an outage page, a proxy); retryable when 5xx.
    #[error("the token endpoint answered HTTP {status}: {snippet}")]
    Unavailable {
        /// The HTTP status.
        status: u16,
        /// The first characters of the body.
        snippet: String,
    },
    /// The token endpoint could not be reached in time or at all; retryable.
    #[error("the token endpoint could not be reached")]
    Transport(#[source] reqwest::Error),
    /// The token endpoint said yes but the answer is not the documented one.
    #[error("the token endpoint's answer is malformed: {0}")]
    MalformedResponse(&'static str),
    /// The assertion could not be signed.
    #[error("the JWT assertion could not be signed")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

impl AuthError {
    /// Transport failures and 5xx/429 answers are transient; refusals are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Unavailable { status, .. } => *status >= 500 || *status == 429,
            Self::Refused { status, .. } => *status >= 500,
            Self::MalformedResponse(_) | Self::Signing(_) => false,
        }
    }
}

/// A logged-in session: what every REST and Pub/Sub call needs.
#[derive(Debug)]
pub struct Session {
    /// The bearer token. Never log it.
    pub access_token: SecretString,
    /// The org's instance URL without a trailing slash, e.g. `https://acme.my.salesforce.com`.
    pub instance_url: String,
    /// The org id (`00D…`), the Pub/Sub `tenantid`.
    pub org_id: Id,
    /// The integration user's id (`005…`).
    pub user_id: Id,
    /// When the token was issued (by our clock).
    pub issued_at: DateTime<Utc>,
    /// Which login of this cache produced it; used to refresh only a stale session.
    generation: u64,
}

impl Session {
    /// The number of the login that produced this session (1 for the first).
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// The claims of the assertion.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
}

/// The successful answer of the token endpoint.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    instance_url: String,
    id: String,
}

/// The error answer of the token endpoint.
#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// The result of one successful token request, before it enters the cache.
#[derive(Debug)]
pub struct Token {
    /// The bearer token.
    pub access_token: SecretString,
    /// The instance URL without a trailing slash.
    pub instance_url: String,
    /// From the last two segments of the identity URL.
    pub org_id: Id,
    /// From the last segment of the identity URL.
    pub user_id: Id,
}

/// Signs assertions and exchanges them for tokens.
#[derive(Debug, Clone)]
pub struct JwtBearer {
    config: Arc<SalesforceConfig>,
    http: reqwest::Client,
}

impl JwtBearer {
    /// A JWT bearer login for `config`, sending through `http`.
    pub fn new(config: Arc<SalesforceConfig>, http: reqwest::Client) -> Self {
        Self { config, http }
    }

    /// The token endpoint, `{login}/services/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/services/oauth2/token", self.config.login_url())
    }

    /// Signs an assertion that expires [`ASSERTION_LIFETIME`] after `now`
    /// (a past `now` gives an expired assertion, for tests).
    pub fn sign_assertion_at(&self, now: DateTime<Utc>) -> Result<SecretString, AuthError> {
        let lifetime = i64::try_from(ASSERTION_LIFETIME.as_secs()).unwrap_or(150);
        sign(
            self.config.private_key(),
            &Claims {
                iss: self.config.client_id(),
                sub: self.config.username(),
                aud: self.config.login_url(),
                exp: now.timestamp() + lifetime,
            },
        )
    }

    /// Signs an assertion valid from now.
    pub fn sign_assertion(&self) -> Result<SecretString, AuthError> {
        self.sign_assertion_at(Utc::now())
    }

    /// Posts `assertion` to the token endpoint and parses the answer.
    #[tracing::instrument(name = "salesforce.token_request", skip_all, fields(endpoint = %self.config.login_url()))]
    pub async fn exchange(&self, assertion: &SecretString) -> Result<Token, AuthError> {
        let response = self
            .http
            .post(self.token_url())
            .form(&[
                ("grant_type", GRANT_TYPE),
                ("assertion", assertion.expose_secret()),
            ])
            .send()
            .await
            .map_err(|e| AuthError::Transport(e.without_url()))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| AuthError::Transport(e.without_url()))?;
        if !(200..300).contains(&status) {
            return Err(match serde_json::from_slice::<OAuthErrorBody>(&body) {
                Ok(e) => AuthError::Refused {
                    status,
                    error: e.error,
                    description: e.error_description,
                },
                Err(_) => AuthError::Unavailable {
                    status,
                    snippet: snippet(&body),
                },
            });
        }
        // Never put this body in an error: it holds the token.
        let token: TokenResponse = serde_json::from_slice(&body)
            .map_err(|_| AuthError::MalformedResponse("not the documented JSON"))?;
        let (org_id, user_id) = ids_from_identity_url(&token.id).ok_or(
            AuthError::MalformedResponse("`id` does not end in /<org id>/<user id>"),
        )?;
        let instance_url = url::Url::parse(&token.instance_url)
            .map_err(|_| AuthError::MalformedResponse("`instance_url` is not a URL"))?
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        tracing::info!(org_id = %org_id, user_id = %user_id, "logged in to Salesforce");
        Ok(Token {
            access_token: SecretString::from(token.access_token),
            instance_url,
            org_id,
            user_id,
        })
    }

    /// Signs a fresh assertion and exchanges it.
    pub async fn login(&self) -> Result<Token, AuthError> {
        let assertion = self.sign_assertion()?;
        self.exchange(&assertion).await
    }
}

fn sign(key: &PrivateKey, claims: &Claims<'_>) -> Result<SecretString, AuthError> {
    // `Header::new` adds `"typ":"JWT"`; Salesforce documents `{"alg":"RS256"}` alone.
    let mut header = Header::new(Algorithm::RS256);
    header.typ = None;
    jsonwebtoken::encode(&header, claims, key.encoding_key())
        .map(SecretString::from)
        .map_err(AuthError::Signing)
}

/// `…/id/<orgId>/<userId>` → (org id, user id).
fn ids_from_identity_url(identity: &str) -> Option<(Id, Id)> {
    let path = identity.split(['?', '#']).next()?;
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let user = Id::parse(segments.next()?).ok()?;
    let org = Id::parse(segments.next()?).ok()?;
    Some((org, user))
}

/// What the cache holds: the current session and the last failed login.
#[derive(Default)]
struct CacheState {
    session: Option<Arc<Session>>,
    /// The number of the last failed login (counting finished logins) and its
    /// error, shared with the callers that were waiting for it.
    last_failure: Option<(u64, Arc<AuthError>)>,
}

/// The session shared by all clones of a client; logins are single-flight.
pub struct TokenCache {
    auth: JwtBearer,
    state: Mutex<CacheState>,
    /// Held while logging in, so only one login runs at a time.
    login_lock: tokio::sync::Mutex<()>,
    /// Login attempts finished so far (successful or not).
    attempts: AtomicU64,
    /// Successful logins so far (the generation of the newest session).
    generation: AtomicU64,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("login_attempts", &self.attempts.load(Ordering::Relaxed))
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// An empty cache logging in through `auth`.
    pub fn new(auth: JwtBearer) -> Self {
        Self {
            auth,
            state: Mutex::new(CacheState::default()),
            login_lock: tokio::sync::Mutex::new(()),
            attempts: AtomicU64::new(0),
            generation: AtomicU64::new(0),
        }
    }

    /// The login used by this cache.
    pub fn auth(&self) -> &JwtBearer {
        &self.auth
    }

    fn cached(&self) -> Option<Arc<Session>> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .session
            .clone()
    }

    /// The current session, logging in if there is none. Concurrent callers
    /// share one login; callers that waited for a login that failed get its
    /// error rather than trying again themselves.
    pub async fn session(&self) -> Result<Arc<Session>, Arc<AuthError>> {
        if let Some(session) = self.cached() {
            return Ok(session);
        }
        let attempts_seen = self.attempts.load(Ordering::Acquire);
        let _login = self.login_lock.lock().await;
        {
            let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(session) = &state.session {
                return Ok(Arc::clone(session));
            }
            if let Some((attempt, error)) = &state.last_failure
                && *attempt > attempts_seen
            {
                return Err(Arc::clone(error));
            }
        }
        let result = self.auth.login().await;
        // Counted when finished: every caller that started waiting before now
        // saw a smaller number and will share this result.
        let attempt = self.attempts.fetch_add(1, Ordering::AcqRel) + 1;
        match result {
            Ok(token) => {
                let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
                let session = Arc::new(Session {
                    access_token: token.access_token,
                    instance_url: token.instance_url,
                    org_id: token.org_id,
                    user_id: token.user_id,
                    issued_at: Utc::now(),
                    generation,
                });
                let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                state.session = Some(Arc::clone(&session));
                state.last_failure = None;
                Ok(session)
            }
            Err(e) => {
                tracing::warn!(attempt, retryable = e.is_retryable(), error = %e, "Salesforce login failed");
                let e = Arc::new(e);
                self.state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .last_failure = Some((attempt, Arc::clone(&e)));
                Err(e)
            }
        }
    }

    /// Forgets `stale` if it is still the cached session; a session that was
    /// already replaced is left alone, so a burst of 401s causes one login.
    pub fn invalidate(&self, stale: &Session) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state
            .session
            .as_ref()
            .is_some_and(|s| s.generation == stale.generation)
        {
            state.session = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    const KEY_PEM: &str = include_str!("../tests/fixtures/unit-test-key.pem");
    const PUBLIC_PEM: &str = include_str!("../tests/fixtures/unit-test-key.pub.pem");

    fn bearer() -> JwtBearer {
        let config = SalesforceConfig::new(
            "https://login.salesforce.com/",
            "3MVGconsumer",
            "integration@portal.local",
            KEY_PEM.as_bytes(),
        )
        .unwrap();
        JwtBearer::new(Arc::new(config), reqwest::Client::new())
    }

    #[test]
    fn the_assertion_follows_the_documented_shape() {
        let now = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let jwt = bearer().sign_assertion_at(now).unwrap();
        let parts: Vec<&str> = jwt.expose_secret().split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |p: &str| -> serde_json::Value {
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(decode(parts[0]), serde_json::json!({"alg": "RS256"}));
        let claims = decode(parts[1]);
        assert_eq!(claims["iss"], "3MVGconsumer");
        assert_eq!(claims["sub"], "integration@portal.local");
        assert_eq!(claims["aud"], "https://login.salesforce.com");
        let exp = claims["exp"].as_i64().unwrap();
        assert!(exp > now.timestamp() && exp <= now.timestamp() + 180);

        // The signature verifies with the public key.
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.set_audience(&["https://login.salesforce.com"]);
        validation.validate_exp = false;
        jsonwebtoken::decode::<serde_json::Value>(
            jwt.expose_secret(),
            &jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC_PEM.as_bytes()).unwrap(),
            &validation,
        )
        .unwrap();
    }

    #[test]
    fn ids_come_from_the_last_two_segments_of_the_identity_url() {
        let (org, user) = ids_from_identity_url(
            "https://login.salesforce.com/id/00D000000000001EAA/005000000000001AAA",
        )
        .unwrap();
        assert_eq!(org.key_prefix(), "00D");
        assert_eq!(user.as_str(), "005000000000001AAA");
        assert!(ids_from_identity_url("https://login.salesforce.com/id/").is_none());
        assert!(ids_from_identity_url("nonsense").is_none());
    }

    #[test]
    fn refusals_are_permanent_and_outages_transient() {
        let refused = AuthError::Refused {
            status: 400,
            error: "invalid_grant".into(),
            description: "audience is invalid".into(),
        };
        assert!(!refused.is_retryable());
        assert!(refused.to_string().contains("audience is invalid"));
        assert!(
            AuthError::Unavailable {
                status: 503,
                snippet: String::new()
            }
            .is_retryable()
        );
        assert!(
            !AuthError::Unavailable {
                status: 404,
                snippet: String::new()
            }
            .is_retryable()
        );
    }
}
