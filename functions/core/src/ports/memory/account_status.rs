//! `InMemoryAccountStatuses`.

use std::collections::HashSet;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::lock;
use crate::domain::AccountId;
use crate::ports::{AccountStatusSync, InactiveAccounts, StoreError};

#[derive(Debug, Default)]
struct State {
    inactive: HashSet<AccountId>,
    cursor: Option<DateTime<Utc>>,
}

/// [`InactiveAccounts`] and [`AccountStatusSync`] in memory.
#[derive(Debug, Default)]
pub struct InMemoryAccountStatuses {
    state: Mutex<State>,
}

impl InMemoryAccountStatuses {
    /// No Account deactivated, no sync yet.
    pub fn new() -> Self {
        Self::default()
    }
}

impl InactiveAccounts for InMemoryAccountStatuses {
    async fn is_inactive(&self, account: &AccountId) -> Result<bool, StoreError> {
        Ok(lock(&self.state).inactive.contains(account))
    }
}

impl AccountStatusSync for InMemoryAccountStatuses {
    async fn record(
        &self,
        account: &AccountId,
        inactive: bool,
        _modified_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut state = lock(&self.state);
        if inactive {
            state.inactive.insert(account.clone());
        } else {
            state.inactive.remove(account);
        }
        Ok(())
    }

    async fn cursor(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(lock(&self.state).cursor)
    }

    async fn save_cursor(&self, cursor: DateTime<Utc>) -> Result<(), StoreError> {
        lock(&self.state).cursor = Some(cursor);
        Ok(())
    }
}
