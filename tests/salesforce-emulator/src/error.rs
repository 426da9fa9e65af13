//! The emulator's errors: [`ApiError`], a refusal in Salesforce's own terms, and
//! [`EmulatorError`], what the Rust API returns.

use std::net::SocketAddr;

use serde_json::{Value, json};

/// A refusal as Salesforce words it: HTTP status, `errorCode`, message and, where
/// Salesforce gives them, the fields concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_code}: {message}")]
pub struct ApiError {
    /// The HTTP status of the response carrying this error.
    pub status: u16,
    /// Salesforce's error code, e.g. `REQUIRED_FIELD_MISSING`.
    pub error_code: &'static str,
    /// The human message, worded as Salesforce words it.
    pub message: String,
    /// The fields concerned (`None` when Salesforce leaves `fields` out).
    pub fields: Option<Vec<String>>,
}

impl ApiError {
    /// A 400 with `fields`.
    pub fn bad_request(
        error_code: &'static str,
        message: impl Into<String>,
        fields: Vec<String>,
    ) -> Self {
        ApiError {
            status: 400,
            error_code,
            message: message.into(),
            fields: Some(fields),
        }
    }

    /// An error without a `fields` entry.
    pub fn new(status: u16, error_code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error_code,
            message: message.into(),
            fields: None,
        }
    }

    /// 404 `NOT_FOUND` "The requested resource does not exist".
    pub fn not_found() -> Self {
        ApiError::new(404, "NOT_FOUND", "The requested resource does not exist")
    }

    /// The one-element JSON body Salesforce sends: `[{"message","errorCode"[,"fields"]}]`.
    pub fn to_body(&self) -> Value {
        Value::Array(vec![self.to_entry()])
    }

    /// The error as one entry of an error array.
    pub fn to_entry(&self) -> Value {
        let mut entry = json!({"message": self.message, "errorCode": self.error_code});
        if let (Some(fields), Some(map)) = (&self.fields, entry.as_object_mut()) {
            map.insert("fields".to_owned(), json!(fields));
        }
        entry
    }

    /// The error as a `composite/sobjects` per-record error: `{"statusCode","message","fields"}`.
    pub fn to_collection_entry(&self) -> Value {
        json!({
            "statusCode": self.error_code,
            "message": self.message,
            "fields": self.fields.clone().unwrap_or_default(),
        })
    }
}

/// What the emulator's Rust API can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The HTTP listener could not be bound.
    #[error("could not bind the emulator to {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The configured Connected App public key is not an RSA public key in PEM.
    #[error("the Connected App public key is not a valid RSA public key (PEM)")]
    PublicKey(#[source] jsonwebtoken::errors::Error),
    /// The org id is not an 18-character `00D` id with a valid checksum.
    #[error("the org id {0} is not a valid 18-character 00D id")]
    OrgId(String),
    /// The org refused the write, as the API would have.
    #[error("the org refused the write")]
    Rejected(#[source] ApiError),
    /// The Pub/Sub server's TLS option could not be set up.
    #[error("the Pub/Sub server's TLS could not be set up")]
    PubSubTls(#[from] crate::pubsub::PubSubTlsError),
}

impl From<ApiError> for EmulatorError {
    fn from(e: ApiError) -> Self {
        EmulatorError::Rejected(e)
    }
}
