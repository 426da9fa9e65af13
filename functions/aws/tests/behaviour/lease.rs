//! `SubscriberLease` behaviours.

use std::time::Duration;

use chrono::TimeDelta;
use portal_aws::DynamoSubscriberLease;
use portal_core::ports::memory::InMemorySubscriberLease;
use portal_core::ports::{Clock, LeaseAcquisition, LeaseError, SubscriberLease};

use crate::{behaviours, clock, owner};

async fn dynamo() -> DynamoSubscriberLease {
    let (client, table) = crate::table().await;
    DynamoSubscriberLease::new(client, table)
}

fn memory() -> InMemorySubscriberLease {
    InMemorySubscriberLease::new()
}

const NAME: &str = "pubsub-subscriber";
const TTL: Duration = Duration::from_secs(60);

async fn one_owner_at_a_time(lease: impl SubscriberLease) {
    let clock = clock();
    let (a, b) = (owner("task-a"), owner("task-b"));
    let until = clock.now() + TimeDelta::seconds(60);
    assert_eq!(
        lease.acquire(NAME, &a, TTL, clock.now()).await.unwrap(),
        LeaseAcquisition::Acquired { until }
    );
    assert_eq!(
        lease.acquire(NAME, &b, TTL, clock.now()).await.unwrap(),
        LeaseAcquisition::HeldBy {
            owner: a.clone(),
            until
        }
    );
    clock.advance(TimeDelta::seconds(10));
    assert!(
        matches!(
            lease.acquire(NAME, &a, TTL, clock.now()).await.unwrap(),
            LeaseAcquisition::Acquired { .. }
        ),
        "re-acquiring our own lease extends it"
    );
    assert!(
        matches!(
            lease
                .acquire("another-lease", &b, TTL, clock.now())
                .await
                .unwrap(),
            LeaseAcquisition::Acquired { .. }
        ),
        "leases are independent by name"
    );
}

async fn takeover_after_expiry(lease: impl SubscriberLease) {
    let clock = clock();
    let (a, b) = (owner("task-a"), owner("task-b"));
    lease.acquire(NAME, &a, TTL, clock.now()).await.unwrap();
    clock.advance(TimeDelta::seconds(30));
    let renewed = lease.renew(NAME, &a, TTL, clock.now()).await.unwrap();
    assert_eq!(renewed, clock.now() + TimeDelta::seconds(60));
    clock.advance(TimeDelta::seconds(59));
    assert!(
        matches!(
            lease.acquire(NAME, &b, TTL, clock.now()).await.unwrap(),
            LeaseAcquisition::HeldBy { .. }
        ),
        "the renewal moved the end"
    );
    clock.advance(TimeDelta::seconds(1));
    assert!(matches!(
        lease.acquire(NAME, &b, TTL, clock.now()).await.unwrap(),
        LeaseAcquisition::Acquired { .. }
    ));
    assert!(matches!(
        lease.renew(NAME, &a, TTL, clock.now()).await,
        Err(LeaseError::LeaseLost)
    ));
}

async fn renew_and_release_by_the_wrong_owner_are_refused(lease: impl SubscriberLease) {
    let clock = clock();
    let (a, b) = (owner("task-a"), owner("task-b"));
    assert!(
        matches!(
            lease.renew(NAME, &a, TTL, clock.now()).await,
            Err(LeaseError::LeaseLost)
        ),
        "nothing to renew"
    );
    lease.acquire(NAME, &a, TTL, clock.now()).await.unwrap();
    assert!(matches!(
        lease.renew(NAME, &b, TTL, clock.now()).await,
        Err(LeaseError::LeaseLost)
    ));
    assert!(matches!(
        lease.release(NAME, &b).await,
        Err(LeaseError::LeaseLost)
    ));
    lease.release(NAME, &a).await.unwrap();
    lease
        .release(NAME, &a)
        .await
        .expect("releasing a lease that is gone succeeds");
    assert!(
        matches!(
            lease.acquire(NAME, &b, TTL, clock.now()).await.unwrap(),
            LeaseAcquisition::Acquired { .. }
        ),
        "a released lease is free at once"
    );
}

behaviours! {
    one_owner_at_a_time => dynamo, memory;
    takeover_after_expiry => dynamo, memory;
    renew_and_release_by_the_wrong_owner_are_refused => dynamo, memory;
}
