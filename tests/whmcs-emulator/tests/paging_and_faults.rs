//! Paging as WHMCS pages (25 by default) and the faults armed over
//! `POST /_emulator/faults`, seen by a plain HTTP client.

use std::time::Duration;

use serde_json::{Value, json};
use whmcs_emulator::{WhmcsEmulator, WhmcsEmulatorConfig, WhmcsFault, salesforce_order_id_field};

const AUTH: &str = "identifier=local&secret=local&responsetype=json";

async fn call(whmcs: &WhmcsEmulator, body: &str) -> Result<(u16, Value), reqwest::Error> {
    let response = reqwest::Client::new()
        .post(whmcs.api_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("{body}&{AUTH}"))
        .timeout(Duration::from_secs(2))
        .send()
        .await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

async fn arm(whmcs: &WhmcsEmulator, fault: Value) -> u16 {
    let base = whmcs.api_url().replace("/includes/api.php", "");
    reqwest::Client::new()
        .post(format!("{base}/_emulator/faults"))
        .json(&fault)
        .send()
        .await
        .expect("control route")
        .status()
        .as_u16()
}

async fn client(whmcs: &WhmcsEmulator) -> u64 {
    let (_, created) = call(
        whmcs,
        "action=AddClient&firstname=A&lastname=B&email=a%40b.example&skipvalidation=1",
    )
    .await
    .expect("AddClient");
    created["clientid"].as_u64().expect("clientid")
}

fn order_body(client: u64, lines: usize) -> String {
    let mut body = format!("action=AddOrder&clientid={client}&paymentmethod=banktransfer");
    for i in 0..lines {
        body.push_str(&format!("&pid[{i}]=301&billingcycle[{i}]=monthly"));
    }
    body
}

#[tokio::test]
async fn list_actions_answer_25_by_default_and_page_with_limitstart_and_limitnum() {
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default())
        .await
        .unwrap();
    let client = client(&whmcs).await;
    for _ in 0..30 {
        let (_, added) = call(&whmcs, &order_body(client, 1)).await.unwrap();
        assert_eq!(added["result"], "success");
    }
    let products = |extra: &str| {
        let body = format!("action=GetClientsProducts&clientid={client}{extra}");
        let whmcs = &whmcs;
        async move { call(whmcs, &body).await }
    };
    let (_, first) = products("").await.unwrap();
    assert_eq!(
        (
            &first["totalresults"],
            &first["startnumber"],
            &first["numreturned"]
        ),
        (&json!(30), &json!(0), &json!(25))
    );
    let ids: Vec<u64> = first["products"]["product"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (9001..9026).collect::<Vec<_>>(), "oldest first");
    let (_, rest) = products("&limitstart=25").await.unwrap();
    assert_eq!(
        (&rest["startnumber"], &rest["numreturned"]),
        (&json!(25), &json!(5))
    );
    assert_eq!(rest["products"]["product"][0]["id"], 9026);
    let (_, all) = products("&limitnum=100").await.unwrap();
    assert_eq!(all["numreturned"], 30);
    let (_, past) = products("&limitstart=30").await.unwrap();
    assert_eq!(past["numreturned"], 0);
    assert!(past.get("products").is_none(), "{past}");
    let (_, none) = call(&whmcs, "action=GetClientsProducts&clientid=999")
        .await
        .unwrap();
    assert_eq!(
        (&none["totalresults"], &none["products"]),
        (&json!(0), &json!(""))
    );

    let (_, orders) = call(&whmcs, &format!("action=GetOrders&userid={client}"))
        .await
        .unwrap();
    assert_eq!(
        (&orders["totalresults"], &orders["numreturned"]),
        (&json!(30), &json!(25))
    );
    assert_eq!(orders["orders"]["order"][0]["id"], "5030", "newest first");
}

#[tokio::test]
async fn an_incomplete_order_is_created_without_its_last_line_and_answers_success() {
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default())
        .await
        .unwrap();
    let client = client(&whmcs).await;
    assert_eq!(
        arm(&whmcs, json!({"type": "incompleteOrder", "n": 2})).await,
        204
    );
    let (_, two_lines) = call(&whmcs, &order_body(client, 2)).await.unwrap();
    assert_eq!(two_lines["result"], "success");
    assert_eq!(two_lines["serviceids"], "9001");
    let (_, one_line) = call(&whmcs, &order_body(client, 1)).await.unwrap();
    assert_eq!(
        (&one_line["result"], &one_line["serviceids"]),
        (&json!("success"), &json!(""))
    );
    assert_eq!(whmcs.orders().len(), 2);
    assert_eq!(whmcs.services().len(), 1);
    let (_, complete) = call(&whmcs, &order_body(client, 2)).await.unwrap();
    assert_eq!(complete["serviceids"], "9002,9003", "the fault is spent");
}

#[tokio::test]
async fn faults_armed_over_http_commit_then_lose_the_answer_or_refuse() {
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default())
        .await
        .unwrap();
    let client = client(&whmcs).await;
    assert_eq!(
        arm(
            &whmcs,
            json!({"type": "commitThenStall", "action": "addorder", "millis": 5000, "n": 1})
        )
        .await,
        204
    );
    let stalled = call(&whmcs, &order_body(client, 1)).await.unwrap_err();
    assert!(stalled.is_timeout(), "{stalled:?}");
    assert_eq!(whmcs.orders_created(), 1, "committed");
    assert_eq!(
        arm(
            &whmcs,
            json!({"type": "commitThenDrop", "action": "AddOrder", "n": 1})
        )
        .await,
        204
    );
    let dropped = call(&whmcs, &order_body(client, 1)).await.unwrap_err();
    assert!(!dropped.is_timeout(), "{dropped:?}");
    assert_eq!(whmcs.orders_created(), 2, "committed");
    assert_eq!(
        arm(
            &whmcs,
            json!({"type": "serverError", "action": "AddOrder", "n": 2})
        )
        .await,
        204
    );
    for _ in 0..2 {
        let (status, _) = call(&whmcs, &order_body(client, 1)).await.unwrap();
        assert_eq!(status, 500);
    }
    assert_eq!(whmcs.orders_created(), 2, "nothing done");
    assert_eq!(
        arm(
            &whmcs,
            json!({"type": "htmlBody", "action": "GetOrders", "n": 1})
        )
        .await,
        204
    );
    let (status, page) = call(&whmcs, "action=GetOrders").await.unwrap();
    assert!(status == 200 && page.as_str().is_some_and(|t| t.contains("<html>")));
    let (_, fine) = call(&whmcs, &order_body(client, 1)).await.unwrap();
    assert_eq!(fine["result"], "success");
    // Refused specs name what is wrong.
    for bad in [
        json!({"type": "commitThenDrop", "action": "Nope", "n": 1}),
        json!({"type": "commitThenDrop", "action": "AddOrder"}),
        json!({"type": "sometimes"}),
    ] {
        assert_eq!(arm(&whmcs, bad.clone()).await, 400, "{bad}");
    }
    // Latency until cleared, then the stats.
    assert_eq!(
        arm(&whmcs, json!({"type": "latency", "millis": 2500})).await,
        204
    );
    assert!(
        call(&whmcs, "action=GetOrders")
            .await
            .unwrap_err()
            .is_timeout()
    );
    let base = whmcs.api_url().replace("/includes/api.php", "");
    let http = reqwest::Client::new();
    let cleared = http
        .delete(format!("{base}/_emulator/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);
    assert_eq!(call(&whmcs, "action=GetOrders").await.unwrap().0, 200);
    let stats: Value = http
        .get(format!("{base}/_emulator/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["ordersCreated"], 3);
    assert_eq!(stats["calls"]["addorder"], 5);
}

#[tokio::test]
async fn a_stall_ends_with_the_committed_answer() {
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default())
        .await
        .unwrap();
    let client = client(&whmcs).await;
    whmcs.inject(WhmcsFault::stall_after_commit(
        "AddOrder",
        Duration::from_millis(300),
    ));
    let (_, added) = call(&whmcs, &order_body(client, 1)).await.unwrap();
    assert_eq!(added["orderid"], 5001);
    let field = salesforce_order_id_field(301).unwrap();
    assert!(whmcs.find_services_by_custom_field(field, "x").is_empty());
}

#[tokio::test]
async fn a_spent_fault_is_seen_with_the_answer_the_client_never_read() {
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default())
        .await
        .unwrap();
    let client = client(&whmcs).await;
    let mut spent = whmcs.spent_faults();
    whmcs.inject(WhmcsFault::drop_after_commit("AddOrder"));
    assert!(
        call(&whmcs, &order_body(client, 1)).await.is_err(),
        "the connection is cut mid-body"
    );
    spent.changed().await.expect("the emulator is running");
    let seen = spent.borrow_and_update().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].fault, WhmcsFault::drop_after_commit("AddOrder"));
    assert_eq!(seen[0].answer["orderid"], whmcs.orders()[0].id);
    // Calls without a fault are not logged.
    call(&whmcs, &order_body(client, 1)).await.unwrap();
    assert_eq!(whmcs.spent_faults().borrow().len(), 1);
}
