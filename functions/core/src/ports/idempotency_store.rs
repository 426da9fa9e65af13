//! The `IdempotencyStore` port: HTTP `Idempotency-Key` records.
//!
//! A POST with an `Idempotency-Key` first [claims](IdempotencyStore::claim)
//! the key within its caller's scope with one conditional write. The claim
//! succeeds when no record exists, when the record has expired, or when it is
//! `IN_PROGRESS` and its in-flight deadline has lapsed (the first request
//! died). Otherwise the stored record answers: same fingerprint and completed
//! → replay the stored response; same fingerprint and in flight → 409;
//! another fingerprint → 422. After the handler, the owner either
//! [completes](IdempotencyStore::complete) the record with the response or,
//! when the request failed with nothing written, [releases](IdempotencyStore::release)
//! it so the client may retry with the same key.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{LeaseError, LeaseOwner, StoreError};

/// Why a scope, key or fingerprint is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidIdempotencyValue {
    /// The `Idempotency-Key` is empty, longer than 255 characters or not printable ASCII.
    #[error("an Idempotency-Key is 1 to 255 printable ASCII characters")]
    Key,
    /// The scope is empty, longer than 512 bytes or has control characters.
    #[error("an idempotency scope is 1 to 512 bytes without control characters")]
    Scope,
    /// The fingerprint is empty or longer than 256 bytes.
    #[error("a request fingerprint is 1 to 256 bytes")]
    Fingerprint,
}

/// The client's `Idempotency-Key` header value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks the header value: 1–255 printable ASCII characters.
    pub fn parse(value: &str) -> Result<Self, InvalidIdempotencyValue> {
        if !value.is_empty() && value.len() <= 255 && value.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidIdempotencyValue::Key)
        }
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.0)
    }
}

/// Whose keys these are: keys of different callers (or routes) never collide.
/// Typically the route plus the Salesforce Account id from the token, e.g.
/// `POST /orders|001000000000001AAA`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct IdempotencyScope(String);

impl IdempotencyScope {
    /// Checks the scope: 1–512 bytes, no control characters.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidIdempotencyValue> {
        let value = value.into();
        if !value.is_empty() && value.len() <= 512 && !value.chars().any(char::is_control) {
            Ok(Self(value))
        } else {
            Err(InvalidIdempotencyValue::Scope)
        }
    }

    /// The scope's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A digest of the request (method, path, body) that tells "same request
/// again" from "same key, other request". The HTTP layer computes it; the
/// store compares it byte for byte.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Wraps a digest (e.g. hex): 1–256 bytes.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidIdempotencyValue> {
        let value = value.into();
        if !value.is_empty() && value.len() <= 256 {
            Ok(Self(value))
        } else {
            Err(InvalidIdempotencyValue::Fingerprint)
        }
    }

    /// The digest's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One idempotency record's identity: the key within its caller's scope.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct IdempotencyId {
    /// Whose key it is.
    pub scope: IdempotencyScope,
    /// The client's key.
    pub key: IdempotencyKey,
}

/// The response stored for replay. Bodies are small JSON documents; the
/// DynamoDB adapter keeps them in the item (400 KB limit per item).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StoredResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

/// A request to claim a key.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct IdempotencyClaim {
    /// The record to claim.
    pub id: IdempotencyId,
    /// The request's fingerprint.
    pub fingerprint: Fingerprint,
    /// Who claims (e.g. the Lambda request id); only this owner may complete or release.
    pub owner: LeaseOwner,
    /// When the claim lapses if never completed (from the Lambda deadline):
    /// after it, another request with the same key may claim.
    pub in_flight_until: DateTime<Utc>,
    /// When the whole record expires (its TTL), e.g. 24 h from now.
    pub expires_at: DateTime<Utc>,
    /// The current time.
    pub now: DateTime<Utc>,
}

/// The answer to [`IdempotencyStore::claim`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum IdempotencyOutcome {
    /// The caller owns the key: run the request, then complete or release.
    Acquired,
    /// The same request already completed: send this response again.
    Replay(StoredResponse),
    /// The same request is still running elsewhere (HTTP 409).
    InFlight,
    /// The key was used for another request (HTTP 422).
    Mismatch,
}

/// HTTP idempotency records, keyed by (scope, key), expiring through a TTL.
pub trait IdempotencyStore: Send + Sync {
    /// Claims the key with one conditional write (see the module docs).
    fn claim(
        &self,
        claim: &IdempotencyClaim,
    ) -> impl Future<Output = Result<IdempotencyOutcome, StoreError>> + Send;

    /// Stores the response of the request the caller claimed, to be replayed
    /// until `expires_at`. [`LeaseError::LeaseLost`] when the caller no longer
    /// owns an in-progress record (its claim lapsed and another took it).
    fn complete(
        &self,
        id: &IdempotencyId,
        owner: &LeaseOwner,
        response: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send;

    /// Deletes the in-progress record the caller owns, after a failure that
    /// wrote nothing, so the client may retry with the same key. Releasing a
    /// record that no longer exists succeeds; one owned by another caller or
    /// already completed is [`LeaseError::LeaseLost`].
    fn release(
        &self,
        id: &IdempotencyId,
        owner: &LeaseOwner,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send;
}

impl<T: IdempotencyStore> IdempotencyStore for Arc<T> {
    fn claim(
        &self,
        claim: &IdempotencyClaim,
    ) -> impl Future<Output = Result<IdempotencyOutcome, StoreError>> + Send {
        (**self).claim(claim)
    }

    fn complete(
        &self,
        id: &IdempotencyId,
        owner: &LeaseOwner,
        response: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send {
        (**self).complete(id, owner, response, expires_at)
    }

    fn release(
        &self,
        id: &IdempotencyId,
        owner: &LeaseOwner,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send {
        (**self).release(id, owner)
    }
}
