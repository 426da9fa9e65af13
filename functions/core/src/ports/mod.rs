//! The ports: one narrow trait per capability the functions need from the
//! outside world, so a function's dependencies read like its IAM policy.
//!
//! | port | capability | DynamoDB / SQS adapter |
//! | --- | --- | --- |
//! | [`Clock`] | the current time | — |
//! | [`IdempotencyStore`] | HTTP `Idempotency-Key` records | `DynamoIdempotencyStore` |
//! | [`ProvisioningRecords`] | one provisioning record per Salesforce Order | `DynamoProvisioningRecords` |
//! | [`ReplayStore`] | the Pub/Sub replay position and gaps per topic | `DynamoReplayStore` |
//! | [`GapSweeps`] | the gaps the reconciler has not swept yet | `DynamoReplayStore` |
//! | [`ReconcileAttempts`] | the reconciler's attempts per Order (backoff) | `DynamoReconcileAttempts` |
//! | [`SubscriberLease`] | one active subscriber | `DynamoSubscriberLease` |
//! | [`LoginLinks`] | which Account a login is (the link item) | `DynamoLoginLinks` |
//! | [`LoginLimits`] | per-login request counters | `DynamoLoginLimits` |
//! | [`InactiveAccounts`] | Accounts staff deactivated (read by the API) | `DynamoAccountStatuses` |
//! | [`AccountStatusSync`] | copying deactivations from Salesforce (the reconciler) | `DynamoAccountStatuses` |
//! | [`PortalStatusChanges`] | portal Accounts by last modification (Salesforce) | `SalesforcePortalStatuses` |
//! | [`ProvisioningQueue`] | sending provisioning messages | `SqsProvisioningQueue` |
//! | [`QueueDepths`] | how many messages wait in the dead-letter queues | `SqsQueueDepths` |
//!
//! Time never comes from a hidden `Utc::now()`: store methods take `now`
//! explicitly. A lease or in-flight deadline `t` has lapsed when `t <= now`
//! (millisecond precision); a record's expiry (its TTL, epoch seconds) has
//! passed when `expiry_seconds <= now_seconds`. Every adapter, in memory or
//! not, follows these rules exactly; see [`lapsed`] and [`expired`].
//!
//! In-memory adapters of every port live in [`memory`].

mod account_status;
mod clock;
mod dead_letter;
mod deliveries;
mod depth;
mod error;
mod event_source;
mod idempotency;
mod lease;
mod login_limit;
mod login_link;
pub mod memory;
mod portal_status;
mod provisioning;
mod queue;
mod reconcile;
mod replay;

use chrono::{DateTime, Utc};

pub use account_status::{AccountStatusSync, InactiveAccounts};
pub use clock::{Clock, SystemClock, TestClock, TokioClock};
pub use dead_letter::{DEAD_LETTER_KIND, DeadLetter, DeadLetters};
pub use deliveries::{Delivery, ProvisioningDeliveries, ReceiptHandle};
pub use depth::{EVENT_DLQ, PROVISIONING_DLQ, QueueDepth, QueueDepths};
pub use error::{BoxError, LeaseError, QueueError, StoreError};
pub use event_source::{
    EventSource, EventStream, OrderProvisionRequested, ReceivedEvent, ReplayFrom, SourceError,
    SourceFailure, StreamItem, TopicAccess,
};
pub use idempotency::{
    Fingerprint, IdempotencyClaim, IdempotencyId, IdempotencyKey, IdempotencyOutcome,
    IdempotencyScope, IdempotencyStore, InvalidIdempotencyValue, StoredResponse,
};
pub use lease::{InvalidOwner, LeaseAcquisition, LeaseOwner, SubscriberLease, lease_end};
pub use login_limit::{LimitDecision, LimitWindow, LoginLimits};
pub use login_link::{LinkCreation, LinkMethod, LoginLink, LoginLinks};
pub use portal_status::{PortalStatusChange, PortalStatusChanges, PortalStatusPage};
pub use provisioning::{
    ProvisioningClaim, ProvisioningError, ProvisioningHolder, ProvisioningRecord,
    ProvisioningRecords, ProvisioningState, ProvisioningStatus, ReconcilerView, Transition,
    TransitionRule, WhmcsOrder,
};
pub use queue::{ProvisioningQueue, SendFailure, SendOutcome};
pub use reconcile::{ReconcileAttempt, ReconcileAttempts};
pub use replay::{Gap, GapId, GapSweeps, ReplayStore, SweepCursor, UnsweptGap};

/// Epoch milliseconds, the unit of every lease and in-flight deadline.
pub fn epoch_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Epoch seconds, the unit of the TTL attribute.
pub fn epoch_seconds(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// Whether a lease or in-flight deadline `until` has lapsed at `now`.
pub fn lapsed(until: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    epoch_millis(until) <= epoch_millis(now)
}

/// Whether a record that expires at `expires_at` (kept as epoch seconds) has expired at `now`.
pub fn expired(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    epoch_seconds(expires_at) <= epoch_seconds(now)
}
