//! `POST /support-cases` and `GET /support-cases`.
//!
//! A support case is a Case `General Inquiry` with the customer's subject and
//! description (`New`, origin `Portal`); no read before the write. The list
//! shows every case of the caller's Account, whatever its type (eligibility,
//! ID verification and cancellation cases included).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    AccountId, CaseId, CaseStatus, CaseType, Description, FieldError, FieldErrors, Subject,
};

use super::caller::Caller;
use super::error::PortalError;
use super::plans::{CaseOpportunity, NewCase};
use super::ports::SupportDesk;

/// The raw body of `POST /support-cases`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportCaseRequest {
    /// 1..=255 characters.
    pub subject: Option<String>,
    /// 1..=32 000 characters.
    pub description: Option<String>,
}

/// A checked support case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportCaseCommand {
    /// The subject.
    pub subject: Subject,
    /// The description.
    pub description: Description,
}

impl SupportCaseRequest {
    /// Checks every field.
    pub fn parse(self) -> Result<SupportCaseCommand, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let subject = errors.required("subject", self.subject.as_deref(), Subject::parse);
        let description = errors.required(
            "description",
            self.description.as_deref(),
            Description::parse,
        );
        match (subject, description) {
            (Some(subject), Some(description)) if errors.is_empty() => Ok(SupportCaseCommand {
                subject,
                description,
            }),
            _ => Err(errors.into_vec()),
        }
    }
}

/// The body of the 201 response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportCaseCreated {
    /// The new case.
    pub case_id: CaseId,
}

/// One case of `GET /support-cases`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseSummary {
    /// `Id`.
    pub case_id: CaseId,
    /// `AccountId`, checked against the caller's; not shown.
    #[serde(skip)]
    pub account_id: AccountId,
    /// `Type` (staff may leave it empty).
    #[serde(rename = "type")]
    pub case_type: Option<CaseType>,
    /// `Status`.
    pub status: CaseStatus,
    /// `Subject`.
    pub subject: Option<String>,
    /// `CreatedDate`.
    pub created_at: DateTime<Utc>,
}

/// The body of `GET /support-cases`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseList {
    /// The caller's cases.
    pub cases: Vec<CaseSummary>,
}

/// Opens a `General Inquiry` case for the caller's Account.
#[tracing::instrument(name = "open_support_case", skip_all, fields(account_id = ?caller.account_id))]
pub async fn open_support_case<D: SupportDesk>(
    desk: &D,
    caller: &Caller,
    body: SupportCaseRequest,
) -> Result<SupportCaseCreated, PortalError> {
    let account = caller.account()?;
    let command = body.parse()?;
    let case = NewCase::portal(
        account.clone(),
        CaseOpportunity::None,
        CaseType::GeneralInquiry,
        command.subject.as_str().to_owned(),
        command.description.as_str().to_owned(),
    );
    let case_id = desk.open_case(&case).await?;
    tracing::info!(case_id = %case_id, "support case opened");
    Ok(SupportCaseCreated { case_id })
}

/// The caller's cases.
#[tracing::instrument(name = "list_support_cases", skip_all, fields(account_id = ?caller.account_id))]
pub async fn list_support_cases<D: SupportDesk>(
    desk: &D,
    caller: &Caller,
) -> Result<CaseList, PortalError> {
    let account = caller.account()?;
    let cases = desk
        .cases(account)
        .await?
        .into_iter()
        .filter(|c| &c.account_id == account)
        .collect();
    Ok(CaseList { cases })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CaseOrigin;
    use crate::portal::fake::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn when_opening_a_case_should_write_one_general_inquiry_without_reading() {
        let org = FakeOrg::default();
        let body = SupportCaseRequest {
            subject: Some(" Router blinking ".into()),
            description: Some("The light is red.\nSince yesterday.".into()),
        };
        let created = open_support_case(&org, &caller(), body).await.unwrap();
        assert_eq!(
            org.calls(),
            vec![Call::OpenCase(NewCase {
                account_id: account(),
                opportunity: CaseOpportunity::None,
                case_type: CaseType::GeneralInquiry,
                status: CaseStatus::New,
                origin: CaseOrigin::Portal,
                subject: "Router blinking".into(),
                description: "The light is red.\nSince yesterday.".into(),
            })]
        );
        assert_eq!(
            serde_json::to_value(&created).unwrap(),
            serde_json::json!({"caseId": written_case().as_str()})
        );
    }

    #[tokio::test]
    async fn when_the_fields_are_bad_should_list_them_all_and_call_nothing() {
        let org = FakeOrg::default();
        let bad = SupportCaseRequest {
            subject: Some("x".repeat(256)),
            description: Some("   ".into()),
        };
        assert_eq!(
            invalid_fields(open_support_case(&org, &caller(), bad).await),
            ["subject", "description"]
        );
        assert!(org.calls().is_empty());
        assert!(matches!(
            open_support_case(&org, &unlinked_caller(), SupportCaseRequest::default()).await,
            Err(PortalError::NotLinked)
        ));
    }

    #[tokio::test]
    async fn when_listing_cases_should_show_only_the_callers_with_the_documented_fields() {
        let summary = |account_id: AccountId| CaseSummary {
            case_id: case(),
            account_id,
            case_type: Some(CaseType::EligibilityCheck),
            status: CaseStatus::Working,
            subject: Some("Internet eligibility check".into()),
            created_at: Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap(),
        };
        let org = FakeOrg {
            cases: vec![summary(other_account()), summary(account())],
            ..FakeOrg::default()
        };
        let list = list_support_cases(&org, &caller()).await.unwrap();
        assert_eq!(
            serde_json::to_value(&list).unwrap(),
            serde_json::json!({"cases": [{
                "caseId": case().as_str(),
                "type": "Eligibility Check",
                "status": "Working",
                "subject": "Internet eligibility check",
                "createdAt": "2026-04-01T00:00:00Z",
            }]})
        );
    }
}
