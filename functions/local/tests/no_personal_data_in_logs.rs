//! No e-mail, phone, name or token in any log line: the whole system runs in
//! this process (`Runner`, as `portal-local` runs it) with every log line
//! captured as JSON (span fields included), while one customer's journey
//! meets faults — a timed-out registration lookup (its URL holds the SOQL
//! with the e-mail), Salesforce outages and lock errors, a forged token, a
//! WHMCS error while provisioning — and ends provisioned. Then the captured
//! logs are searched for the journey's personal data.
//!
//! The emulators' own lines are left out: they are test doubles, not the product.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portal_core::config::Config as _;
use portal_local::{LocalConfig, Runner};
use salesforce_emulator::Fault;
use serde_json::{Value, json};
use tracing_subscriber::fmt::MakeWriter;
use whmcs_emulator::WhmcsFault;

const FIRST_NAME: &str = "Zephyrine";
const LAST_NAME: &str = "Quillborough";
const EMAIL: &str = "zephyrine.quill@example.jp";
const PHONE: &str = "+81 90-4321-8765";
const COMPANY: &str = "Quillborough Shokai";

/// Every line the process logs, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(
            &self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned()
    }
}

fn capture_logs() -> Captured {
    let captured = Captured::default();
    let filter = tracing_subscriber::EnvFilter::new(
        "debug,salesforce_emulator=off,whmcs_emulator=off,h2=info,hyper=info,hyper_util=info,tower=info,aws_smithy_runtime=info,aws_config=info,rustls=info",
    );
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_env_filter(filter)
        .with_writer(captured.clone())
        .init();
    captured
}

fn config() -> LocalConfig {
    let env = [
        ("PORT", "0"),
        ("SF_EMULATOR_BIND", "127.0.0.1:0"),
        ("SF_EMULATOR_PUBSUB_BIND", "127.0.0.1:0"),
        ("WHMCS_EMULATOR_BIND", "127.0.0.1:0"),
        // Short, so that a slow org times a request out quickly.
        ("SF_REQUEST_TIMEOUT_MS", "400"),
        ("RECONCILER_EVERY_SECS", "1"),
    ];
    LocalConfig::from_lookup(|name| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("a local configuration")
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the API answers");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("a body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journey_with_faults_logs_no_email_phone_name_or_token() {
    let logs = capture_logs();
    let runner = Runner::start(config()).await.expect("the system starts");
    let api = runner.api.url.clone();
    let org = runner.org.emulator.as_ref().expect("the emulated org");
    let whmcs = runner.whmcs.emulator.as_ref().expect("the emulated WHMCS");
    let http = reqwest::Client::new();
    let post = |path: &str, token: &str, key: &str, body: Value| {
        http.post(format!("{api}{path}"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&body)
    };

    let (_, body) = send(
        http.post(format!("{api}/_local/token"))
            .json(&json!({"sub": "user-zq", "email": EMAIL})),
    )
    .await;
    let token = body["token"].as_str().expect("a token").to_owned();
    let registration = json!({
        "firstName": FIRST_NAME, "lastName": LAST_NAME, "phone": PHONE, "companyName": COMPANY,
    });

    // The registration lookup (a GET whose URL holds the SOQL with the
    // e-mail) times out, retries included.
    org.inject(Fault::Latency(Duration::from_millis(1_500)));
    let (status, problem) = send(post(
        "/registrations",
        &token,
        "reg-1",
        registration.clone(),
    ))
    .await;
    org.clear_faults();
    assert_eq!(status, 503, "{problem}");
    let correlation = problem["correlationId"].as_str().expect("a correlation id");
    assert!(
        logs.text().contains(correlation),
        "the problem's correlation id is on the request's log lines"
    );

    let (status, registered) = send(post("/registrations", &token, "reg-2", registration)).await;
    assert_eq!(status, 201, "{registered}");

    // A forged token carrying the personal data: refused, not logged.
    let forged = format!(
        "{}.{}.c2lnbmF0dXJl",
        base64_url(r#"{"alg":"ES256","typ":"JWT"}"#),
        base64_url(&json!({"sub": "user-zq", "email": EMAIL, "name": FIRST_NAME}).to_string()),
    );
    let (status, _) = send(http.get(format!("{api}/account")).bearer_auth(&forged)).await;
    assert_eq!(status, 401);

    // Salesforce down, then rows locked: 503s, nothing written.
    let eligibility = json!({"address": {
        "postalCode": "150-0001", "prefecture": "Tokyo", "city": "Shibuya-ku",
        "street": "1-2-3 Jingumae", "building": format!("{LAST_NAME} Heights"),
    }});
    org.inject(Fault::ServiceUnavailable(10));
    let (status, _) = send(post(
        "/eligibility-requests",
        &token,
        "elig-1",
        eligibility.clone(),
    ))
    .await;
    org.clear_faults();
    assert_eq!(status, 503);
    org.inject(Fault::LockRowOnNextWrites(10));
    let case = json!({"subject": format!("Call {FIRST_NAME}"), "description": format!("Please call {PHONE}, {EMAIL}.")});
    let (status, _) = send(post("/support-cases", &token, "case-1", case.clone())).await;
    org.clear_faults();
    assert_eq!(status, 503);
    let (status, _) = send(post("/support-cases", &token, "case-2", case)).await;
    assert_eq!(status, 201);
    let (status, _) = send(post("/eligibility-requests", &token, "elig-2", eligibility)).await;
    assert_eq!(status, 202);

    // An order, approved by staff, provisioned after WHMCS fails once.
    let (_, catalog) = send(http.get(format!("{api}/catalog")).bearer_auth(&token)).await;
    let sim = catalog["products"]
        .as_array()
        .expect("products")
        .iter()
        .find(|p| p["family"] == "SIM" && p["itemClass"] == "Service")
        .expect("a SIM plan")["productId"]
        .clone();
    let (status, placed) = send(post(
        "/orders",
        &token,
        "order-1",
        json!({"commodityType": "SIM", "items": [{"productId": sim, "quantity": 1}]}),
    ))
    .await;
    assert_eq!(status, 201, "{placed}");
    let order_id = placed["orderId"].as_str().expect("an order id").to_owned();
    whmcs.inject(WhmcsFault::server_error("AddClient"));
    org.update("Order", &order_id, json!({"Status": "Approved"}))
        .expect("staff approve the Order");
    let mut order = Value::Null;
    for _ in 0..300 {
        let (status, body) = send(
            http.get(format!("{api}/orders/{order_id}"))
                .bearer_auth(&token),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        order = body;
        if order["activationStatus"] == "Provisioned" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(order["activationStatus"], "Provisioned", "{order}");
    runner.shutdown().await;

    let text = logs.text();
    assert!(text.lines().count() > 50, "the journey was logged: {text}");
    assert!(text.contains("WHMCS"), "the WHMCS failure was logged");
    let phone_digits: String = PHONE.chars().filter(char::is_ascii_digit).collect();
    let signature = token.rsplit('.').next().expect("a signature").to_owned();
    let personal = [
        ("the e-mail", EMAIL.to_owned()),
        ("the e-mail's local part", "zephyrine.quill".to_owned()),
        (
            "the e-mail, URL-encoded",
            "zephyrine.quill%40example.jp".to_owned(),
        ),
        ("the first name", FIRST_NAME.to_owned()),
        ("the last name", LAST_NAME.to_owned()),
        ("the phone", PHONE.to_owned()),
        ("the phone's digits", phone_digits),
        ("the token", token.clone()),
        ("the token's signature", signature),
        ("the forged token", forged),
    ];
    let lower = text.to_lowercase();
    for (what, value) in personal {
        let found = lower.find(&value.to_lowercase());
        assert!(
            found.is_none(),
            "{what} is in the logs: …{}…",
            found.map_or("", |at| &text
                [at.saturating_sub(200)..(at + 200).min(text.len())])
        );
    }
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
