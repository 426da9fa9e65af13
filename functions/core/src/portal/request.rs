//! One attempt of a portal POST, and the key its records are written under
//! (issue 12, defect 1: a write whose answer was lost must not be made twice).
//!
//! Every POST writes its records in ONE all-or-none composite, and its primary
//! record (the Order, the Case, the Contact) carries the request's
//! [`RequestKey`] in `Portal_Request_Key__c`, a unique external-id field. So:
//!
//! - a second write under the same key is refused by Salesforce itself
//!   ([`PortError::KeyTaken`]), whatever the interleaving of the attempts, and
//!   [`write_once`] answers with what the other attempt wrote, found by key
//!   among the caller's records; when that attempt has not committed yet
//!   (Salesforce names no record), nothing is found and the outcome is still
//!   unknown ([`PortError::OutcomeUnknown`]);
//! - an attempt that follows one whose outcome is unknown
//!   ([`Attempt::follows_unknown`]) first looks for what that one wrote
//!   ([`written_before`]) and answers with it; its read and decision would
//!   otherwise see the first attempt's own changes (an Opportunity already at
//!   `Post Processing`, a Case already open) and decide differently;
//! - if such an attempt is refused by the rules ([`refused`]), it looks once
//!   more: the earlier attempt may have committed in between.
//!
//! Without an `Idempotency-Key` a request still gets a key of its own, never
//! reused, so the field is always set and the rules are the same.

use std::fmt;
use std::future::Future;

use sha2::{Digest, Sha256};

use crate::domain::Login;

use super::error::{PortError, PortalError};

/// Why a request key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a request key is 64 lower-case hexadecimal digits (a SHA-256 digest)")]
pub struct InvalidRequestKey;

/// The value of `Portal_Request_Key__c`: SHA-256 (lower-case hex) of the
/// login, the client's `Idempotency-Key` and the request's fingerprint (a
/// digest of its method, path and body). Every retry of a request has the
/// same key; two logins never share one; a key the client uses again for
/// another request once its idempotency record expired (24 h) makes another
/// key, not a clash with the old request's records. It holds no personal data.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestKey(String);

impl RequestKey {
    /// The key of `login`'s request `fingerprint` sent with `idempotency_key`.
    pub fn derive(login: &Login, idempotency_key: &str, fingerprint: &str) -> Self {
        let mut hasher = Sha256::new();
        for part in [
            login.issuer(),
            login.subject(),
            idempotency_key,
            fingerprint,
        ] {
            // Length-prefixed, so no two different triples hash the same bytes.
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        Self(
            hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }

    /// Checks a stored key: 64 lower-case hex digits.
    pub fn parse(value: &str) -> Result<Self, InvalidRequestKey> {
        let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if value.len() == 64 && value.bytes().all(hex) {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidRequestKey)
        }
    }

    /// The digest, as written to Salesforce.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RequestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestKey({})", &self.0[..12.min(self.0.len())])
    }
}

/// One attempt of a POST: its key, and whether an earlier attempt with the
/// same key may have written (its outcome is unknown: its answer was lost, or
/// the request holding the key died).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    key: RequestKey,
    follows_unknown: bool,
}

impl Attempt {
    /// The first attempt under `key`: nothing can have been written under it.
    pub fn first(key: RequestKey) -> Self {
        Self {
            key,
            follows_unknown: false,
        }
    }

    /// An attempt after one whose outcome is unknown: it looks for what that
    /// one wrote before doing anything.
    pub fn after_unknown(key: RequestKey) -> Self {
        Self {
            key,
            follows_unknown: true,
        }
    }

    /// The key its records are written under.
    pub fn key(&self) -> &RequestKey {
        &self.key
    }

    /// Whether an earlier attempt with the same key may have written.
    pub fn follows_unknown(&self) -> bool {
        self.follows_unknown
    }
}

/// What an earlier attempt of `attempt` wrote, found by key; `None` when
/// `attempt` is a first one (nothing is read then).
pub async fn written_before<T, F, Fut>(attempt: &Attempt, find: F) -> Result<Option<T>, PortalError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<T>, PortError>>,
{
    if !attempt.follows_unknown() {
        return Ok(None);
    }
    let found = find().await?;
    if found.is_some() {
        tracing::info!("an earlier attempt of this request wrote its records; answering with them");
    }
    Ok(found)
}

/// `refusal`, unless an earlier attempt of `attempt` wrote its records (it
/// may have committed since they were first looked for): then those.
pub async fn refused<T, F, Fut>(
    attempt: &Attempt,
    refusal: PortalError,
    find: F,
) -> Result<T, PortalError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<T>, PortError>>,
{
    match written_before(attempt, find).await? {
        Some(found) => Ok(found),
        None => Err(refusal),
    }
}

/// Runs `write`. When Salesforce refuses it because a record with the
/// request's key exists, answers with what `find` finds under the key: the
/// other attempt's records. When it finds nothing, that attempt has not
/// committed (yet): the outcome is unknown and the client must retry.
pub async fn write_once<T, W, F, Fut>(write: W, find: F) -> Result<T, PortalError>
where
    W: Future<Output = Result<T, PortError>>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<T>, PortError>>,
{
    match write.await {
        Ok(written) => Ok(written),
        Err(PortError::KeyTaken { in_flight, source }) => match find().await? {
            Some(found) => {
                tracing::info!(
                    "another attempt of this request wrote its records first; answering with them"
                );
                Ok(found)
            }
            None if in_flight => {
                tracing::warn!(
                    "another attempt of this request holds its key but has not committed; outcome unknown"
                );
                Err(PortError::OutcomeUnknown { source }.into())
            }
            None => {
                tracing::error!(
                    "a record holds this request's key but is not among the caller's records"
                );
                Err(PortError::Failed { source }.into())
            }
        },
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn login(sub: &str) -> Login {
        Login::new("https://id.example.jp/", sub).unwrap()
    }

    #[test]
    fn when_derived_should_be_a_stable_digest_per_login_key_and_request() {
        let key = RequestKey::derive(&login("u-1"), "k-1", "fp");
        assert_eq!(key, RequestKey::derive(&login("u-1"), "k-1", "fp"));
        assert_eq!(key.as_str().len(), 64);
        assert_eq!(RequestKey::parse(key.as_str()), Ok(key.clone()));
        assert_ne!(key, RequestKey::derive(&login("u-2"), "k-1", "fp"));
        assert_ne!(key, RequestKey::derive(&login("u-1"), "k-2", "fp"));
        assert_ne!(key, RequestKey::derive(&login("u-1"), "k-1", "other"));
        // The parts are length-prefixed: moving a character between them changes the digest.
        assert_ne!(
            RequestKey::derive(&login("u-1k"), "-1", "fp"),
            RequestKey::derive(&login("u-1"), "k-1", "fp")
        );
        assert!(RequestKey::parse("ABC").is_err());
        assert!(RequestKey::parse(&"A".repeat(64)).is_err());
    }

    fn key() -> RequestKey {
        RequestKey::derive(&login("u-1"), "k-1", "fp")
    }

    fn taken(in_flight: bool) -> PortError {
        PortError::KeyTaken {
            in_flight,
            source: "DUPLICATE_VALUE".into(),
        }
    }

    #[tokio::test]
    async fn when_the_attempt_is_a_first_one_should_not_look_for_earlier_records() {
        let looked = AtomicU32::new(0);
        let find = || async {
            looked.fetch_add(1, Ordering::Relaxed);
            Ok::<_, PortError>(Some(7))
        };
        let first = Attempt::first(key());
        assert_eq!(written_before(&first, find).await.unwrap(), None);
        assert!(matches!(
            refused::<u32, _, _>(&first, PortalError::NotFound, find).await,
            Err(PortalError::NotFound)
        ));
        assert_eq!(looked.load(Ordering::Relaxed), 0);
        let retry = Attempt::after_unknown(key());
        assert_eq!(written_before(&retry, find).await.unwrap(), Some(7));
        assert_eq!(
            refused(&retry, PortalError::NotFound, find).await.unwrap(),
            7
        );
        assert_eq!(looked.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn when_the_key_is_taken_should_answer_the_other_attempts_records_or_unknown() {
        for in_flight in [false, true] {
            let found = write_once(async { Err(taken(in_flight)) }, || async { Ok(Some(7)) }).await;
            assert_eq!(found.unwrap(), 7);
        }
        let in_flight =
            write_once(async { Err::<u32, _>(taken(true)) }, || async { Ok(None) }).await;
        assert!(
            matches!(
                in_flight,
                Err(PortalError::Upstream(PortError::OutcomeUnknown { .. }))
            ),
            "{in_flight:?}"
        );
        // Committed under the key, yet not found in the caller's records: not
        // "unknown" (retrying cannot change it), a failure for staff.
        let elsewhere =
            write_once(async { Err::<u32, _>(taken(false)) }, || async { Ok(None) }).await;
        assert!(
            matches!(
                elsewhere,
                Err(PortalError::Upstream(PortError::Failed { .. }))
            ),
            "{elsewhere:?}"
        );
        let written = write_once(async { Ok(3) }, || async { Ok(Some(7)) }).await;
        assert_eq!(written.unwrap(), 3);
        let other = write_once(
            async {
                Err::<u32, _>(PortError::Rejected {
                    message: "bad".into(),
                    fields: vec![],
                })
            },
            || async { Ok(Some(7)) },
        )
        .await;
        assert!(matches!(
            other,
            Err(PortalError::Upstream(PortError::Rejected { .. }))
        ));
    }
}
