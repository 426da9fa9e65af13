//! [`AccountProfile`] over Salesforce: the caller's Account with its portal,
//! eligibility and ID verification fields, in one query.

use portal_core::domain::{
    AccountId, CustomerNumber, EligibilityStatus, IdVerificationStatus, PortalStatus,
};
use portal_core::portal::PortError;
use portal_core::portal::account::{AccountOverview, EligibilityView, IdVerificationView};
use portal_core::portal::ports::AccountProfile;
use portal_core::schema::account;

use crate::client::SalesforceClient;
use crate::soql::{self, Cond, Soql};

use super::error::{MappingError, port_error};
use super::record::{ID, Record, Row};

/// The caller's Account in Salesforce.
#[derive(Debug, Clone)]
pub struct SalesforceAccountProfile {
    client: SalesforceClient,
}

impl SalesforceAccountProfile {
    /// An adapter over `client`.
    pub fn new(client: SalesforceClient) -> Self {
        Self { client }
    }
}

fn overview_query(account_id: &AccountId) -> Result<Soql, PortError> {
    Ok(soql::select([
        ID,
        account::NAME,
        account::CUSTOMER_NUMBER,
        account::PORTAL_STATUS,
        account::ELIGIBILITY_STATUS,
        account::ELIGIBILITY,
        account::ELIGIBILITY_REQUESTED_AT,
        account::ELIGIBILITY_CHECKED_AT,
        account::ID_VERIFICATION_STATUS,
        account::ID_VERIFICATION_SUBMITTED_AT,
        account::ID_VERIFICATION_VERIFIED_AT,
        account::ID_VERIFICATION_REJECTION,
    ])
    .from(account::OBJECT)
    .where_(Cond::eq(ID, account_id.as_id()))
    .limit(1)
    .build()?)
}

fn overview(record: &Record) -> Result<AccountOverview, MappingError> {
    let row = Row::new(account::OBJECT, record);
    Ok(AccountOverview {
        account_id: row.id(ID)?,
        name: row.text(account::NAME)?.to_owned(),
        customer_number: row.opt_parsed(account::CUSTOMER_NUMBER, CustomerNumber::parse)?,
        portal_status: row.opt_parsed(account::PORTAL_STATUS, str::parse::<PortalStatus>)?,
        eligibility: EligibilityView {
            status: row.opt_parsed(account::ELIGIBILITY_STATUS, str::parse::<EligibilityStatus>)?,
            value: row.opt_text(account::ELIGIBILITY)?.map(str::to_owned),
            requested_at: row.opt_datetime(account::ELIGIBILITY_REQUESTED_AT)?,
            checked_at: row.opt_datetime(account::ELIGIBILITY_CHECKED_AT)?,
        },
        id_verification: IdVerificationView {
            status: row.opt_parsed(
                account::ID_VERIFICATION_STATUS,
                str::parse::<IdVerificationStatus>,
            )?,
            submitted_at: row.opt_datetime(account::ID_VERIFICATION_SUBMITTED_AT)?,
            verified_at: row.opt_datetime(account::ID_VERIFICATION_VERIFIED_AT)?,
            rejection_message: row
                .opt_text(account::ID_VERIFICATION_REJECTION)?
                .map(str::to_owned),
        },
    })
}

impl AccountProfile for SalesforceAccountProfile {
    #[tracing::instrument(name = "salesforce.account.overview", skip_all, fields(account_id = %account_id))]
    async fn account_overview(
        &self,
        account_id: &AccountId,
    ) -> Result<Option<AccountOverview>, PortError> {
        let page = self
            .client
            .query::<Record>(&overview_query(account_id)?)
            .await
            .map_err(port_error)?;
        Ok(page.records.first().map(overview).transpose()?)
    }
}
