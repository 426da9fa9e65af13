//! In process ([`Runner::start`]): an Order approved twice (the second time
//! by setting `Activation_Status__c = Activating` again, which the Order
//! Approval Flow turns into a second event) is ordered in WHMCS once.

use portal_core::config::Config as _;
use std::time::Duration;

mod common;

use portal_local::{LocalConfig, Runner};
use serde_json::json;

use crate::common::{Customer, place_order, send};

fn config() -> LocalConfig {
    LocalConfig::from_lookup(|name| match name {
        "PORT" => Some("0".to_owned()),
        "SF_EMULATOR_BIND" | "SF_EMULATOR_PUBSUB_BIND" | "WHMCS_EMULATOR_BIND" => {
            Some("127.0.0.1:0".to_owned())
        }
        _ => None,
    })
    .expect("a valid configuration")
}

/// Polls (up to 30 s, every 200 ms) until `done` holds.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..150 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    done()
}

#[tokio::test]
async fn an_order_approved_twice_is_ordered_in_whmcs_once() {
    let runner = Runner::start(config()).await.expect("the runner starts");
    let http = reqwest::Client::new();
    let api = runner.api.url.clone();
    let customer = Customer {
        sub: "user-2",
        email: "taro@example.jp",
        first_name: "Taro",
        last_name: "Suzuki",
    };
    let (token, order_id) = place_order(&http, &api, customer).await;
    let order_url = format!(
        "{}/services/data/v62.0/sobjects/Order/{order_id}",
        runner.org.url
    );
    let counters = std::sync::Arc::clone(&runner.provisioner.counters);

    let (status, body) = send(
        http.patch(&order_url)
            .bearer_auth("local-admin")
            .json(&json!({"Status": "Approved"})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert!(
        eventually(|| counters.settled() >= 1).await,
        "the first approval was never settled"
    );
    let (_, first) = send(
        http.get(format!("{api}/orders/{order_id}"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(first["activationStatus"], "Provisioned", "{first}");

    let (status, body) = send(
        http.patch(&order_url)
            .bearer_auth("local-admin")
            .json(&json!({"Activation_Status__c": "Activating"})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert!(
        eventually(|| counters.settled() >= 2).await,
        "the second approval was never settled"
    );

    let whmcs = runner.whmcs.emulator.as_ref().expect("the WHMCS emulator");
    assert_eq!(whmcs.orders_created(), 1);
    assert_eq!(whmcs.orders().len(), 1);
    let (_, second) = send(
        http.get(format!("{api}/orders/{order_id}"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(second["whmcsOrderId"], first["whmcsOrderId"], "{second}");
    assert_eq!(second["serviceId"], first["serviceId"], "{second}");
    // The known result was written back: the Order does not stay Activating.
    assert_eq!(second["activationStatus"], "Provisioned", "{second}");
    assert!(runner.shared.dead_letters.letters().is_empty());
    assert!(runner.shared.queue.is_empty());
    runner.shutdown().await;
}
