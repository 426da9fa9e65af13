//! The `SubscriberLease` port (one active subscriber) and the owner token
//! every lease-holding record uses.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{LeaseError, StoreError};

/// Who holds a lease: an opaque token unique to one process or invocation
/// (a Lambda request id, a task id plus a random suffix).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct LeaseOwner(String);

/// Why a string is not a lease owner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a lease owner is 1 to 256 printable ASCII characters")]
pub struct InvalidOwner;

impl LeaseOwner {
    /// Checks `value`: 1–256 printable ASCII characters.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidOwner> {
        let value = value.into();
        if !value.is_empty() && value.len() <= 256 && value.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(value))
        } else {
            Err(InvalidOwner)
        }
    }

    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LeaseOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The answer to [`SubscriberLease::acquire`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseAcquisition {
    /// The caller holds the lease until `until`.
    Acquired {
        /// When the lease lapses unless renewed.
        until: DateTime<Utc>,
    },
    /// Another owner holds a live lease.
    HeldBy {
        /// The current holder.
        owner: LeaseOwner,
        /// When its lease lapses unless renewed.
        until: DateTime<Utc>,
    },
}

/// A named lease that at most one owner holds at a time (the Pub/Sub
/// subscriber's "one active subscriber").
pub trait SubscriberLease: Send + Sync {
    /// Takes the lease for `ttl` when it is free, lapsed, or already ours
    /// (one conditional write).
    fn acquire(
        &self,
        name: &str,
        owner: &LeaseOwner,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<LeaseAcquisition, StoreError>> + Send;

    /// Extends our lease to `now + ttl`; [`LeaseError::LeaseLost`] when another
    /// owner holds it or it no longer exists.
    fn renew(
        &self,
        name: &str,
        owner: &LeaseOwner,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<DateTime<Utc>, LeaseError>> + Send;

    /// Gives the lease up if it is ours; [`LeaseError::LeaseLost`] when another
    /// owner holds it. Releasing a lease that no longer exists succeeds.
    fn release(
        &self,
        name: &str,
        owner: &LeaseOwner,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send;
}

impl<T: SubscriberLease> SubscriberLease for Arc<T> {
    fn acquire(
        &self,
        name: &str,
        owner: &LeaseOwner,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<LeaseAcquisition, StoreError>> + Send {
        (**self).acquire(name, owner, ttl, now)
    }

    fn renew(
        &self,
        name: &str,
        owner: &LeaseOwner,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<DateTime<Utc>, LeaseError>> + Send {
        (**self).renew(name, owner, ttl, now)
    }

    fn release(
        &self,
        name: &str,
        owner: &LeaseOwner,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send {
        (**self).release(name, owner)
    }
}

/// `now + ttl`, saturating far in the future for absurd durations.
pub fn lease_end(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    chrono::TimeDelta::from_std(ttl)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
