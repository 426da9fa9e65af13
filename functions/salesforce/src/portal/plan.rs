//! What several ports share: the context queries (the Account, its open
//! Opportunity of a commodity, its open case of a type) and the pieces of the
//! write plans turned into composite subrequests (the request's Opportunity,
//! reused, updated or created, and a new Case pointing at it).

use portal_core::domain::{
    AccountId, CaseId, CaseStatus, CaseType, CommodityType, OpportunityId, OpportunityStage,
};
use portal_core::portal::plans::{
    CaseOpportunity, NewCase, NewOpportunity, OpportunityPlan, OpportunitySummary,
};
use portal_core::portal::{PortError, RequestKey};
use portal_core::schema::{account, case, opportunity};

use crate::client::SalesforceClient;
use crate::composite::{Body, Composite, CompositeBuildError, CompositeResults, Ref, Target};
use crate::soql::{self, Cond, Order, Soql};

use super::error::{MappingError, port_error};
use super::record::{CREATED_DATE, ID, Record, Row, created_id, format_date};

/// The Account with one of its fields.
pub fn account_query(account_id: &AccountId, field: &str) -> Result<Soql, PortError> {
    Ok(soql::select([ID, field])
        .from(account::OBJECT)
        .where_(Cond::eq(ID, account_id.as_id()))
        .limit(1)
        .build()?)
}

/// The Account's newest open Opportunity of `commodity`.
pub fn open_opportunity_query(
    account_id: &AccountId,
    commodity: CommodityType,
) -> Result<Soql, PortError> {
    Ok(soql::select([ID, opportunity::STAGE])
        .from(opportunity::OBJECT)
        .where_(Cond::eq(opportunity::ACCOUNT_ID, account_id.as_id()))
        .where_(Cond::eq(
            opportunity::COMMODITY_TYPE,
            commodity.as_salesforce(),
        ))
        .where_(Cond::in_(opportunity::STAGE, open_stages()))
        .order_by(CREATED_DATE, Order::Desc)
        .order_by(ID, Order::Desc)
        .limit(1)
        .build()?)
}

/// The Account's newest case of `case_type` that is not closed.
pub fn open_case_query(
    account_id: &AccountId,
    case_type: CaseType,
    fields: &[&str],
) -> Result<Soql, PortError> {
    let closed = CaseStatus::ALL
        .iter()
        .filter(|s| !s.is_open())
        .map(|s| s.as_salesforce());
    Ok(soql::select(fields)
        .from(case::OBJECT)
        .where_(Cond::eq(case::ACCOUNT_ID, account_id.as_id()))
        .where_(Cond::eq(case::TYPE, case_type.as_salesforce()))
        .where_(Cond::not_in(case::STATUS, closed))
        .order_by(CREATED_DATE, Order::Desc)
        .order_by(ID, Order::Desc)
        .limit(1)
        .build()?)
}

/// The Case opened under request `key` (with its `OpportunityId`), among
/// `account`'s cases when given (a registration's staff Case is on the Account
/// it asks for, not the caller's).
pub fn case_by_key_query(account: Option<&AccountId>, key: &RequestKey) -> Result<Soql, PortError> {
    let mut query = soql::select([ID, case::ACCOUNT_ID, case::OPPORTUNITY_ID])
        .from(case::OBJECT)
        .where_(Cond::eq(case::REQUEST_KEY, key.as_str()));
    if let Some(account) = account {
        query = query.where_(Cond::eq(case::ACCOUNT_ID, account.as_id()));
    }
    Ok(query.limit(1).build()?)
}

/// One read: the Case opened under request `key` among `account`'s (any
/// Account's when `None`), with its `OpportunityId`.
pub async fn case_by_key(
    client: &SalesforceClient,
    account: Option<&AccountId>,
    key: &RequestKey,
) -> Result<Option<(CaseId, Option<OpportunityId>)>, PortError> {
    let page = client
        .query::<Record>(&case_by_key_query(account, key)?)
        .await
        .map_err(port_error)?;
    Ok(keyed_case(&page.records)?)
}

/// The Case `case_by_key_query` found, with its `OpportunityId`.
pub fn keyed_case(
    records: &[Record],
) -> Result<Option<(CaseId, Option<OpportunityId>)>, MappingError> {
    records
        .first()
        .map(|record| {
            let row = Row::new(case::OBJECT, record);
            Ok((row.id(ID)?, row.opt_id(case::OPPORTUNITY_ID)?))
        })
        .transpose()
}

/// An open Opportunity record.
pub fn opportunity_summary(record: &Record) -> Result<OpportunitySummary, MappingError> {
    let row = Row::new(opportunity::OBJECT, record);
    Ok(OpportunitySummary {
        id: row.id(ID)?,
        stage: row.parsed(opportunity::STAGE, str::parse::<OpportunityStage>)?,
    })
}

/// Where the plan's Opportunity is once its subrequest is added.
#[derive(Debug, Clone)]
pub enum PlannedOpportunity {
    /// An existing record.
    Existing(OpportunityId),
    /// Created by an earlier subrequest of the same composite.
    Created(Ref),
}

impl PlannedOpportunity {
    /// A lookup to it: the id, or the subrequest that creates it.
    pub fn lookup(&self) -> Target {
        match self {
            Self::Existing(id) => id.as_id().into(),
            Self::Created(r) => r.into(),
        }
    }

    /// Its id once the composite ran.
    pub fn resolve(self, results: &CompositeResults) -> Result<OpportunityId, MappingError> {
        match self {
            Self::Existing(id) => Ok(id),
            Self::Created(r) => created_id(results, &r, "the new Opportunity"),
        }
    }
}

/// Adds the Opportunity part of a plan: nothing to reuse one, a PATCH of
/// `StageName` and `Portal_Source__c` to move one, a POST to create one.
pub fn add_opportunity(
    c: &mut Composite,
    plan: &OpportunityPlan,
) -> Result<PlannedOpportunity, CompositeBuildError> {
    match plan {
        OpportunityPlan::Reuse(id) => Ok(PlannedOpportunity::Existing(id.clone())),
        OpportunityPlan::Update {
            id,
            stage,
            portal_source,
        } => {
            let body = Body::new()
                .set(opportunity::STAGE, stage.as_salesforce())
                .set(opportunity::PORTAL_SOURCE, portal_source.as_salesforce());
            c.update_named("opportunity", opportunity::OBJECT, id.as_id(), body)?;
            Ok(PlannedOpportunity::Existing(id.clone()))
        }
        OpportunityPlan::Create(new) => {
            let r = c.create_named("opportunity", opportunity::OBJECT, new_opportunity(new))?;
            Ok(PlannedOpportunity::Created(r))
        }
    }
}

/// The body of a new Opportunity.
pub fn new_opportunity(new: &NewOpportunity) -> Body {
    Body::new()
        .set(opportunity::NAME, new.name.as_str())
        .set(opportunity::ACCOUNT_ID, new.account_id.as_str())
        .set(opportunity::COMMODITY_TYPE, new.commodity.as_salesforce())
        .set(opportunity::STAGE, new.stage.as_salesforce())
        .set(
            opportunity::PORTAL_SOURCE,
            new.portal_source.as_salesforce(),
        )
        .set(opportunity::CLOSE_DATE, format_date(new.close_date))
}

/// Adds the creation of `new` (named `case`); `of_plan` is the plan's
/// Opportunity, for [`CaseOpportunity::OfPlan`].
pub fn add_case(
    c: &mut Composite,
    new: &NewCase,
    of_plan: Option<&PlannedOpportunity>,
) -> Result<Ref, CompositeBuildError> {
    let opportunity: Option<Target> = match &new.opportunity {
        CaseOpportunity::None => None,
        CaseOpportunity::Existing(id) => Some(id.as_id().into()),
        CaseOpportunity::OfPlan => of_plan.map(PlannedOpportunity::lookup),
    };
    let mut body = Body::new()
        .set(case::ACCOUNT_ID, new.account_id.as_str())
        .set(case::TYPE, new.case_type.as_salesforce())
        .set(case::STATUS, new.status.as_salesforce())
        .set(case::ORIGIN, new.origin.as_salesforce())
        .set(case::SUBJECT, new.subject.as_str())
        .set(case::DESCRIPTION, new.description.as_str())
        .set(case::REQUEST_KEY, new.request_key.as_str());
    if let Some(opportunity) = opportunity {
        body = body.set_ref(case::OPPORTUNITY_ID, opportunity);
    }
    c.create_named("case", case::OBJECT, body)
}

/// The stages in which an Opportunity is "open" (reused by requests and orders).
pub fn open_stages() -> Vec<&'static str> {
    OpportunityStage::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_salesforce())
        .collect()
}
