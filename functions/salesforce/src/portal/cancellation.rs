//! [`CancellationDesk`] over Salesforce.
//!
//! Read: one `/composite` of two queries — the caller's Opportunity whose
//! `WHMCS_Service_ID__c` is the service (an external id: at most one) and the
//! newest `Cancellation Request` case on it. Both queries filter on the
//! caller's `AccountId`, so another Account's service is never read; the use
//! case still compares the returned `AccountId` (defence in depth).
//! Write: one all-or-none `/composite` — the Opportunity to `△Cancelling`
//! with `ScheduledCancellationDateAndTime__c`, and the Case on it.

use portal_core::domain::{AccountId, CaseId, CaseType, OpportunityStage, WhmcsServiceId};
use portal_core::portal::PortError;
use portal_core::portal::cancellation::{CancellationPlan, ServiceRecord};
use portal_core::portal::ports::CancellationDesk;
use portal_core::schema::{case, opportunity};

use crate::client::SalesforceClient;
use crate::composite::{AllOrNone, Body, Composite};
use crate::soql::{self, Cond, Order, Soql};

use super::error::{MappingError, port_error};
use super::plan::add_case;
use super::record::{CREATED_DATE, ID, Record, Row, created_id, format_datetime, found, path};

/// Cancellations (Opportunity, Case) in Salesforce.
#[derive(Debug, Clone)]
pub struct SalesforceCancellationDesk {
    client: SalesforceClient,
}

impl SalesforceCancellationDesk {
    /// An adapter over `client`.
    pub fn new(client: SalesforceClient) -> Self {
        Self { client }
    }
}

/// The WHMCS service id as a SOQL number (ids are far below 2^63).
fn service_number(service: WhmcsServiceId) -> i64 {
    i64::try_from(service.get()).unwrap_or(i64::MAX)
}

fn service_query(account: &AccountId, service: WhmcsServiceId) -> Result<Soql, PortError> {
    Ok(soql::select([
        ID,
        opportunity::ACCOUNT_ID,
        opportunity::STAGE,
        opportunity::SCHEDULED_CANCELLATION,
    ])
    .from(opportunity::OBJECT)
    .where_(Cond::eq(
        opportunity::WHMCS_SERVICE_ID,
        service_number(service),
    ))
    .where_(Cond::eq(opportunity::ACCOUNT_ID, account.as_str()))
    .limit(1)
    .build()?)
}

fn cancellation_case_query(
    account: &AccountId,
    service: WhmcsServiceId,
) -> Result<Soql, PortError> {
    Ok(soql::select([ID])
        .from(case::OBJECT)
        .where_(Cond::eq(
            case::TYPE,
            CaseType::CancellationRequest.as_salesforce(),
        ))
        .where_(Cond::eq(
            &path(
                case::OBJECT,
                case::OPPORTUNITY_ID,
                opportunity::WHMCS_SERVICE_ID,
            )?,
            service_number(service),
        ))
        .where_(Cond::eq(
            &path(case::OBJECT, case::OPPORTUNITY_ID, opportunity::ACCOUNT_ID)?,
            account.as_str(),
        ))
        .order_by(CREATED_DATE, Order::Desc)
        .order_by(ID, Order::Desc)
        .limit(1)
        .build()?)
}

/// The service's record; `None` when its Opportunity has no Account (it can
/// be nobody's service, so it is nobody's to cancel).
fn service_record(
    record: &Record,
    cases: &[Record],
) -> Result<Option<ServiceRecord>, MappingError> {
    let row = Row::new(opportunity::OBJECT, record);
    let Some(account_id) = row.opt_id(opportunity::ACCOUNT_ID)? else {
        return Ok(None);
    };
    Ok(Some(ServiceRecord {
        opportunity_id: row.id(ID)?,
        account_id,
        stage: row.parsed(opportunity::STAGE, str::parse::<OpportunityStage>)?,
        scheduled_at: row.opt_datetime(opportunity::SCHEDULED_CANCELLATION)?,
        cancellation_case: cases
            .first()
            .map(|c| Row::new(case::OBJECT, c).id(ID))
            .transpose()?,
    }))
}

impl CancellationDesk for SalesforceCancellationDesk {
    #[tracing::instrument(name = "salesforce.cancellation.service", skip_all, fields(service_id = %service))]
    async fn service(
        &self,
        account: &AccountId,
        service: WhmcsServiceId,
    ) -> Result<Option<ServiceRecord>, PortError> {
        let mut c = Composite::new(AllOrNone::No);
        let opportunity_ref = c.query_named("service", &service_query(account, service)?)?;
        let case_ref = c.query_named(
            "cancellationCase",
            &cancellation_case_query(account, service)?,
        )?;
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let opportunities = found(&results, &opportunity_ref, "the Opportunity query")?;
        let Some(record) = opportunities.first() else {
            return Ok(None);
        };
        let cases = found(&results, &case_ref, "the Case query")?;
        Ok(service_record(record, &cases)?)
    }

    #[tracing::instrument(
        name = "salesforce.cancellation.request",
        skip_all,
        fields(opportunity_id = %plan.opportunity_id)
    )]
    async fn request_cancellation(&self, plan: &CancellationPlan) -> Result<CaseId, PortError> {
        let mut c = Composite::new(AllOrNone::Yes);
        let body = Body::new()
            .set(opportunity::STAGE, plan.stage.as_salesforce())
            .set(
                opportunity::SCHEDULED_CANCELLATION,
                format_datetime(plan.scheduled_at),
            );
        c.update_named(
            "opportunity",
            opportunity::OBJECT,
            plan.opportunity_id.as_id(),
            body,
        )?;
        let case_ref = add_case(&mut c, &plan.case, None)?;
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let case_id: CaseId = created_id(&results, &case_ref, "the new Case")?;
        tracing::info!(case_id = %case_id, "cancellation written");
        Ok(case_id)
    }
}
