//! [`AccountProfile`] over Salesforce: the caller's Account with its portal,
//! eligibility and ID verification fields, and its Opportunities at
//! `Introduction`, `Ready` or `Void` (what decides `orderable`): one
//! `/composite` of two queries, one API call.

use portal_core::domain::{
    AccountId, CommodityType, CustomerNumber, EligibilityStatus, IdVerificationStatus,
    OpportunityStage, PortalStatus,
};
use portal_core::portal::PortError;
use portal_core::portal::account::{
    AccountOverview, AccountRecord, EligibilityView, IdVerificationView,
};
use portal_core::portal::orderable::CommodityOpportunity;
use portal_core::portal::ports::AccountProfile;
use portal_core::schema::{account, opportunity};

use crate::client::SalesforceClient;
use crate::composite::{AllOrNone, Composite};
use crate::soql::{self, Cond, Order, Soql};

use super::error::{MappingError, port_error};
use super::record::{CREATED_DATE, ID, Record, Row, found};

/// The most Opportunities read with the Account (newest first): far more
/// than one customer has open or void at once.
const MAX_OPPORTUNITIES_READ: u32 = 200;

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

/// The Account's Opportunities that decide what it can order, newest first.
fn opportunities_query(account_id: &AccountId) -> Result<Soql, PortError> {
    let stages = [
        OpportunityStage::Introduction,
        OpportunityStage::Ready,
        OpportunityStage::Void,
    ];
    Ok(
        soql::select([ID, opportunity::COMMODITY_TYPE, opportunity::STAGE])
            .from(opportunity::OBJECT)
            .where_(Cond::eq(opportunity::ACCOUNT_ID, account_id.as_id()))
            .where_(Cond::in_(
                opportunity::STAGE,
                stages.iter().map(|s| s.as_salesforce()),
            ))
            .order_by(CREATED_DATE, Order::Desc)
            .order_by(ID, Order::Desc)
            .limit(MAX_OPPORTUNITIES_READ)
            .build()?,
    )
}

fn commodity_opportunity(record: &Record) -> Result<CommodityOpportunity, MappingError> {
    let row = Row::new(opportunity::OBJECT, record);
    Ok(CommodityOpportunity {
        id: row.id(ID)?,
        commodity: row.opt_parsed(opportunity::COMMODITY_TYPE, str::parse::<CommodityType>)?,
        stage: row.parsed(opportunity::STAGE, str::parse::<OpportunityStage>)?,
    })
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
        orderable: Vec::new(),
    })
}

impl AccountProfile for SalesforceAccountProfile {
    #[tracing::instrument(name = "salesforce.account.overview", skip_all, fields(account_id = %account_id))]
    async fn account_overview(
        &self,
        account_id: &AccountId,
    ) -> Result<Option<AccountRecord>, PortError> {
        let mut c = Composite::new(AllOrNone::No);
        let account_ref = c.query_named("account", &overview_query(account_id)?)?;
        let opportunities_ref =
            c.query_named("opportunities", &opportunities_query(account_id)?)?;
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let accounts = found(&results, &account_ref, "the Account query")?;
        let Some(record) = accounts.first() else {
            return Ok(None);
        };
        let opportunities = found(&results, &opportunities_ref, "the Opportunity query")?
            .iter()
            .map(commodity_opportunity)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(AccountRecord {
            overview: overview(record)?,
            opportunities,
        }))
    }
}
