//! One world per function: the emulators and moto resources it talks to, the
//! environment that points a function process at them (as `template.yaml`
//! sets it, with the secrets given as the plain variables), the events it is
//! invoked with, and what its answer must show.
//!
//! The same worlds serve the tests (arm64 under qemu) and the cold-start
//! bench (native and arm64).

use std::time::Duration;

use anyhow::{Context as _, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lambda_runtime_emulator::{HttpApiEvent, Outcome, Settled};
use portal_core::domain::{AccountId, ContactId, Login};
use portal_core::ports::{LinkMethod, LoginLink, LoginLinks as _};
use salesforce_emulator::{Emulator, EmulatorConfig, fixtures};
use serde_json::{Value, json};
use test_support::aws::FifoQueue;
use whmcs_emulator::{WhmcsEmulator, WhmcsEmulatorConfig};

/// The portal tokens' issuer and audience.
const ISSUER: &str = "https://id.portal.artifacts/";
const AUDIENCE: &str = "portal-api";

/// The `SF_*` variables that log a function in to `org` as its integration user.
fn salesforce_env(org: &Emulator) -> Vec<(String, String)> {
    let config = org.config();
    vec![
        ("SF_LOGIN_URL".into(), org.base_url()),
        ("SF_CLIENT_ID".into(), config.client_id.clone()),
        ("SF_USERNAME".into(), config.username.clone()),
        (
            "SF_PRIVATE_KEY_BASE64".into(),
            BASE64.encode(fixtures::CLIENT_PRIVATE_KEY_PEM),
        ),
    ]
}

/// The AWS variables of a function talking to moto (`AWS_ENDPOINT_URL`);
/// dummy credentials keep the SDK away from IMDS.
fn aws_env(moto: Option<String>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("RUST_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if let Some(endpoint) = moto {
        env.push(("AWS_ENDPOINT_URL".into(), endpoint));
    }
    env
}

/// The function's answer as JSON (an invocation error is an error).
fn response_json(settled: &Settled) -> anyhow::Result<Value> {
    match &settled.outcome {
        Outcome::Response(body) => serde_json::from_slice(body).context("a JSON response"),
        Outcome::Error { error_type, body } => anyhow::bail!(
            "the function reported an error ({error_type:?}): {}",
            String::from_utf8_lossy(body)
        ),
    }
}

/// An org at zero latency with the seeded catalog and a daily API limit no run reaches.
async fn org() -> anyhow::Result<Emulator> {
    Emulator::start(EmulatorConfig {
        daily_api_limit: u64::MAX / 2,
        ..EmulatorConfig::default()
    })
    .await
    .context("starting the org emulator")
}

/// `portal-api`: the org emulator, an ES256 key for the portal's tokens, a
/// registered Account and the state table on moto holding the login's link
/// to it (the API reads the caller's Account from that link).
#[derive(Debug)]
pub struct ApiWorld {
    /// The emulated org.
    pub org: Emulator,
    public_pem: String,
    token: String,
    table: String,
}

impl ApiWorld {
    /// A fresh org and key.
    pub async fn start() -> anyhow::Result<Self> {
        let org = org().await?;
        let key =
            rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).context("a P-256 key")?;
        let account = org.insert("Account", json!({"Name": "Artifact Customer"}))?;
        let dynamo = test_support::aws::dynamo_client().await;
        let table = test_support::aws::create_table(&dynamo).await;
        let link = LoginLink {
            login: Login::new(ISSUER, "artifact")?,
            account_id: AccountId::parse(&account)?,
            contact_id: ContactId::parse("003000000000001")?,
            linked_at: chrono::Utc::now(),
            method: LinkMethod::VerifiedEmail,
        };
        portal_aws::DynamoLoginLinks::new(dynamo, table.clone())
            .create(&link)
            .await?;
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "artifact", "email": "artifact@example.jp",
            "email_verified": true, "iat": now, "nbf": now - 5, "exp": now + 3600,
        });
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::ES256),
            &claims,
            &EncodingKey::from_ec_pem(key.serialize_pem().as_bytes())?,
        )?;
        Ok(Self {
            org,
            public_pem: key.public_key_pem(),
            token,
            table,
        })
    }

    /// The function's environment.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("PORTAL_JWT_ISSUER".into(), ISSUER.into()),
            ("PORTAL_JWT_AUDIENCE".into(), AUDIENCE.into()),
            ("PORTAL_JWT_PUBLIC_KEY_PEM".into(), self.public_pem.clone()),
            ("IDEMPOTENCY_TABLE".into(), self.table.clone()),
        ];
        env.extend(salesforce_env(&self.org));
        env.extend(aws_env(Some(test_support::moto::endpoint())));
        env
    }

    /// `GET /health`.
    pub fn health(&self) -> HttpApiEvent {
        HttpApiEvent::get("/health")
    }

    /// `GET /catalog` with a customer's token.
    pub fn catalog(&self) -> HttpApiEvent {
        HttpApiEvent::get("/catalog").bearer(&self.token)
    }

    /// The answer to [`ApiWorld::health`] says `{"status":"ok"}`.
    pub fn verify_health(&self, settled: &Settled) -> anyhow::Result<()> {
        let response = settled
            .http_response()
            .context("an invocation error instead of a response")??;
        ensure!(
            response.status == 200,
            "GET /health answered {}",
            response.status
        );
        ensure!(
            response.json()? == json!({"status": "ok"}),
            "GET /health body"
        );
        Ok(())
    }

    /// The answer to [`ApiWorld::catalog`] lists the seeded products.
    pub fn verify_catalog(&self, settled: &Settled) -> anyhow::Result<()> {
        let response = settled
            .http_response()
            .context("an invocation error instead of a response")??;
        let body = response.json()?;
        ensure!(
            response.status == 200,
            "GET /catalog answered {}: {body}",
            response.status
        );
        let products = body["products"].as_array().context("no product list")?;
        ensure!(!products.is_empty(), "the seeded catalog is empty");
        ensure!(
            products
                .iter()
                .all(|p| p["productId"].is_string() && p["unitPrice"].is_number()),
            "products without id or price: {body}"
        );
        Ok(())
    }
}

/// `provisioner`: the org and WHMCS emulators and a state table on moto.
#[derive(Debug)]
pub struct ProvisionerWorld {
    /// The emulated org.
    pub org: Emulator,
    /// The emulated WHMCS.
    pub whmcs: WhmcsEmulator,
    table: String,
    next: std::sync::atomic::AtomicU32,
}

/// An approved Order and the SQS event carrying its provisioning message.
#[derive(Debug, Clone)]
pub struct QueuedOrder {
    /// The Salesforce Order id.
    pub order_id: String,
    /// The SQS event, as Lambda delivers it.
    pub event: Value,
}

/// The product ordered (seeded in the org, mapped to a WHMCS product).
const PRODUCT_CODE: &str = "VPN-MONTHLY";

impl ProvisionerWorld {
    /// Fresh emulators and a fresh table.
    pub async fn start() -> anyhow::Result<Self> {
        let org = org().await?;
        let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default())
            .await
            .context("starting the WHMCS emulator")?;
        let dynamo = test_support::aws::dynamo_client().await;
        let table = test_support::aws::create_table(&dynamo).await;
        Ok(Self {
            org,
            whmcs,
            table,
            next: std::sync::atomic::AtomicU32::new(0),
        })
    }

    /// The function's environment.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("STATE_TABLE".into(), self.table.clone()),
            ("WHMCS_API_URL".into(), self.whmcs.api_url()),
            ("WHMCS_API_IDENTIFIER".into(), "local".into()),
            ("WHMCS_API_SECRET".into(), "local".into()),
            ("WHMCS_PAYMENT_METHOD".into(), "banktransfer".into()),
            ("WHMCS_TIMEOUT_MS".into(), "15000".into()),
            ("SF_REQUEST_TIMEOUT_MS".into(), "10000".into()),
        ];
        env.extend(salesforce_env(&self.org));
        env.extend(aws_env(Some(test_support::moto::endpoint())));
        env
    }

    /// A new customer's Order of one VPN plan, approved by staff (the Order
    /// Approval Flow publishes its event), and the SQS event the subscriber's
    /// message becomes.
    pub fn queue_order(&self) -> anyhow::Result<QueuedOrder> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let account = self
            .org
            .insert("Account", json!({"Name": format!("Artifact Customer {n}")}))?;
        self.org.insert(
            "Contact",
            json!({"FirstName": "Aiko", "LastName": "Sato", "AccountId": account,
                   "Email": format!("artifact-{n}-{}@example.com", std::process::id())}),
        )?;
        let book = self
            .org
            .records("Pricebook2")
            .into_iter()
            .find(|b| b["IsStandard"] == json!(true))
            .context("the standard price book is seeded")?;
        let product = self
            .org
            .records("Product2")
            .into_iter()
            .find(|p| p["ProductCode"] == json!(PRODUCT_CODE))
            .context("the VPN plan is seeded")?;
        let entry = self
            .org
            .records("PricebookEntry")
            .into_iter()
            .find(|e| e["Product2Id"] == product["Id"])
            .context("the VPN plan has a price")?;
        let opportunity = self.org.insert(
            "Opportunity",
            json!({"Name": "VPN order", "AccountId": account, "StageName": "Post Processing",
                   "CloseDate": "2030-12-31", "CommodityType": "VPN"}),
        )?;
        let order_id = self.org.insert(
            "Order",
            json!({"AccountId": account, "OpportunityId": opportunity, "EffectiveDate": "2030-01-01",
                   "Pricebook2Id": book["Id"], "Status": "Pending Review",
                   "Activation_Status__c": "Pending Review"}),
        )?;
        self.org.insert(
            "OrderItem",
            json!({"OrderId": order_id, "PricebookEntryId": entry["Id"], "Product2Id": product["Id"],
                   "Quantity": 1, "UnitPrice": entry["UnitPrice"]}),
        )?;
        self.org
            .update("Order", &order_id, json!({"Status": "Approved"}))?;
        let published = self
            .org
            .events()
            .all()
            .into_iter()
            .rev()
            .find(|e| e.order_id == order_id)
            .context("the Order Approval Flow published an event")?;
        let body = json!({
            "schemaVersion": 1,
            "orderId": published.order_id,
            "idempotencyKey": published.idem_key,
            "correlationId": published.correlation_id,
            "requestedBy": published.requested_by,
            "source": "pubsub",
            "eventId": published.event_id,
            "replayId": BASE64.encode(published.replay_id),
        });
        let event = json!({"Records": [{
            "messageId": format!("message-{n}"),
            "receiptHandle": format!("receipt-{n}"),
            "body": body.to_string(),
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": chrono::Utc::now().timestamp_millis().to_string(),
                "SequenceNumber": format!("{}", 1000 + n),
                "MessageGroupId": order_id,
                "MessageDeduplicationId": published.event_id,
            },
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:provisioning.fifo",
            "awsRegion": "us-east-1",
        }]});
        Ok(QueuedOrder { order_id, event })
    }

    /// The batch was acknowledged whole and the Order is Provisioned in
    /// Salesforce with the WHMCS order and service the emulator created.
    pub fn verify(&self, order: &QueuedOrder, settled: &Settled) -> anyhow::Result<()> {
        let answer = response_json(settled)?;
        ensure!(
            answer["batchItemFailures"] == json!([]),
            "the batch was not acknowledged: {answer}"
        );
        let record = self
            .org
            .record(&order.order_id)
            .context("the Order exists")?;
        ensure!(
            record["Activation_Status__c"] == json!("Provisioned"),
            "the Order is {} ({})",
            record["Activation_Status__c"],
            record["Activation_Error__c"]
        );
        let whmcs_order = match &record["WHMCS_Order_Id__c"] {
            Value::String(id) => id.clone(),
            // A Number(18, 0) field: JSON numbers such as 5001.0.
            Value::Number(id) => format!("{}", id.as_f64().unwrap_or_default()),
            other => anyhow::bail!("WHMCS_Order_Id__c is {other}"),
        };
        ensure!(
            self.whmcs
                .orders()
                .iter()
                .any(|o| o.id.to_string() == whmcs_order),
            "WHMCS has no order {whmcs_order}"
        );
        Ok(())
    }
}

/// `reconciler`: the org emulator, a state table, the provisioning queue and
/// its DLQ and the event DLQ on moto; one message waits in the provisioning
/// DLQ so that the run's report shows it read the real queue.
#[derive(Debug)]
pub struct ReconcilerWorld {
    /// The emulated org.
    pub org: Emulator,
    table: String,
    queue: FifoQueue,
    event_dlq: FifoQueue,
}

impl ReconcilerWorld {
    /// Fresh org, table and queues.
    pub async fn start() -> anyhow::Result<Self> {
        let org = org().await?;
        let dynamo = test_support::aws::dynamo_client().await;
        let table = test_support::aws::create_table(&dynamo).await;
        let sqs = test_support::aws::sqs_client().await;
        let queue = test_support::aws::create_fifo_queue(&sqs, 5).await;
        let event_dlq = test_support::aws::create_fifo_queue(&sqs, 5).await;
        sqs.send_message()
            .queue_url(&queue.dlq_url)
            .message_body(r#"{"dead":"letter"}"#)
            .message_group_id("g")
            .message_deduplication_id("d")
            .send()
            .await
            .context("a message in the provisioning DLQ")?;
        Ok(Self {
            org,
            table,
            queue,
            event_dlq,
        })
    }

    /// The function's environment.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("STATE_TABLE".into(), self.table.clone()),
            ("PROVISIONING_QUEUE_URL".into(), self.queue.url.clone()),
            ("PROVISIONING_DLQ_URL".into(), self.queue.dlq_url.clone()),
            ("EVENT_DLQ_URL".into(), self.event_dlq.url.clone()),
            ("RECONCILER_STUCK_AFTER_MINUTES".into(), "15".into()),
            ("RECONCILER_MAX_ATTEMPTS".into(), "8".into()),
        ];
        env.extend(salesforce_env(&self.org));
        env.extend(aws_env(Some(test_support::moto::endpoint())));
        env
    }

    /// The EventBridge scheduled event.
    pub fn event(&self) -> Value {
        json!({
            "version": "0",
            "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/reconciler"],
            "detail": {},
        })
    }

    /// A clean run: nothing stuck, and the dead-letter depths read from SQS
    /// (one waiting in the provisioning DLQ, none in the event DLQ).
    pub fn verify(&self, settled: &Settled) -> anyhow::Result<()> {
        let summary = response_json(settled)?;
        ensure!(summary["stuckOrders"] == json!(0), "{summary}");
        let visible: Vec<u64> = summary["deadLetters"]
            .as_array()
            .context("no deadLetters in the summary")?
            .iter()
            .filter_map(|d| d["visible"].as_u64())
            .collect();
        let mut sorted = visible.clone();
        sorted.sort_unstable();
        ensure!(
            sorted == [0, 1],
            "dead-letter depths {visible:?}, expected one waiting: {summary}"
        );
        Ok(())
    }
}

/// How long a cold invocation may take under qemu on a busy 2-core machine.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);
