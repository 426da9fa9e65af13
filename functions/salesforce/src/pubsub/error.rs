//! [`PubSubError`]: every failure of the Pub/Sub client, classified the way the
//! subscriber must react to it (the protocol facts' split).
//!
//! | variant | the caller |
//! | --- | --- |
//! | [`PubSubError::ReplayIdCorrupted`] | resumes at `LATEST` and records the gap; never retries the id |
//! | [`PubSubError::AuthFailed`] | the client already re-logged in once; retry later or stop |
//! | [`PubSubError::Transient`] | resubscribes from the saved replay id with backoff |
//! | [`PubSubError::Permanent`] | stops with a clear message (missing topic, no permission) |
//! | [`PubSubError::Login`] | see [`PubSubError::is_transient`] |

use std::time::Duration;

use tonic::{Code, Status};

use super::{ERROR_CODE_TRAILER, REPLAY_ID_CORRUPTED_CODE};
use crate::error::SalesforceError;

/// A Pub/Sub failure.
#[derive(Debug, thiserror::Error)]
pub enum PubSubError {
    /// The replay id given to `CUSTOM` is expired (older than the retention),
    /// was never issued, or is malformed (`INVALID_ARGUMENT` with the
    /// `…fetch.replayid.corrupted` trailer).
    #[error(
        "the replay id was refused as corrupted or expired ({REPLAY_ID_CORRUPTED_CODE}): {message}"
    )]
    ReplayIdCorrupted {
        /// Salesforce's message.
        message: String,
    },
    /// The API refused the session (`UNAUTHENTICATED`), after one fresh login.
    #[error("the Pub/Sub API refused the session: {message}")]
    AuthFailed {
        /// Salesforce's message.
        message: String,
    },
    /// Worth retrying: an outage, a reset stream, a transport error, a stall.
    #[error("transient Pub/Sub failure: {0}")]
    Transient(#[from] TransientError),
    /// Not worth retrying with the same request: an unknown topic, no
    /// permission, a request the API refuses.
    #[error("the Pub/Sub API refused the request ({code:?}): {message}")]
    Permanent {
        /// The gRPC status code.
        code: Code,
        /// Salesforce's message.
        message: String,
        /// The `error-code` trailer, when there was one.
        error_code: Option<String>,
    },
    /// `GetSchema` returned a schema that is not valid Avro.
    #[error("schema {schema_id} from GetSchema is not a valid Avro schema")]
    InvalidSchema {
        /// The schema id.
        schema_id: String,
        /// The parser's error.
        #[source]
        source: Box<apache_avro::Error>,
    },
    /// Logging in to Salesforce (for a session) failed.
    #[error("logging in to Salesforce for the Pub/Sub API failed")]
    Login(#[source] SalesforceError),
    /// The endpoint cannot be used.
    #[error("the Pub/Sub endpoint {endpoint} cannot be used")]
    Endpoint {
        /// The configured endpoint.
        endpoint: String,
        /// Why.
        #[source]
        source: tonic::transport::Error,
    },
}

/// Why a [`PubSubError::Transient`] happened.
#[derive(Debug, thiserror::Error)]
pub enum TransientError {
    /// The server answered a retryable status (`UNAVAILABLE`, `INTERNAL` as
    /// for `RST_STREAM`, `UNKNOWN`, `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`,
    /// `ABORTED`, `CANCELLED`).
    #[error("the server answered {code:?}: {message}")]
    Status {
        /// The gRPC status code.
        code: Code,
        /// Its message.
        message: String,
    },
    /// Neither an event nor a keepalive arrived within the watchdog time: the
    /// connection is presumed half-open.
    #[error("no event and no keepalive for {0:?}: the stream is presumed dead")]
    Stalled(Duration),
    /// The server ended the subscription without an error status.
    #[error("the server ended the subscription")]
    StreamEnded,
    /// The endpoint could not be reached.
    #[error("the Pub/Sub endpoint could not be reached")]
    Connect(#[source] tonic::transport::Error),
}

impl PubSubError {
    /// Whether resubscribing (from the saved replay id, with backoff) may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transient(_) => true,
            Self::Login(e) => e.is_retryable(),
            Self::ReplayIdCorrupted { .. }
            | Self::AuthFailed { .. }
            | Self::Permanent { .. }
            | Self::InvalidSchema { .. }
            | Self::Endpoint { .. } => false,
        }
    }

    /// Classifies a gRPC status.
    pub fn from_status(status: &Status) -> Self {
        let error_code = status
            .metadata()
            .get(ERROR_CODE_TRAILER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let message = status.message().to_owned();
        match status.code() {
            Code::InvalidArgument if error_code.as_deref() == Some(REPLAY_ID_CORRUPTED_CODE) => {
                Self::ReplayIdCorrupted { message }
            }
            Code::Unauthenticated => Self::AuthFailed { message },
            Code::Unavailable
            | Code::Internal
            | Code::Unknown
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Cancelled => Self::Transient(TransientError::Status {
                code: status.code(),
                message,
            }),
            code => Self::Permanent {
                code,
                message,
                error_code,
            },
        }
    }
}

impl From<Status> for PubSubError {
    fn from(status: Status) -> Self {
        Self::from_status(&status)
    }
}

#[cfg(test)]
mod tests {
    use tonic::metadata::MetadataMap;

    use super::*;

    fn with_code(code: Code, error_code: &str) -> Status {
        let mut metadata = MetadataMap::new();
        metadata.insert(ERROR_CODE_TRAILER, error_code.parse().unwrap());
        Status::with_metadata(code, "refused", metadata)
    }

    #[test]
    fn the_corrupted_replay_trailer_is_told_apart_from_other_invalid_arguments() {
        let corrupted =
            PubSubError::from(with_code(Code::InvalidArgument, REPLAY_ID_CORRUPTED_CODE));
        assert!(matches!(corrupted, PubSubError::ReplayIdCorrupted { .. }));
        assert!(!corrupted.is_transient());
        let other = PubSubError::from(with_code(
            Code::InvalidArgument,
            "sfdc.platform.eventbus.grpc.subscription.fetch.invalid",
        ));
        assert!(matches!(
            other,
            PubSubError::Permanent {
                code: Code::InvalidArgument,
                ..
            }
        ));
        let bare = PubSubError::from(Status::invalid_argument("bad"));
        assert!(matches!(bare, PubSubError::Permanent { .. }));
    }

    #[test]
    fn statuses_are_classified_for_the_retry_decision() {
        for code in [
            Code::Unavailable,
            Code::Internal,
            Code::Unknown,
            Code::DeadlineExceeded,
        ] {
            let e = PubSubError::from(Status::new(code, "x"));
            assert!(matches!(e, PubSubError::Transient(_)), "{code:?}");
            assert!(e.is_transient());
        }
        for code in [Code::NotFound, Code::PermissionDenied, Code::Unimplemented] {
            let e = PubSubError::from(Status::new(code, "x"));
            assert!(matches!(e, PubSubError::Permanent { .. }), "{code:?}");
            assert!(!e.is_transient());
        }
        let auth = PubSubError::from(Status::unauthenticated("x"));
        assert!(matches!(auth, PubSubError::AuthFailed { .. }));
    }
}
