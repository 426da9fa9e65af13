//! [`SupportDesk`] over Salesforce: a `General Inquiry` Case written in one
//! all-or-none `/composite`; the Account's cases read in one query.

use portal_core::domain::{AccountId, CaseId, CaseStatus, CaseType};
use portal_core::portal::PortError;
use portal_core::portal::plans::NewCase;
use portal_core::portal::ports::SupportDesk;
use portal_core::portal::support::CaseSummary;
use portal_core::schema::case;

use crate::client::SalesforceClient;
use crate::composite::{AllOrNone, Composite};
use crate::soql::{self, Cond, Order, Soql};

use super::error::{MappingError, port_error};
use super::plan::add_case;
use super::record::{CREATED_DATE, ID, Record, Row, created_id};

/// The most cases `GET /support-cases` lists (newest first; one page).
pub const MAX_LISTED_CASES: u32 = 200;

/// Support cases in Salesforce.
#[derive(Debug, Clone)]
pub struct SalesforceSupportDesk {
    client: SalesforceClient,
}

impl SalesforceSupportDesk {
    /// An adapter over `client`.
    pub fn new(client: SalesforceClient) -> Self {
        Self { client }
    }
}

fn cases_query(account_id: &AccountId) -> Result<Soql, PortError> {
    Ok(soql::select([
        ID,
        case::ACCOUNT_ID,
        case::TYPE,
        case::STATUS,
        case::SUBJECT,
        CREATED_DATE,
    ])
    .from(case::OBJECT)
    .where_(Cond::eq(case::ACCOUNT_ID, account_id.as_id()))
    .order_by(CREATED_DATE, Order::Desc)
    .order_by(ID, Order::Desc)
    .limit(MAX_LISTED_CASES)
    .build()?)
}

fn case_summary(record: &Record) -> Result<CaseSummary, MappingError> {
    let row = Row::new(case::OBJECT, record);
    Ok(CaseSummary {
        case_id: row.id(ID)?,
        account_id: row.id(case::ACCOUNT_ID)?,
        case_type: row.opt_parsed(case::TYPE, str::parse::<CaseType>)?,
        status: row.parsed(case::STATUS, str::parse::<CaseStatus>)?,
        subject: row.opt_text(case::SUBJECT)?.map(str::to_owned),
        created_at: row.datetime(CREATED_DATE)?,
    })
}

impl SupportDesk for SalesforceSupportDesk {
    #[tracing::instrument(name = "salesforce.support.open_case", skip_all, fields(account_id = %new.account_id))]
    async fn open_case(&self, new: &NewCase) -> Result<CaseId, PortError> {
        let mut c = Composite::new(AllOrNone::Yes);
        let case_ref = add_case(&mut c, new, None)?;
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let case_id: CaseId = created_id(&results, &case_ref, "the new Case")?;
        tracing::info!(case_id = %case_id, "support case written");
        Ok(case_id)
    }

    #[tracing::instrument(name = "salesforce.support.cases", skip_all, fields(account_id = %account_id))]
    async fn cases(&self, account_id: &AccountId) -> Result<Vec<CaseSummary>, PortError> {
        let page = self
            .client
            .query::<Record>(&cases_query(account_id)?)
            .await
            .map_err(port_error)?;
        Ok(page
            .records
            .iter()
            .map(case_summary)
            .collect::<Result<Vec<_>, _>>()?)
    }
}
