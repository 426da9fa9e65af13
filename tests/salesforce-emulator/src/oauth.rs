//! The OAuth 2.0 JWT bearer token endpoint (`POST /services/oauth2/token`) and the
//! sessions it issues.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, Validation};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::{Shared, lock};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// How far ahead an assertion's `exp` may be: 3 minutes plus 30 s of clock skew.
const MAX_EXP_AHEAD_SECS: i64 = 3 * 60 + 30;

#[derive(Debug, Clone)]
struct Session {
    user_id: String,
    expires_at: Instant,
}

/// The access tokens issued by one org.
#[derive(Debug, Default)]
pub struct Sessions {
    by_token: std::sync::Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Issues a token `<orgId>!<random>` for `user_id`, valid for `ttl`.
    pub fn issue(&self, org_id: &str, user_id: &str, ttl: Duration) -> String {
        let secret: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(96)
            .map(char::from)
            .collect();
        let token = format!("{org_id}!{secret}");
        lock(&self.by_token).insert(
            token.clone(),
            Session {
                user_id: user_id.to_owned(),
                expires_at: Instant::now() + ttl,
            },
        );
        token
    }

    /// The user of a live token.
    pub fn user_of(&self, token: &str) -> Option<String> {
        let mut sessions = lock(&self.by_token);
        match sessions.get(token) {
            Some(s) if s.expires_at > Instant::now() => Some(s.user_id.clone()),
            Some(_) => {
                sessions.remove(token);
                None
            }
            None => None,
        }
    }

    /// Invalidates every token.
    pub fn expire_all(&self) {
        lock(&self.by_token).clear();
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    exp: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, accepted: impl Fn(&str) -> bool) -> bool {
        match self {
            Audience::One(a) => accepted(a),
            Audience::Many(all) => all.iter().any(|a| accepted(a)),
        }
    }
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn invalid_grant(description: &str) -> Response {
    oauth_error("invalid_grant", description)
}

/// The claims of an assertion, read without verifying it (to find the client first,
/// as Salesforce does), or `None` when it is no JWT.
fn peek_claims(assertion: &str) -> Option<Claims> {
    let mut parts = assertion.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn trim_slash(s: &str) -> &str {
    s.trim_end_matches('/')
}

/// `POST /services/oauth2/token`: the JWT bearer grant.
pub async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    if let Some(latency) = shared.faults.latency() {
        crate::faults::wait_out(Instant::now(), latency).await;
    }
    shared.token_requests.fetch_add(1, Ordering::SeqCst);
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some(JWT_BEARER) {
        return oauth_error("unsupported_grant_type", "grant type not supported");
    }
    let Some(assertion) = form.get("assertion") else {
        return invalid_grant("invalid assertion");
    };
    let Some(claims) = peek_claims(assertion) else {
        return invalid_grant("invalid assertion");
    };
    if claims.iss.as_deref() != Some(shared.config.client_id.as_str()) {
        return oauth_error("invalid_client_id", "client identifier invalid");
    }
    let header_ok = jsonwebtoken::decode_header(assertion).is_ok_and(|h| h.alg == Algorithm::RS256);
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    if !header_ok
        || jsonwebtoken::decode::<Value>(assertion, &shared.decoding_key, &validation).is_err()
    {
        return invalid_grant("invalid assertion");
    }
    let audience_ok = claims.aud.as_ref().is_some_and(|aud| {
        aud.contains(|a| {
            trim_slash(a) == trim_slash(&shared.base_url)
                || shared
                    .config
                    .extra_audiences
                    .iter()
                    .any(|x| trim_slash(x) == trim_slash(a))
        })
    });
    if !audience_ok {
        return invalid_grant("audience is invalid");
    }
    if claims.sub.as_deref() != Some(shared.config.username.as_str()) {
        return invalid_grant("user hasn't approved this consumer");
    }
    let now = chrono::Utc::now().timestamp();
    match claims.exp.as_ref().and_then(Value::as_i64) {
        None => return invalid_grant("invalid assertion"),
        Some(exp) if exp < now => return invalid_grant("expired authorization code"),
        Some(exp) if exp > now + MAX_EXP_AHEAD_SECS => return invalid_grant("invalid assertion"),
        Some(_) => {}
    }
    let org_id = &shared.config.org_id;
    let user_id = &shared.integration_user_id;
    let access_token = shared
        .sessions
        .issue(org_id, user_id, shared.config.session_ttl);
    shared.successful_logins.fetch_add(1, Ordering::SeqCst);
    tracing::info!(user_id = %user_id, "issued an access token");
    let base = &shared.base_url;
    (
        StatusCode::OK,
        axum::Json(json!({
            "access_token": access_token,
            "scope": "api",
            "instance_url": base,
            "id": shared.identity_url(user_id),
            "token_type": "Bearer",
            "issued_at": chrono::Utc::now().timestamp_millis().to_string(),
        })),
    )
        .into_response()
}
