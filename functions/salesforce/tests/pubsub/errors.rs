//! Stream failures, classified: corrupted replay ids, stalls, drops, outages, bad topics.

use std::time::Duration;

use portal_core::domain::ReplayId;
use portal_core::ports::ReplayFrom;
use salesforce::pubsub::{PubSubError, SubscriptionItem, TransientError};
use salesforce_emulator::{EmulatorConfig, EventPayload, Fault};
use tonic::Code;

use crate::helpers::{PATIENT, end_of, org, org_with};

#[tokio::test]
async fn an_expired_never_issued_or_malformed_replay_id_is_replay_id_corrupted() {
    let org = org_with(
        EmulatorConfig {
            event_retention: Duration::from_secs(3600),
            ..EmulatorConfig::default()
        },
        PATIENT,
    )
    .await;
    let expired = org.emulator.events().publish(EventPayload::for_order(
        &salesforce_emulator::ids::random_id("801"),
        &org.emulator.admin_user_id(),
        chrono::Utc::now() - chrono::Duration::hours(2),
    ));
    for replay_id in [
        expired.replay_id.to_vec(),
        12_345u64.to_be_bytes().to_vec(),
        vec![0xde, 0xad],
    ] {
        let error = org
            .subscribe(ReplayFrom::After(ReplayId::new(replay_id).unwrap()), 10)
            .await
            .unwrap_err();
        assert!(
            matches!(error, PubSubError::ReplayIdCorrupted { .. }),
            "{error:?}"
        );
        assert!(!error.is_transient());
    }
}

#[tokio::test]
async fn a_silent_stream_trips_the_watchdog() {
    let org = org_with(
        EmulatorConfig {
            pubsub_keepalive_interval: Duration::from_millis(20),
            ..EmulatorConfig::default()
        },
        Duration::from_secs(1),
    )
    .await;
    let mut subscription = org.subscribe(ReplayFrom::Latest, 10).await.unwrap();
    assert!(matches!(
        subscription.next().await,
        Some(Ok(SubscriptionItem::Keepalive { .. }))
    ));
    org.emulator.inject(Fault::PubSubSilence);
    org.publish();
    let error = end_of(&mut subscription).await;
    assert!(
        matches!(error, PubSubError::Transient(TransientError::Stalled(_))),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert!(subscription.next().await.is_none());
    assert_eq!(
        org.emulator.pubsub_stats().open_streams,
        1,
        "half-open: the server still holds it"
    );
}

#[tokio::test]
async fn a_dropped_stream_is_transient() {
    let org = org().await;
    let mut subscription = org.subscribe(ReplayFrom::Latest, 10).await.unwrap();
    org.emulator.inject(Fault::PubSubDropStreams);
    let error = end_of(&mut subscription).await;
    assert!(
        matches!(
            error,
            PubSubError::Transient(TransientError::Status {
                code: Code::Unavailable,
                ..
            })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unavailable_subscribe_is_transient_and_the_next_one_works() {
    let org = org().await;
    org.emulator.inject(Fault::PubSubUnavailable(1));
    let error = org.subscribe(ReplayFrom::Latest, 10).await.unwrap_err();
    assert!(matches!(error, PubSubError::Transient(_)), "{error:?}");
    let mut subscription = org.subscribe(ReplayFrom::Latest, 10).await.unwrap();
    let event = org.publish();
    assert_eq!(
        crate::helpers::next_event(&mut subscription).await.event_id,
        event.event_id
    );
}

#[tokio::test]
async fn an_unknown_topic_is_permanent() {
    let org = org().await;
    let error = org
        .pubsub
        .subscribe("/event/Nope__e", ReplayFrom::Latest, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            PubSubError::Permanent {
                code: Code::NotFound,
                ..
            }
        ),
        "{error:?}"
    );
    let error = org.pubsub.get_topic("/event/Nope__e").await.unwrap_err();
    assert!(matches!(error, PubSubError::Permanent { .. }), "{error:?}");
    assert!(!error.is_transient());
}
