//! `InMemoryIdempotencyStore`.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::lock;
use crate::ports::{
    Fingerprint, IdempotencyClaim, IdempotencyId, IdempotencyOutcome, IdempotencyStore, LeaseError,
    LeaseOwner, StoreError, StoredResponse, expired, lapsed,
};

#[derive(Debug)]
struct Record {
    fingerprint: Fingerprint,
    owner: LeaseOwner,
    in_flight_until: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    state: State,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    InProgress,
    Completed(StoredResponse),
    Unknown,
}

/// [`IdempotencyStore`] in memory.
#[derive(Debug, Default)]
pub struct InMemoryIdempotencyStore {
    records: Mutex<HashMap<IdempotencyId, Record>>,
}

impl InMemoryIdempotencyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl IdempotencyStore for InMemoryIdempotencyStore {
    async fn claim(&self, claim: &IdempotencyClaim) -> Result<IdempotencyOutcome, StoreError> {
        let mut records = lock(&self.records);
        let mut outcome = IdempotencyOutcome::Acquired;
        if let Some(existing) = records.get(&claim.id)
            && !expired(existing.expires_at, claim.now)
        {
            if existing.fingerprint != claim.fingerprint {
                return Ok(IdempotencyOutcome::Mismatch);
            }
            match &existing.state {
                State::Completed(response) => {
                    return Ok(IdempotencyOutcome::Replay(response.clone()));
                }
                State::InProgress if !lapsed(existing.in_flight_until, claim.now) => {
                    return Ok(IdempotencyOutcome::InFlight);
                }
                State::InProgress | State::Unknown => outcome = IdempotencyOutcome::Resumed,
            }
        }
        records.insert(
            claim.id.clone(),
            Record {
                fingerprint: claim.fingerprint.clone(),
                owner: claim.owner.clone(),
                in_flight_until: claim.in_flight_until,
                expires_at: claim.expires_at,
                state: State::InProgress,
            },
        );
        Ok(outcome)
    }

    async fn complete(
        &self,
        id: &IdempotencyId,
        owner: &LeaseOwner,
        response: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> Result<(), LeaseError> {
        let mut records = lock(&self.records);
        match records.get_mut(id) {
            Some(record) if record.state == State::InProgress && &record.owner == owner => {
                record.state = State::Completed(response.clone());
                record.expires_at = expires_at;
                Ok(())
            }
            _ => Err(LeaseError::LeaseLost),
        }
    }

    async fn release(&self, id: &IdempotencyId, owner: &LeaseOwner) -> Result<(), LeaseError> {
        let mut records = lock(&self.records);
        match records.get(id) {
            None => Ok(()),
            Some(record) if record.state == State::InProgress && &record.owner == owner => {
                records.remove(id);
                Ok(())
            }
            Some(_) => Err(LeaseError::LeaseLost),
        }
    }

    async fn mark_unknown(
        &self,
        id: &IdempotencyId,
        owner: &LeaseOwner,
        expires_at: DateTime<Utc>,
    ) -> Result<(), LeaseError> {
        let mut records = lock(&self.records);
        match records.get_mut(id) {
            Some(record) if record.state == State::InProgress && &record.owner == owner => {
                record.state = State::Unknown;
                record.expires_at = expires_at;
                Ok(())
            }
            _ => Err(LeaseError::LeaseLost),
        }
    }
}
