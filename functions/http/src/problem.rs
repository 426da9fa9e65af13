//! `application/problem+json` (RFC 9457): the one shape every error of the
//! API takes, and the one place that maps the use cases' errors to it.
//!
//! Every problem has a stable `type` (`urn:portal:problem:<code>`), a short
//! `title`, the `status`, a human `detail`, the request's `correlationId`
//! (also on its log lines) and, for validation, `errors` listing every bad
//! field. Details are the product's own sentences: never internals, never a
//! Salesforce or WHMCS error code, message or record id — those go to the
//! logs, with the whole cause chain.

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use portal_core::diagnostics::error_chain;
use portal_core::domain::FieldError;
use portal_core::portal::{PortError, PortalError};
use serde::Serialize;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The prefix of every problem `type`.
pub const TYPE_PREFIX: &str = "urn:portal:problem:";

/// How long a client is told to wait when the cause gave no delay.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// One bad field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProblemField {
    /// The field's path in the body (`items[1].quantity`) or the header's name.
    pub field: String,
    /// What is wrong, for the customer.
    pub message: String,
}

impl From<FieldError> for ProblemField {
    fn from(e: FieldError) -> Self {
        Self {
            field: e.field,
            message: e.message,
        }
    }
}

/// A problem response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The problem's code; serialised as `type`: `urn:portal:problem:<code>`.
    #[serde(rename = "type", serialize_with = "type_uri")]
    pub code: &'static str,
    /// A short summary of the problem type.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What happened, for a person.
    pub detail: String,
    /// The bad fields (validation problems only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemField>>,
    /// The request's correlation id (set when the response is built).
    #[serde(rename = "correlationId", skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Response headers some problems carry (boxed: most carry none).
    #[serde(skip)]
    headers: Option<Box<ProblemHeaders>>,
}

/// `Retry-After` (429, 503), `Allow` (405), `WWW-Authenticate` (401).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ProblemHeaders {
    retry_after: Option<u64>,
    allow: Option<HeaderValue>,
    www_authenticate: Option<&'static str>,
}

fn type_uri<S: serde::Serializer>(code: &&'static str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!("{TYPE_PREFIX}{code}"))
}

impl Problem {
    /// A problem of type `code`.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            code,
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: None,
            correlation_id: None,
            headers: None,
        }
    }

    fn headers(&mut self) -> &mut ProblemHeaders {
        self.headers.get_or_insert_with(Box::default)
    }

    /// The `Retry-After` seconds, for a 429 or 503.
    pub fn retry_after(&self) -> Option<u64> {
        self.headers.as_ref().and_then(|h| h.retry_after)
    }

    /// Adds the bad fields.
    pub fn with_errors(mut self, errors: Vec<ProblemField>) -> Self {
        self.errors = Some(errors);
        self
    }

    /// 400: the body is not JSON (or not a JSON object).
    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The request body is not valid JSON",
            detail,
        )
    }

    /// 400: a header has a bad value; `errors` names it.
    pub fn bad_header(header: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-header",
            "A request header is invalid",
            format!("The {header} header {message}."),
        )
        .with_errors(vec![ProblemField {
            field: header.to_owned(),
            message,
        }])
    }

    /// 401 with `WWW-Authenticate: Bearer`; `invalid` adds `error="invalid_token"`.
    pub fn unauthorized(detail: impl Into<String>, invalid: bool) -> Self {
        let mut problem = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication is required",
            detail,
        );
        problem.headers().www_authenticate = Some(if invalid {
            "Bearer error=\"invalid_token\""
        } else {
            "Bearer"
        });
        problem
    }

    /// 403: the login is not linked to a customer account.
    pub fn not_linked() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "not-linked",
            "The login is not linked to a customer account",
            "Register first: this route needs a customer account linked to your login.",
        )
    }

    /// 403: registration needs an e-mail address the identity provider verified.
    pub fn email_not_verified() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "email-not-verified",
            "The e-mail address of the login is not verified",
            "Please verify your e-mail address with your sign-in provider, then sign in again and retry.",
        )
    }

    /// 403: the token's account claim names another Account than the login's link.
    pub fn account_mismatch() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "account-mismatch",
            "The token names another customer account",
            "Your sign-in names a different customer account than the one linked to your login. Please sign in again or contact support.",
        )
    }

    /// 403: staff deactivated the customer account.
    pub fn account_inactive() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "account-inactive",
            "The customer account is deactivated",
            "This customer account is not active in the portal. Please contact support.",
        )
    }

    /// 429 with `Retry-After`: the login's limit for now is reached.
    pub fn too_many_requests(retry_after: Duration) -> Self {
        let mut problem = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "Too many requests",
            "You have sent too many requests. Please wait and try again later.",
        );
        problem.headers().retry_after = Some(whole_seconds(retry_after));
        problem
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "There is nothing here, or it is not yours.",
        )
    }

    /// 405 with the `Allow` header of the route.
    pub fn method_not_allowed(allow: Option<HeaderValue>) -> Self {
        let mut problem = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "This route does not accept this method; see the Allow header.",
        );
        problem.headers().allow = allow;
        problem
    }

    /// 409: an `Idempotency-Key` whose first request is still running.
    pub fn idempotency_in_flight() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "idempotency-key-in-use",
            "A request with this Idempotency-Key is in progress",
            "The first request with this Idempotency-Key has not finished yet; retry later with the same key.",
        )
    }

    /// 413: the body is larger than `limit` bytes.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The request body is too large",
            format!("A request body may have at most {limit} bytes."),
        )
    }

    /// 415: a POST whose `Content-Type` is not `application/json`.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "The request body must be JSON",
            "Send the body as application/json.",
        )
    }

    /// 422: bad fields.
    pub fn validation(errors: Vec<ProblemField>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
            "The request has invalid fields",
            format!("{} field(s) are invalid; see errors.", errors.len().max(1)),
        )
        .with_errors(errors)
    }

    /// 422: an `Idempotency-Key` already used for another request.
    pub fn idempotency_mismatch() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "The Idempotency-Key was used for another request",
            "This Idempotency-Key was already used with another request body or route; use a new key.",
        )
    }

    /// 503 with `Retry-After`.
    pub fn unavailable(retry_after: Option<Duration>) -> Self {
        let mut problem = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service-unavailable",
            "The service is temporarily unavailable",
            "A system we depend on is busy or unavailable; nothing was changed. Retry later.",
        );
        problem.headers().retry_after =
            Some(whole_seconds(retry_after.unwrap_or(DEFAULT_RETRY_AFTER)));
        problem
    }

    /// 503 `outcome-unknown` with `Retry-After`: a write was sent and its
    /// answer lost, so it may have been done. The client must send the same
    /// request again with the same `Idempotency-Key`, which finds what was
    /// written or writes it exactly once (never a second record).
    pub fn outcome_unknown(retry_after: Duration) -> Self {
        let mut problem = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            OUTCOME_UNKNOWN,
            "The outcome of the request is not known",
            "We could not confirm whether your request was saved. Send it again with the same Idempotency-Key: it will not be done twice.",
        );
        problem.headers().retry_after = Some(whole_seconds(retry_after));
        problem
    }

    /// Whether this is [`Problem::outcome_unknown`].
    pub fn is_outcome_unknown(&self) -> bool {
        self.code == OUTCOME_UNKNOWN
    }

    /// 422: a system of record refused the data. The fields are the
    /// request's; what the system said stays in the log.
    pub fn rejected(fields: Vec<String>) -> Self {
        let problem = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "rejected",
            "The request was refused",
            "Our records system did not accept this request. Please check what you entered and try again, or contact support.",
        );
        if fields.is_empty() {
            return problem;
        }
        problem.with_errors(
            fields
                .into_iter()
                .map(|field| ProblemField {
                    field,
                    message: "was not accepted by our records system".to_owned(),
                })
                .collect(),
        )
    }

    /// 502: Salesforce failed in a way retrying will not fix.
    pub fn upstream_failed() -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "upstream-failed",
            "A system we depend on failed",
            "The request could not be completed. Please contact support if it persists.",
        )
    }

    /// 500, without details.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "Something went wrong on our side.",
        )
    }

    /// The status as a [`StatusCode`].
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| {
            br#"{"type":"urn:portal:problem:internal","title":"Internal error","status":500,"detail":"Something went wrong on our side."}"#.to_vec()
        })
    }
}

/// `wait` in whole seconds, rounded up, at least 1.
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl IntoResponse for Problem {
    fn into_response(mut self) -> Response {
        if self.correlation_id.is_none() {
            self.correlation_id = crate::correlation::current();
        }
        let mut response = (self.status_code(), self.body()).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(extra) = self.headers {
            if let Some(secs) = extra.retry_after {
                headers.insert(RETRY_AFTER, HeaderValue::from(secs));
            }
            if let Some(allow) = extra.allow {
                headers.insert(ALLOW, allow);
            }
            if let Some(challenge) = extra.www_authenticate {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            }
        }
        response
    }
}

/// Maps a use case's error to its problem, logging what the client cannot see.
pub fn from_portal_error(error: PortalError) -> Problem {
    match error {
        PortalError::Validation(errors) => {
            Problem::validation(errors.into_iter().map(ProblemField::from).collect())
        }
        PortalError::NotLinked => Problem::not_linked(),
        PortalError::EmailNotVerified => Problem::email_not_verified(),
        PortalError::AccountMismatch => Problem::account_mismatch(),
        PortalError::AccountInactive => Problem::account_inactive(),
        PortalError::TooManyRequests { retry_after, .. } => Problem::too_many_requests(retry_after),
        PortalError::NotFound => Problem::not_found(),
        PortalError::Conflict { reason } => Problem::new(
            StatusCode::CONFLICT,
            reason.code(),
            "The request conflicts with the state of your account",
            reason.to_string(),
        ),
        PortalError::Upstream(port) => from_port_error(port),
        PortalError::State(store) => {
            tracing::error!(error = %error_chain(&store), "the API's state store failed");
            if store.is_retryable() {
                Problem::unavailable(None)
            } else {
                Problem::internal()
            }
        }
    }
}

/// The code of [`Problem::outcome_unknown`].
pub const OUTCOME_UNKNOWN: &str = "outcome-unknown";

fn from_port_error(error: PortError) -> Problem {
    match error {
        PortError::OutcomeUnknown { .. } | PortError::KeyTaken { .. } => {
            tracing::warn!(error = %error_chain(&error), "a write's outcome is unknown; the client must retry with the same key");
            Problem::outcome_unknown(
                error
                    .retry_after()
                    .unwrap_or(portal_core::portal::OUTCOME_UNKNOWN_RETRY_AFTER),
            )
        }
        PortError::Unavailable { retry_after, .. } => {
            tracing::warn!(error = %error_chain(&error), "Salesforce unavailable after retries");
            Problem::unavailable(retry_after)
        }
        PortError::Rejected { .. } => {
            // Salesforce's message (another record's id, a validation rule's
            // text) is for staff: it goes to the log only.
            tracing::info!(error = %error_chain(&error), "Salesforce rejected the data");
            Problem::rejected(error.request_fields())
        }
        PortError::Failed { .. } => {
            tracing::error!(error = %error_chain(&error), "Salesforce call failed");
            Problem::upstream_failed()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_core::portal::ConflictReason;

    #[test]
    fn when_a_conflict_is_mapped_should_use_the_reasons_stable_type_and_text() {
        let problem = from_portal_error(PortalError::conflict(ConflictReason::ServiceNotActive));
        assert_eq!(problem.status, 409);
        assert_eq!(problem.code, "service-not-active");
        let body = String::from_utf8(problem.body()).unwrap();
        assert!(
            body.contains(r#""type":"urn:portal:problem:service-not-active""#),
            "{body}"
        );
        assert_eq!(
            problem.detail,
            "This service is not active, so it cannot be cancelled."
        );
    }

    #[test]
    fn when_salesforce_is_unavailable_should_round_the_wait_up_to_whole_seconds() {
        let problem = from_portal_error(PortalError::Upstream(PortError::Unavailable {
            retry_after: Some(Duration::from_millis(1500)),
            source: "UNABLE_TO_LOCK_ROW".into(),
        }));
        assert_eq!(problem.status, 503);
        assert_eq!(problem.retry_after(), Some(2));
        let response = problem.into_response();
        assert_eq!(response.headers()[RETRY_AFTER], "2");
        assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_JSON);
    }

    #[test]
    fn when_salesforce_rejects_fields_should_list_each_field_in_our_words_only() {
        let problem = from_portal_error(PortalError::Upstream(PortError::Rejected {
            message: "duplicate value found: Email__c duplicates value on record with id: 003000000000001AAA".into(),
            fields: vec!["Phone".into(), "Email__c".into()],
        }));
        assert_eq!(problem.status, 422);
        assert_eq!(
            problem.errors,
            Some(vec![ProblemField {
                field: "phone".into(),
                message: "was not accepted by our records system".into()
            }])
        );
        let body = String::from_utf8(problem.body()).unwrap();
        for upstream in ["duplicate", "003000000000001", "Email__c"] {
            assert!(!body.contains(upstream), "{body}");
        }
    }

    #[test]
    fn when_a_login_is_over_its_limit_should_be_429_with_retry_after() {
        let problem = from_portal_error(PortalError::TooManyRequests {
            window: "post-minute",
            retry_after: Duration::from_millis(12_300),
        });
        assert_eq!(problem.status, 429);
        let response = problem.into_response();
        assert_eq!(response.headers()[RETRY_AFTER], "13");
    }

    #[tokio::test]
    async fn when_built_inside_a_request_should_carry_its_correlation_id() {
        use axum::body::{Body, to_bytes};
        use tower::ServiceExt as _;
        let app = axum::Router::new()
            .route(
                "/p",
                axum::routing::get(|| async { Problem::not_found().into_response() }),
            )
            .layer(axum::middleware::from_fn(crate::correlation::correlate));
        let response = app
            .oneshot(http::Request::get("/p").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let body = to_bytes(response.into_body(), 4096).await.unwrap();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let id = value["correlationId"].as_str().expect("a correlation id");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
}
