//! [`IdVerificationDesk`] over Salesforce.
//!
//! Read: one `/composite` of two queries — the Account's ID verification
//! status and its newest open `ID Verification` case.
//! Write: one all-or-none `/composite` — the Case and the Account `Pending`
//! with the submitted time.

use portal_core::domain::{AccountId, CaseId, CaseType, IdVerificationStatus};
use portal_core::portal::PortError;
use portal_core::portal::id_verification::{IdVerificationContext, IdVerificationPlan};
use portal_core::portal::ports::IdVerificationDesk;
use portal_core::schema::{account, case};

use crate::client::SalesforceClient;
use crate::composite::{AllOrNone, Body, Composite};

use super::error::port_error;
use super::plan::{account_query, add_case, open_case_query};
use super::record::{ID, Row, created_id, format_datetime, found};

/// ID verifications (Account, Case) in Salesforce.
#[derive(Debug, Clone)]
pub struct SalesforceIdVerificationDesk {
    client: SalesforceClient,
}

impl SalesforceIdVerificationDesk {
    /// An adapter over `client`.
    pub fn new(client: SalesforceClient) -> Self {
        Self { client }
    }
}

impl IdVerificationDesk for SalesforceIdVerificationDesk {
    #[tracing::instrument(name = "salesforce.id_verification.context", skip_all, fields(account_id = %account_id))]
    async fn verification_context(
        &self,
        account_id: &AccountId,
    ) -> Result<Option<IdVerificationContext>, PortError> {
        let mut c = Composite::new(AllOrNone::No);
        let account_ref = c.query_named(
            "account",
            &account_query(account_id, account::ID_VERIFICATION_STATUS)?,
        )?;
        let case_ref = c.query_named(
            "openCase",
            &open_case_query(account_id, CaseType::IdVerification, &[ID])?,
        )?;
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let accounts = found(&results, &account_ref, "the Account query")?;
        let Some(account_record) = accounts.first() else {
            return Ok(None);
        };
        let status = Row::new(account::OBJECT, account_record).opt_parsed(
            account::ID_VERIFICATION_STATUS,
            str::parse::<IdVerificationStatus>,
        )?;
        let open_case = found(&results, &case_ref, "the Case query")?
            .first()
            .map(|r| Row::new(case::OBJECT, r).id(ID))
            .transpose()?;
        Ok(Some(IdVerificationContext { status, open_case }))
    }

    #[tracing::instrument(name = "salesforce.id_verification.submit", skip_all, fields(account_id = %plan.account_id))]
    async fn submit_verification(&self, plan: &IdVerificationPlan) -> Result<CaseId, PortError> {
        let mut c = Composite::new(AllOrNone::Yes);
        let case_ref = add_case(&mut c, &plan.case, None)?;
        let account_body = Body::new()
            .set(account::ID_VERIFICATION_STATUS, plan.status.as_salesforce())
            .set(
                account::ID_VERIFICATION_SUBMITTED_AT,
                format_datetime(plan.submitted_at),
            );
        c.update_named(
            "account",
            account::OBJECT,
            plan.account_id.as_id(),
            account_body,
        )?;
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let case_id: CaseId = created_id(&results, &case_ref, "the new Case")?;
        tracing::info!(case_id = %case_id, "ID verification written");
        Ok(case_id)
    }
}
