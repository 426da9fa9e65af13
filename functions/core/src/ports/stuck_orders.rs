//! The Salesforce side of reconciliation: [`StuckOrders`], the Orders
//! `Activating` that may have been forgotten.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::OrderId;
use crate::ports::BoxError;

/// A span of time in which platform events may have been lost (a replay gap).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TimeWindow {
    /// Its start; `None` when unknown (open-ended into the past).
    pub start: Option<DateTime<Utc>>,
    /// Its end.
    pub end: DateTime<Utc>,
}

/// Which Orders `Activating` to list: one page of them, in Id order.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StuckOrderQuery {
    /// Orders last modified at or before this instant.
    pub modified_before: DateTime<Utc>,
    /// And Orders last modified inside any of these windows, whatever their age.
    pub gap_windows: Vec<TimeWindow>,
    /// Only Orders whose Id comes after this one (the page after it).
    pub after: Option<OrderId>,
    /// At most this many Orders, in Id order.
    pub limit: u32,
}

/// One Order `Activating`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StuckOrder {
    /// The Order.
    pub order_id: OrderId,
    /// Its `LastModifiedDate`.
    pub last_modified: DateTime<Utc>,
}

/// The Orders found, and whether more matched than the limit.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct StuckOrderPage {
    /// Up to the limit, in Id order.
    pub orders: Vec<StuckOrder>,
    /// More Orders matched: the next page continues after the last of these.
    pub more: bool,
}

/// The Salesforce query did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Network failure, 5xx, the concurrent-request limit (after the client's
    /// own retries): the next run tries again.
    #[error("Salesforce is unavailable or busy; the next run tries again")]
    Unavailable(#[source] BoxError),
    /// Salesforce refused the query (permissions, an unknown field…).
    #[error("Salesforce refused the query: {reason}")]
    Rejected {
        /// A readable reason (no personal data).
        reason: String,
        /// The cause.
        #[source]
        source: BoxError,
    },
}

/// Finds Orders `Activating` (`Activation_Status__c`) by last modification.
pub trait StuckOrders: Send + Sync {
    /// The Orders `query` selects.
    fn activating(
        &self,
        query: &StuckOrderQuery,
    ) -> impl Future<Output = Result<StuckOrderPage, SweepError>> + Send;
}
