//! A saved replay id the org no longer retains: a gap is recorded, the
//! subscriber resumes at LATEST, and it does not loop — a second refusal right
//! after resuming stops it for good.

use std::time::Duration;

use portal_core::domain::ReplayId;
use portal_core::ports::{LeaseAcquisition, ReplayStore as _};
use portal_core::workers::subscriber::SubscriberError;
use salesforce::pubsub::{PubSubError, REPLAY_ID_CORRUPTED_CODE};
use salesforce::schema::order_provision_requested::TOPIC;
use salesforce_emulator::Fault;

use crate::helpers::{
    eventually, memory_ports, next_task_asks_for_the_lease, org, settings, spawn,
};

#[tokio::test]
async fn a_refused_replay_id_records_a_gap_and_resumes_at_latest_without_looping() {
    let org = org().await;
    let ports = memory_ports(&org);
    let before: Vec<_> = (0..3).map(|_| org.publish()).collect();
    let refused = ReplayId::new(999_999u64.to_be_bytes().to_vec()).unwrap();
    ports.replay_store.save(TOPIC, &refused).await.unwrap();

    let running = spawn(ports.clone(), settings("corrupted-test"));
    eventually("a gap is recorded", || async {
        !ports.replay_store.gaps(TOPIC).await.unwrap().is_empty()
    })
    .await;
    eventually("the subscriber resubscribed", || async {
        org.emulator.pubsub_stats().open_streams == 1
    })
    .await;
    let after = org.publish();
    eventually("the new event is forwarded", || async {
        ports.queue.len() == 1
    })
    .await;
    let metrics = running.metrics.clone();
    let stopped = running.stop().await.unwrap();

    let delivered = ports.queue.receive(10);
    assert_eq!(
        delivered.len(),
        1,
        "LATEST: the retained older events are not replayed"
    );
    assert_eq!(
        delivered[0].message.as_ref().unwrap().dedup_id(),
        after.event_id
    );
    assert!(
        before
            .iter()
            .all(|e| e.event_id != delivered[0].message.as_ref().unwrap().dedup_id())
    );
    let gaps = ports.replay_store.gaps(TOPIC).await.unwrap();
    assert_eq!(gaps.len(), 1, "one gap, no loop");
    assert_eq!(gaps[0].from.as_ref(), Some(&refused));
    assert!(
        gaps[0].reason.contains(REPLAY_ID_CORRUPTED_CODE),
        "{}",
        gaps[0].reason
    );
    assert!(gaps[0].reason.contains("resumed at LATEST"));
    assert_eq!(stopped.saved.unwrap().as_bytes(), &after.replay_id[..]);
    let stats = org.emulator.pubsub_stats();
    assert_eq!(
        stats.subscribe_calls, 2,
        "the refused CUSTOM call, then LATEST"
    );
    let counts = metrics.snapshot();
    assert_eq!(counts.gap_records, 1);
    assert_eq!(
        counts.reconnects, 0,
        "the refusal is not retried as a transient failure"
    );
    assert_eq!(
        crate::helpers::saved(&ports.replay_store).await,
        Some(after.replay_id.to_vec())
    );
}

#[tokio::test]
async fn a_second_refusal_right_after_resuming_at_latest_stops_for_good_with_one_gap() {
    let org = org().await;
    let ports = memory_ports(&org);
    let saved_event = org.publish();
    let position = ReplayId::new(saved_event.replay_id.to_vec()).unwrap();
    ports.replay_store.save(TOPIC, &position).await.unwrap();
    // The CUSTOM subscription and the LATEST one after it are both refused as corrupted.
    org.emulator.inject(Fault::PubSubReplayCorrupted(2));

    let s = settings("replay-loop-test");
    let lease_name = s.lease_name.clone();
    let running = spawn(ports.clone(), s);
    let metrics = running.metrics.clone();
    let ended = tokio::time::timeout(Duration::from_secs(60), running.handle)
        .await
        .expect("the subscriber stops by itself instead of looping")
        .unwrap();

    let error = ended.expect_err("a refusal without a replay id is permanent");
    assert!(
        matches!(
            &error,
            SubscriberError::ReplayLoop(refused)
                if matches!(
                    refused.source.downcast_ref::<PubSubError>(),
                    Some(PubSubError::ReplayIdCorrupted { .. })
                )
        ),
        "{error:?}"
    );
    let stats = org.emulator.pubsub_stats();
    assert_eq!(
        stats.subscribe_calls, 2,
        "CUSTOM, then LATEST once: no loop"
    );
    let gaps = ports.replay_store.gaps(TOPIC).await.unwrap();
    assert_eq!(gaps.len(), 1, "one gap for the refused saved position");
    assert_eq!(gaps[0].from.as_ref(), Some(&position));
    assert_eq!(metrics.snapshot().gap_records, 1);
    assert_eq!(
        crate::helpers::saved(&ports.replay_store).await,
        Some(saved_event.replay_id.to_vec()),
        "nothing newer was saved: a restart records the gap's window again instead of skipping it"
    );
    let next = next_task_asks_for_the_lease(&ports.lease, &lease_name).await;
    assert!(
        matches!(next, LeaseAcquisition::Acquired { .. }),
        "the failing instance released the lease for the next task: {next:?}"
    );
}

#[tokio::test]
async fn a_position_refused_mid_run_records_a_gap_whose_window_starts_at_the_last_saved_event() {
    let org = org().await;
    let ports = memory_ports(&org);
    let running = spawn(ports.clone(), settings("mid-run-gap-test"));
    let first = org.publish();
    eventually(
        "the first event is forwarded and its position saved",
        || async {
            crate::helpers::saved(&ports.replay_store).await.as_deref()
                == Some(&first.replay_id[..])
        },
    )
    .await;
    // The stream breaks, and the saved position is refused on the way back.
    org.emulator.inject(Fault::PubSubReplayCorrupted(1));
    org.emulator.inject(Fault::PubSubDropStreams);
    eventually("a gap is recorded", || async {
        !ports.replay_store.gaps(TOPIC).await.unwrap().is_empty()
    })
    .await;
    eventually("the subscriber resubscribed at LATEST", || async {
        org.emulator.pubsub_stats().open_streams == 1
    })
    .await;
    let after = org.publish();
    eventually("the new event is forwarded", || async {
        ports.queue.len() == 2
    })
    .await;
    running.stop().await.unwrap();

    let gaps = ports.replay_store.gaps(TOPIC).await.unwrap();
    assert_eq!(gaps.len(), 1);
    let gap = &gaps[0];
    assert_eq!(
        gap.from.as_ref().map(ReplayId::as_bytes),
        Some(&first.replay_id[..])
    );
    let start = gap
        .window_start
        .expect("the subscriber saved that event itself");
    assert_eq!(
        start.timestamp_millis(),
        first.created_date.timestamp_millis(),
        "the window starts at the last saved event's CreatedDate"
    );
    assert!(gap.detected_at >= start);
    assert!(
        gap.detected_at <= after.created_date,
        "detected before the next event"
    );
    assert_eq!(
        crate::helpers::saved(&ports.replay_store).await,
        Some(after.replay_id.to_vec())
    );
}
