//! `POST /eligibility-requests`: ask CS to check Internet eligibility at an address.
//!
//! Rules (issue 3): the open Opportunity of the same commodity is reused, or
//! one is created at `Introduction` with `Portal - Internet Eligibility
//! Request`; a Case `Eligibility Check` is opened; the Account's
//! `Internet_Eligibility_Status__c` becomes `Pending` with the request time. A
//! repeat while `Pending` returns the open case and writes nothing.
//!
//! Decisions where the issue is silent:
//! - `commodityType` defaults to `Personal SonixNet Home Internet`; SIM and VPN
//!   are refused (they need no eligibility).
//! - A reused Opportunity is left as it is (its stage is not moved back).
//! - The address and notes go into the Case description (the Account has no
//!   address fields in the org's schema).
//! - "While Pending" is account-wide: the open `Eligibility Check` case is
//!   returned whatever commodity the repeat names.
//! - A request after `Checked` is allowed (e.g. a move) and sets `Pending` again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::field_error::REQUIRED;
use crate::domain::{
    AccountId, Address, AddressInput, CaseId, CaseType, CommodityType, EligibilityStatus,
    FieldError, FieldErrors, Notes, OpportunityId, UnknownValue,
};

use super::caller::Caller;
use super::error::PortalError;
use super::plans::{
    CaseOpportunity, NewCase, NewOpportunity, OpportunityPlan, OpportunitySummary, Outcome,
};
use super::ports::EligibilityDesk;
use super::settings::PortalSettings;

/// The raw body of `POST /eligibility-requests`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EligibilityRequest {
    /// An Internet `CommodityType` value; default `Personal SonixNet Home Internet`.
    pub commodity_type: Option<String>,
    /// The address to check.
    pub address: Option<AddressInput>,
    /// Notes for CS.
    pub notes: Option<String>,
}

/// A checked eligibility request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityCommand {
    /// An Internet commodity.
    pub commodity: CommodityType,
    /// The address.
    pub address: Address,
    /// Notes.
    pub notes: Option<Notes>,
}

/// Parses an Internet commodity.
fn internet_commodity(raw: &str) -> Result<CommodityType, UnknownValue> {
    let internet = || UnknownValue {
        allowed: [
            CommodityType::PersonalInternet,
            CommodityType::CorporateInternet,
        ]
        .map(CommodityType::as_salesforce)
        .join(", "),
    };
    let commodity = raw.parse::<CommodityType>().map_err(|_| internet())?;
    if commodity.needs_eligibility() {
        Ok(commodity)
    } else {
        Err(internet())
    }
}

impl EligibilityRequest {
    /// Checks every field.
    pub fn parse(self) -> Result<EligibilityCommand, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let commodity = errors
            .optional(
                "commodityType",
                self.commodity_type.as_deref(),
                internet_commodity,
            )
            .map(|c| c.unwrap_or(CommodityType::PersonalInternet));
        let address = match self.address {
            Some(input) => Address::parse(input, "address", &mut errors),
            None => {
                errors.push("address", REQUIRED);
                None
            }
        };
        let notes = errors.optional("notes", self.notes.as_deref(), Notes::parse);
        match (commodity, address, notes) {
            (Some(commodity), Some(address), Some(notes)) if errors.is_empty() => {
                Ok(EligibilityCommand {
                    commodity,
                    address,
                    notes,
                })
            }
            _ => Err(errors.into_vec()),
        }
    }
}

/// The body of the 202 response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EligibilityResponse {
    /// The `Eligibility Check` case.
    pub case_id: CaseId,
    /// The Opportunity the case is about.
    pub opportunity_id: OpportunityId,
    /// The Account's eligibility status: `Pending`.
    pub status: EligibilityStatus,
}

/// An open case as read with a request's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCase {
    /// The case.
    pub case_id: CaseId,
    /// Its `OpportunityId`.
    pub opportunity_id: Option<OpportunityId>,
}

/// What the one read of an eligibility request returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EligibilityContext {
    /// The Account's `Internet_Eligibility_Status__c`.
    pub status: Option<EligibilityStatus>,
    /// The newest open (`Introduction`/`Ready`) Opportunity of the Account
    /// with the requested `CommodityType`.
    pub open_opportunity: Option<OpportunitySummary>,
    /// The newest `Eligibility Check` case of the Account whose status is not `Closed`.
    pub open_case: Option<OpenCase>,
}

/// The one write of an eligibility request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityPlan {
    /// The Account to update.
    pub account_id: AccountId,
    /// `Internet_Eligibility_Status__c`: `Pending`.
    pub status: EligibilityStatus,
    /// `Internet_Eligibility_Request_Date_Time__c`.
    pub requested_at: DateTime<Utc>,
    /// The Opportunity: reused or created.
    pub opportunity: OpportunityPlan,
    /// The `Eligibility Check` case, pointing at the plan's Opportunity.
    pub case: NewCase,
}

/// The ids an eligibility write ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityRequested {
    /// The new case.
    pub case_id: CaseId,
    /// The plan's Opportunity (reused or created).
    pub opportunity_id: OpportunityId,
}

/// What an eligibility request decides from its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EligibilityDecision {
    /// A repeat while `Pending`: answer with the open case.
    Pending(EligibilityResponse),
    /// Write this plan.
    Write(EligibilityPlan),
}

/// The pure decision of an eligibility request.
pub fn decide_eligibility(
    account_id: &AccountId,
    command: &EligibilityCommand,
    context: EligibilityContext,
    now: DateTime<Utc>,
    settings: &PortalSettings,
) -> EligibilityDecision {
    if context.status == Some(EligibilityStatus::Pending)
        && let Some(open) = &context.open_case
        && let Some(opportunity_id) = open
            .opportunity_id
            .clone()
            .or_else(|| context.open_opportunity.as_ref().map(|o| o.id.clone()))
    {
        return EligibilityDecision::Pending(EligibilityResponse {
            case_id: open.case_id.clone(),
            opportunity_id,
            status: EligibilityStatus::Pending,
        });
    }
    let today = settings.timezone.today(now);
    let opportunity = match context.open_opportunity {
        Some(open) => OpportunityPlan::Reuse(open.id),
        None => OpportunityPlan::Create(NewOpportunity::for_eligibility(
            account_id.clone(),
            command.commodity,
            today,
        )),
    };
    let mut description = format!(
        "Commodity: {}\nAddress: {}\n",
        command.commodity, command.address
    );
    if let Some(notes) = &command.notes {
        description.push_str("\nNotes from the customer:\n");
        description.push_str(notes.as_str());
    }
    EligibilityDecision::Write(EligibilityPlan {
        account_id: account_id.clone(),
        status: EligibilityStatus::Pending,
        requested_at: now,
        opportunity,
        case: NewCase::portal(
            account_id.clone(),
            CaseOpportunity::OfPlan,
            CaseType::EligibilityCheck,
            format!("Internet eligibility check - {}", command.commodity),
            description,
        ),
    })
}

/// Requests an eligibility check for the caller's Account.
#[tracing::instrument(name = "request_eligibility", skip_all, fields(account_id = ?caller.account_id))]
pub async fn request_eligibility<D: EligibilityDesk>(
    desk: &D,
    caller: &Caller,
    body: EligibilityRequest,
    now: DateTime<Utc>,
    settings: &PortalSettings,
) -> Result<Outcome<EligibilityResponse>, PortalError> {
    let account = caller.account()?;
    let command = body.parse()?;
    let context = desk
        .eligibility_context(account, command.commodity)
        .await?
        .ok_or(PortalError::NotFound)?;
    match decide_eligibility(account, &command, context, now, settings) {
        EligibilityDecision::Pending(response) => {
            tracing::info!(case_id = %response.case_id, "eligibility already pending");
            Ok(Outcome::Existing(response))
        }
        EligibilityDecision::Write(plan) => {
            let written = desk.request_eligibility(&plan).await?;
            tracing::info!(case_id = %written.case_id, opportunity_id = %written.opportunity_id, "eligibility requested");
            Ok(Outcome::Created(EligibilityResponse {
                case_id: written.case_id,
                opportunity_id: written.opportunity_id,
                status: EligibilityStatus::Pending,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CaseOrigin, CaseStatus, OpportunityStage, PortalSource};
    use crate::portal::fake::*;
    use chrono::NaiveDate;

    fn body() -> EligibilityRequest {
        EligibilityRequest {
            commodity_type: None,
            address: Some(AddressInput {
                postal_code: Some("1500001".into()),
                prefecture: Some("Tokyo".into()),
                city: Some("渋谷区".into()),
                street: Some("神宮前1-2-3".into()),
                building: None,
            }),
            notes: Some("Fiber please".into()),
        }
    }

    fn context() -> EligibilityContext {
        EligibilityContext::default()
    }

    async fn request(
        org: &FakeOrg,
        body: EligibilityRequest,
    ) -> Result<Outcome<EligibilityResponse>, PortalError> {
        request_eligibility(org, &caller(), body, now(), &PortalSettings::default()).await
    }

    #[tokio::test]
    async fn when_no_opportunity_is_open_should_create_one_at_introduction_with_a_case_and_pending_status()
     {
        let org = FakeOrg {
            eligibility: Some(context()),
            ..FakeOrg::default()
        };
        let outcome = request(&org, body()).await.unwrap();
        assert_eq!(
            org.calls()[0],
            Call::EligibilityContext(account(), CommodityType::PersonalInternet)
        );
        let Call::RequestEligibility(plan) = org.only_write() else {
            panic!("expected one write: {:?}", org.writes());
        };
        assert_eq!(plan.account_id, account());
        assert_eq!(plan.status, EligibilityStatus::Pending);
        assert_eq!(plan.requested_at, now());
        let today = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        assert_eq!(
            plan.opportunity,
            OpportunityPlan::Create(NewOpportunity {
                account_id: account(),
                name: "Personal SonixNet Home Internet - eligibility request 2026-04-01".into(),
                commodity: CommodityType::PersonalInternet,
                stage: OpportunityStage::Introduction,
                portal_source: PortalSource::EligibilityRequest,
                close_date: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
            })
        );
        assert!(today < NaiveDate::from_ymd_opt(2026, 5, 1).unwrap());
        assert_eq!(plan.case.case_type, CaseType::EligibilityCheck);
        assert_eq!(plan.case.status, CaseStatus::New);
        assert_eq!(plan.case.origin, CaseOrigin::Portal);
        assert_eq!(plan.case.opportunity, CaseOpportunity::OfPlan);
        assert!(
            plan.case
                .description
                .contains("〒150-0001 東京都 渋谷区 神宮前1-2-3")
        );
        assert!(plan.case.description.contains("Fiber please"));
        assert!(outcome.is_created());
        assert_eq!(
            serde_json::to_value(outcome.body()).unwrap(),
            serde_json::json!({
                "caseId": written_case().as_str(),
                "opportunityId": written_opportunity().as_str(),
                "status": "Pending",
            })
        );
    }

    #[tokio::test]
    async fn when_an_opportunity_of_the_commodity_is_open_should_reuse_it() {
        let org = FakeOrg {
            eligibility: Some(EligibilityContext {
                status: Some(EligibilityStatus::Checked),
                open_opportunity: Some(OpportunitySummary {
                    id: opportunity(),
                    stage: OpportunityStage::Ready,
                }),
                open_case: None,
            }),
            ..FakeOrg::default()
        };
        let request_body = EligibilityRequest {
            commodity_type: Some("Corporate SonixNet Home Internet".into()),
            ..body()
        };
        let outcome = request(&org, request_body).await.unwrap();
        let Call::RequestEligibility(plan) = org.only_write() else {
            panic!("expected one write: {:?}", org.writes());
        };
        assert_eq!(plan.opportunity, OpportunityPlan::Reuse(opportunity()));
        assert_eq!(outcome.body().opportunity_id, opportunity());
    }

    #[tokio::test]
    async fn when_repeated_while_pending_should_return_the_open_case_and_write_nothing() {
        let org = FakeOrg {
            eligibility: Some(EligibilityContext {
                status: Some(EligibilityStatus::Pending),
                open_opportunity: None,
                open_case: Some(OpenCase {
                    case_id: case(),
                    opportunity_id: Some(opportunity()),
                }),
            }),
            ..FakeOrg::default()
        };
        let outcome = request(&org, body()).await.unwrap();
        assert_eq!(
            outcome,
            Outcome::Existing(EligibilityResponse {
                case_id: case(),
                opportunity_id: opportunity(),
                status: EligibilityStatus::Pending,
            })
        );
        assert!(org.writes().is_empty());
        assert_eq!(org.reads(), 1);
    }

    #[tokio::test]
    async fn when_every_field_is_bad_should_list_them_all_and_call_nothing() {
        let org = FakeOrg::default();
        let bad = EligibilityRequest {
            commodity_type: Some("SIM".into()),
            address: Some(AddressInput {
                postal_code: Some("150".into()),
                prefecture: Some("Paris".into()),
                city: None,
                street: Some(" ".into()),
                building: None,
            }),
            notes: Some("x".repeat(30_001)),
        };
        assert_eq!(
            invalid_fields(request(&org, bad).await),
            [
                "commodityType",
                "address.postalCode",
                "address.prefecture",
                "address.city",
                "address.street",
                "notes"
            ]
        );
        let missing = EligibilityRequest::default();
        assert_eq!(invalid_fields(request(&org, missing).await), ["address"]);
        assert!(org.calls().is_empty());
    }

    #[tokio::test]
    async fn when_unlinked_or_the_account_is_missing_should_refuse_without_writing() {
        let org = FakeOrg::default();
        let err = request_eligibility(
            &org,
            &unlinked_caller(),
            body(),
            now(),
            &PortalSettings::default(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, PortalError::NotLinked));
        assert!(matches!(
            request(&org, body()).await,
            Err(PortalError::NotFound)
        ));
        assert!(org.writes().is_empty());
    }
}
