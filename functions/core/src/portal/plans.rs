//! The building blocks of the write plans the use cases hand to the ports,
//! and the conventions the portal follows where the issue is silent.
//!
//! A plan is plain data saying what to create or update; the adapter turns
//! one plan into one `/composite` call with `allOrNone: true`, mechanically.
//!
//! Decisions where the issue is silent:
//! - Cases are created with `Status = New` and `Origin = Portal`; no ContactId
//!   (the token does not carry the Contact).
//! - A created Opportunity is named `"{CommodityType} - {what} {YYYY-MM-DD}"`
//!   (e.g. `SIM - portal order 2026-04-01`, at most 120 characters).
//! - Its `CloseDate` is 30 days after today for an eligibility request and
//!   today for an order (the sale closes when ordered).
//! - An Opportunity is "open" when its stage is `Introduction` or `Ready`
//!   ([`OpportunityStage::is_open`]): the one requests and orders reuse.

use crate::domain::{
    AccountId, CaseOrigin, CaseStatus, CaseType, CommodityType, OpportunityId, OpportunityStage,
    PortalSource,
};
use chrono::{Days, NaiveDate};

use super::request::RequestKey;

/// Days between an eligibility request and its Opportunity's `CloseDate`.
pub const ELIGIBILITY_CLOSE_DAYS: u64 = 30;

/// An Opportunity as read with a request's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunitySummary {
    /// Its id.
    pub id: OpportunityId,
    /// Its `StageName`.
    pub stage: OpportunityStage,
}

/// A new Opportunity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOpportunity {
    /// `AccountId`: the caller's.
    pub account_id: AccountId,
    /// `Name`.
    pub name: String,
    /// `CommodityType`.
    pub commodity: CommodityType,
    /// `StageName`.
    pub stage: OpportunityStage,
    /// `Portal_Source__c`.
    pub portal_source: PortalSource,
    /// `CloseDate`.
    pub close_date: NaiveDate,
}

impl NewOpportunity {
    /// The Opportunity an eligibility request creates: `Introduction`,
    /// `Portal - Internet Eligibility Request`, closing in 30 days.
    pub fn for_eligibility(
        account_id: AccountId,
        commodity: CommodityType,
        today: NaiveDate,
    ) -> Self {
        Self {
            account_id,
            name: format!("{commodity} - eligibility request {today}"),
            commodity,
            stage: OpportunityStage::Introduction,
            portal_source: PortalSource::EligibilityRequest,
            close_date: today
                .checked_add_days(Days::new(ELIGIBILITY_CLOSE_DAYS))
                .unwrap_or(today),
        }
    }

    /// The Opportunity an order creates: `Post Processing`,
    /// `Portal - Order Placement`, closing today.
    pub fn for_order(account_id: AccountId, commodity: CommodityType, today: NaiveDate) -> Self {
        Self {
            account_id,
            name: format!("{commodity} - portal order {today}"),
            commodity,
            stage: OpportunityStage::PostProcessing,
            portal_source: PortalSource::OrderPlacement,
            close_date: today,
        }
    }
}

/// What a plan does with the request's Opportunity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpportunityPlan {
    /// Use an existing one as it is.
    Reuse(OpportunityId),
    /// Update an existing one's `StageName` and `Portal_Source__c`.
    Update {
        /// The Opportunity.
        id: OpportunityId,
        /// The new `StageName`.
        stage: OpportunityStage,
        /// The new `Portal_Source__c`.
        portal_source: PortalSource,
    },
    /// Create one.
    Create(NewOpportunity),
}

impl OpportunityPlan {
    /// The existing Opportunity's id, `None` when the plan creates one.
    pub fn existing_id(&self) -> Option<&OpportunityId> {
        match self {
            Self::Reuse(id) | Self::Update { id, .. } => Some(id),
            Self::Create(_) => None,
        }
    }
}

/// Which Opportunity a new Case points at (`Case.OpportunityId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseOpportunity {
    /// None.
    None,
    /// An existing Opportunity.
    Existing(OpportunityId),
    /// The Opportunity of the same plan (existing, or created earlier in the
    /// same composite and referred to as `@{refId.id}`).
    OfPlan,
}

/// A new Case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    /// `AccountId`: the caller's.
    pub account_id: AccountId,
    /// `OpportunityId`.
    pub opportunity: CaseOpportunity,
    /// `Type`.
    pub case_type: CaseType,
    /// `Status`: always `New`.
    pub status: CaseStatus,
    /// `Origin`: always `Portal`.
    pub origin: CaseOrigin,
    /// `Subject` (at most 255 characters).
    pub subject: String,
    /// `Description` (at most 32 000 characters).
    pub description: String,
    /// `Portal_Request_Key__c`: the key of the request that opens it.
    pub request_key: RequestKey,
}

impl NewCase {
    /// A case of `case_type` opened from the portal (`New`, `Portal`) by the
    /// request whose key is `request_key`.
    pub fn portal(
        account_id: AccountId,
        opportunity: CaseOpportunity,
        case_type: CaseType,
        subject: String,
        description: String,
        request_key: RequestKey,
    ) -> Self {
        Self {
            account_id,
            opportunity,
            case_type,
            status: CaseStatus::New,
            origin: CaseOrigin::Portal,
            subject,
            description,
            request_key,
        }
    }
}

/// The result of a request that returns an existing record when repeated.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// Records were written (→ 201, or 202 for requests CS will handle).
    Created(T),
    /// A repeat: the existing records, nothing written (→ 200, or 202).
    Existing(T),
}

impl<T> Outcome<T> {
    /// Whether records were written.
    pub fn is_created(&self) -> bool {
        matches!(self, Self::Created(_))
    }

    /// The response body.
    pub fn body(&self) -> &T {
        match self {
            Self::Created(body) | Self::Existing(body) => body,
        }
    }

    /// The response body, owned.
    pub fn into_body(self) -> T {
        match self {
            Self::Created(body) | Self::Existing(body) => body,
        }
    }
}
