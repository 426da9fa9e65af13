//! `IdempotencyStore` behaviours.

use chrono::TimeDelta;
use portal_aws::DynamoIdempotencyStore;
use portal_core::ports::memory::InMemoryIdempotencyStore;
use portal_core::ports::{
    Clock, Fingerprint, IdempotencyClaim, IdempotencyId, IdempotencyKey, IdempotencyOutcome,
    IdempotencyScope, IdempotencyStore, LeaseError, StoredResponse, TestClock,
};

use crate::{behaviours, clock, owner};

async fn dynamo() -> DynamoIdempotencyStore {
    let (client, table) = crate::table().await;
    DynamoIdempotencyStore::new(client, table)
}

fn memory() -> InMemoryIdempotencyStore {
    InMemoryIdempotencyStore::new()
}

fn id() -> IdempotencyId {
    IdempotencyId {
        scope: IdempotencyScope::new("POST /orders|001000000000001AAA").unwrap(),
        key: IdempotencyKey::parse("0f1e2d3c-key").unwrap(),
    }
}

fn claim(clock: &TestClock, who: &str, fingerprint: &str) -> IdempotencyClaim {
    let now = clock.now();
    IdempotencyClaim {
        id: id(),
        fingerprint: Fingerprint::new(fingerprint).unwrap(),
        owner: owner(who),
        in_flight_until: now + TimeDelta::seconds(30),
        expires_at: now + TimeDelta::hours(24),
        now,
    }
}

fn response() -> StoredResponse {
    StoredResponse {
        status: 201,
        content_type: "application/json".into(),
        body: br#"{"orderId":"801000000000001AAA"}"#.to_vec(),
    }
}

async fn acquire_replay_mismatch_in_flight(store: impl IdempotencyStore) {
    let clock = clock();
    let first = claim(&clock, "req-1", "fp-a");
    assert_eq!(
        store.claim(&first).await.unwrap(),
        IdempotencyOutcome::Acquired
    );
    assert_eq!(
        store.claim(&claim(&clock, "req-2", "fp-a")).await.unwrap(),
        IdempotencyOutcome::InFlight
    );
    assert_eq!(
        store.claim(&claim(&clock, "req-2", "fp-b")).await.unwrap(),
        IdempotencyOutcome::Mismatch
    );

    let expires = clock.now() + TimeDelta::hours(24);
    store
        .complete(&first.id, &first.owner, &response(), expires)
        .await
        .unwrap();
    clock.advance(TimeDelta::minutes(5));
    assert_eq!(
        store.claim(&claim(&clock, "req-3", "fp-a")).await.unwrap(),
        IdempotencyOutcome::Replay(response())
    );
    assert_eq!(
        store.claim(&claim(&clock, "req-3", "fp-b")).await.unwrap(),
        IdempotencyOutcome::Mismatch
    );
    assert!(matches!(
        store
            .complete(&first.id, &first.owner, &response(), expires)
            .await,
        Err(LeaseError::LeaseLost)
    ));
}

async fn in_flight_lapse_lets_a_new_claim_through(store: impl IdempotencyStore) {
    let clock = clock();
    let first = claim(&clock, "req-1", "fp-a");
    assert_eq!(
        store.claim(&first).await.unwrap(),
        IdempotencyOutcome::Acquired
    );
    clock.advance(TimeDelta::seconds(30));
    assert_eq!(
        store.claim(&claim(&clock, "req-2", "fp-b")).await.unwrap(),
        IdempotencyOutcome::Mismatch,
        "the request that died may have written: its key keeps its body"
    );
    let second = claim(&clock, "req-2", "fp-a");
    assert_eq!(
        store.claim(&second).await.unwrap(),
        IdempotencyOutcome::Resumed,
        "the request that died may have written: the new owner looks first"
    );

    let expires = clock.now() + TimeDelta::hours(24);
    assert!(matches!(
        store
            .complete(&first.id, &first.owner, &response(), expires)
            .await,
        Err(LeaseError::LeaseLost)
    ));
    store
        .complete(&second.id, &second.owner, &response(), expires)
        .await
        .unwrap();
    assert_eq!(
        store.claim(&claim(&clock, "req-3", "fp-a")).await.unwrap(),
        IdempotencyOutcome::Replay(response())
    );
}

async fn expired_record_is_reclaimed(store: impl IdempotencyStore) {
    let clock = clock();
    let first = claim(&clock, "req-1", "fp-a");
    store.claim(&first).await.unwrap();
    store
        .complete(
            &first.id,
            &first.owner,
            &response(),
            clock.now() + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    clock.advance(TimeDelta::minutes(59));
    assert_eq!(
        store.claim(&claim(&clock, "req-2", "fp-b")).await.unwrap(),
        IdempotencyOutcome::Mismatch
    );
    clock.advance(TimeDelta::minutes(1));
    assert_eq!(
        store.claim(&claim(&clock, "req-2", "fp-b")).await.unwrap(),
        IdempotencyOutcome::Acquired,
        "an expired record no longer binds the key"
    );
}

async fn release_lets_the_client_retry(store: impl IdempotencyStore) {
    let clock = clock();
    let first = claim(&clock, "req-1", "fp-a");
    store.claim(&first).await.unwrap();
    assert!(matches!(
        store.release(&first.id, &owner("req-2")).await,
        Err(LeaseError::LeaseLost)
    ));
    store.release(&first.id, &first.owner).await.unwrap();
    store
        .release(&first.id, &first.owner)
        .await
        .expect("releasing a record that is gone succeeds");

    let retry = claim(&clock, "req-2", "fp-a");
    assert_eq!(
        store.claim(&retry).await.unwrap(),
        IdempotencyOutcome::Acquired
    );
    store
        .complete(
            &retry.id,
            &retry.owner,
            &response(),
            clock.now() + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    assert!(
        matches!(
            store.release(&retry.id, &retry.owner).await,
            Err(LeaseError::LeaseLost)
        ),
        "a completed record is never released"
    );
}

async fn an_unknown_outcome_is_never_released_and_resumes_with_the_same_body(
    store: impl IdempotencyStore,
) {
    let clock = clock();
    let first = claim(&clock, "req-1", "fp-a");
    store.claim(&first).await.unwrap();
    let expires = clock.now() + TimeDelta::hours(24);
    assert!(matches!(
        store
            .mark_unknown(&first.id, &owner("req-9"), expires)
            .await,
        Err(LeaseError::LeaseLost)
    ));
    store
        .mark_unknown(&first.id, &first.owner, expires)
        .await
        .unwrap();
    for lost in [
        store.release(&first.id, &first.owner).await,
        store
            .complete(&first.id, &first.owner, &response(), expires)
            .await,
        store.mark_unknown(&first.id, &first.owner, expires).await,
    ] {
        assert!(
            matches!(lost, Err(LeaseError::LeaseLost)),
            "an UNKNOWN record is nobody's until claimed again: {lost:?}"
        );
    }
    assert_eq!(
        store.claim(&claim(&clock, "req-2", "fp-b")).await.unwrap(),
        IdempotencyOutcome::Mismatch,
        "another body is still 422"
    );

    // At once, without waiting for any deadline: the retry resumes.
    let retry = claim(&clock, "req-2", "fp-a");
    assert_eq!(
        store.claim(&retry).await.unwrap(),
        IdempotencyOutcome::Resumed
    );
    assert_eq!(
        store.claim(&claim(&clock, "req-3", "fp-a")).await.unwrap(),
        IdempotencyOutcome::InFlight,
        "one attempt at a time"
    );
    // Its outcome is unknown too: still UNKNOWN, resumed again.
    store
        .mark_unknown(&retry.id, &retry.owner, expires)
        .await
        .unwrap();
    let third = claim(&clock, "req-4", "fp-a");
    assert_eq!(
        store.claim(&third).await.unwrap(),
        IdempotencyOutcome::Resumed
    );
    store
        .complete(&third.id, &third.owner, &response(), expires)
        .await
        .unwrap();
    assert_eq!(
        store.claim(&claim(&clock, "req-5", "fp-a")).await.unwrap(),
        IdempotencyOutcome::Replay(response())
    );
}

async fn an_unknown_record_expires_with_its_ttl(store: impl IdempotencyStore) {
    let clock = clock();
    let first = claim(&clock, "req-1", "fp-a");
    store.claim(&first).await.unwrap();
    store
        .mark_unknown(&first.id, &first.owner, clock.now() + TimeDelta::hours(1))
        .await
        .unwrap();
    clock.advance(TimeDelta::minutes(61));
    assert_eq!(
        store.claim(&claim(&clock, "req-2", "fp-b")).await.unwrap(),
        IdempotencyOutcome::Acquired,
        "an expired record no longer binds the key"
    );
}

behaviours! {
    an_unknown_outcome_is_never_released_and_resumes_with_the_same_body => dynamo, memory;
    an_unknown_record_expires_with_its_ttl => dynamo, memory;
    acquire_replay_mismatch_in_flight => dynamo, memory;
    in_flight_lapse_lets_a_new_claim_through => dynamo, memory;
    expired_record_is_reclaimed => dynamo, memory;
    release_lets_the_client_retry => dynamo, memory;
}
