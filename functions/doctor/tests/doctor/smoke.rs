//! `portal-doctor --smoke` against the whole pipeline on emulators
//! (`portal-local`: the org, WHMCS, the subscriber over Pub/Sub gRPC, the
//! queue and the provisioner): it says what it will write, approves a test
//! Order, sees the event on Pub/Sub, sees the Order go through the queue
//! path and end Provisioned with its WHMCS order, and lists what it created.
//! Without the pipeline (the org alone) the two pipeline lines fail.

use base64::Engine as _;
use portal_core::config::Config as _;
use portal_local::{LocalConfig, Runner};
use salesforce_emulator::config::{DEFAULT_CLIENT_ID, DEFAULT_USERNAME};
use salesforce_emulator::fixtures;

use crate::helpers::run_binary;

fn config() -> LocalConfig {
    LocalConfig::from_lookup(|name| match name {
        "PORT" => Some("0".to_owned()),
        "SF_EMULATOR_BIND" | "SF_EMULATOR_PUBSUB_BIND" | "WHMCS_EMULATOR_BIND" => {
            Some("127.0.0.1:0".to_owned())
        }
        "RECONCILER_EVERY_SECS" => Some("3600".to_owned()),
        _ => None,
    })
    .expect("a valid configuration")
}

fn env(org_url: String, pubsub: String, whmcs_url: String) -> Vec<(&'static str, String)> {
    vec![
        ("SF_LOGIN_URL", org_url),
        ("SF_CLIENT_ID", DEFAULT_CLIENT_ID.to_owned()),
        ("SF_USERNAME", DEFAULT_USERNAME.to_owned()),
        (
            "SF_PRIVATE_KEY_BASE64",
            base64::engine::general_purpose::STANDARD.encode(fixtures::CLIENT_PRIVATE_KEY_PEM),
        ),
        ("SF_PUBSUB_ENDPOINT", pubsub),
        ("WHMCS_API_URL", whmcs_url),
        ("WHMCS_API_IDENTIFIER", "local".to_owned()),
        ("WHMCS_API_SECRET", "local".to_owned()),
        ("WHMCS_PAYMENT_METHOD", "banktransfer".to_owned()),
        ("DOCTOR_SMOKE_TIMEOUT_SECS", "30".to_owned()),
    ]
}

#[tokio::test]
async fn the_smoke_run_approves_an_order_and_follows_it_to_provisioned_through_the_pipeline() {
    let runner = Runner::start(config()).await.expect("the pipeline starts");
    let org = runner.org.emulator.as_ref().expect("an emulated org");
    let orders_before = org.count("Order");
    let env = env(
        runner.org.url.clone(),
        runner.subscriber.endpoint.clone(),
        runner.whmcs.url.clone(),
    );

    let run = run_binary(env, &["--smoke"]).await;

    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("Smoke run against"), "{}", run.stderr);
    for line in [
        "PASS Test order approval → event published",
        "PASS Test portal subscription → event received",
        "PASS Test full provisioning flow end-to-end",
    ] {
        assert!(run.stdout.contains(line), "{line}:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("MANUAL"), "{}", run.stdout);
    // Exactly one test Order, Provisioned, and its WHMCS order listed for removal.
    assert_eq!(org.count("Order"), orders_before + 1);
    let order = org
        .records("Order")
        .into_iter()
        .find(|o| o["Activation_Status__c"] == "Provisioned")
        .expect("the smoke Order is provisioned");
    let order_id = order["Id"].as_str().unwrap();
    assert!(
        run.stderr.contains(&format!("Salesforce Order {order_id}")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("WHMCS order "), "{}", run.stderr);
    let account = org
        .records("Account")
        .into_iter()
        .find(|a| {
            a["Name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Portal doctor smoke"))
        })
        .expect("the smoke Account");
    assert_eq!(
        account["Portal_Status__c"], "Inactive",
        "closed after the run"
    );
    runner.shutdown().await;
}

#[tokio::test]
async fn without_a_pipeline_the_event_is_seen_but_the_order_stays_activating() {
    let world = crate::helpers::world(salesforce_emulator::SchemaGaps::default()).await;
    let mut env = env(
        world.org.base_url(),
        world.org.pubsub_url(),
        world.whmcs.api_url(),
    );
    env.retain(|(k, _)| *k != "DOCTOR_SMOKE_TIMEOUT_SECS");
    env.push(("DOCTOR_SMOKE_TIMEOUT_SECS", "3".to_owned()));

    let run = run_binary(env, &["--smoke"]).await;

    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("PASS Test order approval → event published"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("still Activating after 3s"),
        "{}",
        run.stdout
    );
}
