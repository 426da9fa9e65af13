//! `Idempotency-Key` on POST: the header, the request fingerprint, and what
//! happens to the claim once the request is answered.
//!
//! - The key is scoped to the caller (the token's `sub`): two customers never
//!   share keys.
//! - The fingerprint is SHA-256 over the method, the path and the exact body
//!   bytes: the same key with another body (or route) is 422.
//! - A 2xx answer is stored and replayed (status and body, plus
//!   `Idempotency-Replayed: true`) until the record expires (24 h, the TTL).
//! - A 4xx answer or a 503 wrote nothing (every write is one all-or-none
//!   composite), so the claim is released and the client may retry with the
//!   same key.
//! - A 503 `outcome-unknown` (a write sent and its answer lost, issue 12)
//!   marks the record `UNKNOWN`: never released, the same key with the same
//!   body runs again as a resumed attempt that finds what the first wrote (or
//!   writes it once: the records carry the request key in a unique field);
//!   another body stays 422. A resumed attempt that fails again without
//!   writing leaves it `UNKNOWN` too: the first attempt's outcome is still
//!   not known to be "nothing".
//! - A 500/502 keeps the claim until its in-flight deadline lapses:
//!   duplicates meanwhile get 409, later ones resume as above.

use std::time::Duration;

use http::{HeaderMap, HeaderName, Method};
use portal_core::ports::{
    Fingerprint, IdempotencyId, IdempotencyKey, IdempotencyStore, LeaseOwner, StoredResponse,
};
use sha2::{Digest, Sha256};

use crate::problem::Problem;
use portal_core::diagnostics::error_chain;

/// The request header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The response header marking a replay.
pub const IDEMPOTENCY_REPLAYED: HeaderName = HeaderName::from_static("idempotency-replayed");
/// How long a completed record is replayed (the TTL attribute).
pub const RECORD_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a claim holds before a duplicate may run (longer than the function's timeout).
pub const IN_FLIGHT: Duration = Duration::from_secs(60);

/// The `Idempotency-Key` header, when sent; 400 naming the header when bad.
pub fn key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, Problem> {
    let mut values = headers.get_all(&IDEMPOTENCY_KEY).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(Problem::bad_header("Idempotency-Key", "must be sent once")),
        (Some(value), None) => value
            .to_str()
            .ok()
            .and_then(|text| IdempotencyKey::parse(text).ok())
            .map(Some)
            .ok_or_else(|| {
                Problem::bad_header(
                    "Idempotency-Key",
                    "must be 1 to 255 printable ASCII characters without spaces",
                )
            }),
    }
}

/// SHA-256 (hex) of the method, the path and the exact body bytes.
pub fn fingerprint(method: &Method, path: &str, body: &[u8]) -> Fingerprint {
    let hex = sha256_hex(&[
        method.as_str().as_bytes(),
        b" ",
        path.as_bytes(),
        b"\n",
        body,
    ]);
    Fingerprint::new(hex).expect("a SHA-256 hex digest is 64 bytes")
}

/// SHA-256 of `parts` one after the other, as 64 lower-case hex digits.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh owner token for one request's claim.
pub fn owner() -> LeaseOwner {
    LeaseOwner::new(uuid::Uuid::new_v4().simple().to_string())
        .expect("a simple UUID is 32 printable ASCII characters")
}

/// What to do with a claim once the request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// Store the response for replay.
    Complete,
    /// Nothing was written: delete the claim.
    Release,
    /// The outcome is unknown: leave the claim to lapse.
    Keep,
    /// A write may have been done: mark the record `UNKNOWN`, never released.
    MarkUnknown,
}

impl Settlement {
    /// The settlement of a response with `status`.
    pub fn for_status(status: u16) -> Self {
        match status {
            200..=299 => Self::Complete,
            400..=499 | 503 => Self::Release,
            _ => Self::Keep,
        }
    }

    /// The settlement of a `problem` answer; `resumed` when the attempt
    /// followed one whose outcome is unknown (that outcome stays unknown
    /// unless this attempt succeeds, so its key is never released).
    pub fn for_problem(problem: &Problem, resumed: bool) -> Self {
        if problem.is_outcome_unknown() {
            return Self::MarkUnknown;
        }
        match Self::for_status(problem.status) {
            Self::Release if resumed => Self::MarkUnknown,
            other => other,
        }
    }
}

/// Settles the claim `id` held by `owner`; failures are logged, never shown
/// (the client already has its answer).
pub async fn settle<S: IdempotencyStore>(
    store: &S,
    id: &IdempotencyId,
    owner: &LeaseOwner,
    settlement: Settlement,
    response: StoredResponse,
    expires_at: chrono::DateTime<chrono::Utc>,
) {
    let result = match settlement {
        Settlement::Complete => store.complete(id, owner, &response, expires_at).await,
        Settlement::Release => store.release(id, owner).await,
        Settlement::MarkUnknown => {
            tracing::warn!(
                status = response.status,
                "a write may have been done; the idempotency record stays UNKNOWN for a retry with the same key"
            );
            store.mark_unknown(id, owner, expires_at).await
        }
        Settlement::Keep => {
            tracing::warn!(
                status = response.status,
                "outcome unknown; the idempotency claim stays until it lapses"
            );
            Ok(())
        }
    };
    if let Err(error) = result {
        tracing::warn!(error = %error_chain(&error), "settling the idempotency record failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_the_body_or_route_differs_should_fingerprint_differently() {
        let a = fingerprint(&Method::POST, "/orders", b"{\"a\":1}");
        assert_eq!(a, fingerprint(&Method::POST, "/orders", b"{\"a\":1}"));
        assert_ne!(a, fingerprint(&Method::POST, "/orders", b"{\"a\": 1}"));
        assert_ne!(
            a,
            fingerprint(&Method::POST, "/support-cases", b"{\"a\":1}")
        );
        assert_eq!(a.as_str().len(), 64);
    }

    #[test]
    fn when_the_header_is_bad_should_name_it() {
        let mut headers = HeaderMap::new();
        assert_eq!(key(&headers).unwrap(), None);
        headers.insert(&IDEMPOTENCY_KEY, "k-1".parse().unwrap());
        assert_eq!(key(&headers).unwrap().unwrap().as_str(), "k-1");
        for bad in ["a b", &"k".repeat(256)] {
            headers.insert(&IDEMPOTENCY_KEY, bad.parse().unwrap());
            let problem = key(&headers).unwrap_err();
            assert_eq!(problem.status, 400);
            assert_eq!(problem.errors.unwrap()[0].field, "Idempotency-Key");
        }
        headers.insert(&IDEMPOTENCY_KEY, "a".parse().unwrap());
        headers.append(&IDEMPOTENCY_KEY, "b".parse().unwrap());
        assert_eq!(key(&headers).unwrap_err().status, 400);
    }

    #[test]
    fn when_a_request_wrote_nothing_should_release_else_complete_or_keep() {
        assert_eq!(Settlement::for_status(201), Settlement::Complete);
        assert_eq!(Settlement::for_status(422), Settlement::Release);
        assert_eq!(Settlement::for_status(503), Settlement::Release);
        assert_eq!(Settlement::for_status(502), Settlement::Keep);
        assert_eq!(Settlement::for_status(500), Settlement::Keep);
    }

    #[test]
    fn when_a_write_may_have_been_done_should_mark_unknown_never_release() {
        let unknown = Problem::outcome_unknown(Duration::from_secs(2));
        assert_eq!(unknown.status, 503);
        for resumed in [false, true] {
            assert_eq!(
                Settlement::for_problem(&unknown, resumed),
                Settlement::MarkUnknown
            );
        }
        let busy = Problem::unavailable(None);
        assert_eq!(Settlement::for_problem(&busy, false), Settlement::Release);
        assert_eq!(
            Settlement::for_problem(&busy, true),
            Settlement::MarkUnknown,
            "a resumed attempt that wrote nothing leaves the first one's outcome unknown"
        );
        assert_eq!(
            Settlement::for_problem(&Problem::upstream_failed(), true),
            Settlement::Keep
        );
    }
}
