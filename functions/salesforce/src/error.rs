//! The errors of the Salesforce client and their retry classification.
//!
//! [`SalesforceError::is_retryable`] implements the split of the protocol
//! facts: lock contention, the concurrent-request limit, outages and network
//! failures are transient; validation, duplicates, the daily limit and
//! configuration errors are permanent. Whether a transient error may be retried
//! for a given request also depends on whether the request is safe to repeat
//! (see [`crate::retry`]).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::IdError;
use crate::auth::AuthError;
use crate::composite::CompositeBuildError;
use crate::soql::SoqlError;
use portal_core::config::ConfigError;

/// An answer that does not have the shape the adapter's queries ask for.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("unexpected Salesforce answer: {0}")]
pub struct UnexpectedAnswer(pub &'static str);

/// One entry of Salesforce's REST error array `[{"message","errorCode","fields"}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// E.g. `UNABLE_TO_LOCK_ROW`, `REQUIRED_FIELD_MISSING`.
    #[serde(rename = "errorCode", default)]
    pub error_code: String,
    /// Salesforce's human-readable message.
    #[serde(default)]
    pub message: String,
    /// The fields the error is about, when Salesforce names them.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub fields: Vec<String>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

impl ApiError {
    /// Whether this error says the write did not happen because a row was locked.
    pub fn is_lock_contention(&self) -> bool {
        self.error_code == "UNABLE_TO_LOCK_ROW"
            || (self.error_code == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
                && self.message.contains("UNABLE_TO_LOCK_ROW"))
    }

    /// Whether this is the concurrent-request variant of `REQUEST_LIMIT_EXCEEDED`
    /// (transient), as opposed to the daily `TotalRequests` limit (permanent).
    pub fn is_concurrent_limit(&self) -> bool {
        self.error_code == "REQUEST_LIMIT_EXCEEDED"
            && (self.message.contains("Concurrent") || self.message.contains("concurrent"))
    }

    /// Whether this is the daily `TotalRequests` variant of `REQUEST_LIMIT_EXCEEDED`:
    /// not worth retrying within a request, but over for good only until the
    /// org's rolling 24-hour window frees calls again.
    pub fn is_daily_limit(&self) -> bool {
        self.error_code == "REQUEST_LIMIT_EXCEEDED" && !self.is_concurrent_limit()
    }

    /// Whether this error is transient.
    pub fn is_transient(&self) -> bool {
        self.is_lock_contention()
            || self.is_concurrent_limit()
            || self.error_code == "SERVER_UNAVAILABLE"
    }

    /// `PROCESSING_HALTED`: a composite subrequest rolled back because another failed.
    pub fn is_processing_halted(&self) -> bool {
        self.error_code == "PROCESSING_HALTED"
    }
}

/// Error codes whose message repeats the refused value (`Email: invalid email
/// address: <the address>`, `Last Name: data value too large: <the name>`):
/// personal data, so their message never reaches a log line.
pub const VALUE_ECHOING_CODES: &[&str] = &[
    "STRING_TOO_LONG",
    "INVALID_EMAIL_ADDRESS",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    "NUMBER_OUTSIDE_VALID_RANGE",
    "INVALID_TYPE_ON_FIELD_IN_RECORD",
    "MALFORMED_ID",
];

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if VALUE_ECHOING_CODES.contains(&self.error_code.as_str()) {
            write!(
                f,
                "{}: (message withheld: it repeats the value)",
                self.error_code
            )?;
        } else {
            write!(f, "{}: {}", self.error_code, self.message)?;
        }
        if !self.fields.is_empty() {
            write!(f, " [{}]", self.fields.join(", "))?;
        }
        Ok(())
    }
}

/// Renders a list of API errors on one line.
fn join(errors: &[ApiError]) -> String {
    if errors.is_empty() {
        return "no error detail".to_owned();
    }
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Everything that can go wrong talking to Salesforce.
#[derive(Debug, thiserror::Error)]
pub enum SalesforceError {
    /// The configuration is missing or malformed.
    #[error("Salesforce configuration: {0}")]
    Config(#[from] ConfigError),

    /// Logging in (JWT bearer flow) failed.
    #[error("Salesforce login failed: {0}")]
    Auth(#[source] Arc<AuthError>),

    /// The API refused the session even right after a fresh login.
    #[error("Salesforce refused the session after re-authenticating: {}", join(.errors))]
    SessionRejected {
        /// The errors of the second 401.
        errors: Vec<ApiError>,
    },

    /// The API answered with an error status and Salesforce's error array.
    #[error("Salesforce API error (HTTP {status}): {}", join(.errors))]
    Api {
        /// The HTTP status.
        status: u16,
        /// Salesforce's errors, in order.
        errors: Vec<ApiError>,
    },

    /// An upsert by external id matched several records (HTTP 300).
    #[error("the external id matches {} records", .candidates.len())]
    MultipleMatches {
        /// The URLs of the matching records, as Salesforce lists them.
        candidates: Vec<String>,
    },

    /// A composite subrequest failed.
    #[error("composite subrequest {reference_id} failed (HTTP {status}): {}", join(.errors))]
    Composite {
        /// The referenceId of the subrequest that failed.
        reference_id: String,
        /// Its HTTP status.
        status: u16,
        /// Its real errors (never the `PROCESSING_HALTED` ones of its siblings).
        errors: Vec<ApiError>,
        /// Whether the whole composite was rolled back (`allOrNone`), so nothing was written.
        rolled_back: bool,
    },

    /// The request did not complete in time; whether Salesforce acted is unknown.
    #[error("Salesforce request timed out")]
    Timeout(#[source] reqwest::Error),

    /// The request could not be sent or its answer not received.
    #[error("Salesforce request failed in transport")]
    Transport(#[source] reqwest::Error),

    /// The answer's body could not be understood (an HTML error page, a changed format…).
    #[error("undecodable Salesforce response (HTTP {status}): {snippet}")]
    UndecodableBody {
        /// The HTTP status.
        status: u16,
        /// The first characters of the body, for the logs.
        snippet: String,
        /// The JSON error, when the body was JSON of an unexpected shape.
        #[source]
        source: Option<serde_json::Error>,
    },

    /// A SOQL query could not be built.
    #[error(transparent)]
    Soql(#[from] SoqlError),

    /// A composite request could not be built.
    #[error(transparent)]
    CompositeBuild(#[from] CompositeBuildError),

    /// A value that should be a Salesforce id is not one.
    #[error("invalid Salesforce id: {0}")]
    Id(#[from] IdError),

    /// An object or field name, external id value or URL that cannot be used
    /// to address Salesforce (refused before anything is sent).
    #[error("cannot address Salesforce with {0:?}")]
    InvalidName(String),
}

impl From<AuthError> for SalesforceError {
    fn from(e: AuthError) -> Self {
        Self::Auth(Arc::new(e))
    }
}

impl SalesforceError {
    /// Whether trying again later may succeed (the protocol facts' split).
    ///
    /// This says nothing about whether repeating is *safe*: a timed-out create
    /// may have been done. See [`SalesforceError::proves_nothing_was_done`].
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Auth(e) => e.is_retryable(),
            Self::Api { status, errors } => {
                errors.iter().any(ApiError::is_transient)
                    || (*status >= 500 && !errors.iter().any(is_permanent_code))
            }
            Self::Composite {
                errors,
                rolled_back,
                ..
            } => *rolled_back && errors.iter().any(ApiError::is_transient),
            Self::UndecodableBody { status, .. } => *status >= 500,
            Self::Timeout(_) | Self::Transport(_) => true,
            Self::Config(_)
            | Self::SessionRejected { .. }
            | Self::MultipleMatches { .. }
            | Self::Soql(_)
            | Self::CompositeBuild(_)
            | Self::Id(_)
            | Self::InvalidName(_) => false,
        }
    }

    /// Whether the error proves that Salesforce did nothing, so that even a
    /// request that is not safe to repeat (a create, a composite) may be retried.
    pub fn proves_nothing_was_done(&self) -> bool {
        match self {
            // The login failed before the request itself was sent.
            Self::Auth(e) => e.is_retryable(),
            Self::Api { errors, .. } => errors
                .iter()
                .any(|e| e.is_lock_contention() || e.is_concurrent_limit()),
            Self::Composite {
                errors,
                rolled_back,
                ..
            } => {
                *rolled_back
                    && errors
                        .iter()
                        .any(|e| e.is_lock_contention() || e.is_concurrent_limit())
            }
            _ => false,
        }
    }

    /// The Salesforce error codes this error carries (empty when it has none).
    pub fn error_codes(&self) -> Vec<&str> {
        match self {
            Self::Api { errors, .. }
            | Self::Composite { errors, .. }
            | Self::SessionRejected { errors } => {
                errors.iter().map(|e| e.error_code.as_str()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Whether the org's daily API request limit is spent ([`ApiError::is_daily_limit`]):
    /// the client does not retry it, but callers should report "try later", not "failed".
    pub fn is_daily_limit(&self) -> bool {
        match self {
            Self::Api { errors, .. } | Self::Composite { errors, .. } => {
                errors.iter().any(ApiError::is_daily_limit)
            }
            _ => false,
        }
    }

    /// The HTTP status Salesforce answered with, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. }
            | Self::Composite { status, .. }
            | Self::UndecodableBody { status, .. } => Some(*status),
            Self::SessionRejected { .. } => Some(401),
            Self::MultipleMatches { .. } => Some(300),
            _ => None,
        }
    }
}

/// Codes that are permanent even when they come with a 5xx.
fn is_permanent_code(e: &ApiError) -> bool {
    matches!(
        e.error_code.as_str(),
        "DUPLICATE_VALUE"
            | "FIELD_CUSTOM_VALIDATION_EXCEPTION"
            | "REQUIRED_FIELD_MISSING"
            | "INVALID_FIELD"
            | "INVALID_CROSS_REFERENCE_KEY"
            | "MALFORMED_QUERY"
            | "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
            | "JSON_PARSER_ERROR"
            | "STRING_TOO_LONG"
            | "NOT_FOUND"
            | "REQUEST_LIMIT_EXCEEDED"
    )
}

/// At most this many characters of a body go into an error.
const SNIPPET_CHARS: usize = 200;

/// A short, single-line excerpt of a response body for an error message.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .take(SNIPPET_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

/// Turns a non-success REST answer into an error. Never panics, whatever the body.
pub(crate) fn from_response(status: u16, body: &[u8]) -> SalesforceError {
    if status == 300
        && let Ok(candidates) = serde_json::from_slice::<Vec<String>>(body)
    {
        return SalesforceError::MultipleMatches { candidates };
    }
    match serde_json::from_slice::<Vec<ApiError>>(body) {
        Ok(errors) => SalesforceError::Api { status, errors },
        Err(e) => {
            // Some endpoints answer a single object rather than an array.
            if let Ok(single) = serde_json::from_slice::<ApiError>(body)
                && !single.error_code.is_empty()
            {
                return SalesforceError::Api {
                    status,
                    errors: vec![single],
                };
            }
            SalesforceError::UndecodableBody {
                status,
                snippet: snippet(body),
                source: Some(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str, message: &str) -> SalesforceError {
        SalesforceError::Api {
            status,
            errors: vec![ApiError {
                error_code: code.into(),
                message: message.into(),
                fields: vec![],
            }],
        }
    }

    #[test]
    fn transient_codes_are_retryable_and_prove_nothing_was_done() {
        for e in [
            api(
                400,
                "UNABLE_TO_LOCK_ROW",
                "unable to obtain exclusive access to this record",
            ),
            api(
                400,
                "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                "MyTrigger: execution of AfterUpdate caused by: System.DmlException: Update failed. UNABLE_TO_LOCK_ROW, unable to obtain exclusive access",
            ),
            api(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "ConcurrentPerOrgLongTxn Limit exceeded.",
            ),
        ] {
            assert!(e.is_retryable(), "{e}");
            assert!(e.proves_nothing_was_done(), "{e}");
        }
    }

    #[test]
    fn permanent_codes_are_not_retryable() {
        for code in [
            "DUPLICATE_VALUE",
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "REQUIRED_FIELD_MISSING",
            "INVALID_FIELD",
            "INVALID_CROSS_REFERENCE_KEY",
            "MALFORMED_QUERY",
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "JSON_PARSER_ERROR",
            "STRING_TOO_LONG",
            "NOT_FOUND",
            "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
        ] {
            assert!(!api(400, code, "x").is_retryable(), "{code}");
        }
        let daily = api(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        );
        assert!(!daily.is_retryable());
        assert!(!daily.proves_nothing_was_done());
    }

    #[test]
    fn outages_are_retryable_but_do_not_prove_nothing_was_done() {
        let html = from_response(503, b"<html><body>Service Unavailable</body></html>");
        assert!(matches!(
            html,
            SalesforceError::UndecodableBody { status: 503, .. }
        ));
        assert!(html.is_retryable());
        assert!(!html.proves_nothing_was_done());
        let e = api(503, "SERVER_UNAVAILABLE", "down");
        assert!(e.is_retryable());
        assert!(!e.proves_nothing_was_done());
        assert!(!from_response(400, b"<html>").is_retryable());
    }

    #[test]
    fn composite_failures_are_retried_only_when_rolled_back() {
        let lock = ApiError {
            error_code: "UNABLE_TO_LOCK_ROW".into(),
            message: "unable to obtain exclusive access".into(),
            fields: vec![],
        };
        let rolled_back = SalesforceError::Composite {
            reference_id: "ref2".into(),
            status: 400,
            errors: vec![lock.clone()],
            rolled_back: true,
        };
        assert!(rolled_back.is_retryable() && rolled_back.proves_nothing_was_done());
        let partial = SalesforceError::Composite {
            reference_id: "ref2".into(),
            status: 400,
            errors: vec![lock],
            rolled_back: false,
        };
        assert!(!partial.is_retryable() && !partial.proves_nothing_was_done());
    }

    #[test]
    fn a_message_that_repeats_the_refused_value_never_reaches_the_text() {
        let e = from_response(
            400,
            br#"[{"message":"Email: invalid email address: hanako@@example.jp","errorCode":"INVALID_EMAIL_ADDRESS","fields":["Email"]}]"#,
        );
        let text = e.to_string();
        assert!(!text.contains("hanako"), "{text}");
        assert!(
            text.contains("INVALID_EMAIL_ADDRESS") && text.contains("Email"),
            "{text}"
        );
        let long = from_response(
            400,
            br#"[{"message":"Last Name: data value too large: Yamadayamada (max length=80)","errorCode":"STRING_TOO_LONG","fields":["LastName"]}]"#,
        );
        assert!(!long.to_string().contains("Yamada"), "{long}");
    }

    #[test]
    fn error_bodies_are_parsed_without_panicking() {
        let e = from_response(
            400,
            br#"[{"message":"Required fields are missing: [Name]","errorCode":"REQUIRED_FIELD_MISSING","fields":["Name"]}]"#,
        );
        assert_eq!(e.error_codes(), vec!["REQUIRED_FIELD_MISSING"]);
        assert!(e.to_string().contains("Required fields are missing"));
        let e = from_response(
            401,
            br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID","fields":null}]"#,
        );
        assert_eq!(e.error_codes(), vec!["INVALID_SESSION_ID"]);
        let e = from_response(300, br#"["/services/data/v62.0/sobjects/Account/001000000000001AAA","/services/data/v62.0/sobjects/Account/001000000000002AAA"]"#);
        assert!(
            matches!(e, SalesforceError::MultipleMatches { ref candidates } if candidates.len() == 2)
        );
        for body in [&b""[..], b"\xff\xfe", b"{", b"null", b"[1,2]"] {
            let e = from_response(500, body);
            assert!(matches!(e, SalesforceError::UndecodableBody { .. }));
        }
        let long = "x".repeat(5000);
        let SalesforceError::UndecodableBody { snippet, .. } = from_response(502, long.as_bytes())
        else {
            panic!("expected an undecodable body");
        };
        assert!(snippet.chars().count() <= SNIPPET_CHARS + 1);
    }
}
