//! The emulator's HTTP surface, seen by a plain HTTP client.

use whmcs_emulator::{
    SALESFORCE_ORDER_ID_FIELD_NAME, WhmcsEmulator, WhmcsEmulatorConfig, salesforce_order_id_field,
};

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

#[tokio::test]
async fn get_products_lists_the_catalog_with_each_products_own_salesforce_order_id_field() {
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default())
        .await
        .unwrap();
    let auth = "identifier=local&secret=local&responsetype=json";
    let (status, all) = post(
        &whmcs.api_url(),
        FORM,
        &format!("action=GetProducts&{auth}"),
    )
    .await;
    assert_eq!(status, 200);
    let products = all["products"]["product"].as_array().unwrap();
    assert_eq!(all["totalresults"], 9);
    let mut field_ids = Vec::new();
    for product in products {
        let pid = u32::try_from(product["pid"].as_u64().unwrap()).unwrap();
        let field = &product["customfields"]["customfield"][0];
        assert_eq!(field["name"], SALESFORCE_ORDER_ID_FIELD_NAME);
        assert_eq!(
            field["id"].as_u64(),
            salesforce_order_id_field(pid).map(u64::from),
            "{pid}"
        );
        field_ids.push(field["id"].as_u64().unwrap());
    }
    field_ids.sort_unstable();
    field_ids.dedup();
    assert_eq!(field_ids.len(), products.len(), "one field row per product");

    let (_, two) = post(
        &whmcs.api_url(),
        FORM,
        &format!("action=GetProducts&{auth}&pid=103,302"),
    )
    .await;
    let two = two["products"]["product"].as_array().unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(two[0]["paytype"], "onetime");
    assert_eq!(two[0]["pricing"]["JPY"]["monthly"], "3300.00");
    assert_eq!(two[1]["module"], "autorelease");
    assert_eq!(two[1]["pricing"]["JPY"]["annually"], "9900.00");
    assert_eq!(two[1]["pricing"]["JPY"]["monthly"], "-1.00");

    let (_, none) = post(
        &whmcs.api_url(),
        FORM,
        &format!("action=GetProducts&{auth}&pid=199"),
    )
    .await;
    assert_eq!(none["result"], "success");
    assert_eq!(none["totalresults"], 0);
    assert!(none.get("products").is_none());
}

#[tokio::test]
async fn get_payment_methods_lists_the_configured_gateways() {
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig {
        payment_methods: vec!["banktransfer".to_owned(), "stripe".to_owned()],
        ..WhmcsEmulatorConfig::default()
    })
    .await
    .unwrap();
    let (_, answer) = post(
        &whmcs.api_url(),
        FORM,
        "action=GetPaymentMethods&identifier=local&secret=local&responsetype=json",
    )
    .await;
    assert_eq!(answer["totalresults"], 2);
    assert_eq!(
        answer["paymentmethods"]["paymentmethod"][0],
        serde_json::json!({"module": "banktransfer", "displayname": "Bank Transfer"})
    );
    assert_eq!(
        answer["paymentmethods"]["paymentmethod"][1]["module"],
        "stripe"
    );
}
