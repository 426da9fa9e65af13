//! `ReplayStore` behaviours.

use chrono::TimeDelta;
use portal_aws::DynamoReplayStore;
use portal_core::domain::{OrderId, ReplayId};
use portal_core::ports::memory::InMemoryReplayStore;
use portal_core::ports::{Gap, GapId, GapSweeps, ReplayStore, SweepCursor};

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
        window_start: Some(start() + TimeDelta::minutes(10)),
        detected_at: start() + TimeDelta::hours(1),
    };
    let earlier = Gap {
        from: None,
        to: Some(replay_id(&[0, 1])),
        reason: "no saved position".into(),
        window_start: None,
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

async fn a_gap_is_swept_once_and_stays_recorded(store: impl ReplayStore + GapSweeps) {
    let gap = |minutes: i64| Gap {
        from: None,
        to: None,
        reason: format!("gap at {minutes}"),
        window_start: Some(start()),
        detected_at: start() + TimeDelta::minutes(minutes),
    };
    store.record_gap(TOPIC, &gap(2)).await.unwrap();
    store.record_gap(TOPIC, &gap(1)).await.unwrap();
    store.record_gap("/event/Other__e", &gap(3)).await.unwrap();

    let unswept = store.unswept_gaps(TOPIC).await.unwrap();
    assert_eq!(
        unswept.iter().map(|u| u.gap.clone()).collect::<Vec<_>>(),
        vec![gap(1), gap(2)],
        "oldest first, this topic only, window kept"
    );
    assert!(
        store
            .mark_gap_swept(TOPIC, &unswept[0].id, start() + TimeDelta::hours(1))
            .await
            .unwrap()
    );
    let left = store.unswept_gaps(TOPIC).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].gap, gap(2));
    assert_eq!(
        store.gaps(TOPIC).await.unwrap(),
        vec![gap(1), gap(2)],
        "a swept gap is still listed for the record"
    );
    assert!(
        !store
            .mark_gap_swept(TOPIC, &GapId::new("GAP#no-such-gap"), start())
            .await
            .unwrap(),
        "an unknown gap is not created"
    );
    assert_eq!(store.unswept_gaps(TOPIC).await.unwrap().len(), 1);
    assert_eq!(
        store.unswept_gaps("/event/Other__e").await.unwrap().len(),
        1
    );
}

async fn the_sweep_cursor_is_kept_per_topic_and_beside_the_gaps(
    store: impl ReplayStore + GapSweeps,
) {
    assert_eq!(store.sweep_cursor(TOPIC).await.unwrap(), None);
    let gap = Gap {
        from: None,
        to: None,
        reason: "expired".to_owned(),
        window_start: None,
        detected_at: start(),
    };
    store.record_gap(TOPIC, &gap).await.unwrap();
    let midway = SweepCursor {
        after: Some(OrderId::parse("801Em0000000010IAA").unwrap()),
        pass_started_at: start() + TimeDelta::minutes(5),
    };
    store.save_sweep_cursor(TOPIC, &midway).await.unwrap();
    assert_eq!(store.sweep_cursor(TOPIC).await.unwrap(), Some(midway));
    let new_pass = SweepCursor {
        after: None,
        pass_started_at: start() + TimeDelta::minutes(10),
    };
    store.save_sweep_cursor(TOPIC, &new_pass).await.unwrap();
    assert_eq!(store.sweep_cursor(TOPIC).await.unwrap(), Some(new_pass));
    assert_eq!(store.sweep_cursor("/event/Other__e").await.unwrap(), None);
    assert_eq!(
        store.unswept_gaps(TOPIC).await.unwrap().len(),
        1,
        "not a gap"
    );
    assert_eq!(store.gaps(TOPIC).await.unwrap(), vec![gap]);
}

behaviours! {
    position_round_trips_arbitrary_bytes => dynamo, memory;
    gaps_are_listed_oldest_first => dynamo, memory;
    a_gap_is_swept_once_and_stays_recorded => dynamo, memory;
    the_sweep_cursor_is_kept_per_topic_and_beside_the_gaps => dynamo, memory;
}
