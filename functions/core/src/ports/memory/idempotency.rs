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
    response: Option<StoredResponse>,
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
        if let Some(existing) = records.get(&claim.id) {
            let claimable = expired(existing.expires_at, claim.now)
                || (existing.response.is_none() && lapsed(existing.in_flight_until, claim.now));
            if !claimable {
                return Ok(if existing.fingerprint != claim.fingerprint {
                    IdempotencyOutcome::Mismatch
                } else if let Some(response) = &existing.response {
                    IdempotencyOutcome::Replay(response.clone())
                } else {
                    IdempotencyOutcome::InFlight
                });
            }
        }
        records.insert(
            claim.id.clone(),
            Record {
                fingerprint: claim.fingerprint.clone(),
                owner: claim.owner.clone(),
                in_flight_until: claim.in_flight_until,
                expires_at: claim.expires_at,
                response: None,
            },
        );
        Ok(IdempotencyOutcome::Acquired)
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
            Some(record) if record.response.is_none() && &record.owner == owner => {
                record.response = Some(response.clone());
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
            Some(record) if record.response.is_none() && &record.owner == owner => {
                records.remove(id);
                Ok(())
            }
            Some(_) => Err(LeaseError::LeaseLost),
        }
    }
}
