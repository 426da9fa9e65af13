//! Auth metadata: one re-login on UNAUTHENTICATED, then AuthFailed.

use portal_core::ports::ReplayFrom;
use salesforce::pubsub::PubSubError;
use salesforce::schema::order_provision_requested::TOPIC;
use salesforce_emulator::{Emulator, EmulatorConfig};

use crate::helpers::{PATIENT, next_event, org, pubsub_client, salesforce_client};

#[tokio::test]
async fn an_expired_session_is_renewed_once_and_the_calls_succeed() {
    let org = org().await;
    org.pubsub.get_topic(TOPIC).await.unwrap();
    assert_eq!(org.emulator.successful_logins(), 1);

    org.emulator.expire_all_sessions();
    let topic = org.pubsub.get_topic(TOPIC).await.unwrap();
    assert_eq!(topic.tenant_guid, org.emulator.org_id());
    assert_eq!(org.emulator.successful_logins(), 2);

    org.emulator.expire_all_sessions();
    let mut subscription = org.subscribe(ReplayFrom::Latest, 10).await.unwrap();
    assert_eq!(org.emulator.successful_logins(), 3);
    let event = org.publish();
    assert_eq!(next_event(&mut subscription).await.event_id, event.event_id);
}

#[tokio::test]
async fn a_session_of_another_org_fails_with_auth_failed_after_one_relogin() {
    let theirs = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let ours = Emulator::start(EmulatorConfig::default()).await.unwrap();
    // Logged in to `ours` (its token, instance URL and tenant), talking to `theirs`.
    let salesforce = salesforce_client(&ours);
    let pubsub = pubsub_client(&theirs.pubsub_url(), salesforce, PATIENT).await;
    let error = pubsub.get_topic(TOPIC).await.unwrap_err();
    assert!(matches!(error, PubSubError::AuthFailed { .. }), "{error:?}");
    assert!(!error.is_transient());
    assert_eq!(
        ours.successful_logins(),
        2,
        "one login, one re-login, no more"
    );
    let error = pubsub
        .subscribe(TOPIC, ReplayFrom::Latest, 10)
        .await
        .unwrap_err();
    assert!(matches!(error, PubSubError::AuthFailed { .. }), "{error:?}");
    assert_eq!(ours.successful_logins(), 3, "again exactly one re-login");
}
