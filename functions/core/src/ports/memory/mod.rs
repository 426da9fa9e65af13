//! In-memory adapters of every port, with the same semantics as the DynamoDB
//! and SQS ones (conditions, leases, expiry against the `now` passed in, FIFO
//! groups, 5-minute deduplication). They back local runs and the unit tests
//! of the use cases. State lives behind a `std::sync::Mutex` that is never
//! held across an `.await`.

mod account_status;
mod dead_letter;
mod depth;
mod events;
mod idempotency;
mod lease;
mod login_limit;
mod login_link;
mod provisioning;
mod queue;
mod reconcile;
mod replay;

use std::sync::{Mutex, MutexGuard, PoisonError};

pub use account_status::InMemoryAccountStatuses;
pub use dead_letter::InMemoryDeadLetters;
pub use events::{InMemoryEventSource, InMemoryStream, InjectedFault, Undecodable, replay_id_at};
pub use idempotency::InMemoryIdempotencyStore;
pub use lease::InMemorySubscriberLease;
pub use login_limit::InMemoryLoginLimits;
pub use login_link::InMemoryLoginLinks;
pub use provisioning::InMemoryProvisioningRecords;
pub use queue::{InMemoryQueue, QueueConfig, UnknownReceipt};
pub use reconcile::InMemoryReconcileAttempts;
pub use replay::InMemoryReplayStore;

/// Locks `mutex`, carrying on with the data if a panicking thread poisoned it
/// (every critical section leaves the data consistent before it can panic).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
