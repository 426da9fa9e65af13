//! The client against the WHMCS emulator over real HTTP: every call, WHMCS's
//! refusals, and the faults that leave an outcome unknown.

use portal_core::config::Config as _;
use portal_core::ports::{BillingAccount, BillingContact, BillingGateway};
use std::collections::BTreeMap;
use std::time::Duration;

use portal_core::config::ConfigError;
use secrecy::SecretString;
use whmcs::{
    AcceptOutcome, BillingCycle, NewClient, NewOrder, OrderLine, OrderStatus, ServiceStatus,
    TransportStage, WhmcsClient, WhmcsConfig, WhmcsError,
};
use whmcs_emulator::{
    DATA_PLAN_OPTION_ID, SPEED_OPTION_ID, WhmcsEmulator, WhmcsEmulatorConfig, WhmcsFault,
    salesforce_order_id_field,
};

const SF_ORDER: &str = "801J0000000AbCdIAK";

async fn emulator() -> WhmcsEmulator {
    WhmcsEmulator::start(WhmcsEmulatorConfig::default())
        .await
        .expect("emulator starts")
}

fn config(url: &str, identifier: &str, secret: &str, timeout: Duration) -> WhmcsConfig {
    WhmcsConfig {
        api_url: url::Url::parse(url).expect("emulator URL"),
        identifier: identifier.to_owned(),
        secret: SecretString::from(secret),
        access_key: None,
        timeout,
    }
}

fn client_for(whmcs: &WhmcsEmulator) -> WhmcsClient {
    WhmcsClient::new(config(
        &whmcs.api_url(),
        "local",
        "local",
        Duration::from_secs(10),
    ))
    .expect("client builds")
}

fn new_client(email: &str) -> NewClient {
    NewClient {
        firstname: "Zoë".into(),
        lastname: "Tanaka".into(),
        email: email.into(),
        phonenumber: Some("+81 3 1234 5678".into()),
        companyname: None,
        address1: Some("1-2-3 Shibuya".into()),
        address2: None,
        city: Some("Tokyo".into()),
        state: Some("Tokyo".into()),
        postcode: Some("150-0002".into()),
        country: Some("JP".into()),
        password2: None,
        no_email: true,
        skip_validation: false,
    }
}

/// The id of product `pid`'s own "Salesforce Order Id" field.
fn sf_field(pid: u32) -> u32 {
    salesforce_order_id_field(pid).expect("a seeded product")
}

fn line(pid: u32, cycle: BillingCycle) -> OrderLine {
    OrderLine {
        pid,
        billing_cycle: cycle,
        config_options: BTreeMap::new(),
        // A product WHMCS does not have has no field: send none (WHMCS refuses the pid first).
        custom_fields: salesforce_order_id_field(pid)
            .map(|id| BTreeMap::from([(id, SF_ORDER.to_owned())]))
            .unwrap_or_default(),
        qty: 1,
    }
}

fn new_order(client_id: u64, items: Vec<OrderLine>) -> NewOrder {
    NewOrder {
        client_id,
        payment_method: "banktransfer".into(),
        items,
        promo_code: None,
        no_invoice: false,
        no_invoice_email: true,
        no_email: true,
        client_ip: Some("203.0.113.9".parse().expect("ip")),
    }
}

async fn raw_post(url: &str, body: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON answer"))
}

fn api_message(result: Result<impl std::fmt::Debug, WhmcsError>) -> String {
    match result {
        Err(WhmcsError::Api { message, .. }) => message,
        other => panic!("expected a WHMCS error, got {other:?}"),
    }
}

#[tokio::test]
async fn add_client_then_find_it_by_email_and_by_id() {
    let whmcs = emulator().await;
    let client = client_for(&whmcs);

    let id = client
        .add_client(&new_client("zoe@example.jp"))
        .await
        .unwrap();

    let by_email = client
        .get_client_by_email("ZOE@example.jp")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id, id);
    assert_eq!(by_email.firstname, "Zoë");
    let by_id = client.get_client(id).await.unwrap().unwrap();
    assert_eq!(by_id.email, "zoe@example.jp");
    assert_eq!(by_id.status, "Active");
    assert_eq!(client.get_client(id + 1000).await.unwrap(), None);
    assert_eq!(
        client
            .get_client_by_email("nobody@example.jp")
            .await
            .unwrap(),
        None
    );
    assert_eq!(whmcs.clients_created(), 1);
}

#[tokio::test]
async fn add_client_with_a_taken_email_is_a_distinct_error() {
    let whmcs = emulator().await;
    let client = client_for(&whmcs);
    client
        .add_client(&new_client("taken@example.jp"))
        .await
        .unwrap();

    let err = client
        .add_client(&new_client("Taken@Example.jp"))
        .await
        .unwrap_err();

    assert!(matches!(err, WhmcsError::EmailAlreadyExists), "{err:?}");
    assert!(!err.outcome_unknown());
    assert!(!err.is_retryable());
    assert_eq!(whmcs.clients_created(), 1);
}

#[tokio::test]
async fn add_client_without_a_required_field_gets_whmcs_message() {
    let whmcs = emulator().await;
    let client = client_for(&whmcs);
    let mut incomplete = new_client("x@example.jp");
    incomplete.city = None;

    let message = api_message(client.add_client(&incomplete).await);

    assert_eq!(message, "You did not enter your city");
    assert_eq!(whmcs.clients_created(), 0);
}

/// A client with only names and email, as the portal knows it.
fn portal_client(email: &str) -> NewClient {
    NewClient {
        phonenumber: None,
        address1: None,
        city: None,
        state: None,
        postcode: None,
        country: None,
        skip_validation: true,
        ..new_client(email)
    }
}

#[tokio::test]
async fn add_client_with_skip_validation_needs_no_address_and_still_refuses_a_taken_email() {
    let whmcs = emulator().await;
    let client = client_for(&whmcs);

    let id = client
        .add_client(&portal_client("bare@example.jp"))
        .await
        .expect("created without an address");

    let stored = whmcs
        .clients()
        .into_iter()
        .find(|c| c.id == id)
        .expect("stored");
    assert_eq!(stored.email, "bare@example.jp");
    assert_eq!(
        (stored.firstname.as_str(), stored.lastname.as_str()),
        ("Zoë", "Tanaka")
    );
    for absent in [
        &stored.address1,
        &stored.city,
        &stored.state,
        &stored.postcode,
        &stored.country,
        &stored.phonenumber,
    ] {
        assert_eq!(absent, "", "nothing made up was sent");
    }
    let err = client
        .add_client(&portal_client("Bare@Example.jp"))
        .await
        .expect_err("a taken email");
    assert!(matches!(err, WhmcsError::EmailAlreadyExists), "{err:?}");

    // Without the flag, the same input is refused for its missing address.
    let unflagged = NewClient {
        skip_validation: false,
        ..portal_client("other@example.jp")
    };
    let message = api_message(client.add_client(&unflagged).await);
    assert_eq!(message, "You did not enter your address (line 1)");
    assert_eq!(whmcs.clients_created(), 1);
}

#[tokio::test]
async fn billing_creates_a_missing_client_from_what_the_portal_knows() {
    use portal_core::domain::AccountId;

    use whmcs::billing::WhmcsBilling;

    let whmcs = emulator().await;
    let billing = WhmcsBilling::new(client_for(&whmcs), "banktransfer");
    let account = BillingAccount {
        id: AccountId::parse("001000000000001").expect("an id"),
        name: "Hanako Yamada".to_owned(),
        whmcs_client_id: None,
    };
    let with_phone = BillingContact {
        first_name: Some("Hanako".to_owned()),
        last_name: "Yamada".to_owned(),
        email: Some("hanako@example.jp".to_owned()),
        phone: Some("+81 90 0000 0000".to_owned()),
    };
    let ensured = billing
        .ensure_client(&account, Some(&with_phone))
        .await
        .expect("a client");
    assert!(ensured.linked);
    let without_phone = BillingContact {
        first_name: None,
        last_name: "Sato".to_owned(),
        email: Some("sato@example.jp".to_owned()),
        phone: None,
    };
    let second = billing
        .ensure_client(&account, Some(&without_phone))
        .await
        .expect("a client without a phone");

    let clients = whmcs.clients();
    let first = clients
        .iter()
        .find(|c| c.id == ensured.client_id)
        .expect("stored");
    assert_eq!(
        (
            first.firstname.as_str(),
            first.lastname.as_str(),
            first.email.as_str()
        ),
        ("Hanako", "Yamada", "hanako@example.jp")
    );
    assert_eq!(first.phonenumber, "+81 90 0000 0000");
    let other = clients
        .iter()
        .find(|c| c.id == second.client_id)
        .expect("stored");
    assert_eq!(other.phonenumber, "", "no placeholder phone");
    for c in [first, other] {
        // No placeholder address or country.
        assert_eq!(
            [&c.address1, &c.city, &c.state, &c.postcode, &c.country],
            [""; 5]
        );
    }
    assert_eq!(whmcs.clients_created(), 2);
}

#[tokio::test]
async fn add_order_then_accept_it_twice() {
    let whmcs = emulator().await;
    let client = client_for(&whmcs);
    let client_id = client
        .add_client(&new_client("buyer@example.jp"))
        .await
        .unwrap();
    let mut internet = line(101, BillingCycle::Monthly);
    internet
        .config_options
        .insert(SPEED_OPTION_ID, "1201".to_owned());
    let mut sim = line(201, BillingCycle::Monthly);
    sim.config_options
        .insert(DATA_PLAN_OPTION_ID, "2102".to_owned());
    let order = new_order(
        client_id,
        vec![internet, line(103, BillingCycle::OneTime), sim],
    );

    let added = client.add_order(&order).await.unwrap();

    assert_eq!(added.service_ids.len(), 3);
    assert!(added.invoice_id.is_some());
    assert!(added.addon_ids.is_empty() && added.domain_ids.is_empty());
    let recorded = whmcs.orders();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].id, added.order_id);
    assert_eq!(recorded[0].client_ip.as_deref(), Some("203.0.113.9"));
    assert!(recorded[0].no_invoice_email && recorded[0].no_email);
    let emulated = whmcs.services();
    assert_eq!(emulated[0].config_options[&SPEED_OPTION_ID], "1201");
    assert_eq!(emulated[2].config_options[&DATA_PLAN_OPTION_ID], "2102");

    let orders = client
        .get_orders(Some(added.order_id), None, None)
        .await
        .unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].status, OrderStatus::Pending);
    assert_eq!(orders[0].client_id, client_id);
    assert_eq!(orders[0].invoice_id, added.invoice_id);
    let rel_ids: Vec<u64> = orders[0].line_items.iter().map(|l| l.rel_id).collect();
    assert_eq!(rel_ids, added.service_ids);

    assert_eq!(
        client
            .accept_order(added.order_id, true, false)
            .await
            .unwrap(),
        AcceptOutcome::Accepted
    );
    assert_eq!(
        client
            .accept_order(added.order_id, true, false)
            .await
            .unwrap(),
        AcceptOutcome::AlreadyActive
    );
    assert_eq!(whmcs.calls("AcceptOrder"), 2);

    let services = client
        .get_clients_products(client_id, None, None)
        .await
        .unwrap();
    assert_eq!(services.len(), 3);
    for service in &services {
        assert_eq!(service.status, ServiceStatus::Active);
        assert_eq!(service.order_id, added.order_id);
        assert_eq!(service.custom_field(sf_field(service.pid)), Some(SF_ORDER));
        assert_eq!(
            service.custom_field_by_name("Salesforce Order Id"),
            Some(SF_ORDER)
        );
    }
    assert_eq!(services[1].billing_cycle.parse(), Ok(BillingCycle::OneTime));
    let only_sim = client
        .get_clients_products(client_id, Some(201), None)
        .await
        .unwrap();
    assert_eq!(only_sim.len(), 1);
    let one = client
        .get_clients_products(client_id, None, Some(added.service_ids[0]))
        .await
        .unwrap();
    assert_eq!(one[0].pid, 101);
    let active = client
        .get_orders(None, Some(client_id), Some(OrderStatus::Active))
        .await
        .unwrap();
    assert_eq!(active.len(), 1);
}

#[tokio::test]
async fn accept_order_of_an_unknown_order_is_still_an_error() {
    let whmcs = emulator().await;
    let client = client_for(&whmcs);

    let message = api_message(client.accept_order(424_242, true, false).await);

    assert_eq!(message, "Order ID not found or Status not Pending");
    assert_eq!(whmcs.calls("GetOrders"), 1);
}

#[tokio::test]
async fn get_orders_reads_every_page() {
    let whmcs = emulator().await;
    let client = client_for(&whmcs);
    let client_id = client
        .add_client(&new_client("many@example.jp"))
        .await
        .unwrap();
    for _ in 0..3 {
        let order = new_order(client_id, vec![line(301, BillingCycle::Monthly)]);
        client.add_order(&order).await.unwrap();
    }

    let orders = client
        .get_orders(None, Some(client_id), None)
        .await
        .unwrap();

    assert_eq!(orders.len(), 3);
    assert!(orders.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert!(
        client
            .get_clients_products(client_id + 99, None, None)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn wrong_credentials_are_refused_and_certainly_did_nothing() {
    let whmcs = emulator().await;
    let wrong = WhmcsClient::new(config(
        &whmcs.api_url(),
        "local",
        "nope",
        Duration::from_secs(5),
    ))
    .unwrap();

    let err = wrong
        .add_client(&new_client("a@example.jp"))
        .await
        .unwrap_err();

    let WhmcsError::Api { message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(message, "Authentication Failed");
    assert!(!err.outcome_unknown());
    assert_eq!(whmcs.clients_created(), 0);
}

#[tokio::test]
async fn access_key_is_sent_when_configured() {
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig {
        access_key: Some("k3y".into()),
        ..WhmcsEmulatorConfig::default()
    })
    .await
    .unwrap();
    let mut settings = config(&whmcs.api_url(), "local", "local", Duration::from_secs(5));
    let without = WhmcsClient::new(settings.clone()).unwrap();
    assert!(api_message(without.get_client(1).await).starts_with("Invalid IP"));

    settings.access_key = Some(SecretString::from("k3y"));
    let with = WhmcsClient::new(settings).unwrap();
    assert_eq!(with.get_client(1).await.unwrap(), None);
}

#[tokio::test]
async fn repeated_keys_for_an_array_are_refused() {
    let whmcs = emulator().await;
    let client_id = client_for(&whmcs)
        .add_client(&new_client("raw@example.jp"))
        .await
        .unwrap();
    let auth = "action=AddOrder&identifier=local&secret=local&responsetype=json&paymentmethod=banktransfer";
    for arrays in [
        "pid=101&pid=102&billingcycle=monthly",
        "pid[]=101&pid[]=101&billingcycle[]=monthly&billingcycle[]=monthly",
        "pid%5B0%5D=101&pid%5B0%5D=102&billingcycle[0]=monthly",
    ] {
        let body = format!("{auth}&clientid={client_id}&{arrays}");

        let (status, answer) = raw_post(&whmcs.api_url(), &body).await;

        assert_eq!(status, 400, "{arrays}");
        assert_eq!(answer["result"], "error");
        assert!(
            answer["message"].as_str().unwrap().contains("pid"),
            "{answer}"
        );
    }
    assert_eq!(whmcs.orders_created(), 0);
}

#[tokio::test]
async fn an_unknown_action_is_command_not_found() {
    let whmcs = emulator().await;

    let (status, answer) = raw_post(
        &whmcs.api_url(),
        "action=MakeCoffee&identifier=local&secret=local&responsetype=json",
    )
    .await;

    assert_eq!(status, 200);
    assert_eq!(answer["message"], "Command Not Found");
}

#[tokio::test]
async fn bad_products_cycles_and_gateways_get_their_messages_and_create_nothing() {
    let whmcs = emulator().await;
    let client = client_for(&whmcs);
    let client_id = client
        .add_client(&new_client("bad@example.jp"))
        .await
        .unwrap();

    let unknown_pid = new_order(
        client_id,
        vec![
            line(101, BillingCycle::Monthly),
            line(999, BillingCycle::Monthly),
        ],
    );
    let message = api_message(client.add_order(&unknown_pid).await);
    assert!(
        message.starts_with("Product ID Not Found: 999"),
        "{message}"
    );

    let vpn_annual_monthly = new_order(client_id, vec![line(302, BillingCycle::Monthly)]);
    let message = api_message(client.add_order(&vpn_annual_monthly).await);
    assert_eq!(message, "Invalid Billing Cycle Requested");

    let mut card = new_order(client_id, vec![line(301, BillingCycle::Monthly)]);
    card.payment_method = "stripe".into();
    let err = client.add_order(&card).await.unwrap_err();
    assert!(!err.outcome_unknown());
    assert_eq!(
        api_message(Err::<(), _>(err)),
        "Invalid Payment Method. Valid options include banktransfer"
    );

    let mut unknown_field = new_order(client_id, vec![line(301, BillingCycle::Monthly)]);
    unknown_field.items[0].custom_fields.insert(99, "x".into());
    let message = api_message(client.add_order(&unknown_field).await);
    assert_eq!(message, "Custom field id 99 does not belong to product 301");

    let mut bad_option = new_order(client_id, vec![line(201, BillingCycle::Monthly)]);
    bad_option.items[0]
        .config_options
        .insert(DATA_PLAN_OPTION_ID, "20GB".into());
    let message = api_message(client.add_order(&bad_option).await);
    // A label instead of the sub-option id: WHMCS would silently pick the first choice.
    assert!(message.starts_with("Invalid value '20GB'"), "{message}");

    let message = api_message(
        client
            .add_order(&new_order(
                client_id + 50,
                vec![line(301, BillingCycle::Monthly)],
            ))
            .await,
    );
    assert_eq!(message, "Client ID Not Found");

    assert_eq!(whmcs.orders_created(), 0);
    assert!(whmcs.services().is_empty());
}

#[tokio::test]
async fn timeout_after_commit_is_unknown_and_the_order_is_found_by_its_salesforce_id() {
    let whmcs = emulator().await;
    let client = client_for(&whmcs);
    let client_id = client
        .add_client(&new_client("slow@example.jp"))
        .await
        .unwrap();
    let impatient = WhmcsClient::new(config(
        &whmcs.api_url(),
        "local",
        "local",
        Duration::from_millis(300),
    ))
    .unwrap();
    whmcs.inject(WhmcsFault::timeout_after_commit("AddOrder"));

    let err = impatient
        .add_order(&new_order(
            client_id,
            vec![line(102, BillingCycle::Monthly)],
        ))
        .await
        .unwrap_err();

    assert!(matches!(err, WhmcsError::Timeout { .. }), "{err:?}");
    assert!(err.outcome_unknown());
    assert!(err.is_retryable());
    assert_eq!(whmcs.orders_created(), 1);
    let found = client
        .find_services_by_custom_field(client_id, sf_field(102), SF_ORDER)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].order_id, whmcs.orders()[0].id);
    assert_eq!(found[0].pid, 102);
    assert_eq!(
        whmcs
            .find_services_by_custom_field(sf_field(102), SF_ORDER)
            .len(),
        1
    );
}

#[tokio::test]
async fn a_connection_cut_after_commit_is_unknown() {
    let whmcs = emulator().await;
    let client = client_for(&whmcs);
    let client_id = client
        .add_client(&new_client("cut@example.jp"))
        .await
        .unwrap();
    whmcs.inject(WhmcsFault::drop_after_commit("AddOrder"));

    let err = client
        .add_order(&new_order(
            client_id,
            vec![line(301, BillingCycle::Monthly)],
        ))
        .await
        .unwrap_err();

    assert!(
        matches!(
            err,
            WhmcsError::Transport {
                stage: TransportStage::AfterSend,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.outcome_unknown());
    assert_eq!(whmcs.orders_created(), 1);
}

#[tokio::test]
async fn server_errors_and_html_pages_are_typed_unknown_and_create_nothing() {
    let whmcs = emulator().await;
    let client = client_for(&whmcs);
    let client_id = client
        .add_client(&new_client("html@example.jp"))
        .await
        .unwrap();
    let order = new_order(client_id, vec![line(301, BillingCycle::Monthly)]);

    whmcs.inject(WhmcsFault::server_error("AddOrder"));
    let err = client.add_order(&order).await.unwrap_err();
    let WhmcsError::Http {
        status, snippet, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 500);
    assert!(snippet.contains("Something went wrong"), "{snippet}");
    assert!(err.outcome_unknown());
    assert!(err.is_retryable());

    whmcs.inject(WhmcsFault::html_body("addorder"));
    let err = client.add_order(&order).await.unwrap_err();
    assert!(
        matches!(err, WhmcsError::Http { status: 200, .. }),
        "{err:?}"
    );
    assert!(err.outcome_unknown());

    assert_eq!(whmcs.orders_created(), 0);
    assert_eq!(whmcs.calls("AddOrder"), 2);
    client.add_order(&order).await.unwrap();
    assert_eq!(whmcs.orders_created(), 1, "faults are one-shot");
}

#[tokio::test]
async fn latency_is_applied_until_cleared() {
    let whmcs = emulator().await;
    let impatient = WhmcsClient::new(config(
        &whmcs.api_url(),
        "local",
        "local",
        Duration::from_millis(200),
    ))
    .unwrap();
    whmcs.inject(WhmcsFault::Latency(Duration::from_secs(5)));

    let err = impatient.get_client(1).await.unwrap_err();
    assert!(matches!(err, WhmcsError::Timeout { .. }), "{err:?}");

    whmcs.clear_faults();
    assert_eq!(impatient.get_client(1).await.unwrap(), None);
}

#[tokio::test]
async fn a_refused_connection_certainly_did_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = WhmcsClient::new(config(
        &format!("http://{addr}/includes/api.php"),
        "local",
        "local",
        Duration::from_secs(5),
    ))
    .unwrap();

    let err = client.get_client(1).await.unwrap_err();

    assert!(
        matches!(
            err,
            WhmcsError::Transport {
                stage: TransportStage::NotSent,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.outcome_unknown());
    assert!(err.is_retryable());
}

#[test]
fn config_errors_name_the_variable() {
    let lookup = |extra: Option<(&'static str, &'static str)>| {
        move |name: &str| match (name, extra) {
            (_, Some((var, value))) if var == name => Some(value.to_owned()),
            ("WHMCS_API_URL", _) => Some("http://127.0.0.1:8083/includes/api.php".to_owned()),
            ("WHMCS_API_IDENTIFIER", _) => Some("local".to_owned()),
            _ => None,
        }
    };

    let missing = WhmcsConfig::from_lookup(lookup(None)).unwrap_err();
    assert!(matches!(
        missing,
        ConfigError::Missing {
            var: "WHMCS_API_SECRET"
        }
    ));
    assert!(
        WhmcsError::from(missing)
            .to_string()
            .contains("WHMCS_API_SECRET")
    );

    let settings = lookup(Some(("WHMCS_API_SECRET", "local")));
    let malformed = WhmcsConfig::from_lookup(move |name| match name {
        "WHMCS_TIMEOUT_MS" => Some("soon".to_owned()),
        other => settings(other),
    })
    .unwrap_err();
    assert!(
        malformed.to_string().starts_with("WHMCS_TIMEOUT_MS"),
        "{malformed}"
    );
}

#[tokio::test]
async fn get_products_reads_each_products_own_salesforce_order_id_field_and_cycles() {
    let whmcs = emulator().await;
    let client = client_for(&whmcs);

    let all = client.get_products(None).await.unwrap();
    assert_eq!(all.len(), whmcs_emulator::CATALOG.len());
    for product in &all {
        assert_eq!(
            product.custom_field_id("Salesforce Order Id"),
            salesforce_order_id_field(product.pid),
            "{}",
            product.pid
        );
        assert_eq!(product.module, "autorelease");
    }

    let vpn = client.get_products(Some(302)).await.unwrap();
    assert_eq!(vpn.len(), 1);
    assert_eq!(vpn[0].name, "SonixNet VPN Annual");
    assert_eq!(vpn[0].billing_cycles(), vec![BillingCycle::Annually]);
    assert_eq!(vpn[0].prices[0].currency, "JPY");
    assert_eq!(vpn[0].prices[0].amount, "9900.00");
    let fee = client.get_products(Some(103)).await.unwrap();
    assert_eq!(fee[0].billing_cycles(), vec![BillingCycle::OneTime]);
    assert!(fee[0].custom_fields[0].admin_only);
    assert!(client.get_products(Some(199)).await.unwrap().is_empty());

    // The id GetProducts gives is the one AddOrder takes for that product, and
    // another product's id is refused: the field ids are per product.
    let client_id = client
        .add_client(&new_client("fields@example.jp"))
        .await
        .unwrap();
    let field = vpn[0].custom_field_id("Salesforce Order Id").unwrap();
    let mut annual = line(302, BillingCycle::Annually);
    annual.custom_fields = BTreeMap::from([(field, SF_ORDER.to_owned())]);
    let added = client
        .add_order(&new_order(client_id, vec![annual]))
        .await
        .unwrap();
    assert_eq!(added.service_ids.len(), 1);
    let mut wrong = line(301, BillingCycle::Monthly);
    wrong.custom_fields = BTreeMap::from([(field, SF_ORDER.to_owned())]);
    let message = api_message(client.add_order(&new_order(client_id, vec![wrong])).await);
    assert!(message.starts_with("Custom field id"), "{message}");
}

#[tokio::test]
async fn get_payment_methods_lists_gateway_system_names_and_bad_credentials_fail() {
    let whmcs = emulator().await;
    let methods = client_for(&whmcs).get_payment_methods().await.unwrap();
    assert_eq!(methods.len(), 1);
    assert_eq!(methods[0].module, "banktransfer");
    assert_eq!(methods[0].display_name, "Bank Transfer");

    let wrong = WhmcsClient::new(config(
        &whmcs.api_url(),
        "local",
        "wrong",
        Duration::from_secs(10),
    ))
    .unwrap();
    let err = wrong.get_products(None).await.unwrap_err();
    assert!(
        matches!(&err, WhmcsError::Api { message, .. } if message == "Authentication Failed"),
        "{err:?}"
    );
}

/// Defect 2: settling an unknown AddOrder read one page of GetClientsProducts
/// (WHMCS answers 25 services by default), so the order of a client with more
/// services was "not found" and AddOrder ran again.
#[tokio::test]
async fn settling_finds_the_order_of_a_client_with_more_services_than_a_page() {
    use portal_core::domain::OrderId;
    use portal_core::ports::{BillingGateway, BillingLine};
    use whmcs::billing::WhmcsBilling;

    let whmcs = emulator().await;
    let client = client_for(&whmcs);
    let client_id = client
        .add_client(&new_client("many@example.jp"))
        .await
        .unwrap();
    let billing = WhmcsBilling::new(client_for(&whmcs), "banktransfer");
    let vpn = BillingLine {
        pid: 301,
        billing_cycle: portal_core::domain::BillingCycle::Monthly,
        config_options: BTreeMap::new(),
        qty: 1,
        is_service: true,
    };
    // 105 earlier orders, each of its own Salesforce Order (more than WHMCS's
    // default page of 25, and than one page of the client's 100)…
    for n in 0..105 {
        let earlier = OrderId::parse(&format!("801J0000000{n:04}")).unwrap();
        billing
            .place_order(client_id, &earlier, std::slice::from_ref(&vpn))
            .await
            .unwrap();
    }
    // …then the one whose answer was lost.
    whmcs.inject(WhmcsFault::drop_after_commit("AddOrder"));
    let lost = OrderId::parse(SF_ORDER).unwrap();
    assert!(
        billing
            .place_order(client_id, &lost, std::slice::from_ref(&vpn))
            .await
            .is_err()
    );
    let found = billing
        .find_by_salesforce_order(client_id, &lost)
        .await
        .unwrap();
    let created = whmcs.orders().last().unwrap().clone();
    assert_eq!(found.len(), 1, "the 106th service is found");
    assert_eq!(found[0].order_id, created.id);
    assert_eq!(found[0].service_id, created.service_ids[0]);
    assert_eq!(whmcs.calls("GetClientsProducts"), 2, "two pages of 100");
}

#[tokio::test]
async fn client_orders_show_an_order_without_services_on_any_page_with_its_local_date() {
    use portal_core::domain::OrderId;
    use portal_core::ports::{BillingGateway, BillingLine};
    use whmcs::billing::WhmcsBilling;

    let whmcs = emulator().await;
    let client = client_for(&whmcs);
    let client_id = client
        .add_client(&new_client("empty@example.jp"))
        .await
        .unwrap();
    let billing = WhmcsBilling::new(client_for(&whmcs), "banktransfer");
    let vpn = BillingLine {
        pid: 301,
        billing_cycle: portal_core::domain::BillingCycle::Monthly,
        config_options: BTreeMap::new(),
        qty: 1,
        is_service: true,
    };
    // The oldest order: WHMCS dropped its only line, and the answer was lost.
    whmcs.inject(WhmcsFault::IncompleteOrderThenDrop);
    let lost = OrderId::parse(SF_ORDER).unwrap();
    let before = chrono::Utc::now();
    let err = billing
        .place_order(client_id, &lost, std::slice::from_ref(&vpn))
        .await
        .unwrap_err();
    assert!(
        matches!(err, portal_core::ports::BillingError::OutcomeUnknown(_)),
        "{err:?}"
    );
    let empty = whmcs.orders()[0].clone();
    assert!(empty.service_ids.is_empty());
    assert!(
        billing
            .find_by_salesforce_order(client_id, &lost)
            .await
            .unwrap()
            .is_empty(),
        "no service carries the Order Id"
    );
    // Then more orders than a page of 100, each of its own Salesforce Order.
    for n in 0..101 {
        let other = OrderId::parse(&format!("801J0000000{n:04}")).unwrap();
        billing
            .place_order(client_id, &other, std::slice::from_ref(&vpn))
            .await
            .unwrap();
    }
    let calls = whmcs.calls("GetOrders");

    let orders = billing.client_orders(client_id).await.unwrap();

    assert_eq!(whmcs.calls("GetOrders") - calls, 2, "two pages of 100");
    assert_eq!(orders.len(), 102);
    let unattributed: Vec<_> = orders.iter().filter(|o| !o.has_services).collect();
    assert_eq!(unattributed.len(), 1, "only the order without services");
    assert_eq!(unattributed[0].order_id, empty.id);
    assert_eq!(unattributed[0].status, "Pending");
    // The date is the WHMCS server's local time (the emulator's: UTC+9).
    let placed = unattributed[0].placed_at.expect("a readable date");
    let local = (before + chrono::TimeDelta::hours(9)).naive_utc();
    let skew = (placed - local).num_seconds().abs();
    assert!(skew < 60, "placed {placed}, expected about {local}");
}
