//! `POST /id-verifications`: submit identity documents for CS to review.
//!
//! Rules (issues 3 and 13): 1 to [`MAX_DOCUMENTS`] files, each a JPEG, PNG or
//! PDF by its bytes and at most 4 MiB ([`IdDocument`]); a Case `ID
//! Verification` is opened with the files on it as Salesforce Files
//! (`ContentVersion` with `FirstPublishLocationId` = the Case), and the
//! Account's `Id_Verification_Status__c` becomes `Pending` with the submitted
//! time — all in one atomic write. A repeat while `Pending` returns the open
//! case and writes nothing (its files are not stored: CS reviews the first
//! submission). After `Rejected` a submission opens a new review (a new Case).
//!
//! Decisions where the issue is silent:
//! - An Account already `Verified` is a conflict (nothing to submit).
//! - The document type and notes go into the Case description, with the
//!   files' names.

use chrono::{DateTime, Utc};
use serde::Serialize;

use bytes::Bytes;

use crate::domain::{
    AccountId, CaseId, CaseType, DocumentFormat, DocumentType, FieldError, FieldErrors, IdDocument,
    IdVerificationStatus, MAX_DOCUMENTS, Notes, SalesforceId,
};

use super::caller::Caller;
use super::error::{ConflictReason, PortalError};
use super::plans::{CaseOpportunity, NewCase, Outcome};
use super::ports::IdVerificationDesk;
use super::request::{Attempt, RequestKey, refused, write_once, written_before};

/// The raw request of `POST /id-verifications` (a `multipart/form-data`
/// form, read by the HTTP layer into this).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdVerificationRequest {
    /// `drivers_license`, `passport`, `residence_card`, `my_number_card` or `health_insurance_card`.
    pub document_type: Option<String>,
    /// Notes for CS.
    pub notes: Option<String>,
    /// The files, in the form's order.
    pub documents: Vec<DocumentUpload>,
}

/// One uploaded file, as received.
#[derive(Clone, PartialEq, Eq)]
pub struct DocumentUpload {
    /// The file name the client sent, if any.
    pub file_name: Option<String>,
    /// The bytes.
    pub content: Bytes,
}

impl std::fmt::Debug for DocumentUpload {
    /// The size, never the content.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentUpload")
            .field("size", &self.content.len())
            .finish_non_exhaustive()
    }
}

/// A checked ID verification request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdVerificationCommand {
    /// The document.
    pub document_type: DocumentType,
    /// Notes.
    pub notes: Option<Notes>,
    /// The files (1 to [`MAX_DOCUMENTS`]).
    pub documents: Vec<IdDocument>,
}

impl IdVerificationRequest {
    /// Checks every field: `documentType`, `notes`, and `documents` (1 to
    /// [`MAX_DOCUMENTS`] files, each `documents[i]` checked by its bytes).
    pub fn parse(self) -> Result<IdVerificationCommand, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let document_type =
            errors.required("documentType", self.document_type.as_deref(), str::parse);
        let notes = errors.optional("notes", self.notes.as_deref(), Notes::parse);
        let mut documents = Vec::with_capacity(self.documents.len());
        match self.documents.len() {
            0 => errors.push("documents", "must have 1 or 2 files"),
            n if n > MAX_DOCUMENTS => {
                errors.push(
                    "documents",
                    format!("must have at most {MAX_DOCUMENTS} files"),
                );
            }
            _ => {
                for (i, upload) in self.documents.into_iter().enumerate() {
                    let checked = IdDocument::parse(upload.file_name.as_deref(), upload.content, i);
                    if let Some(document) = errors.check(&format!("documents[{i}]"), checked) {
                        documents.push(document);
                    }
                }
            }
        }
        match (document_type, notes) {
            (Some(document_type), Some(notes)) if errors.is_empty() => Ok(IdVerificationCommand {
                document_type,
                notes,
                documents,
            }),
            _ => Err(errors.into_vec()),
        }
    }
}

/// One stored file of the response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredDocument {
    /// The Salesforce File's version (`ContentVersion`, `068…`).
    pub content_version_id: SalesforceId,
    /// The file name.
    pub file_name: String,
    /// Its format.
    pub content_type: DocumentFormat,
    /// Its size in bytes.
    pub size: usize,
}

/// The body of the 202 response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdVerificationResponse {
    /// The `ID Verification` case.
    pub case_id: CaseId,
    /// The Account's status: `Pending`.
    pub status: IdVerificationStatus,
    /// The files this request stored on the case (none for a repeat while pending).
    pub documents: Vec<StoredDocument>,
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
    /// The files, stored on the case.
    pub documents: Vec<IdDocument>,
}

/// What the write of an ID verification made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedVerification {
    /// The case.
    pub case_id: CaseId,
    /// The `ContentVersion` of each file, in the plan's order.
    pub content_versions: Vec<SalesforceId>,
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
    command: IdVerificationCommand,
    context: IdVerificationContext,
    now: DateTime<Utc>,
    request_key: &RequestKey,
) -> Result<IdVerificationDecision, PortalError> {
    match (context.status, context.open_case) {
        (Some(IdVerificationStatus::Verified), _) => {
            Err(PortalError::conflict(ConflictReason::AlreadyVerified))
        }
        (Some(IdVerificationStatus::Pending), Some(case_id)) => {
            Ok(IdVerificationDecision::Pending(IdVerificationResponse {
                case_id,
                status: IdVerificationStatus::Pending,
                documents: Vec::new(),
            }))
        }
        _ => {
            let mut description = format!("Document type: {}\n", command.document_type);
            description.push_str("Files (on this case):\n");
            for document in &command.documents {
                description.push_str(&format!(
                    "- {} ({}, {} bytes)\n",
                    document.path_on_client(),
                    document.format().media_type(),
                    document.size()
                ));
            }
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
                    request_key.clone(),
                ),
                documents: command.documents,
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
    attempt: &Attempt,
) -> Result<Outcome<IdVerificationResponse>, PortalError> {
    let account = caller.account()?;
    let command = body.parse()?;
    let documents = command.documents.clone();
    // The answer for the files `written` stored: named and sized from this
    // request's documents (a retry under the same key has the same body).
    let submitted = move |written: SubmittedVerification| {
        let stored = documents
            .iter()
            .zip(written.content_versions)
            .map(|(document, content_version_id)| StoredDocument {
                content_version_id,
                file_name: document.path_on_client(),
                content_type: document.format(),
                size: document.size(),
            })
            .collect();
        Outcome::Created(IdVerificationResponse {
            case_id: written.case_id,
            status: IdVerificationStatus::Pending,
            documents: stored,
        })
    };
    let find = move || desk.verification_by_key(account, attempt.key());
    if let Some(written) = written_before(attempt, find).await? {
        return Ok(submitted(written));
    }
    let decided = match desk.verification_context(account).await? {
        None => Err(PortalError::NotFound),
        Some(context) => decide_id_verification(account, command, context, now, attempt.key()),
    };
    match decided {
        Err(refusal) => refused(attempt, refusal, find).await.map(submitted),
        Ok(IdVerificationDecision::Pending(response)) => {
            tracing::info!(case_id = %response.case_id, "ID verification already pending");
            Ok(Outcome::Existing(response))
        }
        Ok(IdVerificationDecision::Write(plan)) => {
            let files = plan.documents.len();
            let written = write_once(desk.submit_verification(&plan), find).await?;
            tracing::info!(case_id = %written.case_id, files, "ID verification submitted");
            Ok(submitted(written))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CaseOrigin, CaseStatus};
    use crate::portal::error::PortError;
    use crate::portal::fake::*;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10];

    fn upload(name: &str, content: &'static [u8]) -> DocumentUpload {
        DocumentUpload {
            file_name: Some(name.into()),
            content: Bytes::from_static(content),
        }
    }

    fn body() -> IdVerificationRequest {
        IdVerificationRequest {
            document_type: Some("residence_card".into()),
            notes: None,
            documents: vec![upload("front.jpg", JPEG), upload("back.pdf", b"%PDF-1.4")],
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
        let outcome = submit_id_verification(&org, &caller(), body(), now(), &first())
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
        assert_eq!(plan.documents.len(), 2);
        assert_eq!(plan.documents[1].format(), DocumentFormat::Pdf);
        assert!(
            plan.case
                .description
                .contains("- front.jpg (image/jpeg, 6 bytes)"),
            "{}",
            plan.case.description
        );
        assert_eq!(
            serde_json::to_value(outcome.body()).unwrap(),
            serde_json::json!({
                "caseId": written_case().as_str(),
                "status": "Pending",
                "documents": [
                    {"contentVersionId": written_content_version(0).as_str(), "fileName": "front.jpg", "contentType": "image/jpeg", "size": 6},
                    {"contentVersionId": written_content_version(1).as_str(), "fileName": "back.pdf", "contentType": "application/pdf", "size": 8},
                ],
            })
        );
    }

    #[tokio::test]
    async fn when_repeated_while_pending_should_return_the_open_case_and_write_nothing() {
        let org = org_with(Some(IdVerificationStatus::Pending), Some(case()));
        let outcome = submit_id_verification(&org, &caller(), body(), now(), &first())
            .await
            .unwrap();
        assert_eq!(
            outcome,
            Outcome::Existing(IdVerificationResponse {
                case_id: case(),
                status: IdVerificationStatus::Pending,
                documents: Vec::new(),
            })
        );
        assert!(org.writes().is_empty());
    }

    /// The first attempt's answer is lost after it wrote; the retry answers
    /// what it wrote, found by key, and writes nothing.
    #[tokio::test]
    async fn when_the_answer_is_lost_the_retry_should_answer_the_written_records_without_writing_again()
     {
        let org = org_with(None, None);
        org.lose_answers
            .store(1, std::sync::atomic::Ordering::Relaxed);
        let lost = submit_id_verification(&org, &caller(), body(), now(), &first())
            .await
            .unwrap_err();
        assert!(
            matches!(
                lost,
                PortalError::Upstream(PortError::OutcomeUnknown { .. })
            ),
            "{lost:?}"
        );
        let writes = org.writes().len();
        let retried = submit_id_verification(&org, &caller(), body(), now(), &after_unknown())
            .await
            .unwrap();
        let Outcome::Created(answer) = retried else {
            panic!("the retry answers as the first write would have: {retried:?}");
        };
        assert_eq!(answer.case_id, written_case());
        assert_eq!(answer.status, IdVerificationStatus::Pending);
        // The files the lost write stored.
        assert_eq!(
            answer
                .documents
                .iter()
                .map(|d| d.content_version_id.clone())
                .collect::<Vec<_>>(),
            (0..body().documents.len())
                .map(written_content_version)
                .collect::<Vec<_>>()
        );
        assert_eq!(org.writes().len(), writes, "the retry writes nothing");
        assert_eq!(org.calls().last(), Some(&Call::ByKey(request_key())));
        assert_eq!(org.keyed_writes(), 1);
    }

    #[tokio::test]
    async fn when_already_verified_should_conflict_and_write_nothing() {
        let org = org_with(Some(IdVerificationStatus::Verified), None);
        let err = submit_id_verification(&org, &caller(), body(), now(), &first())
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
            documents: vec![upload("ok.jpg", JPEG), upload("setup.jpg", b"MZ\x90\x00")],
        };
        assert_eq!(
            invalid_fields(submit_id_verification(&org, &caller(), bad, now(), &first()).await),
            ["documentType", "notes", "documents[1]"]
        );
        for (documents, message) in [
            (Vec::new(), "must have 1 or 2 files"),
            (
                vec![
                    upload("a.jpg", JPEG),
                    upload("b.jpg", JPEG),
                    upload("c.jpg", JPEG),
                ],
                "must have at most 2 files",
            ),
        ] {
            let err = IdVerificationRequest {
                documents,
                ..body()
            }
            .parse()
            .unwrap_err();
            assert_eq!(err, vec![FieldError::new("documents", message)]);
        }
        assert!(org.calls().is_empty());
    }

    #[tokio::test]
    async fn when_resubmitted_after_rejection_with_the_old_case_open_should_open_a_new_review() {
        let org = org_with(Some(IdVerificationStatus::Rejected), Some(case()));
        let outcome = submit_id_verification(&org, &caller(), body(), now(), &first())
            .await
            .unwrap();
        assert!(outcome.is_created());
        assert_eq!(outcome.body().case_id, written_case());
        let Call::SubmitVerification(plan) = org.only_write() else {
            panic!("expected one write: {:?}", org.writes());
        };
        assert_eq!(plan.status, IdVerificationStatus::Pending);
    }
}
