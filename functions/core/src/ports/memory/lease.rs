//! `InMemorySubscriberLease`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::lock;
use crate::ports::{
    LeaseAcquisition, LeaseError, LeaseOwner, StoreError, SubscriberLease, lapsed, lease_end,
};

/// [`SubscriberLease`] in memory.
#[derive(Debug, Default)]
pub struct InMemorySubscriberLease {
    leases: Mutex<HashMap<String, (LeaseOwner, DateTime<Utc>)>>,
}

impl InMemorySubscriberLease {
    /// No lease held.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SubscriberLease for InMemorySubscriberLease {
    async fn acquire(
        &self,
        name: &str,
        owner: &LeaseOwner,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<LeaseAcquisition, StoreError> {
        let mut leases = lock(&self.leases);
        if let Some((holder, until)) = leases.get(name)
            && holder != owner
            && !lapsed(*until, now)
        {
            return Ok(LeaseAcquisition::HeldBy {
                owner: holder.clone(),
                until: *until,
            });
        }
        let until = lease_end(now, ttl);
        leases.insert(name.to_owned(), (owner.clone(), until));
        Ok(LeaseAcquisition::Acquired { until })
    }

    async fn renew(
        &self,
        name: &str,
        owner: &LeaseOwner,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, LeaseError> {
        let mut leases = lock(&self.leases);
        match leases.get_mut(name) {
            Some((holder, until)) if holder == owner => {
                *until = lease_end(now, ttl);
                Ok(*until)
            }
            _ => Err(LeaseError::LeaseLost),
        }
    }

    async fn release(&self, name: &str, owner: &LeaseOwner) -> Result<(), LeaseError> {
        let mut leases = lock(&self.leases);
        match leases.get(name) {
            None => Ok(()),
            Some((holder, _)) if holder == owner => {
                leases.remove(name);
                Ok(())
            }
            Some(_) => Err(LeaseError::LeaseLost),
        }
    }
}
