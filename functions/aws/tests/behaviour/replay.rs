//! `ReplayStore` behaviours.

use chrono::TimeDelta;
use portal_aws::DynamoReplayStore;
use portal_core::ports::memory::InMemoryReplayStore;
use portal_core::ports::{Gap, ReplayId, ReplayStore};

use crate::{behaviours, start};

async fn dynamo() -> DynamoReplayStore {
    let (client, table) = crate::table().await;
    DynamoReplayStore::new(client, table)
}

fn memory() -> InMemoryReplayStore {
    InMemoryReplayStore::new()
}

const TOPIC: &str = "/event/OrderProvisionRequested__e";

fn replay_id(bytes: &[u8]) -> ReplayId {
    ReplayId::new(bytes).unwrap()
}

async fn position_round_trips_arbitrary_bytes(store: impl ReplayStore) {
    assert_eq!(store.load(TOPIC).await.unwrap(), None);
    let awkward = replay_id(&[0x00, 0xff, 0x00, 0x80, 0x0a, 0x0d, 0xc3, 0x28]);
    store.save(TOPIC, &awkward).await.unwrap();
    assert_eq!(store.load(TOPIC).await.unwrap(), Some(awkward));

    let earlier = replay_id(&[0, 0, 0, 0, 0, 0, 0, 1]);
    store.save(TOPIC, &earlier).await.unwrap();
    assert_eq!(
        store.load(TOPIC).await.unwrap(),
        Some(earlier),
        "a save overwrites: replay ids are opaque"
    );
    assert_eq!(store.load("/event/Other__e").await.unwrap(), None);
}

async fn gaps_are_listed_oldest_first(store: impl ReplayStore) {
    assert!(store.gaps(TOPIC).await.unwrap().is_empty());
    let later = Gap {
        from: Some(replay_id(&[9, 9])),
        to: None,
        reason: "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted".into(),
        detected_at: start() + TimeDelta::hours(1),
    };
    let earlier = Gap {
        from: None,
        to: Some(replay_id(&[0, 1])),
        reason: "no saved position".into(),
        detected_at: start(),
    };
    store.record_gap(TOPIC, &later).await.unwrap();
    store.record_gap(TOPIC, &earlier).await.unwrap();
    store
        .save(TOPIC, &replay_id(&[1]))
        .await
        .expect("the position is not a gap");
    assert_eq!(store.gaps(TOPIC).await.unwrap(), vec![earlier, later]);
    assert!(store.gaps("/event/Other__e").await.unwrap().is_empty());
}

behaviours! {
    position_round_trips_arbitrary_bytes => dynamo, memory;
    gaps_are_listed_oldest_first => dynamo, memory;
}
