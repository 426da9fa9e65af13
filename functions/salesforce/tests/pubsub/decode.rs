//! Undecodable payloads are yielded with their raw bytes, never dropped, never blocking.

use portal_core::ports::ReplayFrom;
use salesforce::pubsub::DecodeError;
use salesforce_emulator::pubsub::UNDECODABLE_PAYLOAD;

use crate::helpers::{next_event, org};

#[tokio::test]
async fn an_undecodable_payload_is_yielded_with_its_bytes_and_the_next_event_still_arrives() {
    let org = org().await;
    let mut subscription = org.subscribe(ReplayFrom::Latest, 10).await.unwrap();
    let order_id = salesforce_emulator::ids::random_id("801");
    let bad = org.emulator.publish_undecodable(&order_id);
    let good = org.publish();

    let event = next_event(&mut subscription).await;
    assert_eq!(event.event_id, bad.event_id);
    assert_eq!(event.replay_id.as_ref().unwrap().as_bytes(), bad.replay_id);
    assert_eq!(event.raw_payload, UNDECODABLE_PAYLOAD);
    assert!(
        matches!(event.decoded, Err(DecodeError::Avro(_))),
        "{:?}",
        event.decoded
    );

    let event = next_event(&mut subscription).await;
    assert_eq!(event.event_id, good.event_id);
    assert_eq!(event.decoded.unwrap().order_id.as_str(), good.order_id);
}
