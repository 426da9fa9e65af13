//! `POST /cancellations`: ask to end a service on a date.
//!
//! Rules (issue 3): the body names the WHMCS service id and a date; the
//! service's Opportunity (found by `WHMCS_Service_ID__c`) must belong to the
//! caller — another account's service is `NotFound`, like a missing one — and
//! be `Active`; the date is today or later in the configured timezone. A Case
//! `Cancellation Request` is opened and the Opportunity moves to `△Cancelling`
//! with `ScheduledCancellationDateAndTime__c`. A repeat returns the existing case.
//!
//! Decisions where the issue is silent:
//! - `ScheduledCancellationDateAndTime__c` is the start (00:00) of the date in
//!   the configured timezone, so it reads back as that date there.
//! - A repeat is an Opportunity already at `△Cancelling` with a `Cancellation
//!   Request` case: that case and the scheduled time are returned whatever
//!   date the repeat names. At `△Cancelling` with no such case: conflict.
//! - The date and reason go into the Case description.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    AccountId, CancellationDate, CaseId, CaseType, FieldError, FieldErrors, Notes, OpportunityId,
    OpportunityStage, WhmcsServiceId,
};

use super::caller::Caller;
use super::error::{ConflictReason, PortalError};
use super::plans::{CaseOpportunity, NewCase, Outcome};
use super::ports::CancellationDesk;
use super::settings::PortalSettings;

/// The raw body of `POST /cancellations`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancellationRequest {
    /// The WHMCS service id, a positive integer.
    pub service_id: Option<i64>,
    /// `YYYY-MM-DD`, today or later.
    pub cancellation_date: Option<String>,
    /// Why, optional.
    pub reason: Option<String>,
}

/// A checked cancellation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationCommand {
    /// The service.
    pub service_id: WhmcsServiceId,
    /// The date.
    pub cancellation_date: CancellationDate,
    /// The reason.
    pub reason: Option<Notes>,
}

impl CancellationRequest {
    /// Checks every field; `today` is the date in the portal's timezone.
    pub fn parse(self, today: chrono::NaiveDate) -> Result<CancellationCommand, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let service_id = errors.required("serviceId", self.service_id, WhmcsServiceId::new);
        let date = errors.required(
            "cancellationDate",
            self.cancellation_date.as_deref(),
            |raw| CancellationDate::parse(raw, today),
        );
        let reason = errors.optional("reason", self.reason.as_deref(), Notes::parse);
        match (service_id, date, reason) {
            (Some(service_id), Some(cancellation_date), Some(reason)) if errors.is_empty() => {
                Ok(CancellationCommand {
                    service_id,
                    cancellation_date,
                    reason,
                })
            }
            _ => Err(errors.into_vec()),
        }
    }
}

/// The body of the 202 response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancellationResponse {
    /// The `Cancellation Request` case.
    pub case_id: CaseId,
    /// The service's Opportunity.
    pub opportunity_id: OpportunityId,
    /// `△Cancelling`.
    pub stage: OpportunityStage,
    /// `ScheduledCancellationDateAndTime__c`.
    pub scheduled_at: DateTime<Utc>,
}

/// The service's Opportunity, as the one read returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    /// The Opportunity.
    pub opportunity_id: OpportunityId,
    /// Its `AccountId` (compared with the caller's).
    pub account_id: AccountId,
    /// Its `StageName`.
    pub stage: OpportunityStage,
    /// Its `ScheduledCancellationDateAndTime__c`.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The newest `Cancellation Request` case of the Opportunity, if any.
    pub cancellation_case: Option<CaseId>,
}

/// The one write of a cancellation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationPlan {
    /// The Opportunity to update.
    pub opportunity_id: OpportunityId,
    /// `StageName`: `△Cancelling`.
    pub stage: OpportunityStage,
    /// `ScheduledCancellationDateAndTime__c`.
    pub scheduled_at: DateTime<Utc>,
    /// The `Cancellation Request` case, on the Opportunity.
    pub case: NewCase,
}

/// What a cancellation decides from the service record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancellationDecision {
    /// A repeat: answer with the existing case.
    Existing(CancellationResponse),
    /// Write this plan.
    Write(CancellationPlan),
}

/// The pure decision of a cancellation.
pub fn decide_cancellation(
    account_id: &AccountId,
    command: &CancellationCommand,
    service: Option<ServiceRecord>,
    settings: &PortalSettings,
) -> Result<CancellationDecision, PortalError> {
    let service = service
        .filter(|s| &s.account_id == account_id)
        .ok_or(PortalError::NotFound)?;
    let scheduled_at = settings.timezone.start_of(command.cancellation_date.date());
    match service.stage {
        OpportunityStage::Cancelling => match service.cancellation_case {
            Some(case_id) => Ok(CancellationDecision::Existing(CancellationResponse {
                case_id,
                opportunity_id: service.opportunity_id,
                stage: OpportunityStage::Cancelling,
                scheduled_at: service.scheduled_at.unwrap_or(scheduled_at),
            })),
            None => Err(PortalError::conflict(
                ConflictReason::CancellationInProgress,
            )),
        },
        OpportunityStage::Active => {
            let mut description = format!(
                "WHMCS service: {}\nRequested cancellation date: {} (timezone {})\n",
                command.service_id,
                command.cancellation_date.date(),
                settings.timezone
            );
            if let Some(reason) = &command.reason {
                description.push_str("\nReason from the customer:\n");
                description.push_str(reason.as_str());
            }
            Ok(CancellationDecision::Write(CancellationPlan {
                opportunity_id: service.opportunity_id.clone(),
                stage: OpportunityStage::Cancelling,
                scheduled_at,
                case: NewCase::portal(
                    account_id.clone(),
                    CaseOpportunity::Existing(service.opportunity_id),
                    CaseType::CancellationRequest,
                    format!(
                        "Cancellation request - WHMCS service {}",
                        command.service_id
                    ),
                    description,
                ),
            }))
        }
        _ => Err(PortalError::conflict(ConflictReason::ServiceNotActive)),
    }
}

/// Requests the cancellation of one of the caller's services.
#[tracing::instrument(name = "request_cancellation", skip_all, fields(account_id = ?caller.account_id))]
pub async fn request_cancellation<D: CancellationDesk>(
    desk: &D,
    caller: &Caller,
    body: CancellationRequest,
    now: DateTime<Utc>,
    settings: &PortalSettings,
) -> Result<Outcome<CancellationResponse>, PortalError> {
    let account = caller.account()?;
    let command = body.parse(settings.timezone.today(now))?;
    let service = desk.service(account, command.service_id).await?;
    match decide_cancellation(account, &command, service, settings)? {
        CancellationDecision::Existing(response) => {
            tracing::info!(case_id = %response.case_id, "cancellation already requested");
            Ok(Outcome::Existing(response))
        }
        CancellationDecision::Write(plan) => {
            let case_id = desk.request_cancellation(&plan).await?;
            tracing::info!(case_id = %case_id, opportunity_id = %plan.opportunity_id, "cancellation requested");
            Ok(Outcome::Created(CancellationResponse {
                case_id,
                opportunity_id: plan.opportunity_id,
                stage: plan.stage,
                scheduled_at: plan.scheduled_at,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CaseStatus;
    use crate::portal::fake::*;
    use chrono::TimeZone;

    fn body(date: &str) -> CancellationRequest {
        CancellationRequest {
            service_id: Some(31),
            cancellation_date: Some(date.into()),
            reason: Some("Moving abroad".into()),
        }
    }

    fn service(account_id: AccountId, stage: OpportunityStage) -> ServiceRecord {
        ServiceRecord {
            opportunity_id: opportunity(),
            account_id,
            stage,
            scheduled_at: None,
            cancellation_case: None,
        }
    }

    fn org(service: Option<ServiceRecord>) -> FakeOrg {
        FakeOrg {
            service,
            ..FakeOrg::default()
        }
    }

    async fn cancel(
        org: &FakeOrg,
        body: CancellationRequest,
    ) -> Result<Outcome<CancellationResponse>, PortalError> {
        request_cancellation(org, &caller(), body, now(), &PortalSettings::default()).await
    }

    #[tokio::test]
    async fn when_the_service_is_active_should_open_a_case_and_schedule_the_cancellation() {
        let org = org(Some(service(account(), OpportunityStage::Active)));
        let outcome = cancel(&org, body("2026-04-05")).await.unwrap();
        assert_eq!(
            org.calls()[0],
            Call::Service(account(), WhmcsServiceId::new(31).unwrap())
        );
        let Call::RequestCancellation(plan) = org.only_write() else {
            panic!("expected a cancellation");
        };
        let scheduled = Utc.with_ymd_and_hms(2026, 4, 4, 15, 0, 0).unwrap();
        assert_eq!(plan.opportunity_id, opportunity());
        assert_eq!(plan.stage, OpportunityStage::Cancelling);
        assert_eq!(plan.scheduled_at, scheduled);
        assert_eq!(plan.case.case_type, CaseType::CancellationRequest);
        assert_eq!(plan.case.status, CaseStatus::New);
        assert_eq!(plan.case.account_id, account());
        assert_eq!(
            plan.case.opportunity,
            CaseOpportunity::Existing(opportunity())
        );
        assert!(plan.case.description.contains("2026-04-05"));
        assert!(plan.case.description.contains("Moving abroad"));
        assert_eq!(
            serde_json::to_value(outcome.body()).unwrap(),
            serde_json::json!({
                "caseId": written_case().as_str(),
                "opportunityId": opportunity().as_str(),
                "stage": "△Cancelling",
                "scheduledAt": "2026-04-04T15:00:00Z",
            })
        );
    }

    #[tokio::test]
    async fn when_the_service_is_another_accounts_or_missing_should_be_not_found_and_write_nothing()
    {
        for record in [
            Some(service(other_account(), OpportunityStage::Active)),
            None,
        ] {
            let org = org(record);
            assert!(matches!(
                cancel(&org, body("2026-04-05")).await,
                Err(PortalError::NotFound)
            ));
            assert!(org.writes().is_empty());
        }
    }

    #[tokio::test]
    async fn when_the_service_is_not_active_should_conflict_and_write_nothing() {
        for stage in [
            OpportunityStage::PostProcessing,
            OpportunityStage::Cancelled,
            OpportunityStage::Ready,
        ] {
            let org = org(Some(service(account(), stage)));
            let err = cancel(&org, body("2026-04-05")).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    PortalError::Conflict {
                        reason: ConflictReason::ServiceNotActive
                    }
                ),
                "{stage}: {err:?}"
            );
            assert!(org.writes().is_empty());
        }
    }

    #[tokio::test]
    async fn when_repeated_should_return_the_existing_case_and_write_nothing() {
        let scheduled = Utc.with_ymd_and_hms(2026, 4, 4, 15, 0, 0).unwrap();
        let org = org(Some(ServiceRecord {
            scheduled_at: Some(scheduled),
            cancellation_case: Some(case()),
            ..service(account(), OpportunityStage::Cancelling)
        }));
        let outcome = cancel(&org, body("2026-04-20")).await.unwrap();
        assert_eq!(
            outcome,
            Outcome::Existing(CancellationResponse {
                case_id: case(),
                opportunity_id: opportunity(),
                stage: OpportunityStage::Cancelling,
                scheduled_at: scheduled,
            })
        );
        assert!(org.writes().is_empty());
        let without_case = self::org(Some(service(account(), OpportunityStage::Cancelling)));
        assert!(matches!(
            cancel(&without_case, body("2026-04-20")).await,
            Err(PortalError::Conflict {
                reason: ConflictReason::CancellationInProgress
            })
        ));
    }

    #[tokio::test]
    async fn when_the_date_is_today_in_tokyo_should_accept_it_though_utc_is_still_yesterday() {
        // now() is 2026-03-31T15:30Z = 2026-04-01 00:30 in Tokyo.
        let org = org(Some(service(account(), OpportunityStage::Active)));
        assert!(cancel(&org, body("2026-04-01")).await.is_ok());
        let org = self::org(Some(service(account(), OpportunityStage::Active)));
        assert_eq!(
            invalid_fields(cancel(&org, body("2026-03-31")).await),
            ["cancellationDate"]
        );
        assert!(org.calls().is_empty());
    }

    #[tokio::test]
    async fn when_every_field_is_bad_should_list_them_all_and_call_nothing() {
        let org = org(None);
        let bad = CancellationRequest {
            service_id: Some(0),
            cancellation_date: Some("01/04/2026".into()),
            reason: Some("\u{0}".into()),
        };
        assert_eq!(
            invalid_fields(cancel(&org, bad).await),
            ["serviceId", "cancellationDate", "reason"]
        );
        assert_eq!(
            invalid_fields(cancel(&org, CancellationRequest::default()).await),
            ["serviceId", "cancellationDate"]
        );
        assert!(org.calls().is_empty());
    }
}
