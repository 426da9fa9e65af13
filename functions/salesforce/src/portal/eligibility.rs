//! [`EligibilityDesk`] over Salesforce.
//!
//! Read: one `/composite` of three queries — the Account's eligibility status,
//! the newest open Opportunity of the commodity, the newest open `Eligibility
//! Check` case — all filtered on the caller's Account.
//! Write: one all-or-none `/composite` — the Opportunity (reused or created at
//! `Introduction`), the Case on it, the Account `Pending` with the request time.

use portal_core::domain::{AccountId, CaseType, CommodityType, EligibilityStatus};
use portal_core::portal::PortError;
use portal_core::portal::eligibility::{
    EligibilityContext, EligibilityPlan, EligibilityRequested, OpenCase,
};
use portal_core::portal::ports::EligibilityDesk;
use portal_core::schema::{account, case};

use crate::client::SalesforceClient;
use crate::composite::{AllOrNone, Body, Composite};

use super::error::{MappingError, port_error};
use super::plan::{
    account_query, add_case, add_opportunity, open_case_query, open_opportunity_query,
    opportunity_summary,
};
use super::record::{ID, Record, Row, created_id, format_datetime, found};

/// Eligibility requests (Account, Opportunity, Case) in Salesforce.
#[derive(Debug, Clone)]
pub struct SalesforceEligibilityDesk {
    client: SalesforceClient,
}

impl SalesforceEligibilityDesk {
    /// An adapter over `client`.
    pub fn new(client: SalesforceClient) -> Self {
        Self { client }
    }
}

fn open_case(record: &Record) -> Result<OpenCase, MappingError> {
    let row = Row::new(case::OBJECT, record);
    Ok(OpenCase {
        case_id: row.id(ID)?,
        opportunity_id: row.opt_id(case::OPPORTUNITY_ID)?,
    })
}

impl EligibilityDesk for SalesforceEligibilityDesk {
    #[tracing::instrument(name = "salesforce.eligibility.context", skip_all, fields(account_id = %account_id))]
    async fn eligibility_context(
        &self,
        account_id: &AccountId,
        commodity: CommodityType,
    ) -> Result<Option<EligibilityContext>, PortError> {
        let mut c = Composite::new(AllOrNone::No);
        let account_ref = c.query_named(
            "account",
            &account_query(account_id, account::ELIGIBILITY_STATUS)?,
        )?;
        let opportunity_ref = c.query_named(
            "opportunity",
            &open_opportunity_query(account_id, commodity)?,
        )?;
        let case_ref = c.query_named(
            "openCase",
            &open_case_query(
                account_id,
                CaseType::EligibilityCheck,
                &[ID, case::OPPORTUNITY_ID],
            )?,
        )?;
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let accounts = found(&results, &account_ref, "the Account query")?;
        let Some(account_record) = accounts.first() else {
            return Ok(None);
        };
        let status = Row::new(account::OBJECT, account_record)
            .opt_parsed(account::ELIGIBILITY_STATUS, str::parse::<EligibilityStatus>)?;
        let open_opportunity = found(&results, &opportunity_ref, "the Opportunity query")?
            .first()
            .map(opportunity_summary)
            .transpose()?;
        let open_case = found(&results, &case_ref, "the Case query")?
            .first()
            .map(open_case)
            .transpose()?;
        Ok(Some(EligibilityContext {
            status,
            open_opportunity,
            open_case,
        }))
    }

    #[tracing::instrument(name = "salesforce.eligibility.request", skip_all, fields(account_id = %plan.account_id))]
    async fn request_eligibility(
        &self,
        plan: &EligibilityPlan,
    ) -> Result<EligibilityRequested, PortError> {
        let mut c = Composite::new(AllOrNone::Yes);
        let opportunity = add_opportunity(&mut c, &plan.opportunity)?;
        let case_ref = add_case(&mut c, &plan.case, Some(&opportunity))?;
        let account_body = Body::new()
            .set(account::ELIGIBILITY_STATUS, plan.status.as_salesforce())
            .set(
                account::ELIGIBILITY_REQUESTED_AT,
                format_datetime(plan.requested_at),
            );
        c.update_named(
            "account",
            account::OBJECT,
            plan.account_id.as_id(),
            account_body,
        )?;
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let written = EligibilityRequested {
            case_id: created_id(&results, &case_ref, "the new Case")?,
            opportunity_id: opportunity.resolve(&results)?,
        };
        tracing::info!(case_id = %written.case_id, opportunity_id = %written.opportunity_id, "eligibility request written");
        Ok(written)
    }
}
