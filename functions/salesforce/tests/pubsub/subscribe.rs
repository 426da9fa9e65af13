//! Presets, flow control, keepalives and decoding on the happy path.

use portal_core::domain::ReplayId;
use portal_core::ports::ReplayFrom;
use salesforce::pubsub::SubscriptionItem;
use salesforce::schema::order_provision_requested::TOPIC;
use salesforce_emulator::EmulatorConfig;

use crate::helpers::{PATIENT, next_event, org, org_with};

#[tokio::test]
async fn latest_then_an_order_approval_arrives_decoded_with_its_order_id() {
    let org = org().await;
    org.publish(); // before the subscription: not delivered with LATEST
    let mut subscription = org.subscribe(ReplayFrom::Latest, 10).await.unwrap();
    let order = org.pending_order();
    org.emulator
        .update("Order", &order, serde_json::json!({"Status": "Approved"}))
        .unwrap();
    let event = next_event(&mut subscription).await;
    let published = org.emulator.events().all().pop().unwrap();
    let decoded = event.decoded.unwrap();
    assert_eq!(decoded.order_id.as_str(), order);
    assert_eq!(decoded.created_by_id, org.emulator.admin_user_id());
    assert_eq!(
        decoded.requested_by.as_deref(),
        Some(published.requested_by.as_str())
    );
    assert_eq!(
        decoded.idem_key.as_deref(),
        Some(published.idem_key.as_str())
    );
    assert_eq!(
        decoded.correlation_id.as_deref(),
        Some(published.correlation_id.as_str())
    );
    assert_eq!(decoded.version, Some(published.version));
    assert_eq!(
        decoded.created_date.timestamp_millis(),
        published.created_date.timestamp_millis()
    );
    assert_eq!(event.event_id, published.event_id);
    assert_eq!(
        event.replay_id.as_ref().unwrap().as_bytes(),
        published.replay_id
    );
    assert_eq!(event.schema_id, published.schema_id);
}

#[tokio::test]
async fn earliest_replays_the_retained_events_in_order() {
    let org = org().await;
    let published: Vec<_> = (0..4).map(|_| org.publish()).collect();
    let mut subscription = org.subscribe(ReplayFrom::Earliest, 100).await.unwrap();
    for expected in &published {
        let event = next_event(&mut subscription).await;
        assert_eq!(
            event.replay_id.as_ref().unwrap().as_bytes(),
            expected.replay_id
        );
        assert_eq!(event.decoded.unwrap().order_id.as_str(), expected.order_id);
    }
}

#[tokio::test]
async fn custom_resumes_strictly_after_the_given_replay_id() {
    let org = org().await;
    let published: Vec<_> = (0..4).map(|_| org.publish()).collect();
    let saved = ReplayId::new(published[1].replay_id).unwrap();
    let mut subscription = org.subscribe(ReplayFrom::After(saved), 100).await.unwrap();
    for expected in &published[2..] {
        let event = next_event(&mut subscription).await;
        assert_eq!(event.event_id, expected.event_id);
    }
    let later = org.publish();
    assert_eq!(next_event(&mut subscription).await.event_id, later.event_id);
}

#[tokio::test]
async fn with_a_batch_of_5_all_23_events_arrive_in_order_and_never_more_than_5_are_owed() {
    let org = org().await;
    let mut subscription = org.subscribe(ReplayFrom::Latest, 5).await.unwrap();
    let published: Vec<_> = (0..23).map(|_| org.publish()).collect();
    for expected in &published {
        let event = next_event(&mut subscription).await;
        assert_eq!(
            event.replay_id.as_ref().unwrap().as_bytes(),
            expected.replay_id
        );
    }
    let stats = org.emulator.pubsub_stats();
    assert!(stats.max_owed <= 5, "{stats:?}");
    assert_eq!(stats.max_owed, 5);
}

#[tokio::test]
async fn idle_subscriptions_get_keepalives_carrying_the_latest_replay_id() {
    let org = org_with(
        EmulatorConfig {
            pubsub_keepalive_interval: std::time::Duration::from_millis(20),
            ..EmulatorConfig::default()
        },
        PATIENT,
    )
    .await;
    let old = org.publish();
    let mut subscription = org.subscribe(ReplayFrom::Latest, 10).await.unwrap();
    match subscription.next().await {
        Some(Ok(SubscriptionItem::Keepalive { latest_replay_id })) => {
            assert_eq!(latest_replay_id.unwrap().as_bytes(), old.replay_id);
        }
        other => panic!("expected a keepalive, got {other:?}"),
    }
    // The stream is still usable after keepalives.
    let next = org.publish();
    let event = next_event(&mut subscription).await;
    assert_eq!(event.event_id, next.event_id);
    assert_eq!(subscription.topic(), TOPIC);
}

#[tokio::test]
async fn the_schema_is_fetched_once_for_many_events() {
    let org = org().await;
    for _ in 0..10 {
        org.publish();
    }
    let mut subscription = org.subscribe(ReplayFrom::Earliest, 4).await.unwrap();
    for _ in 0..10 {
        assert!(next_event(&mut subscription).await.decoded.is_ok());
    }
    let topic = org.pubsub.get_topic(TOPIC).await.unwrap();
    assert!(topic.can_subscribe);
    org.pubsub.get_schema(&topic.schema_id).await.unwrap();
    assert_eq!(org.emulator.pubsub_stats().get_schema_calls, 1);
}
