//! Undecodable payloads go to the dead-letter queue with their raw bytes and
//! ids; the next good event is still forwarded.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use salesforce_emulator::ids;
use salesforce_emulator::pubsub::UNDECODABLE_PAYLOAD;

use crate::helpers::{aws_world, by_order, drain, eventually, org, saved, settings, spawn};

#[tokio::test]
async fn an_undecodable_event_reaches_the_dlq_and_the_next_good_one_is_forwarded() {
    let org = org().await;
    let world = aws_world(&org).await;
    let bad = org.emulator.publish_undecodable(&ids::random_id("801"));
    let good = org.publish();
    let running = spawn(world.ports.clone(), settings("dlq-test"));
    let last = good.replay_id.to_vec();
    eventually("the good event's position is saved", || async {
        saved(&world.ports.replay_store).await.as_deref() == Some(&last[..])
    })
    .await;
    let metrics = running.metrics.clone();
    running.stop().await.unwrap();

    let letters = drain(&world.sqs, &world.dlq_url, 1).await;
    assert_eq!(letters.len(), 1);
    let letter: serde_json::Value = serde_json::from_str(&letters[0].body).unwrap();
    assert_eq!(letter["eventId"], bad.event_id);
    assert_eq!(letter["replayId"], STANDARD.encode(bad.replay_id));
    assert_eq!(letter["payload"], STANDARD.encode(UNDECODABLE_PAYLOAD));
    assert_eq!(letter["schemaId"], bad.schema_id);
    assert_eq!(letter["payloadTruncated"], false);
    assert!(!letter["error"].as_str().unwrap().is_empty());
    assert_eq!(letters[0].dedup_id, bad.event_id);

    let forwarded = drain(&world.sqs, &world.queue_url, 1).await;
    let groups = by_order(&forwarded);
    assert_eq!(forwarded.len(), 1);
    let messages = groups.values().next().unwrap();
    assert_eq!(messages[0].dedup_id(), good.event_id);

    let counts = metrics.snapshot();
    assert_eq!(counts.decode_failures, 1);
    assert_eq!(counts.events_dead_lettered, 1);
    assert_eq!(counts.events_forwarded, 1);
}
