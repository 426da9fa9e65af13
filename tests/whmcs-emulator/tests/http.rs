//! The emulator's HTTP surface, seen by a plain HTTP client.

use whmcs_emulator::{WhmcsEmulator, WhmcsEmulatorConfig};

async fn post(url: &str, content_type: &str, body: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON answer"))
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn wrong_or_missing_credentials_are_http_403_authentication_failed() {
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default())
        .await
        .unwrap();
    let url = whmcs.api_url();
    for body in [
        "action=GetOrders&identifier=local&secret=wrong&responsetype=json",
        "action=GetOrders&responsetype=json",
    ] {
        let (status, answer) = post(&url, FORM, body).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(
            answer,
            serde_json::json!({"result": "error", "message": "Authentication Failed"})
        );
    }
    // PHP does not read credentials from a JSON body.
    let json = r#"{"action":"GetOrders","identifier":"local","secret":"local"}"#;
    let (status, _) = post(&url, "application/json", json).await;
    assert_eq!(status, 403);
    assert_eq!(whmcs.calls("GetOrders"), 2);
}

#[tokio::test]
async fn a_boolean_sent_as_false_is_refused_because_php_reads_it_as_true() {
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default())
        .await
        .unwrap();
    let auth = "identifier=local&secret=local&responsetype=json";
    let (_, created) = post(
        &whmcs.api_url(),
        FORM,
        &format!("action=AddClient&{auth}&firstname=A&lastname=B&email=a%40b.example&address1=x&city=y&state=z&postcode=1&country=JP&phonenumber=1"),
    )
    .await;
    let client_id = created["clientid"].as_u64().unwrap();

    let (status, answer) = post(
        &whmcs.api_url(),
        FORM,
        &format!("action=AddOrder&{auth}&clientid={client_id}&paymentmethod=banktransfer&pid[0]=301&billingcycle[0]=monthly&noinvoice=false"),
    )
    .await;

    assert_eq!(status, 200);
    assert_eq!(answer["result"], "error");
    assert!(answer["message"].as_str().unwrap().contains("noinvoice"));
    assert_eq!(whmcs.orders_created(), 0);
}

#[tokio::test]
async fn an_unseeded_emulator_knows_no_product() {
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig {
        seed: false,
        ..WhmcsEmulatorConfig::default()
    })
    .await
    .unwrap();
    let auth = "identifier=local&secret=local&responsetype=json";
    let (_, created) = post(
        &whmcs.api_url(),
        FORM,
        &format!("action=AddClient&{auth}&firstname=A&lastname=B&email=a%40b.example&address1=x&city=y&state=z&postcode=1&country=JP&phonenumber=1"),
    )
    .await;
    let client_id = created["clientid"].as_u64().unwrap();

    let (_, answer) = post(
        &whmcs.api_url(),
        FORM,
        &format!("action=AddOrder&{auth}&clientid={client_id}&paymentmethod=banktransfer&pid[0]=301&billingcycle[0]=monthly"),
    )
    .await;

    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("Product ID Not Found: 301")
    );
}
