//! A clean stop: the batch in hand is sent, the replay id saved, the lease
//! released, and `run` returns `Ok`.

use std::time::Duration;

use portal_core::ports::LeaseAcquisition;

use crate::helpers::{
    eventually, memory_ports, next_task_asks_for_the_lease, org, saved, settings, spawn,
};

#[tokio::test]
async fn a_stop_request_sends_the_batch_in_hand_saves_and_releases() {
    let org = org().await;
    let ports = memory_ports(&org);
    let mut s = settings("stop-test");
    // Events stay in hand until the batch is full (10) or the stop.
    s.flush_after = Duration::from_secs(3600);
    let name = s.lease_name.clone();
    let running = spawn(ports.clone(), s);
    let published: Vec<_> = (0..3).map(|_| org.publish()).collect();
    eventually("the three events are in hand", || async {
        running.metrics.snapshot().events_received == 3
    })
    .await;
    assert_eq!(ports.queue.len(), 0, "not sent before the stop");
    assert_eq!(saved(&ports.replay_store).await, None);

    let stopped = running.stop().await.expect("a clean stop is Ok");

    let last = published.last().unwrap().replay_id.to_vec();
    assert_eq!(stopped.saved.unwrap().as_bytes(), &last[..]);
    assert_eq!(saved(&ports.replay_store).await, Some(last));
    let ids: Vec<String> = ports
        .queue
        .receive(10)
        .into_iter()
        .map(|d| d.message.as_ref().unwrap().dedup_id().to_owned())
        .collect();
    let expected: Vec<String> = published.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(ids, expected);
    let next = next_task_asks_for_the_lease(&ports.lease, &name).await;
    assert!(
        matches!(next, LeaseAcquisition::Acquired { .. }),
        "the lease was released: {next:?}"
    );
}
