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
use portal_core::portal::{ConflictReason, PortError, PortalError};
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

/// One problem type: its stable code (the `type` is `urn:portal:problem:<code>`),
/// its HTTP status and its own title. [`PROBLEM_TYPES`] lists every one; the
/// OpenAPI document lists the same (a test holds them together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemType {
    /// The code.
    pub code: &'static str,
    /// The status every problem of this type has.
    pub status: u16,
    /// The title every problem of this type has.
    pub title: &'static str,
}

macro_rules! problem_types {
    ($($(#[$doc:meta])* $name:ident = ($status:literal, $code:literal, $title:literal);)*) => {
        /// The problem types, one constant each.
        pub mod types {
            use super::ProblemType;
            $(
                $(#[$doc])*
                pub const $name: ProblemType = ProblemType { code: $code, status: $status, title: $title };
            )*
        }

        /// Every problem type the API answers with.
        pub const PROBLEM_TYPES: &[ProblemType] = &[$(types::$name),*];
    };
}

problem_types! {
    /// The body is not JSON, or not a JSON object.
    MALFORMED_JSON = (400, "malformed-json", "The request body is not valid JSON");
    /// A `multipart/form-data` body that cannot be read.
    MALFORMED_MULTIPART = (400, "malformed-multipart", "The request body is not valid multipart/form-data");
    /// A header with a bad value.
    INVALID_HEADER = (400, "invalid-header", "A request header is invalid");
    /// A POST without `Idempotency-Key`.
    IDEMPOTENCY_KEY_MISSING = (400, "idempotency-key-missing", "The Idempotency-Key header is required");
    /// No valid bearer token.
    UNAUTHORIZED = (401, "unauthorized", "Authentication is required");
    /// The login has no customer account.
    NOT_LINKED = (403, "not-linked", "The login is not linked to a customer account");
    /// Registration needs an e-mail address the identity provider verified.
    EMAIL_NOT_VERIFIED = (403, "email-not-verified", "The e-mail address of the login is not verified");
    /// The token's account claim names another Account than the login's link.
    ACCOUNT_MISMATCH = (403, "account-mismatch", "The token names another customer account");
    /// Staff deactivated the customer account.
    ACCOUNT_INACTIVE = (403, "account-inactive", "The customer account is deactivated");
    /// Nothing there, or not the caller's.
    NOT_FOUND = (404, "not-found", "Not found");
    /// Another method than the route's.
    METHOD_NOT_ALLOWED = (405, "method-not-allowed", "Method not allowed");
    /// The first request with the key is still running.
    IDEMPOTENCY_KEY_IN_USE = (409, "idempotency-key-in-use", "A request with this Idempotency-Key is in progress");
    /// An Internet order before eligibility was confirmed.
    ELIGIBILITY_NOT_CHECKED = (409, "eligibility-not-checked", "Internet eligibility is not confirmed yet");
    /// An Internet order before the application is ready.
    APPLICATION_NOT_READY = (409, "application-not-ready", "The Internet application is not ready to order");
    /// An ID verification of a verified identity.
    ALREADY_VERIFIED = (409, "already-verified", "The identity is already verified");
    /// A cancellation of a service that is not active.
    SERVICE_NOT_ACTIVE = (409, "service-not-active", "The service is not active");
    /// A second cancellation of a service.
    CANCELLATION_IN_PROGRESS = (409, "cancellation-in-progress", "A cancellation of this service is in progress");
    /// A registration while another one for the same login runs.
    REGISTRATION_IN_PROGRESS = (409, "registration-in-progress", "A registration for this login is in progress");
    /// The login's request limit for now is reached.
    TOO_MANY_REQUESTS = (429, "too-many-requests", "Too many requests");
    /// A body (or a document in it) over its size limit.
    PAYLOAD_TOO_LARGE = (413, "payload-too-large", "The request body is too large");
    /// A body of a media type the route does not take.
    UNSUPPORTED_MEDIA_TYPE = (415, "unsupported-media-type", "The request body has an unsupported media type");
    /// Bad fields.
    VALIDATION_FAILED = (422, "validation-failed", "The request has invalid fields");
    /// The key was used for another request.
    IDEMPOTENCY_KEY_REUSED = (422, "idempotency-key-reused", "The Idempotency-Key was used for another request");
    /// Salesforce refused the data.
    REJECTED = (422, "rejected", "The request was refused");
    /// Anything unexpected.
    INTERNAL = (500, "internal", "Internal error");
    /// Salesforce failed in a way retrying will not fix.
    UPSTREAM_FAILED = (502, "upstream-failed", "A system we depend on failed");
    /// Salesforce busy or down: retry later.
    SERVICE_UNAVAILABLE = (503, "service-unavailable", "The service is temporarily unavailable");
    /// A write was sent and its answer lost: retry with the same key.
    OUTCOME_UNKNOWN = (503, "outcome-unknown", "The outcome of the request is unknown");
}

/// The problem type of a conflict reason.
pub const fn conflict_type(reason: ConflictReason) -> ProblemType {
    match reason {
        ConflictReason::EligibilityNotChecked => types::ELIGIBILITY_NOT_CHECKED,
        ConflictReason::ApplicationNotReady => types::APPLICATION_NOT_READY,
        ConflictReason::AlreadyVerified => types::ALREADY_VERIFIED,
        ConflictReason::ServiceNotActive => types::SERVICE_NOT_ACTIVE,
        ConflictReason::CancellationInProgress => types::CANCELLATION_IN_PROGRESS,
        ConflictReason::RegistrationInProgress => types::REGISTRATION_IN_PROGRESS,
    }
}

impl Problem {
    /// A problem of `kind` with `detail`.
    pub fn of(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            code: kind.code,
            title: kind.title,
            status: kind.status,
            detail: detail.into(),
            errors: None,
            correlation_id: None,
            headers: None,
        }
    }

    fn headers(&mut self) -> &mut ProblemHeaders {
        self.headers.get_or_insert_with(Box::default)
    }

    /// The `Retry-After` seconds, for a 503.
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
        Self::of(types::MALFORMED_JSON, detail)
    }

    /// 400: a `multipart/form-data` body that cannot be read.
    pub fn malformed_multipart(detail: impl Into<String>) -> Self {
        Self::of(types::MALFORMED_MULTIPART, detail)
    }

    /// 400: a header has a bad value; `errors` names it.
    pub fn bad_header(header: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::of(
            types::INVALID_HEADER,
            format!("The {header} header {message}."),
        )
        .with_errors(vec![ProblemField {
            field: header.to_owned(),
            message,
        }])
    }

    /// 400: a POST without `Idempotency-Key` (IETF draft
    /// `draft-ietf-httpapi-idempotency-key-header`: a resource that requires
    /// the header answers 400 when it is missing); `errors` names the header.
    pub fn idempotency_key_missing() -> Self {
        Self::of(
            types::IDEMPOTENCY_KEY_MISSING,
            "Every POST needs an Idempotency-Key header: a unique value per request you mean once (e.g. a UUID), sent again unchanged when you retry it.",
        )
        .with_errors(vec![ProblemField {
            field: "Idempotency-Key".to_owned(),
            message: "is required".to_owned(),
        }])
    }

    /// 401 with `WWW-Authenticate: Bearer`; `invalid` adds `error="invalid_token"`.
    pub fn unauthorized(detail: impl Into<String>, invalid: bool) -> Self {
        let mut problem = Self::of(types::UNAUTHORIZED, detail);
        problem.headers().www_authenticate = Some(if invalid {
            "Bearer error=\"invalid_token\""
        } else {
            "Bearer"
        });
        problem
    }

    /// 403: the login is not linked to a customer account.
    pub fn not_linked() -> Self {
        Self::of(
            types::NOT_LINKED,
            "Register first: this route needs a customer account linked to your login.",
        )
    }

    /// 403: registration needs an e-mail address the identity provider verified.
    pub fn email_not_verified() -> Self {
        Self::of(
            types::EMAIL_NOT_VERIFIED,
            "Please verify your e-mail address with your sign-in provider, then sign in again and retry.",
        )
    }

    /// 403: the token's account claim names another Account than the login's link.
    pub fn account_mismatch() -> Self {
        Self::of(
            types::ACCOUNT_MISMATCH,
            "Your sign-in names a different customer account than the one linked to your login. Please sign in again or contact support.",
        )
    }

    /// 403: staff deactivated the customer account.
    pub fn account_inactive() -> Self {
        Self::of(
            types::ACCOUNT_INACTIVE,
            "This customer account is not active in the portal. Please contact support.",
        )
    }

    /// 429 with `Retry-After`: the login's limit for now is reached.
    pub fn too_many_requests(retry_after: Duration) -> Self {
        let mut problem = Self::of(
            types::TOO_MANY_REQUESTS,
            "You have sent too many requests. Please wait and try again later.",
        );
        problem.headers().retry_after = Some(whole_seconds(retry_after));
        problem
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::of(
            types::NOT_FOUND,
            "There is nothing here, or it is not yours.",
        )
    }

    /// 405 with the `Allow` header of the route.
    pub fn method_not_allowed(allow: Option<HeaderValue>) -> Self {
        let mut problem = Self::of(
            types::METHOD_NOT_ALLOWED,
            "This route does not accept this method; see the Allow header.",
        );
        problem.headers().allow = allow;
        problem
    }

    /// 409: an `Idempotency-Key` whose first request is still running.
    pub fn idempotency_in_flight() -> Self {
        Self::of(
            types::IDEMPOTENCY_KEY_IN_USE,
            "The first request with this Idempotency-Key has not finished yet; retry later with the same key.",
        )
    }

    /// 409: the records' state forbids the request; `detail` is the reason's text.
    pub fn conflict(reason: ConflictReason) -> Self {
        Self::of(conflict_type(reason), reason.to_string())
    }

    /// 413: the body is larger than `limit` bytes.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::of(
            types::PAYLOAD_TOO_LARGE,
            format!("A request body may have at most {limit} bytes."),
        )
    }

    /// 415: a POST whose `Content-Type` is not `expected`.
    pub fn unsupported_media_type(expected: &str) -> Self {
        Self::of(
            types::UNSUPPORTED_MEDIA_TYPE,
            format!("Send the body as {expected}."),
        )
    }

    /// 422: bad fields.
    pub fn validation(errors: Vec<ProblemField>) -> Self {
        Self::of(
            types::VALIDATION_FAILED,
            format!("{} field(s) are invalid; see errors.", errors.len().max(1)),
        )
        .with_errors(errors)
    }

    /// 422: an `Idempotency-Key` already used for another request.
    pub fn idempotency_mismatch() -> Self {
        Self::of(
            types::IDEMPOTENCY_KEY_REUSED,
            "This Idempotency-Key was already used with another request body or route; use a new key.",
        )
    }

    /// 503 with `Retry-After`.
    pub fn unavailable(retry_after: Option<Duration>) -> Self {
        let mut problem = Self::of(
            types::SERVICE_UNAVAILABLE,
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
        let mut problem = Self::of(
            types::OUTCOME_UNKNOWN,
            "We could not confirm whether your request was saved. Send it again with the same Idempotency-Key: it will not be done twice.",
        );
        problem.headers().retry_after = Some(whole_seconds(retry_after));
        problem
    }

    /// Whether this is [`Problem::outcome_unknown`].
    pub fn is_outcome_unknown(&self) -> bool {
        self.code == types::OUTCOME_UNKNOWN.code
    }

    /// 422: a system of record refused the data. The fields are the
    /// request's; what the system said stays in the log.
    pub fn rejected(fields: Vec<String>) -> Self {
        let problem = Self::of(
            types::REJECTED,
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
        Self::of(
            types::UPSTREAM_FAILED,
            "The request could not be completed. Please contact support if it persists.",
        )
    }

    /// 500, without details.
    pub fn internal() -> Self {
        Self::of(types::INTERNAL, "Something went wrong on our side.")
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
        PortalError::Conflict { reason } => Problem::conflict(reason),
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

    #[test]
    fn every_problem_type_should_have_its_own_title_and_every_conflict_its_own_type() {
        let mut titles: Vec<_> = PROBLEM_TYPES.iter().map(|t| t.title).collect();
        titles.sort_unstable();
        titles.dedup();
        assert_eq!(titles.len(), PROBLEM_TYPES.len(), "titles are unique");
        for reason in ConflictReason::ALL {
            let kind = conflict_type(*reason);
            assert_eq!(kind.code, reason.code());
            assert_eq!(kind.status, 409);
            assert!(PROBLEM_TYPES.contains(&kind), "{kind:?}");
            let problem = Problem::conflict(*reason);
            assert_eq!(
                (problem.title, problem.detail),
                (kind.title, reason.to_string())
            );
        }
    }

    #[test]
    fn the_openapi_document_should_list_every_problem_type_with_its_status_and_title() {
        let doc: serde_json::Value = serde_json::from_str(crate::OPENAPI_JSON).unwrap();
        let listed: Vec<(String, String, String)> =
            doc["components"]["schemas"]["Problem"]["properties"]["type"]["oneOf"]
                .as_array()
                .expect("the Problem type lists its values")
                .iter()
                .map(|t| {
                    (
                        t["const"].as_str().unwrap().to_owned(),
                        t["title"].as_str().unwrap().to_owned(),
                        t["description"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
        assert_eq!(listed.len(), PROBLEM_TYPES.len());
        for kind in PROBLEM_TYPES {
            let entry = listed
                .iter()
                .find(|(uri, _, _)| *uri == format!("{TYPE_PREFIX}{}", kind.code))
                .unwrap_or_else(|| panic!("{} is not in openapi.json", kind.code));
            assert_eq!(entry.1, kind.title, "{}", kind.code);
            assert!(
                entry.2.starts_with(&format!("{}: ", kind.status)),
                "{}: {}",
                kind.code,
                entry.2
            );
        }
    }

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
