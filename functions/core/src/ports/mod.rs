//! The ports: one narrow trait per capability the functions need from the
//! outside world, so a function's dependencies read like its IAM policy.
//! Every port lives in this folder, one file per capability named for what it
//! holds; the portal's Salesforce ports, whose vocabulary is the portal's
//! requests and plans, are in one file beside their use cases,
//! [`crate::portal::ports`].
//!
//! | port | file | capability | adapters |
//! | --- | --- | --- | --- |
//! | [`Clock`] | `clock.rs` | the current time | `SystemClock`; `TestClock`, `TokioClock` (tests, campaigns) |
//! | [`EventSource`] | `event_source.rs` | platform events from a replay position (the subscriber) | `salesforce::pubsub::PubSubClient`; [`memory::InMemoryEventSource`] |
//! | [`ReplayStore`] | `replay_store.rs` | the Pub/Sub replay position and gaps per topic | `DynamoReplayStore`; [`memory::InMemoryReplayStore`] |
//! | [`GapSweeps`] | `replay_store.rs` | the gaps the reconciler has not swept yet | `DynamoReplayStore`; [`memory::InMemoryReplayStore`] |
//! | [`SubscriberLease`] | `subscriber_lease.rs` | one active subscriber | `DynamoSubscriberLease`; [`memory::InMemorySubscriberLease`] |
//! | [`ProvisioningQueue`] | `provisioning_queue.rs` | sending provisioning messages | `SqsProvisioningQueue`; [`memory::InMemoryQueue`] |
//! | [`ProvisioningDeliveries`] | `provisioning_deliveries.rs` | receiving and settling them (portal-local's worker; the Lambda's SQS trigger in AWS) | `SqsProvisioningQueue` (polling, portal-local); [`memory::InMemoryQueue`] |
//! | [`DeadLetters`] | `dead_letters.rs` | platform events that cannot be forwarded | `SqsDeadLetters`; [`memory::InMemoryDeadLetters`] |
//! | [`QueueDepths`] | `queue_depths.rs` | how many messages wait in the dead-letter queues | `SqsQueueDepths`; [`memory::InMemoryQueue`], [`memory::InMemoryDeadLetters`] |
//! | [`ProvisioningRecords`] | `provisioning_records.rs` | one provisioning record per Salesforce Order | `DynamoProvisioningRecords`; [`memory::InMemoryProvisioningRecords`] |
//! | [`OrderLedger`] | `order_ledger.rs` | provisioning's Salesforce side: one read, one write per outcome | `salesforce::provisioning::SalesforceOrderLedger` |
//! | [`BillingGateway`] | `billing_gateway.rs` | provisioning's WHMCS side: client, order, acceptance, lookup | `whmcs::billing::WhmcsBilling` |
//! | [`StuckOrders`] | `stuck_orders.rs` | Orders `Activating` that may have been forgotten (the reconciler) | `salesforce::reconcile::SalesforceStuckOrders` |
//! | [`ReconcileAttempts`] | `reconcile_attempts.rs` | the reconciler's attempts per Order (backoff) | `DynamoReconcileAttempts`; [`memory::InMemoryReconcileAttempts`] |
//! | [`IdempotencyStore`] | `idempotency_store.rs` | HTTP `Idempotency-Key` records | `DynamoIdempotencyStore`; [`memory::InMemoryIdempotencyStore`] |
//! | [`LoginLinks`] | `login_link.rs` | which Account a login is (the link item) | `DynamoLoginLinks`; [`memory::InMemoryLoginLinks`] |
//! | [`LoginLimits`] | `login_limit.rs` | per-login request counters | `DynamoLoginLimits`; [`memory::InMemoryLoginLimits`] |
//! | [`InactiveAccounts`] | `account_status.rs` | Accounts staff deactivated (read by the API) | `DynamoAccountStatuses`; [`memory::InMemoryAccountStatuses`] |
//! | [`AccountStatusSync`] | `account_status.rs` | copying deactivations from Salesforce (the reconciler) | `DynamoAccountStatuses`; [`memory::InMemoryAccountStatuses`] |
//! | [`PortalStatusChanges`] | `portal_status.rs` | portal Accounts by last modification (Salesforce; the reconciler's sync) | `salesforce::reconcile::SalesforcePortalStatuses` |
//! | [`AccountProfile`](crate::portal::ports::AccountProfile) | `../portal/ports.rs` | `GET /account` | `salesforce::portal::SalesforceAccountProfile` |
//! | [`RegistrationDirectory`](crate::portal::ports::RegistrationDirectory) | `../portal/ports.rs` | `POST /registrations` | `salesforce::portal::SalesforceRegistrationDirectory` |
//! | [`EligibilityDesk`](crate::portal::ports::EligibilityDesk) | `../portal/ports.rs` | `POST /eligibility-requests` | `salesforce::portal::SalesforceEligibilityDesk` |
//! | [`IdVerificationDesk`](crate::portal::ports::IdVerificationDesk) | `../portal/ports.rs` | `POST /id-verifications` | `salesforce::portal::SalesforceIdVerificationDesk` |
//! | [`Catalog`](crate::portal::ports::Catalog) | `../portal/ports.rs` | `GET /catalog` | `salesforce::portal::SalesforceCatalog` |
//! | [`OrderBook`](crate::portal::ports::OrderBook) | `../portal/ports.rs` | `POST`/`GET /orders` | `salesforce::portal::SalesforceOrderBook` |
//! | [`CancellationDesk`](crate::portal::ports::CancellationDesk) | `../portal/ports.rs` | `POST /cancellations` | `salesforce::portal::SalesforceCancellationDesk` |
//! | [`SupportDesk`](crate::portal::ports::SupportDesk) | `../portal/ports.rs` | `POST`/`GET /support-cases` | `salesforce::portal::SalesforceSupportDesk` |
//!
//! The DynamoDB and SQS adapters are in `portal_aws`; the in-memory ones in
//! [`memory`] (the portal's Salesforce ports have a fake org in the unit
//! tests, `portal/fake.rs`, and the org emulator everywhere else).
//! `error.rs` holds the errors the store and queue ports share.
//!
//! Time never comes from a hidden `Utc::now()`: store methods take `now`
//! explicitly. A lease or in-flight deadline `t` has lapsed when `t <= now`
//! (millisecond precision); a record's expiry (its TTL, epoch seconds) has
//! passed when `expiry_seconds <= now_seconds`. Every adapter, in memory or
//! not, follows these rules exactly; see [`lapsed`] and [`expired`].

mod account_status;
mod billing_gateway;
mod clock;
mod dead_letters;
mod error;
mod event_source;
mod idempotency_store;
mod login_limit;
mod login_link;
pub mod memory;
mod order_ledger;
mod portal_status;
mod provisioning_deliveries;
mod provisioning_queue;
mod provisioning_records;
mod queue_depths;
mod reconcile_attempts;
mod replay_store;
mod stuck_orders;
mod subscriber_lease;

use chrono::{DateTime, Utc};

pub use account_status::{AccountStatusSync, InactiveAccounts};
pub use billing_gateway::{
    BilledService, BillingError, BillingGateway, BillingLine, ClientOrder, EnsuredClient,
};
pub use clock::{Clock, SystemClock, TestClock, TokioClock};
pub use dead_letters::{DEAD_LETTER_KIND, DeadLetter, DeadLetters};
pub use error::{BoxError, LeaseError, QueueError, StoreError};
pub use event_source::{
    EventSource, EventStream, OrderProvisionRequested, ReceivedEvent, ReplayFrom, SourceError,
    SourceFailure, StreamItem, TopicAccess,
};
pub use idempotency_store::{
    Fingerprint, IdempotencyClaim, IdempotencyId, IdempotencyKey, IdempotencyOutcome,
    IdempotencyScope, IdempotencyStore, InvalidIdempotencyValue, StoredResponse,
};
pub use login_limit::{LimitDecision, LimitWindow, LoginLimits};
pub use login_link::{LinkCreation, LinkMethod, LoginLink, LoginLinks};
pub use order_ledger::{
    ActivationError, BillingAccount, BillingContact, FailedOrder, LedgerError,
    MAX_ACTIVATION_ERROR_CHARS, OrderBundle, OrderLedger, OrderLineRecord, ProvisionedOrder,
};
pub use portal_status::{PortalStatusChange, PortalStatusChanges, PortalStatusPage};
pub use provisioning_deliveries::{Delivery, ProvisioningDeliveries, ReceiptHandle};
pub use provisioning_queue::{ProvisioningQueue, SendFailure, SendOutcome};
pub use provisioning_records::{
    ProvisioningClaim, ProvisioningError, ProvisioningHolder, ProvisioningRecord,
    ProvisioningRecords, ProvisioningState, ProvisioningStatus, ReconcilerView, Transition,
    TransitionRule, WhmcsOrder,
};
pub use queue_depths::{EVENT_DLQ, PROVISIONING_DLQ, QueueDepth, QueueDepths};
pub use reconcile_attempts::{ReconcileAttempt, ReconcileAttempts};
pub use replay_store::{Gap, GapId, GapSweeps, ReplayStore, SweepCursor, UnsweptGap};
pub use stuck_orders::{
    StuckOrder, StuckOrderPage, StuckOrderQuery, StuckOrders, SweepError, TimeWindow,
};
pub use subscriber_lease::{
    InvalidOwner, LeaseAcquisition, LeaseOwner, SubscriberLease, lease_end,
};

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
