//! Short exclusive locks over the idempotency store, for writes that must not
//! run twice at once even under different `Idempotency-Key`s.
//!
//! `POST /registrations` reads Salesforce ("is this login registered? is this
//! customer number linked?") and then writes: two registrations of one login
//! in flight together (two tabs, a double submit with fresh keys) would both
//! read "no" and create two Accounts. So a registration first takes a lock on
//! the login (and on the customer number it links, if any), and a second one
//! meanwhile gets 409 `registration-in-progress`; once the first is done, the
//! second finds the registration and answers 200 with it.
//!
//! A lock is an in-flight idempotency record under a scope no request can use
//! (`lock#<what>`; request scopes are token subjects), claimed with one
//! conditional write and deleted when the work is done. A lock whose holder
//! died lapses after its hold time (the request's in-flight deadline), and the
//! record's TTL removes it.

use chrono::{DateTime, TimeDelta, Utc};
use portal_core::diagnostics::error_chain;
use portal_core::portal::{ConflictReason, PortalError};
use portal_core::ports::{
    Fingerprint, IdempotencyClaim, IdempotencyId, IdempotencyKey, IdempotencyOutcome,
    IdempotencyScope, IdempotencyStore, LeaseOwner,
};

use crate::idempotency;
use crate::problem::{Problem, from_portal_error};

/// A lock held by this request; give it back with [`release`].
#[derive(Debug)]
pub struct Lock {
    id: IdempotencyId,
    owner: LeaseOwner,
}

/// What a lock protects: `kind` (e.g. `registration-login`) and the value.
fn lock_id(kind: &str, value: &str) -> Result<IdempotencyId, Problem> {
    let scope = IdempotencyScope::new(format!("lock#{kind}"));
    let key = IdempotencyKey::parse(value);
    match (scope, key) {
        (Ok(scope), Ok(key)) => Ok(IdempotencyId { scope, key }),
        _ => {
            tracing::error!(kind, "a lock name is not a valid idempotency id");
            Err(Problem::internal())
        }
    }
}

/// Takes the lock on `kind`/`value` until `hold_until`, or answers 409
/// `registration-in-progress` when another request holds it.
pub async fn acquire<S: IdempotencyStore>(
    store: &S,
    kind: &str,
    value: &str,
    now: DateTime<Utc>,
    hold: TimeDelta,
) -> Result<Lock, Problem> {
    let id = lock_id(kind, value)?;
    let owner = idempotency::owner();
    let claim = IdempotencyClaim {
        id: id.clone(),
        fingerprint: Fingerprint::new("lock").map_err(|_| Problem::internal())?,
        owner: owner.clone(),
        in_flight_until: now + hold,
        expires_at: now + hold,
        now,
    };
    match store.claim(&claim).await {
        // Resumed: its holder died; a lock guards no write of its own.
        Ok(IdempotencyOutcome::Acquired | IdempotencyOutcome::Resumed) => Ok(Lock { id, owner }),
        Ok(IdempotencyOutcome::InFlight) => Err(from_portal_error(PortalError::conflict(
            ConflictReason::RegistrationInProgress,
        ))),
        Ok(other) => {
            // Never completed, one fingerprint: neither a replay nor a mismatch can happen.
            tracing::error!(outcome = ?other, kind, "a lock record answered like a request");
            Err(Problem::internal())
        }
        Err(error) => {
            tracing::error!(error = %error_chain(&error), kind, "taking a lock failed");
            Err(if error.is_retryable() {
                Problem::unavailable(None)
            } else {
                Problem::internal()
            })
        }
    }
}

/// Gives the lock back; a failure only delays the next holder until the lock lapses.
pub async fn release<S: IdempotencyStore>(store: &S, lock: Lock) {
    if let Err(error) = store.release(&lock.id, &lock.owner).await {
        tracing::warn!(error = %error_chain(&error), "releasing a lock failed; it lapses by itself");
    }
}
