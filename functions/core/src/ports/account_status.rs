//! The Accounts staff deactivated (`Portal_Status__c = Inactive`), as the API
//! sees them: [`InactiveAccounts`] (read by the API on every uncached caller
//! resolution) and [`AccountStatusSync`] (written by the reconciler's run,
//! which copies status changes from Salesforce with one query per run).
//!
//! The API never asks Salesforce for the status itself, so every route keeps
//! its Salesforce calls (one read, at most one write); a deactivation reaches
//! the API within one reconciler run plus the API's link cache.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::AccountId;

/// Which Accounts are deactivated.
pub trait InactiveAccounts: Send + Sync {
    /// Whether staff deactivated `account`.
    fn is_inactive(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

impl<T: InactiveAccounts> InactiveAccounts for Arc<T> {
    fn is_inactive(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).is_inactive(account)
    }
}

/// The reconciler's side: records statuses and where its sync stands.
pub trait AccountStatusSync: Send + Sync {
    /// Records whether `account` is deactivated (`Inactive`) or not
    /// (anything else), as Salesforce said at `modified_at`.
    fn record(
        &self,
        account: &AccountId,
        inactive: bool,
        modified_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Where the last sync stopped (Accounts modified from then on are read
    /// next), `None` before the first sync.
    fn cursor(&self) -> impl Future<Output = Result<Option<DateTime<Utc>>, StoreError>> + Send;

    /// Saves where the next sync starts.
    fn save_cursor(
        &self,
        cursor: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl<T: AccountStatusSync> AccountStatusSync for Arc<T> {
    fn record(
        &self,
        account: &AccountId,
        inactive: bool,
        modified_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).record(account, inactive, modified_at)
    }

    fn cursor(&self) -> impl Future<Output = Result<Option<DateTime<Utc>>, StoreError>> + Send {
        (**self).cursor()
    }

    fn save_cursor(
        &self,
        cursor: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).save_cursor(cursor)
    }
}
