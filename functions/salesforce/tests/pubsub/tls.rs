//! TLS against the emulator's self-signed certificate: trusted with
//! `with_ca_certificate`, refused without it, and no plaintext fallback.

use portal_core::diagnostics::error_chain;
use std::time::Duration;

use portal_core::ports::ReplayFrom;
use salesforce::pubsub::{PubSubClient, PubSubConfig, PubSubError, TransientError};
use salesforce::schema::order_provision_requested::TOPIC;
use salesforce_emulator::{Emulator, EmulatorConfig};

use crate::helpers::{PATIENT, TestOrg, next_event, salesforce_client};

/// Short enough that a handshake that hangs would fail the test, long enough for a slow machine.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

async fn tls_emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        pubsub_tls: true,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_client_trusting_the_emulator_certificate_gets_the_topic_and_an_approved_order_event() {
    let emulator = tls_emulator().await;
    let url = emulator.pubsub_url();
    assert!(url.starts_with("https://localhost:"), "{url}");
    let ca = emulator.pubsub_ca_pem().unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    let config = PubSubConfig::new(&url)
        .unwrap()
        .with_watchdog(PATIENT)
        .with_connect_timeout(CONNECT_TIMEOUT)
        .with_ca_certificate(ca)
        .unwrap();
    let pubsub = PubSubClient::connect(config, salesforce_client(&emulator))
        .await
        .unwrap();
    let org = TestOrg { emulator, pubsub };

    let topic = org.pubsub.get_topic(TOPIC).await.unwrap();
    assert_eq!(topic.topic_name, TOPIC);
    assert!(topic.can_subscribe);

    let mut subscription = org.subscribe(ReplayFrom::Latest, 10).await.unwrap();
    let order = org.pending_order();
    org.emulator
        .update("Order", &order, serde_json::json!({"Status": "Approved"}))
        .unwrap();
    let event = next_event(&mut subscription).await;
    assert_eq!(event.decoded.unwrap().order_id.as_str(), order);
}

#[tokio::test]
async fn without_the_emulator_certificate_connecting_fails_with_a_certificate_error() {
    let emulator = tls_emulator().await;
    let config = PubSubConfig::new(&emulator.pubsub_url())
        .unwrap()
        .with_connect_timeout(CONNECT_TIMEOUT);
    let error = PubSubClient::connect(config, salesforce_client(&emulator))
        .await
        .unwrap_err();
    let text = error_chain(&error);
    assert!(
        matches!(error, PubSubError::Transient(TransientError::Connect(_))),
        "{error:?}"
    );
    assert!(text.to_lowercase().contains("certificate"), "{text}");
    assert_eq!(emulator.pubsub_stats().get_topic_calls, 0);
}

#[tokio::test]
async fn a_plaintext_client_cannot_talk_to_the_tls_server() {
    let emulator = tls_emulator().await;
    let port = emulator.pubsub_url().rsplit(':').next().unwrap().to_owned();
    let config = PubSubConfig::new(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .with_connect_timeout(CONNECT_TIMEOUT);
    // HTTP/2 connects lazily: the refusal comes at connect or at the first call.
    let error = match PubSubClient::connect(config, salesforce_client(&emulator)).await {
        Err(error) => error,
        Ok(client) => client.get_topic(TOPIC).await.unwrap_err(),
    };
    assert!(
        matches!(
            error,
            PubSubError::Transient(TransientError::Connect(_) | TransientError::Status { .. })
        ),
        "{}",
        error_chain(&error)
    );
    assert_eq!(emulator.pubsub_stats().get_topic_calls, 0);
}
