//! The Salesforce side of reconciliation: [`SalesforceStuckOrders`]
//! implements the [`StuckOrders`] port of `portal_core::reconcile` with ONE
//! query per page, and [`SalesforcePortalStatuses`] the [`PortalStatusChanges`]
//! port (staff deactivations) with ONE query per run. The stuck Orders:
//!
//! ```text
//! SELECT Id, LastModifiedDate FROM Order
//! WHERE (Activation_Status__c = 'Activating'
//!        AND (LastModifiedDate <= <threshold>
//!             OR (LastModifiedDate >= <gap start> AND LastModifiedDate <= <gap end>) OR …)
//!        [AND Id > '<the last Order of the page before>'])
//! ORDER BY Id ASC LIMIT <limit + 1>
//! ```
//!
//! Pages are keyed on the Id (exact, unlike datetime literals, which have
//! whole seconds), so the reconciler reads past Orders it will not act on
//! instead of reading the same oldest ones every run. The one row past the
//! limit only tells that more Orders remain (it is not returned). A gap window without a known start is `LastModifiedDate <=
//! <gap end>`. Datetime literals have whole seconds: a window's end is
//! rounded up a second, so the window only ever grows. The portal Accounts:
//!
//! ```text
//! SELECT Id, Portal_Status__c, LastModifiedDate FROM Account
//! WHERE (Portal_Status__c != null AND LastModifiedDate >= <since>)
//! ORDER BY LastModifiedDate ASC, Id ASC LIMIT <limit + 1>
//! ```
//!
//! (`since` floored to the second, so nothing modified at it is missed).
//! Names come from `portal_core::schema`, the text from the SOQL builder. Errors: lock
//! contention, the concurrent-request limit, 5xx and network failures (after
//! the client's own retries) are [`SweepError::Unavailable`]; the rest
//! [`SweepError::Rejected`].

use chrono::{DateTime, TimeDelta, Utc};
use portal_core::domain::OrderId;
use portal_core::domain::{AccountId, ActivationStatus, PortalStatus};
use portal_core::ports::{
    PortalStatusChange, PortalStatusChanges, PortalStatusPage, StuckOrder, StuckOrderPage,
    StuckOrderQuery, StuckOrders, SweepError,
};

use serde::Deserialize;

use crate::client::SalesforceClient;
use crate::error::SalesforceError;
use crate::schema::{account, order};
use crate::soql::{Cond, Order, Soql, select};

/// `Id`, a system field of every object.
const ID: &str = "Id";
/// `LastModifiedDate`, a system field of every object.
const LAST_MODIFIED_DATE: &str = "LastModifiedDate";

/// The [`StuckOrders`] port over the Salesforce REST API.
#[derive(Debug, Clone)]
pub struct SalesforceStuckOrders {
    client: SalesforceClient,
}

impl SalesforceStuckOrders {
    /// The sweep over `client`.
    pub fn new(client: SalesforceClient) -> Self {
        Self { client }
    }
}

/// The query for `query` (see the module docs).
///
/// # Errors
/// A [`SalesforceError`] when the builder refuses it (it cannot, for these names).
pub fn stuck_orders_query(query: &StuckOrderQuery) -> Result<Soql, SalesforceError> {
    let mut when = vec![Cond::le(LAST_MODIFIED_DATE, query.modified_before)];
    for window in &query.gap_windows {
        let end = Cond::le(LAST_MODIFIED_DATE, window.end + TimeDelta::seconds(1));
        when.push(match window.start {
            Some(start) => Cond::ge(LAST_MODIFIED_DATE, start).and(end),
            None => end,
        });
    }
    let mut filter = Cond::eq(
        order::ACTIVATION_STATUS,
        ActivationStatus::Activating.as_salesforce(),
    )
    .and(Cond::any(when));
    if let Some(after) = &query.after {
        filter = filter.and(Cond::gt(ID, after.as_str()));
    }
    Ok(select([ID, LAST_MODIFIED_DATE])
        .from(order::OBJECT)
        .where_(filter)
        .order_by(ID, Order::Asc)
        .limit(query.limit.saturating_add(1))
        .build()?)
}

#[derive(Deserialize)]
struct Row {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "LastModifiedDate")]
    last_modified: String,
}

fn sweep_error(error: SalesforceError) -> SweepError {
    if error.is_retryable() {
        SweepError::Unavailable(Box::new(error))
    } else {
        SweepError::Rejected {
            reason: error.to_string(),
            source: Box::new(error),
        }
    }
}

fn malformed(detail: &'static str) -> SweepError {
    let error = crate::error::UnexpectedAnswer(detail);
    SweepError::Rejected {
        reason: error.to_string(),
        source: Box::new(error),
    }
}

/// A Salesforce datetime (`2024-05-01T10:00:00.000+0000`).
fn datetime(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(value))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl StuckOrders for SalesforceStuckOrders {
    #[tracing::instrument(name = "salesforce.reconcile.activating", skip_all, fields(windows = query.gap_windows.len(), limit = query.limit))]
    async fn activating(&self, query: &StuckOrderQuery) -> Result<StuckOrderPage, SweepError> {
        let soql = stuck_orders_query(query).map_err(sweep_error)?;
        let page = self.client.query::<Row>(&soql).await.map_err(sweep_error)?;
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let more = page.records.len() > limit;
        let orders = page
            .records
            .into_iter()
            .take(limit)
            .map(|row| {
                Ok(StuckOrder {
                    order_id: OrderId::parse(&row.id)
                        .map_err(|_| malformed("an Order Id is not an Order id"))?,
                    last_modified: datetime(&row.last_modified)
                        .ok_or_else(|| malformed("LastModifiedDate is not a datetime"))?,
                })
            })
            .collect::<Result<Vec<_>, SweepError>>()?;
        Ok(StuckOrderPage { orders, more })
    }
}

/// The [`PortalStatusChanges`] port over the Salesforce REST API.
#[derive(Debug, Clone)]
pub struct SalesforcePortalStatuses {
    client: SalesforceClient,
}

impl SalesforcePortalStatuses {
    /// The sync's query over `client`.
    pub fn new(client: SalesforceClient) -> Self {
        Self { client }
    }
}

/// The query of the portal Accounts modified at or after `since` (see the module docs).
///
/// # Errors
/// A [`SalesforceError`] when the builder refuses it (it cannot, for these names).
pub fn portal_statuses_query(
    since: Option<DateTime<Utc>>,
    limit: u32,
) -> Result<Soql, SalesforceError> {
    let mut when = Cond::ne(account::PORTAL_STATUS, None::<&str>);
    if let Some(since) = since {
        when = when.and(Cond::ge(LAST_MODIFIED_DATE, since));
    }
    Ok(select([ID, account::PORTAL_STATUS, LAST_MODIFIED_DATE])
        .from(account::OBJECT)
        .where_(when)
        .order_by(LAST_MODIFIED_DATE, Order::Asc)
        .order_by(ID, Order::Asc)
        .limit(limit.saturating_add(1))
        .build()?)
}

#[derive(Deserialize)]
struct AccountRow {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Portal_Status__c")]
    portal_status: Option<String>,
    #[serde(rename = "LastModifiedDate")]
    last_modified: String,
}

impl PortalStatusChanges for SalesforcePortalStatuses {
    #[tracing::instrument(name = "salesforce.reconcile.portal_statuses", skip_all, fields(limit))]
    async fn changed_since(
        &self,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<PortalStatusPage, SweepError> {
        let soql = portal_statuses_query(since, limit).map_err(sweep_error)?;
        let page = self
            .client
            .query::<AccountRow>(&soql)
            .await
            .map_err(sweep_error)?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = page.records.len() > limit;
        let changes = page
            .records
            .into_iter()
            .take(limit)
            .map(|row| {
                Ok(PortalStatusChange {
                    account_id: AccountId::parse(&row.id)
                        .map_err(|_| malformed("an Account Id is not an Account id"))?,
                    inactive: row.portal_status.as_deref()
                        == Some(PortalStatus::Inactive.as_salesforce()),
                    modified_at: datetime(&row.last_modified)
                        .ok_or_else(|| malformed("LastModifiedDate is not a datetime"))?,
                })
            })
            .collect::<Result<Vec<_>, SweepError>>()?;
        Ok(PortalStatusPage { changes, more })
    }
}

#[cfg(test)]
mod tests {
    use portal_core::ports::TimeWindow;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_query_selects_activating_orders_by_age_or_gap_window() {
        let query = StuckOrderQuery {
            modified_before: at("2024-05-01T09:45:00Z"),
            gap_windows: vec![
                TimeWindow {
                    start: Some(at("2024-05-01T09:50:00Z")),
                    end: at("2024-05-01T09:55:30.500Z"),
                },
                TimeWindow {
                    start: None,
                    end: at("2024-05-01T08:00:00Z"),
                },
            ],
            after: None,
            limit: 200,
        };
        assert_eq!(
            stuck_orders_query(&query).unwrap().as_str(),
            "SELECT Id, LastModifiedDate FROM Order WHERE (Activation_Status__c = 'Activating' AND \
             (LastModifiedDate <= 2024-05-01T09:45:00Z OR (LastModifiedDate >= 2024-05-01T09:50:00Z AND \
             LastModifiedDate <= 2024-05-01T09:55:31Z) OR LastModifiedDate <= 2024-05-01T08:00:01Z)) \
             ORDER BY Id ASC LIMIT 201"
        );
        let next = StuckOrderQuery {
            after: Some(OrderId::parse("801Em0000000010IAA").unwrap()),
            gap_windows: Vec::new(),
            ..query
        };
        assert_eq!(
            stuck_orders_query(&next).unwrap().as_str(),
            "SELECT Id, LastModifiedDate FROM Order WHERE (Activation_Status__c = 'Activating' AND \
             (LastModifiedDate <= 2024-05-01T09:45:00Z) AND Id > '801Em0000000010IAA') \
             ORDER BY Id ASC LIMIT 201"
        );
    }

    #[test]
    fn the_account_query_selects_portal_accounts_modified_since_the_cursor() {
        assert_eq!(
            portal_statuses_query(Some(at("2024-05-01T09:45:30.900Z")), 2000)
                .unwrap()
                .as_str(),
            "SELECT Id, Portal_Status__c, LastModifiedDate FROM Account WHERE \
             (Portal_Status__c != null AND LastModifiedDate >= 2024-05-01T09:45:30Z) \
             ORDER BY LastModifiedDate ASC, Id ASC LIMIT 2001"
        );
        assert_eq!(
            portal_statuses_query(None, 10).unwrap().as_str(),
            "SELECT Id, Portal_Status__c, LastModifiedDate FROM Account WHERE \
             Portal_Status__c != null ORDER BY LastModifiedDate ASC, Id ASC LIMIT 11"
        );
    }
}
