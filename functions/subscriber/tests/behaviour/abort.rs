//! The subscriber killed at random moments: every event still reaches SQS,
//! and the deduplication id makes the replays harmless.

use std::collections::HashSet;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use salesforce_emulator::ids;

use crate::helpers::{aws_world, drain, eventually, org, saved, settings, spawn};

#[tokio::test]
async fn aborted_at_random_points_20_times_every_event_reaches_the_queue_once() {
    let org = org().await;
    let world = aws_world(&org).await;
    let orders: Vec<String> = (0..5).map(|_| ids::random_id("801")).collect();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut published = Vec::new();
    for i in 0..30 {
        published.push(org.publish_for(&orders[i % orders.len()]));
    }
    for run in 0..20 {
        let running = spawn(world.ports.clone(), settings("abort-test"));
        for _ in 0..rng.random_range(0..4) {
            published.push(org.publish_for(&orders[rng.random_range(0..orders.len())]));
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..250))).await;
        running.handle.abort();
        let aborted = running.handle.await;
        assert!(
            aborted.as_ref().is_err_and(|e| e.is_cancelled()) || aborted.is_ok(),
            "run {run}: {aborted:?}"
        );
    }
    // One last run, left to finish.
    let running = spawn(world.ports.clone(), settings("abort-test"));
    let last = published.last().unwrap().replay_id.to_vec();
    eventually("the last event's position is saved", || async {
        saved(&world.ports.replay_store).await.as_deref() == Some(&last[..])
    })
    .await;
    running.stop().await.unwrap();

    let received = drain(&world.sqs, &world.queue_url, published.len()).await;
    let distinct: HashSet<&str> = received.iter().map(|r| r.dedup_id.as_str()).collect();
    let expected: HashSet<&str> = published.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(distinct, expected, "no event missing, none invented");
    assert_eq!(
        received.len(),
        published.len(),
        "replayed events were dropped by the queue's deduplication"
    );
}
