//! `POST /id-verifications`: submit identity documents for CS to review.
//!
//! Rules (issue 3): a Case `ID Verification` is opened; the Account's
//! `Id_Verification_Status__c` becomes `Pending` with the submitted time. A
//! repeat while `Pending` returns the open case and writes nothing.
//!
//! Decisions where the issue is silent:
//! - An Account already `Verified` is a conflict (nothing to submit);
//!   after `Rejected` a new submission is allowed.
//! - The document type and notes go into the Case description; the documents
//!   themselves travel outside this API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    AccountId, CaseId, CaseType, DocumentType, FieldError, FieldErrors, IdVerificationStatus, Notes,
};

use super::caller::Caller;
use super::error::{ConflictReason, PortalError};
use super::plans::{CaseOpportunity, NewCase, Outcome};
use super::ports::IdVerificationDesk;

/// The raw body of `POST /id-verifications`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdVerificationRequest {
    /// `drivers_license`, `passport`, `residence_card`, `my_number_card` or `health_insurance_card`.
    pub document_type: Option<String>,
    /// Notes for CS.
    pub notes: Option<String>,
}

/// A checked ID verification request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdVerificationCommand {
    /// The document.
    pub document_type: DocumentType,
    /// Notes.
    pub notes: Option<Notes>,
}

impl IdVerificationRequest {
    /// Checks every field.
    pub fn parse(self) -> Result<IdVerificationCommand, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let document_type =
            errors.required("documentType", self.document_type.as_deref(), str::parse);
        let notes = errors.optional("notes", self.notes.as_deref(), Notes::parse);
        match (document_type, notes) {
            (Some(document_type), Some(notes)) if errors.is_empty() => Ok(IdVerificationCommand {
                document_type,
                notes,
            }),
            _ => Err(errors.into_vec()),
        }
    }
}

/// The body of the 202 response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdVerificationResponse {
    /// The `ID Verification` case.
    pub case_id: CaseId,
    /// The Account's status: `Pending`.
    pub status: IdVerificationStatus,
}

/// What the one read of an ID verification returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdVerificationContext {
    /// The Account's `Id_Verification_Status__c`.
    pub status: Option<IdVerificationStatus>,
    /// The newest `ID Verification` case of the Account whose status is not `Closed`.
    pub open_case: Option<CaseId>,
}

/// The one write of an ID verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdVerificationPlan {
    /// The Account to update.
    pub account_id: AccountId,
    /// `Id_Verification_Status__c`: `Pending`.
    pub status: IdVerificationStatus,
    /// `Id_Verification_Submitted_Date_Time__c`.
    pub submitted_at: DateTime<Utc>,
    /// The `ID Verification` case.
    pub case: NewCase,
}

/// What an ID verification decides from its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdVerificationDecision {
    /// A repeat while `Pending`: answer with the open case.
    Pending(IdVerificationResponse),
    /// Write this plan.
    Write(IdVerificationPlan),
}

/// The pure decision of an ID verification.
pub fn decide_id_verification(
    account_id: &AccountId,
    command: &IdVerificationCommand,
    context: IdVerificationContext,
    now: DateTime<Utc>,
) -> Result<IdVerificationDecision, PortalError> {
    match (context.status, context.open_case) {
        (Some(IdVerificationStatus::Verified), _) => {
            Err(PortalError::conflict(ConflictReason::AlreadyVerified))
        }
        (Some(IdVerificationStatus::Pending), Some(case_id)) => {
            Ok(IdVerificationDecision::Pending(IdVerificationResponse {
                case_id,
                status: IdVerificationStatus::Pending,
            }))
        }
        _ => {
            let mut description = format!("Document type: {}\n", command.document_type);
            if let Some(notes) = &command.notes {
                description.push_str("\nNotes from the customer:\n");
                description.push_str(notes.as_str());
            }
            Ok(IdVerificationDecision::Write(IdVerificationPlan {
                account_id: account_id.clone(),
                status: IdVerificationStatus::Pending,
                submitted_at: now,
                case: NewCase::portal(
                    account_id.clone(),
                    CaseOpportunity::None,
                    CaseType::IdVerification,
                    format!("ID verification - {}", command.document_type),
                    description,
                ),
            }))
        }
    }
}

/// Submits the caller's ID verification.
#[tracing::instrument(name = "submit_id_verification", skip_all, fields(account_id = ?caller.account_id))]
pub async fn submit_id_verification<D: IdVerificationDesk>(
    desk: &D,
    caller: &Caller,
    body: IdVerificationRequest,
    now: DateTime<Utc>,
) -> Result<Outcome<IdVerificationResponse>, PortalError> {
    let account = caller.account()?;
    let command = body.parse()?;
    let context = desk
        .verification_context(account)
        .await?
        .ok_or(PortalError::NotFound)?;
    match decide_id_verification(account, &command, context, now)? {
        IdVerificationDecision::Pending(response) => {
            tracing::info!(case_id = %response.case_id, "ID verification already pending");
            Ok(Outcome::Existing(response))
        }
        IdVerificationDecision::Write(plan) => {
            let case_id = desk.submit_verification(&plan).await?;
            tracing::info!(case_id = %case_id, "ID verification submitted");
            Ok(Outcome::Created(IdVerificationResponse {
                case_id,
                status: IdVerificationStatus::Pending,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CaseOrigin, CaseStatus};
    use crate::portal::fake::*;

    fn body() -> IdVerificationRequest {
        IdVerificationRequest {
            document_type: Some("residence_card".into()),
            notes: None,
        }
    }

    fn org_with(status: Option<IdVerificationStatus>, open_case: Option<CaseId>) -> FakeOrg {
        FakeOrg {
            id_verification: Some(IdVerificationContext { status, open_case }),
            ..FakeOrg::default()
        }
    }

    #[tokio::test]
    async fn when_submitted_should_open_a_case_and_set_the_account_pending() {
        let org = org_with(Some(IdVerificationStatus::Rejected), None);
        let outcome = submit_id_verification(&org, &caller(), body(), now())
            .await
            .unwrap();
        let Call::SubmitVerification(plan) = org.only_write() else {
            panic!("expected one write: {:?}", org.writes());
        };
        assert_eq!(plan.account_id, account());
        assert_eq!(plan.status, IdVerificationStatus::Pending);
        assert_eq!(plan.submitted_at, now());
        assert_eq!(plan.case.case_type, CaseType::IdVerification);
        assert_eq!(plan.case.status, CaseStatus::New);
        assert_eq!(plan.case.origin, CaseOrigin::Portal);
        assert_eq!(plan.case.account_id, account());
        assert_eq!(plan.case.subject, "ID verification - Residence card");
        assert_eq!(
            serde_json::to_value(outcome.body()).unwrap(),
            serde_json::json!({"caseId": written_case().as_str(), "status": "Pending"})
        );
    }

    #[tokio::test]
    async fn when_repeated_while_pending_should_return_the_open_case_and_write_nothing() {
        let org = org_with(Some(IdVerificationStatus::Pending), Some(case()));
        let outcome = submit_id_verification(&org, &caller(), body(), now())
            .await
            .unwrap();
        assert_eq!(
            outcome,
            Outcome::Existing(IdVerificationResponse {
                case_id: case(),
                status: IdVerificationStatus::Pending
            })
        );
        assert!(org.writes().is_empty());
    }

    #[tokio::test]
    async fn when_already_verified_should_conflict_and_write_nothing() {
        let org = org_with(Some(IdVerificationStatus::Verified), None);
        let err = submit_id_verification(&org, &caller(), body(), now())
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            PortalError::Conflict {
                reason: ConflictReason::AlreadyVerified
            }
        ));
        assert!(org.writes().is_empty());
    }

    #[tokio::test]
    async fn when_the_fields_are_bad_should_list_them_all_and_call_nothing() {
        let org = org_with(None, None);
        let bad = IdVerificationRequest {
            document_type: Some("selfie".into()),
            notes: Some("\u{1b}[31m".into()),
        };
        assert_eq!(
            invalid_fields(submit_id_verification(&org, &caller(), bad, now()).await),
            ["documentType", "notes"]
        );
        assert!(org.calls().is_empty());
    }
}
