//! In process ([`Runner::start`]): an Order approved twice (the second time
//! by setting `Activation_Status__c = Activating` again, which the Order
//! Approval Flow turns into a second event) is ordered in WHMCS once.

use std::time::Duration;

use portal_local::{LocalConfig, Runner};
use serde_json::{Value, json};

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

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("a body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
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

/// A registered customer's token and a placed SIM order's id.
async fn place_order(http: &reqwest::Client, api: &str) -> (String, String) {
    let (_, body) = send(
        http.post(format!("{api}/_local/token"))
            .json(&json!({"sub": "user-2", "email": "taro@example.jp"})),
    )
    .await;
    let unlinked = body["token"].as_str().expect("a token").to_owned();
    let (status, registered) = send(
        http.post(format!("{api}/registrations"))
            .bearer_auth(&unlinked)
            .json(&json!({"firstName": "Taro", "lastName": "Suzuki"})),
    )
    .await;
    assert_eq!(status, 201, "{registered}");
    let (_, body) = send(http.post(format!("{api}/_local/token")).json(&json!({
        "sub": "user-2",
        "email": "taro@example.jp",
        "sf_account_id": registered["accountId"],
    })))
    .await;
    let token = body["token"].as_str().expect("a token").to_owned();
    let (_, catalog) = send(http.get(format!("{api}/catalog")).bearer_auth(&token)).await;
    let sim = catalog["products"]
        .as_array()
        .expect("products")
        .iter()
        .find(|p| p["family"] == "SIM" && p["itemClass"] == "Service")
        .expect("a SIM plan")["productId"]
        .clone();
    let (status, placed) = send(
        http.post(format!("{api}/orders"))
            .bearer_auth(&token)
            .json(&json!({"commodityType": "SIM", "items": [{"productId": sim, "quantity": 1}]})),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    let order_id = placed["orderId"].as_str().expect("an order id").to_owned();
    (token, order_id)
}

#[tokio::test]
async fn an_order_approved_twice_is_ordered_in_whmcs_once() {
    let runner = Runner::start(config()).await.expect("the runner starts");
    let http = reqwest::Client::new();
    let api = runner.api.url.clone();
    let (token, order_id) = place_order(&http, &api).await;
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
