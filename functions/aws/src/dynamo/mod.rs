//! The DynamoDB adapters. Every item lives in one table with string keys
//! `pk`/`sk` and the TTL attribute `ttl` (epoch seconds); provisioning records
//! also carry the sparse `gsi1pk`/`gsi1sk` keys of the `gsi1` index. The
//! layout is documented in the crate's `README.md`.

mod account_status;
mod idempotency;
mod lease;
mod login_limit;
mod login_link;
mod provisioning;
mod reconcile;
mod replay;

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use portal_core::ports::StoreError;

/// The key prefixes: every item's `pk` starts with its kind's prefix, and
/// each function's IAM policy names exactly the prefixes it may touch
/// (`dynamodb:LeadingKeys`; `tests/deploy` checks the template against these).
pub mod prefix {
    /// HTTP idempotency records and registration locks (the API).
    pub const IDEMPOTENCY: &str = "IDEMP#";
    /// Login → Account links (the API).
    pub const LOGIN_LINK: &str = "LOGIN#";
    /// Per-login request counters (the API).
    pub const LOGIN_LIMIT: &str = "LIMIT#";
    /// Deactivated Accounts and the sync's cursor (the reconciler writes, the API reads).
    pub const ACCOUNT_STATUS: &str = "ACCOUNT#";
    /// Provisioning records (the provisioner writes, the reconciler reads).
    pub const PROVISIONING: &str = "ORDER#";
    /// The reconciler's attempts per Order (the reconciler).
    pub const RECONCILE: &str = "RECONCILE#";
    /// Replay positions and gaps (the subscriber; the reconciler marks gaps swept).
    pub const REPLAY: &str = "REPLAY#";
    /// The subscriber's lease (the subscriber).
    pub const LEASE: &str = "LEASE#";
}

pub use account_status::DynamoAccountStatuses;
pub use idempotency::DynamoIdempotencyStore;
pub use lease::DynamoSubscriberLease;
pub use login_limit::DynamoLoginLimits;
pub use login_link::DynamoLoginLinks;
pub use provisioning::{DynamoProvisioningRecords, UNSETTLED_INDEX};
pub use reconcile::DynamoReconcileAttempts;
pub use replay::DynamoReplayStore;

/// A DynamoDB item.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A binary attribute.
pub(crate) fn b(value: &[u8]) -> AttributeValue {
    AttributeValue::B(Blob::new(value))
}

/// A string attribute of `item`, if present.
pub(crate) fn opt_s<'a>(item: &'a Item, name: &str) -> Result<Option<&'a str>, StoreError> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::S(value)) => Ok(Some(value)),
        Some(_) => Err(StoreError::corrupt(format!(
            "attribute {name} is not a string"
        ))),
    }
}

/// A required string attribute of `item`.
pub(crate) fn req_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    opt_s(item, name)?.ok_or_else(|| StoreError::corrupt(format!("attribute {name} is missing")))
}

/// A number attribute of `item`, if present.
pub(crate) fn opt_n<T: std::str::FromStr>(
    item: &Item,
    name: &str,
) -> Result<Option<T>, StoreError> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::N(value)) => value
            .parse()
            .map(Some)
            .map_err(|_| StoreError::corrupt(format!("attribute {name} is out of range"))),
        Some(_) => Err(StoreError::corrupt(format!(
            "attribute {name} is not a number"
        ))),
    }
}

/// A required number attribute of `item`.
pub(crate) fn req_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    opt_n(item, name)?.ok_or_else(|| StoreError::corrupt(format!("attribute {name} is missing")))
}

/// A binary attribute of `item`, if present.
pub(crate) fn opt_b<'a>(item: &'a Item, name: &str) -> Result<Option<&'a [u8]>, StoreError> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::B(value)) => Ok(Some(value.as_ref())),
        Some(_) => Err(StoreError::corrupt(format!(
            "attribute {name} is not binary"
        ))),
    }
}

/// An instant stored as epoch milliseconds.
pub(crate) fn millis_to_time(
    millis: i64,
    name: &str,
) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    chrono::DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| StoreError::corrupt(format!("attribute {name} is not a valid instant")))
}
