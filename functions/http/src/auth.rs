//! Bearer-token identity: verifies the portal identity provider's JWT
//! (RS256 or ES256; `iss`, `aud`, `exp`, `nbf` with a small leeway) and turns
//! it into a [`VerifiedToken`]: the login (`iss` + `sub`), the e-mail, whether
//! the provider verified it, and the account claim if any. Which Account the
//! login is comes from its link item, not from here
//! ([`portal_core::portal::Logins`]).
//!
//! Keys come from one configured PEM public key or from a JWKS URL (https
//! outside portal-local, checked by the configuration). A JWK is used only if
//! its `use`, when present, is `sig` and its `alg`, when present, is the
//! algorithm of its key type (RS256 for RSA, ES256 for P-256). The JWKS is
//! fetched on first use and cached; a token signed with an unknown `kid`
//! triggers a refresh, at most once per [`JWKS_MIN_REFRESH`] so that forged
//! `kid`s cannot make us hammer the identity provider; the cache is also
//! refreshed after [`JWKS_MAX_AGE`] (keys already known keep working while
//! the provider is down). Only one refresh runs at a time. When the JWKS
//! cannot be fetched and a token needs a key we do not have, the answer is
//! [`AuthError::KeysUnavailable`] (→ 503, never 401: the token may be good).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use portal_core::domain::{AccountId, Email, Login};
use portal_core::portal::{AccountClaim, VerifiedToken};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};
use url::Url;

use crate::config::{AuthConfig, KeySource};

/// The shortest time between two JWKS refreshes caused by unknown `kid`s.
pub const JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);
/// How long a fetched JWKS is used before it is fetched again.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// The longest `sub` accepted (it scopes idempotency keys).
pub const MAX_SUBJECT_LEN: usize = 255;

/// Why a request's identity was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header (→ 401).
    #[error("the request has no bearer token")]
    Missing,
    /// The token is malformed, forged, expired, early, or for another issuer
    /// or audience (→ 401). The reason is for the logs only.
    #[error("the bearer token is not valid: {0}")]
    Invalid(&'static str),
    /// The verification keys cannot be fetched now (→ 503 + `Retry-After`).
    #[error("the identity provider's keys are unavailable")]
    KeysUnavailable {
        /// When the next fetch may be tried.
        retry_after: Duration,
        /// Why the last fetch failed.
        #[source]
        source: JwksError,
    },
}

/// Why the JWKS could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The request failed (the error carries no URL).
    #[error("fetching the JWKS failed")]
    Fetch(#[source] reqwest::Error),
    /// The last fetch failed moments ago; the next one waits for [`JWKS_MIN_REFRESH`].
    #[error("the last JWKS fetch failed and the next one is not due yet")]
    RecentlyFailed,
    /// The document is not a JWKS with at least one usable key.
    #[error("the JWKS has no usable RS256 or ES256 key")]
    NoUsableKey,
}

/// Why the configured key source is unusable at start.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The PEM is neither an RSA nor an EC P-256 public key.
    #[error("PORTAL_JWT_PUBLIC_KEY_PEM is not an RSA or EC P-256 public key in PEM form")]
    Pem,
    /// The HTTP client for the JWKS could not be built.
    #[error("building the JWKS HTTP client failed")]
    Client(#[source] reqwest::Error),
}

#[derive(Clone)]
struct VerifyingKey {
    key: DecodingKey,
    algorithm: Algorithm,
}

#[derive(Default)]
struct JwksState {
    keys: HashMap<String, VerifyingKey>,
    fetched_at: Option<Instant>,
}

/// The last refresh attempt: when, and whether it failed.
#[derive(Clone, Copy)]
struct Attempt {
    at: Instant,
    failed: bool,
}

struct Jwks {
    url: Url,
    min_refresh: Duration,
    http: reqwest::Client,
    state: RwLock<JwksState>,
    refresh: Mutex<Option<Attempt>>,
}

enum Keys {
    Static(VerifyingKey),
    Jwks(Box<Jwks>),
}

/// Verifies bearer tokens. Cheap to share behind an `Arc`.
pub struct Authenticator {
    issuer: String,
    audience: String,
    account_claim: String,
    email_verified_claim: String,
    leeway: Duration,
    keys: Keys,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("account_claim", &self.account_claim)
            .field("email_verified_claim", &self.email_verified_claim)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// An authenticator for `config`; a PEM key is parsed now.
    pub fn new(config: &AuthConfig) -> Result<Self, KeyError> {
        let keys = match &config.keys {
            KeySource::PublicKeyPem(pem) => Keys::Static(parse_pem(pem.as_bytes())?),
            KeySource::Jwks(url) => Keys::Jwks(Box::new(Jwks {
                url: url.clone(),
                min_refresh: JWKS_MIN_REFRESH,
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .map_err(KeyError::Client)?,
                state: RwLock::new(JwksState::default()),
                refresh: Mutex::new(None),
            })),
        };
        Ok(Self {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            account_claim: config.account_claim.clone(),
            email_verified_claim: config.email_verified_claim.clone(),
            leeway: config.leeway,
            keys,
        })
    }

    /// Refreshes the JWKS at most once per `interval` (default
    /// [`JWKS_MIN_REFRESH`]) when tokens name keys it does not have.
    pub fn with_jwks_min_refresh(mut self, interval: Duration) -> Self {
        if let Keys::Jwks(jwks) = &mut self.keys {
            jwks.min_refresh = interval;
        }
        self
    }

    /// Verifies the `Authorization` header's value and returns what the token says.
    pub async fn authenticate(
        &self,
        authorization: Option<&[u8]>,
    ) -> Result<VerifiedToken, AuthError> {
        let token = bearer_token(authorization.ok_or(AuthError::Missing)?)?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::Invalid("malformed token"))?;
        let key = self.key_for(header.kid.as_deref(), header.alg).await?;
        let mut validation = Validation::new(key.algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway.as_secs();
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|e| AuthError::Invalid(reason(e.kind())))?;
        self.caller(&data.claims)
    }

    fn caller(&self, claims: &Map<String, Value>) -> Result<VerifiedToken, AuthError> {
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| s.len() <= MAX_SUBJECT_LEN)
            .ok_or(AuthError::Invalid("bad sub claim"))?;
        // `iss` was checked to be the configured issuer.
        let login =
            Login::new(&self.issuer, subject).map_err(|_| AuthError::Invalid("bad sub claim"))?;
        let email = claims
            .get("email")
            .and_then(Value::as_str)
            .and_then(|e| Email::parse(e).ok())
            .ok_or(AuthError::Invalid("missing or bad email claim"))?;
        // Some providers send the boolean as a string.
        let email_verified = matches!(
            claims.get(&self.email_verified_claim),
            Some(Value::Bool(true))
        ) || matches!(
            claims.get(&self.email_verified_claim),
            Some(Value::String(v)) if v == "true"
        );
        let account_claim = match claims.get(&self.account_claim) {
            None | Some(Value::Null) => AccountClaim::Absent,
            Some(value) => value
                .as_str()
                .and_then(|s| AccountId::parse(s).ok())
                .map_or(AccountClaim::Malformed, AccountClaim::Names),
        };
        Ok(VerifiedToken {
            login,
            email,
            email_verified,
            account_claim,
        })
    }

    async fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<VerifyingKey, AuthError> {
        let key = match &self.keys {
            Keys::Static(key) => key.clone(),
            Keys::Jwks(jwks) => jwks.key(kid).await?,
        };
        if key.algorithm == alg {
            Ok(key)
        } else {
            Err(AuthError::Invalid("unexpected algorithm"))
        }
    }
}

impl Jwks {
    async fn key(&self, kid: Option<&str>) -> Result<VerifyingKey, AuthError> {
        let kid = kid.ok_or(AuthError::Invalid("no kid"))?;
        let known = {
            let state = self.state.read().await;
            let fresh = state.fetched_at.is_some_and(|t| t.elapsed() < JWKS_MAX_AGE);
            match state.keys.get(kid) {
                Some(key) if fresh => return Ok(key.clone()),
                known => known.cloned(),
            }
        };
        let refreshed = self.refresh().await;
        if let Some(key) = self.state.read().await.keys.get(kid) {
            return Ok(key.clone());
        }
        match (refreshed, known) {
            // The provider no longer lists the key (rotated out, revoked).
            (Ok(()), _) => Err(AuthError::Invalid("unknown kid")),
            // A stale key we had: the provider being down does not log anyone out.
            (Err(_), Some(key)) => Ok(key),
            (Err(source), None) => Err(AuthError::KeysUnavailable {
                retry_after: self.next_refresh_in().await,
                source,
            }),
        }
    }

    /// How long until the next refresh may run.
    async fn next_refresh_in(&self) -> Duration {
        let last = *self.refresh.lock().await;
        last.map_or(Duration::from_secs(1), |a| {
            self.min_refresh.saturating_sub(a.at.elapsed())
        })
        .max(Duration::from_secs(1))
    }

    /// Fetches the JWKS unless another caller just did (single flight,
    /// rate-limited). `Err` when this fetch failed, or when the one that made
    /// this call wait failed moments ago: the keys may be incomplete.
    async fn refresh(&self) -> Result<(), JwksError> {
        let mut last = self.refresh.lock().await;
        if let Some(attempt) = *last
            && attempt.at.elapsed() < self.min_refresh
        {
            return if attempt.failed {
                Err(JwksError::RecentlyFailed)
            } else {
                Ok(())
            };
        }
        let result = self.fetch().await;
        *last = Some(Attempt {
            at: Instant::now(),
            failed: result.is_err(),
        });
        match result {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "JWKS refreshed");
                let mut state = self.state.write().await;
                state.keys = keys;
                state.fetched_at = Some(Instant::now());
                Ok(())
            }
            Err(error) => {
                tracing::warn!(error = %portal_core::diagnostics::error_chain(&error), "JWKS refresh failed");
                Err(error)
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, VerifyingKey>, JwksError> {
        let fetch = |e: reqwest::Error| JwksError::Fetch(e.without_url());
        let body: Value = self
            .http
            .get(self.url.clone())
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(fetch)?
            .json()
            .await
            .map_err(fetch)?;
        let keys: HashMap<String, VerifyingKey> = body
            .get("keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|raw| serde_json::from_value::<Jwk>(raw.clone()).ok())
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, verifying_key(&jwk)?)))
            .collect();
        if keys.is_empty() {
            Err(JwksError::NoUsableKey)
        } else {
            Ok(keys)
        }
    }
}

/// The key of a JWK we may verify with: RSA (RS256) or P-256 (ES256), with
/// `use` absent or `sig`, and `alg` absent or the key type's algorithm.
fn verifying_key(jwk: &Jwk) -> Option<VerifyingKey> {
    let (algorithm, named) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        _ => return None,
    };
    if !matches!(
        jwk.common.public_key_use,
        None | Some(PublicKeyUse::Signature)
    ) {
        return None;
    }
    if jwk.common.key_algorithm.is_some_and(|alg| alg != named) {
        return None;
    }
    Some(VerifyingKey {
        key: DecodingKey::from_jwk(jwk).ok()?,
        algorithm,
    })
}

fn parse_pem(pem: &[u8]) -> Result<VerifyingKey, KeyError> {
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok(VerifyingKey {
            key,
            algorithm: Algorithm::RS256,
        });
    }
    DecodingKey::from_ec_pem(pem)
        .map(|key| VerifyingKey {
            key,
            algorithm: Algorithm::ES256,
        })
        .map_err(|_| KeyError::Pem)
}

fn bearer_token(header: &[u8]) -> Result<&str, AuthError> {
    let value = std::str::from_utf8(header).map_err(|_| AuthError::Invalid("not UTF-8"))?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let token = token.trim();
    if token.is_empty() {
        Err(AuthError::Missing)
    } else {
        Ok(token)
    }
}

fn reason(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not yet valid",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::MissingRequiredClaim(_) => "missing claim",
        ErrorKind::InvalidAlgorithm => "unexpected algorithm",
        _ => "malformed token",
    }
}

/// A shared authenticator.
pub type SharedAuthenticator = Arc<Authenticator>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_the_header_is_not_a_bearer_token_should_count_as_missing() {
        assert!(matches!(
            bearer_token(b"Basic abc"),
            Err(AuthError::Missing)
        ));
        assert!(matches!(
            bearer_token(b"Bearer   "),
            Err(AuthError::Missing)
        ));
        assert!(matches!(bearer_token(b"bearer a.b.c"), Ok("a.b.c")));
        assert!(matches!(
            bearer_token(b"Bearer \xff"),
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn when_the_pem_is_not_a_public_key_should_refuse_it() {
        assert!(matches!(
            parse_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
            Err(KeyError::Pem)
        ));
    }
}
