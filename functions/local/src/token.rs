//! The local token issuer: a P-256 key generated at start signs ES256 tokens
//! for `POST /_local/token`, and the API verifies them with its public half.
//! It exists only in `portal-local`, never in the Lambda binary.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portal_core::domain::FieldError;
use portal_core::domain::{AccountId, Email};
use portal_http::body::{RequestBody, parse_json};
use portal_http::problem::{Problem, ProblemField};
use portal_http::{AuthConfig, KeySource};
use serde::{Deserialize, Serialize};

/// The `iss` of local tokens.
pub const ISSUER: &str = "portal-local";
/// The `aud` of local tokens.
pub const AUDIENCE: &str = "portal-api";
/// How long a local token lives.
pub const LIFETIME_SECS: i64 = 12 * 60 * 60;

/// The DER prefix of a P-256 SubjectPublicKeyInfo, before the 65-byte point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Why the issuer could not be created.
#[derive(Debug, thiserror::Error)]
#[error("generating the local token key failed")]
pub struct KeyGenerationError;

/// Signs local tokens. Its `Debug` shows no key.
#[derive(Clone)]
pub struct TokenIssuer {
    key: Arc<EncodingKey>,
    public_pem: String,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer").finish_non_exhaustive()
    }
}

/// The body of `POST /_local/token`.
#[derive(Debug, Deserialize, Serialize)]
pub struct TokenRequest {
    /// The login's subject.
    pub sub: Option<String>,
    /// Its e-mail.
    pub email: Option<String>,
    /// Whether the identity provider verified the e-mail (default `true`).
    pub email_verified: Option<bool>,
    /// An account claim to put in the token (must name the login's linked
    /// Account, or the API answers 403; not needed: the API links logins itself).
    pub sf_account_id: Option<String>,
}

impl RequestBody for TokenRequest {
    /// Its values are checked when the token is issued ([`TokenIssuer`]).
    fn value_errors(self, _today: chrono::NaiveDate) -> Vec<FieldError> {
        Vec::new()
    }
}

#[derive(Serialize)]
struct TokenResponse {
    token: String,
}

impl TokenIssuer {
    /// A fresh key pair.
    pub fn generate() -> Result<Self, KeyGenerationError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| KeyGenerationError)?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|_| KeyGenerationError)?;
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(pair.public_key().as_ref());
        let b64 = base64::engine::general_purpose::STANDARD.encode(&spki);
        Ok(Self {
            key: Arc::new(EncodingKey::from_ec_der(pkcs8.as_ref())),
            public_pem: format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n"),
        })
    }

    /// How the API verifies these tokens.
    pub fn auth_config(&self) -> AuthConfig {
        AuthConfig {
            issuer: ISSUER.to_owned(),
            audience: AUDIENCE.to_owned(),
            keys: KeySource::PublicKeyPem(self.public_pem.clone()),
            account_claim: portal_http::config::DEFAULT_ACCOUNT_CLAIM.to_owned(),
            email_verified_claim: portal_http::config::DEFAULT_EMAIL_VERIFIED_CLAIM.to_owned(),
            leeway: portal_http::config::DEFAULT_LEEWAY,
        }
    }

    /// Signs a token for a checked request.
    fn issue(&self, request: TokenRequest) -> Result<String, Problem> {
        let mut errors = Vec::new();
        let sub = request
            .sub
            .filter(|s| !s.trim().is_empty() && s.len() <= 255);
        if sub.is_none() {
            errors.push(field("sub", "is required (1 to 255 characters)"));
        }
        let email = request.email.as_deref().map(Email::parse);
        if !matches!(email, Some(Ok(_))) {
            errors.push(field("email", "must be an e-mail address"));
        }
        let account = request.sf_account_id.filter(|a| !a.trim().is_empty());
        if let Some(account) = &account
            && AccountId::parse(account).is_err()
        {
            errors.push(field("sf_account_id", "must be a Salesforce Account id"));
        }
        let (Some(sub), Some(Ok(email)), true) = (sub, email, errors.is_empty()) else {
            return Err(Problem::validation(errors));
        };
        let now = Utc::now().timestamp();
        let mut claims = serde_json::json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "email": email.as_str(),
            "email_verified": request.email_verified.unwrap_or(true),
            "iat": now, "nbf": now, "exp": now + LIFETIME_SECS,
        });
        if let Some(account) = account {
            claims["sf_account_id"] = serde_json::Value::String(account);
        }
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.key).map_err(|error| {
            tracing::error!(%error, "signing a local token failed");
            Problem::internal()
        })
    }

    /// The `POST /_local/token` route.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/_local/token", post(issue_token))
            .with_state(self.clone())
    }
}

fn field(name: &str, message: &str) -> ProblemField {
    ProblemField {
        field: name.to_owned(),
        message: message.to_owned(),
    }
}

async fn issue_token(State(issuer): State<TokenIssuer>, body: Bytes) -> Response {
    let result = parse_json::<TokenRequest>(&body, Utc::now().date_naive())
        .and_then(|request| issuer.issue(request));
    match result {
        Ok(token) => (StatusCode::OK, axum::Json(TokenResponse { token })).into_response(),
        Err(problem) => problem.into_response(),
    }
}
