//! The errors of the portal's use cases ([`PortalError`]) and of the ports
//! they call ([`PortError`]).
//!
//! The HTTP layer maps them to problem responses: `Validation` → 422 with
//! every field, `NotLinked`, `EmailNotVerified`, `AccountMismatch` and
//! `AccountInactive` → 403 (each its own type), `NotFound` → 404, `Conflict`
//! → 409 with the reason's `code()` and customer-readable text,
//! `TooManyRequests` → 429 + `Retry-After`, `Upstream` → 503
//! `outcome-unknown` with `Retry-After` when a write may have been done
//! (retry with the same key), 503 with `Retry-After` when retryable, 422
//! with fields when Salesforce rejected the data, 502 otherwise; `State` (the
//! API's own DynamoDB items) → 503 when retryable, 500 otherwise. Upstream
//! texts never reach the customer: they stay in the
//! error's source chain, for the logs.

use std::time::Duration;

use crate::domain::FieldError;
use crate::ports::StoreError;
use crate::schema::{case, contact};

/// How long a client waits before sending again a request whose outcome is
/// unknown: long enough for a write still in flight at Salesforce to finish.
pub const OUTCOME_UNKNOWN_RETRY_AFTER: Duration = Duration::from_secs(2);

/// A boxed cause, kept for the logs' cause chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a port (a Salesforce adapter) reports when a call fails.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// Transient (lock, concurrent-request limit, 5xx, network) after the
    /// adapter's own retries: the client may try again later.
    #[error("Salesforce is unavailable for now")]
    Unavailable {
        /// How long to wait, when known.
        retry_after: Option<Duration>,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// Salesforce refused the data (validation rule, required field,
    /// duplicate value): permanent, the client must change the request.
    #[error("Salesforce refused the data: {message}")]
    Rejected {
        /// Salesforce's message (written by the org's admins for validation rules).
        message: String,
        /// The Salesforce fields named by the error (API names), possibly none.
        fields: Vec<String>,
    },
    /// Anything else (misconfiguration, permissions, unexpected response): permanent.
    #[error("Salesforce call failed")]
    Failed {
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// A write whose outcome is not known: it was sent, and its answer was
    /// lost (a timeout, a 5xx, a connection dropped), so Salesforce may have
    /// committed it. Never "nothing happened": the client must send the
    /// request again with the same key, which finds or completes this write.
    #[error("Salesforce may have written; its answer was lost")]
    OutcomeUnknown {
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// Salesforce refused a write because a record with the request's key
    /// exists (`DUPLICATE_VALUE` on `Portal_Request_Key__c`): another attempt
    /// of the same request wrote it, or is writing it. Nothing was written.
    #[error("another attempt of this request holds its key")]
    KeyTaken {
        /// Whether the record holding the key is not committed yet (Salesforce
        /// names no record: `<unknown>`), so its attempt is still in flight.
        in_flight: bool,
        /// The cause.
        #[source]
        source: BoxError,
    },
}

impl PortError {
    /// Whether trying again later may succeed (→ 503 + `Retry-After`): with
    /// the same key, for an outcome that is not known.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Unavailable { .. } | Self::OutcomeUnknown { .. } | Self::KeyTaken { .. }
        )
    }

    /// Whether the write may have been done ([`Self::OutcomeUnknown`]).
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Self::OutcomeUnknown { .. })
    }

    /// How long to wait before trying again, for a retryable error.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after, .. } => *retry_after,
            Self::OutcomeUnknown { .. } | Self::KeyTaken { .. } => {
                Some(OUTCOME_UNKNOWN_RETRY_AFTER)
            }
            _ => None,
        }
    }

    /// The request fields a rejection is about: the Salesforce fields the
    /// customer wrote themselves, by their name in the request body
    /// (`FirstName` → `firstName`). Fields the portal fills in are left out:
    /// the customer cannot fix them, and their API names are Salesforce's words.
    pub fn request_fields(&self) -> Vec<String> {
        let Self::Rejected { fields, .. } = self else {
            return Vec::new();
        };
        let mut named: Vec<String> = Vec::new();
        for field in fields {
            let request = match field.as_str() {
                contact::FIRST_NAME => "firstName",
                contact::LAST_NAME => "lastName",
                contact::PHONE => "phone",
                case::SUBJECT => "subject",
                _ => continue,
            };
            if !named.iter().any(|n| n == request) {
                named.push(request.to_owned());
            }
        }
        named
    }
}

/// Why a request conflicts with the state of the customer's records. The
/// `Display` text is written for the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConflictReason {
    /// An Internet order before CS checked eligibility.
    #[error(
        "Your Internet eligibility has not been confirmed yet. Please request an eligibility check and wait for our confirmation before ordering."
    )]
    EligibilityNotChecked,
    /// An Internet order without an Opportunity at `Ready`.
    #[error(
        "Your Internet application is not ready to be ordered yet. We will let you know as soon as it is."
    )]
    ApplicationNotReady,
    /// An ID verification when the identity is already verified.
    #[error("Your identity has already been verified.")]
    AlreadyVerified,
    /// Cancelling a service that is not active.
    #[error("This service is not active, so it cannot be cancelled.")]
    ServiceNotActive,
    /// Cancelling a service whose cancellation is already under way.
    #[error("A cancellation is already in progress for this service.")]
    CancellationInProgress,
    /// A registration while another one for the same login or customer
    /// number is still running.
    #[error(
        "Another registration for this login or customer number is in progress. Please wait a few seconds and try again."
    )]
    RegistrationInProgress,
}

impl ConflictReason {
    /// Every reason.
    pub const ALL: &'static [Self] = &[
        Self::EligibilityNotChecked,
        Self::ApplicationNotReady,
        Self::AlreadyVerified,
        Self::ServiceNotActive,
        Self::CancellationInProgress,
        Self::RegistrationInProgress,
    ];

    /// A stable, machine-readable code for the problem `type`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::EligibilityNotChecked => "eligibility-not-checked",
            Self::ApplicationNotReady => "application-not-ready",
            Self::AlreadyVerified => "already-verified",
            Self::ServiceNotActive => "service-not-active",
            Self::CancellationInProgress => "cancellation-in-progress",
            Self::RegistrationInProgress => "registration-in-progress",
        }
    }
}

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// Bad fields in the request body, every one of them.
    #[error("the request has {} invalid field(s)", .0.len())]
    Validation(Vec<FieldError>),
    /// The caller's login is not linked to a Salesforce Account (→ 403).
    #[error("the login is not linked to a customer account")]
    NotLinked,
    /// The identity provider has not verified the caller's e-mail (→ 403).
    #[error("the login's e-mail address is not verified")]
    EmailNotVerified,
    /// The token's account claim names another Account than the login's link (→ 403).
    #[error("the token's account claim disagrees with the login's link")]
    AccountMismatch,
    /// Staff deactivated the caller's Account (`Portal_Status__c = Inactive`) (→ 403).
    #[error("the customer account is deactivated")]
    AccountInactive,
    /// The login sent more requests than its limit allows (→ 429).
    #[error("the login's {window} limit is reached")]
    TooManyRequests {
        /// The limit's window (`post-minute`, `post-day`, `registration-hour`).
        window: &'static str,
        /// Until the window ends.
        retry_after: Duration,
    },
    /// The record does not exist or belongs to another account: the two are
    /// indistinguishable on purpose (→ 404).
    #[error("not found")]
    NotFound,
    /// The records' state forbids the request (→ 409).
    #[error("{reason}")]
    Conflict {
        /// Why, for the customer.
        reason: ConflictReason,
    },
    /// A port failed.
    #[error("a Salesforce call failed")]
    Upstream(#[from] PortError),
    /// The API's own state (links, limits, deactivations) could not be read or written.
    #[error("the state store failed")]
    State(#[from] StoreError),
}

impl PortalError {
    /// A conflict.
    pub fn conflict(reason: ConflictReason) -> Self {
        Self::Conflict { reason }
    }
}

impl From<Vec<FieldError>> for PortalError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Validation(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_the_port_is_unavailable_should_be_retryable_with_its_delay() {
        let e = PortError::Unavailable {
            retry_after: Some(Duration::from_secs(3)),
            source: "UNABLE_TO_LOCK_ROW".into(),
        };
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        let rejected = PortError::Rejected {
            message: "Phone is invalid".into(),
            fields: vec!["Phone".into()],
        };
        assert!(!rejected.is_retryable());
        assert_eq!(rejected.retry_after(), None);
        assert_eq!(rejected.request_fields(), ["phone"]);
        let ours = PortError::Rejected {
            message: "duplicate value found".into(),
            fields: vec!["Portal_Registration_Source__c".into(), "LastName".into()],
        };
        assert_eq!(ours.request_fields(), ["lastName"]);
    }

    #[test]
    fn when_a_conflict_is_shown_should_read_as_a_sentence_with_a_stable_code() {
        let e = PortalError::conflict(ConflictReason::ServiceNotActive);
        assert_eq!(
            e.to_string(),
            "This service is not active, so it cannot be cancelled."
        );
        assert_eq!(
            ConflictReason::ServiceNotActive.code(),
            "service-not-active"
        );
    }
}
