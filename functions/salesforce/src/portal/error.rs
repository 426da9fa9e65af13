//! How the portal adapters report failures: every [`SalesforceError`] and every
//! record that does not map to the domain becomes a [`PortError`].
//!
//! - transient after the client's own retries ([`SalesforceError::is_retryable`]:
//!   lock contention, the concurrent-request limit, 5xx, network) →
//!   [`PortError::Unavailable`] with a retry-after hint;
//! - the org's daily request limit spent ([`SalesforceError::is_daily_limit`]:
//!   never retried by the client) → [`PortError::Unavailable`] with a long
//!   hint ([`DAILY_LIMIT_RETRY_AFTER`]): calls free up as the rolling 24-hour
//!   window moves, so it is "try later", not a failure of the request;
//! - Salesforce refusing the data ([`REJECTION_CODES`]) →
//!   [`PortError::Rejected`] with Salesforce's message and field names;
//! - everything else, including a record that does not parse (a data problem
//!   in the org) → [`PortError::Failed`].
//!
//! Writes map through [`write_error`], which adds the two outcomes of a write
//! under a request key: answer lost ([`PortError::OutcomeUnknown`]) and key
//! taken by another attempt ([`PortError::KeyTaken`]).

use std::time::Duration;

use portal_core::portal::PortError;
use portal_core::schema::PORTAL_REQUEST_KEY;

use crate::composite::CompositeBuildError;
use crate::error::{ApiError, SalesforceError};
use crate::soql::SoqlError;

/// The Salesforce error codes that mean "the data was refused": permanent, and
/// fixable by changing the request.
pub const REJECTION_CODES: &[&str] = &[
    "REQUIRED_FIELD_MISSING",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    "STRING_TOO_LONG",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    "DUPLICATE_VALUE",
    "INVALID_EMAIL_ADDRESS",
    "FIELD_INTEGRITY_EXCEPTION",
    "NUMBER_OUTSIDE_VALID_RANGE",
];

/// The retry-after hint for lock contention (another transaction holds the row).
pub const LOCK_RETRY_AFTER: Duration = Duration::from_secs(2);
/// The retry-after hint for the concurrent-request limit.
pub const LIMIT_RETRY_AFTER: Duration = Duration::from_secs(5);
/// The retry-after hint once the org's daily request limit is spent.
pub const DAILY_LIMIT_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);
/// The retry-after hint for an outage, a timeout or a network failure.
pub const OUTAGE_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Why a Salesforce answer could not be turned into the domain's types. The
/// messages name objects and fields, never record data.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// A field is missing, of the wrong JSON type, or holds a value the domain
    /// refuses (a bad id, an unknown picklist value, a fractional count…).
    #[error("{object}.{field} does not hold a valid value: {reason}")]
    InvalidField {
        /// The object queried.
        object: &'static str,
        /// The field (or relationship path).
        field: String,
        /// What is wrong, without the value itself.
        reason: String,
    },
    /// A subrequest of a composite gave no answer or no record id.
    #[error("the composite answer has no result for {0}")]
    MissingResult(&'static str),
    /// The org has no usable price book (no active standard one, or the
    /// configured one is missing or inactive).
    #[error("the org has no active price book for the portal")]
    NoPricebook,
    /// A field of the product's schema is not a lookup with a relationship name.
    #[error("{object}.{field} is not a relationship of the schema")]
    NotARelationship {
        /// The object.
        object: &'static str,
        /// The field.
        field: &'static str,
    },
}

impl MappingError {
    /// An invalid field of `object`.
    pub fn invalid(object: &'static str, field: impl Into<String>, reason: impl ToString) -> Self {
        Self::InvalidField {
            object,
            field: field.into(),
            reason: reason.to_string(),
        }
    }
}

impl From<MappingError> for PortError {
    fn from(e: MappingError) -> Self {
        PortError::Failed {
            source: Box::new(e),
        }
    }
}

/// Maps a client error to the port's error (see the module documentation).
pub fn port_error(error: SalesforceError) -> PortError {
    if error.is_daily_limit() {
        return PortError::Unavailable {
            retry_after: Some(DAILY_LIMIT_RETRY_AFTER),
            source: Box::new(error),
        };
    }
    if error.is_retryable() {
        let retry_after = retry_after(&error);
        return PortError::Unavailable {
            retry_after: Some(retry_after),
            source: Box::new(error),
        };
    }
    let rejections: Vec<&ApiError> = match &error {
        SalesforceError::Api { errors, .. } | SalesforceError::Composite { errors, .. } => errors
            .iter()
            .filter(|e| REJECTION_CODES.contains(&e.error_code.as_str()))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(first) = rejections.first() {
        let mut fields: Vec<String> = Vec::new();
        for field in rejections.iter().flat_map(|e| e.fields.iter()) {
            if !fields.contains(field) {
                fields.push(field.clone());
            }
        }
        return PortError::Rejected {
            message: first.message.clone(),
            fields,
        };
    }
    PortError::Failed {
        source: Box::new(error),
    }
}

/// Maps the error of a WRITE (an all-or-none composite carrying the
/// request's key in `Portal_Request_Key__c`) to the port's error. On top of
/// [`port_error`]:
///
/// - an answer that was lost after the request went out (a timeout, a 5xx, a
///   connection dropped: retryable, but nothing proves nothing was done) is
///   [`PortError::OutcomeUnknown`]: Salesforce may have committed it;
/// - `DUPLICATE_VALUE` on the key field is [`PortError::KeyTaken`]: another
///   attempt of the request wrote (or is writing) under the key.
pub fn write_error(error: SalesforceError) -> PortError {
    if let Some(in_flight) = duplicate_request_key(&error) {
        return PortError::KeyTaken {
            in_flight,
            source: Box::new(error),
        };
    }
    if error.is_retryable() && !error.proves_nothing_was_done() && !error.is_daily_limit() {
        return PortError::OutcomeUnknown {
            source: Box::new(error),
        };
    }
    port_error(error)
}

/// When `error` is `DUPLICATE_VALUE` on `Portal_Request_Key__c`: whether the
/// record holding the value is uncommitted (`Some(true)`) or named
/// (`Some(false)`).
///
/// Salesforce answers a duplicate on a unique field with `"fields": []` and
/// the message `duplicate value found: <field> duplicates value on record
/// with id: <id>`; while the other record's transaction has not committed,
/// both read `<unknown>`. The text after the field may be in the integration
/// user's language, so only the field and the last word (the id) are read.
/// The portal's writes set no other unique field, so an unnamed field is the key.
fn duplicate_request_key(error: &SalesforceError) -> Option<bool> {
    let errors = match error {
        SalesforceError::Api { errors, .. } | SalesforceError::Composite { errors, .. } => errors,
        _ => return None,
    };
    let duplicate = errors.iter().find(|e| e.error_code == "DUPLICATE_VALUE")?;
    let named = duplicate
        .fields
        .iter()
        .any(|f| f.eq_ignore_ascii_case(PORTAL_REQUEST_KEY));
    let other_named = duplicate
        .fields
        .iter()
        .any(|f| !f.eq_ignore_ascii_case(PORTAL_REQUEST_KEY));
    let field = duplicate
        .message
        .split_once("duplicate value found:")
        .and_then(|(_, rest)| rest.split_whitespace().next());
    let ours = match field {
        Some(f) if f.eq_ignore_ascii_case(PORTAL_REQUEST_KEY) || f == UNKNOWN => true,
        Some(_) => named,
        None => named || !other_named,
    };
    if !ours {
        return None;
    }
    let record = duplicate
        .message
        .split_whitespace()
        .last()
        .filter(|id| crate::Id::parse(id).is_ok());
    Some(record.is_none())
}

/// What Salesforce writes for a record or field of a transaction that has not committed.
const UNKNOWN: &str = "<unknown>";

/// How long a client should wait before trying again after `error`.
fn retry_after(error: &SalesforceError) -> Duration {
    let errors: &[ApiError] = match error {
        SalesforceError::Api { errors, .. } | SalesforceError::Composite { errors, .. } => errors,
        _ => &[],
    };
    if errors.iter().any(ApiError::is_lock_contention) {
        LOCK_RETRY_AFTER
    } else if errors.iter().any(ApiError::is_concurrent_limit) {
        LIMIT_RETRY_AFTER
    } else {
        OUTAGE_RETRY_AFTER
    }
}

impl From<SoqlError> for PortError {
    /// The adapters build only their own queries: a build error is a
    /// programming error, reported as a failure.
    fn from(e: SoqlError) -> Self {
        PortError::Failed {
            source: Box::new(SalesforceError::from(e)),
        }
    }
}

impl From<CompositeBuildError> for PortError {
    /// A plan that does not fit one composite (too many records) is a
    /// programming error: the use cases bound the plans.
    fn from(e: CompositeBuildError) -> Self {
        PortError::Failed {
            source: Box::new(SalesforceError::from(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str, message: &str, fields: &[&str]) -> SalesforceError {
        SalesforceError::Api {
            status,
            errors: vec![ApiError {
                error_code: code.to_owned(),
                message: message.to_owned(),
                fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            }],
        }
    }

    #[test]
    fn when_salesforce_refuses_a_picklist_value_should_be_rejected_with_its_fields() {
        let e = SalesforceError::Composite {
            reference_id: "case".to_owned(),
            status: 400,
            errors: vec![
                ApiError {
                    error_code: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST".to_owned(),
                    message: "bad value for restricted picklist field".to_owned(),
                    fields: vec!["Type".to_owned()],
                },
                ApiError {
                    error_code: "REQUIRED_FIELD_MISSING".to_owned(),
                    message: "Required fields are missing: [LastName]".to_owned(),
                    fields: vec!["LastName".to_owned(), "Type".to_owned()],
                },
            ],
            rolled_back: true,
        };
        let PortError::Rejected { message, fields } = port_error(e) else {
            panic!("expected a rejection");
        };
        assert_eq!(message, "bad value for restricted picklist field");
        assert_eq!(fields, ["Type", "LastName"]);
    }

    #[test]
    fn when_the_error_is_transient_should_be_unavailable_with_a_hint_per_cause() {
        let lock = SalesforceError::Composite {
            reference_id: "ref0".to_owned(),
            status: 400,
            errors: vec![ApiError {
                error_code: "UNABLE_TO_LOCK_ROW".to_owned(),
                message: "unable to obtain exclusive access to this record".to_owned(),
                fields: vec![],
            }],
            rolled_back: true,
        };
        let e = port_error(lock);
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(LOCK_RETRY_AFTER));
        let limit = api(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "ConcurrentPerOrgLongTxn Limit exceeded.",
            &[],
        );
        assert_eq!(port_error(limit).retry_after(), Some(LIMIT_RETRY_AFTER));
        let outage = SalesforceError::UndecodableBody {
            status: 503,
            snippet: "<html>".to_owned(),
            source: None,
        };
        assert_eq!(port_error(outage).retry_after(), Some(OUTAGE_RETRY_AFTER));
    }

    #[test]
    fn when_the_daily_limit_is_spent_should_be_unavailable_for_a_long_while() {
        let daily = api(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
            &[],
        );
        assert!(
            !daily.is_retryable(),
            "the client must not hammer a spent limit"
        );
        let e = port_error(daily);
        assert!(matches!(e, PortError::Unavailable { .. }), "{e:?}");
        assert_eq!(e.retry_after(), Some(DAILY_LIMIT_RETRY_AFTER));
    }

    fn duplicate(message: &str, fields: &[&str]) -> SalesforceError {
        SalesforceError::Composite {
            reference_id: "order".to_owned(),
            status: 400,
            errors: vec![ApiError {
                error_code: "DUPLICATE_VALUE".to_owned(),
                message: message.to_owned(),
                fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            }],
            rolled_back: true,
        }
    }

    #[test]
    fn when_a_write_duplicates_the_request_key_should_be_key_taken_committed_or_in_flight() {
        let committed = duplicate(
            "duplicate value found: Portal_Request_Key__c duplicates value on record with id: 801000000000001",
            &[],
        );
        assert!(matches!(
            write_error(committed),
            PortError::KeyTaken {
                in_flight: false,
                ..
            }
        ));
        let in_flight = duplicate(
            "duplicate value found: <unknown> duplicates value on record with id: <unknown>",
            &[],
        );
        assert!(matches!(
            write_error(in_flight),
            PortError::KeyTaken {
                in_flight: true,
                ..
            }
        ));
        // The rest of the message in the user's language.
        let localized = duplicate(
            "duplicate value found: Portal_Request_Key__c повторяет значение для записи с кодом: 500000000000001AAA",
            &[],
        );
        assert!(matches!(
            write_error(localized),
            PortError::KeyTaken {
                in_flight: false,
                ..
            }
        ));
        // Another unique field is the customer's data, as before.
        let other = duplicate(
            "duplicate value found: SF_Account_No__c duplicates value on record with id: 001000000000001",
            &[],
        );
        assert!(matches!(write_error(other), PortError::Rejected { .. }));
        let named_other = duplicate("duplicate value found", &["SF_Account_No__c"]);
        assert!(matches!(
            write_error(named_other),
            PortError::Rejected { .. }
        ));
    }

    #[test]
    fn when_a_writes_answer_is_lost_should_be_outcome_unknown_unless_nothing_was_done() {
        let outage = SalesforceError::UndecodableBody {
            status: 503,
            snippet: "<html>".to_owned(),
            source: None,
        };
        assert!(matches!(
            write_error(outage),
            PortError::OutcomeUnknown { .. }
        ));
        let server = api(
            500,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred",
            &[],
        );
        assert!(matches!(
            write_error(server),
            PortError::OutcomeUnknown { .. }
        ));
        // A lock error rolled the write back; the daily limit refused it: known.
        let lock = SalesforceError::Composite {
            reference_id: "ref0".to_owned(),
            status: 400,
            errors: vec![ApiError {
                error_code: "UNABLE_TO_LOCK_ROW".to_owned(),
                message: "unable to obtain exclusive access to this record".to_owned(),
                fields: vec![],
            }],
            rolled_back: true,
        };
        assert!(matches!(write_error(lock), PortError::Unavailable { .. }));
        let daily = api(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
            &[],
        );
        assert!(matches!(write_error(daily), PortError::Unavailable { .. }));
        let refused = api(
            400,
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing",
            &["LastName"],
        );
        assert!(matches!(write_error(refused), PortError::Rejected { .. }));
    }

    #[test]
    fn when_the_error_is_neither_transient_nor_about_data_should_fail() {
        let field = api(400, "INVALID_FIELD", "No such column 'Nope__c'", &[]);
        assert!(matches!(port_error(field), PortError::Failed { .. }));
        let halted_only = SalesforceError::Composite {
            reference_id: "ref1".to_owned(),
            status: 400,
            errors: vec![],
            rolled_back: true,
        };
        assert!(matches!(port_error(halted_only), PortError::Failed { .. }));
    }
}
