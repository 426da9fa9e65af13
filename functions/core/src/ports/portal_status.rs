//! The Salesforce side of staff deactivation: [`PortalStatusChanges`], the
//! portal Accounts whose `Portal_Status__c` may have changed, oldest
//! modification first. The reconciler's run reads one page per run (one
//! query) and copies it into [`super::AccountStatusSync`], where the API
//! reads it.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::SweepError;
use crate::domain::AccountId;

/// One portal Account as Salesforce has it now.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PortalStatusChange {
    /// The Account.
    pub account_id: AccountId,
    /// Whether its `Portal_Status__c` is `Inactive`.
    pub inactive: bool,
    /// Its `LastModifiedDate`.
    pub modified_at: DateTime<Utc>,
}

/// The Accounts found, and whether more matched than the limit.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct PortalStatusPage {
    /// Up to the limit, oldest modification first.
    pub changes: Vec<PortalStatusChange>,
    /// More Accounts matched: the next run continues.
    pub more: bool,
}

/// Reads portal Accounts (`Portal_Status__c` set) by last modification.
pub trait PortalStatusChanges: Send + Sync {
    /// The portal Accounts modified at or after `since` (all of them when
    /// `None`), oldest first, at most `limit`.
    fn changed_since(
        &self,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> impl Future<Output = Result<PortalStatusPage, SweepError>> + Send;
}
