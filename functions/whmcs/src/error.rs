//! Errors of the WHMCS client, classified for retries and for exactly-once
//! provisioning: [`WhmcsError::outcome_unknown`] says whether WHMCS may have
//! executed the call without our knowing.

use crate::form::DuplicateKey;
use crate::lenient::NotANumber;
use portal_core::config::ConfigError;

/// How far a request got before the transport failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportStage {
    /// Nothing reached WHMCS (connection refused, DNS, TLS handshake, connect timeout).
    NotSent,
    /// The request may have reached WHMCS (reset or closed after sending, body cut).
    AfterSend,
}

/// A failed WHMCS call.
#[derive(Debug, thiserror::Error)]
pub enum WhmcsError {
    /// WHMCS answered `{"result":"error","message":…}`: it refused the call.
    #[error("WHMCS {action} failed: {message}")]
    Api {
        /// API action.
        action: &'static str,
        /// WHMCS's message.
        message: String,
    },
    /// AddClient: "A user already exists with that email address".
    #[error("WHMCS AddClient failed: a user already exists with that email address")]
    EmailAlreadyExists,
    /// A non-success HTTP status without a WHMCS error envelope, or a body
    /// that is not JSON (a WAF page, a PHP fatal error).
    #[error("WHMCS {action} answered HTTP {status}: {snippet}")]
    Http {
        /// API action.
        action: &'static str,
        /// HTTP status.
        status: u16,
        /// The start of the body, whitespace collapsed.
        snippet: String,
    },
    /// The connection failed.
    #[error("WHMCS {action} transport failure ({stage:?})")]
    Transport {
        /// API action.
        action: &'static str,
        /// Whether the request may have been sent.
        stage: TransportStage,
        /// Cause.
        #[source]
        source: reqwest::Error,
    },
    /// No answer within the configured timeout, after the connection was made.
    #[error("WHMCS {action} timed out")]
    Timeout {
        /// API action.
        action: &'static str,
        /// Cause.
        #[source]
        source: reqwest::Error,
    },
    /// A JSON answer that does not have the expected shape.
    #[error("WHMCS {action} answer could not be decoded: {detail}")]
    Decode {
        /// API action.
        action: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// AddOrder created an order with fewer services than lines: real WHMCS
    /// silently drops lines with an unknown product id. The order exists.
    #[error("WHMCS AddOrder created order {order_id} with {} services for {expected} lines", service_ids.len())]
    IncompleteOrder {
        /// The order that was created.
        order_id: u64,
        /// Lines sent.
        expected: usize,
        /// The services it did create.
        service_ids: Vec<u64>,
    },
    /// The request could not be built (a bug: a form key added twice).
    #[error("WHMCS {action} request could not be built")]
    Request {
        /// API action.
        action: &'static str,
        /// Cause.
        #[source]
        source: DuplicateKey,
    },
    /// The HTTP client could not be created.
    #[error("WHMCS HTTP client could not be created")]
    Setup(#[source] reqwest::Error),
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl WhmcsError {
    /// Whether repeating the call may succeed (network trouble, 5xx, 429, a WAF page).
    ///
    /// A retryable error whose outcome is unknown must be settled (look the
    /// order up) before the call is repeated.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::Timeout { .. } => true,
            Self::Http { status, .. } => {
                *status >= 500 || *status == 429 || (200..300).contains(status)
            }
            Self::Api { .. }
            | Self::EmailAlreadyExists
            | Self::Decode { .. }
            | Self::IncompleteOrder { .. }
            | Self::Request { .. }
            | Self::Setup(_)
            | Self::Config(_) => false,
        }
    }

    /// Whether WHMCS may have executed the call without our knowing: a
    /// timeout or broken connection after sending, a 5xx, a non-JSON or
    /// undecodable answer. `false` when WHMCS certainly did nothing (the
    /// connection was refused, WHMCS answered a clear `result: error`) or
    /// when the outcome is known.
    #[must_use]
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Http { .. } | Self::Decode { .. } => true,
            Self::Transport { stage, .. } => *stage == TransportStage::AfterSend,
            Self::Api { .. }
            | Self::EmailAlreadyExists
            | Self::IncompleteOrder { .. }
            | Self::Request { .. }
            | Self::Setup(_)
            | Self::Config(_) => false,
        }
    }

    /// A short, fixed name of the variant, safe for logs (no body, no message).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Api { .. } => "api",
            Self::EmailAlreadyExists => "email_already_exists",
            Self::Http { .. } => "http",
            Self::Transport { .. } => "transport",
            Self::Timeout { .. } => "timeout",
            Self::Decode { .. } => "decode",
            Self::IncompleteOrder { .. } => "incomplete_order",
            Self::Request { .. } => "request",
            Self::Setup(_) => "setup",
            Self::Config(_) => "config",
        }
    }

    /// Classifies a `reqwest` failure of `action`.
    pub(crate) fn from_reqwest(action: &'static str, source: reqwest::Error) -> Self {
        // The URL carries nothing personal (the form is in the body), but it
        // may carry the access key in some set-ups: never log it.
        let source = source.without_url();
        if source.is_connect() || source.is_builder() {
            Self::Transport {
                action,
                stage: TransportStage::NotSent,
                source,
            }
        } else if source.is_timeout() {
            Self::Timeout { action, source }
        } else {
            Self::Transport {
                action,
                stage: TransportStage::AfterSend,
                source,
            }
        }
    }

    pub(crate) fn decode(action: &'static str, error: &NotANumber) -> Self {
        Self::Decode {
            action,
            detail: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_whmcs_refused_should_be_known_and_final() {
        let err = WhmcsError::Api {
            action: "AddOrder",
            message: "Invalid Payment Method. Valid options include banktransfer".into(),
        };
        assert!(!err.outcome_unknown());
        assert!(!err.is_retryable());
        assert!(!WhmcsError::EmailAlreadyExists.outcome_unknown());
    }

    #[test]
    fn when_the_answer_is_unreadable_should_be_unknown() {
        for status in [200, 403, 500, 502] {
            let err = WhmcsError::Http {
                action: "AddOrder",
                status,
                snippet: "<html>".into(),
            };
            assert!(err.outcome_unknown(), "{status}");
        }
        let err = WhmcsError::Decode {
            action: "AddOrder",
            detail: "no orderid".into(),
        };
        assert!(err.outcome_unknown());
        assert!(!err.is_retryable());
    }

    #[test]
    fn when_the_status_is_a_client_error_should_not_retry() {
        let err = WhmcsError::Http {
            action: "AddOrder",
            status: 404,
            snippet: "Not Found".into(),
        };
        assert!(!err.is_retryable());
        let err = WhmcsError::Http {
            action: "AddOrder",
            status: 503,
            snippet: "busy".into(),
        };
        assert!(err.is_retryable());
    }
}
