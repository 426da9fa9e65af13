//! A world per test: an emulated org and an emulated WHMCS over real HTTP, a
//! record store (in memory, or DynamoDB on the moto server), a test clock and
//! the provisioner wired to them.

use portal_core::config::Config as _;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::TimeDelta;
use portal_aws::DynamoProvisioningRecords;
use portal_core::domain::OrderId;
use portal_core::messages::ProvisioningMessage;
use portal_core::ports::memory::InMemoryProvisioningRecords;
use portal_core::ports::{Clock, ProvisioningRecords, ProvisioningStatus, TestClock};
use portal_core::provisioning::{Provisioner, ProvisioningSettings};
use portal_core::workers::provisioner::Invocation;
use provisioner::handle_batch;
use salesforce::provisioning::SalesforceOrderLedger;
use salesforce::{RetryPolicy, SalesforceClient, SalesforceConfig};
use salesforce_emulator::{Emulator, EmulatorConfig, fixtures};
use serde_json::{Value, json};
use whmcs::billing::WhmcsBilling;
use whmcs::{WhmcsClient, WhmcsConfig};
use whmcs_emulator::{WhmcsEmulator, WhmcsEmulatorConfig};

/// How many attempts the Salesforce client makes (the first included).
pub const SALESFORCE_ATTEMPTS: u32 = 3;

/// The WHMCS actions the provisioner may call, GetProducts (cached) left out.
const WHMCS_ACTIONS: &[&str] = &[
    "GetClientsDetails",
    "AddClient",
    "AddOrder",
    "AcceptOrder",
    "GetClientsProducts",
    "GetOrders",
];

/// The use case over the emulators and the record store `R`.
pub type TestProvisioner<R> = Provisioner<SalesforceOrderLedger, WhmcsBilling, R, TestClock>;

/// One test's world.
pub struct World<R> {
    pub sf: Emulator,
    pub whmcs: WhmcsEmulator,
    pub clock: TestClock,
    pub provisioner: TestProvisioner<R>,
    next_request: std::sync::atomic::AtomicU32,
}

/// A world whose records live in memory.
pub async fn world() -> World<InMemoryProvisioningRecords> {
    world_with(InMemoryProvisioningRecords::new(), Duration::from_secs(5)).await
}

/// A world whose records live in a fresh DynamoDB table on the moto server.
pub async fn world_on_dynamo() -> World<DynamoProvisioningRecords> {
    let client = test_support::aws::dynamo_client().await;
    let table = test_support::aws::create_table(&client).await;
    world_with(
        DynamoProvisioningRecords::new(client, table),
        Duration::from_secs(5),
    )
    .await
}

/// A world with a WHMCS client that gives up after `whmcs_timeout`.
pub async fn world_with<R: ProvisioningRecords>(records: R, whmcs_timeout: Duration) -> World<R> {
    let sf = Emulator::start(EmulatorConfig::default())
        .await
        .expect("the org emulator starts");
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default())
        .await
        .expect("the WHMCS emulator starts");
    let config = SalesforceConfig::new(
        &sf.base_url(),
        sf.config().client_id.clone(),
        sf.config().username.clone(),
        fixtures::CLIENT_PRIVATE_KEY_PEM.as_bytes(),
    )
    .expect("a valid Salesforce configuration");
    let retry = RetryPolicy {
        max_attempts: SALESFORCE_ATTEMPTS,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    };
    let sf_client = SalesforceClient::with_retry_policy(config, retry).expect("the client builds");
    let url = whmcs.api_url();
    let timeout = whmcs_timeout.as_millis().to_string();
    let whmcs_config = WhmcsConfig::from_lookup(|name| match name {
        "WHMCS_API_URL" => Some(url.clone()),
        "WHMCS_API_IDENTIFIER" | "WHMCS_API_SECRET" => Some("local".to_owned()),
        "WHMCS_TIMEOUT_MS" => Some(timeout.clone()),
        _ => None,
    })
    .expect("a valid WHMCS configuration");
    let whmcs_client = WhmcsClient::new(whmcs_config).expect("the WHMCS client builds");
    let clock = TestClock::starting_now();
    let provisioner = Provisioner::new(
        SalesforceOrderLedger::new(sf_client),
        WhmcsBilling::new(whmcs_client, "banktransfer"),
        records,
        clock.clone(),
        ProvisioningSettings::default(),
    );
    World {
        sf,
        whmcs,
        clock,
        provisioner,
        next_request: std::sync::atomic::AtomicU32::new(0),
    }
}

/// An Order seeded in the org.
#[derive(Clone, Debug)]
pub struct SeededOrder {
    pub order_id: String,
    pub account_id: String,
    pub opportunity_id: String,
    pub email: String,
}

impl<R: ProvisioningRecords> World<R> {
    /// A new Account with a Contact, ready to be ordered for.
    pub fn seed_account(&self) -> (String, String) {
        let n = uuid_suffix();
        let account_id = self
            .sf
            .insert("Account", json!({"Name": format!("Test Customer {n}")}))
            .expect("the Account is created");
        let email = format!("customer-{n}@example.com");
        self.sf
            .insert(
                "Contact",
                json!({"FirstName": "Aiko", "LastName": "Sato", "Email": email, "AccountId": account_id}),
            )
            .expect("the Contact is created");
        (account_id, email)
    }

    /// An Order of `commodity` with one item per product code, pending review.
    pub fn seed_order(&self, commodity: &str, product_codes: &[&str]) -> SeededOrder {
        let (account_id, email) = self.seed_account();
        self.seed_order_for(&account_id, &email, commodity, product_codes)
    }

    /// An Order for an existing Account.
    pub fn seed_order_for(
        &self,
        account_id: &str,
        email: &str,
        commodity: &str,
        product_codes: &[&str],
    ) -> SeededOrder {
        let book = self
            .sf
            .records("Pricebook2")
            .into_iter()
            .find(|b| b["IsStandard"] == json!(true))
            .expect("the standard price book is seeded");
        let opportunity_id = self
            .sf
            .insert(
                "Opportunity",
                json!({
                    "Name": format!("{commodity} order"),
                    "AccountId": account_id,
                    "StageName": "Post Processing",
                    "CloseDate": "2030-12-31",
                    "CommodityType": commodity,
                }),
            )
            .expect("the Opportunity is created");
        let order_id = self
            .sf
            .insert(
                "Order",
                json!({
                    "AccountId": account_id,
                    "OpportunityId": opportunity_id,
                    "EffectiveDate": "2030-01-01",
                    "Pricebook2Id": book["Id"],
                    "Status": "Pending Review",
                    "Activation_Status__c": "Pending Review",
                }),
            )
            .expect("the Order is created");
        for code in product_codes {
            self.add_item(&order_id, code);
        }
        SeededOrder {
            order_id,
            account_id: account_id.to_owned(),
            opportunity_id,
            email: email.to_owned(),
        }
    }

    /// Adds one unit of the product `code` to the Order.
    pub fn add_item(&self, order_id: &str, code: &str) {
        let product = self
            .sf
            .records("Product2")
            .into_iter()
            .find(|p| p["ProductCode"] == json!(code))
            .unwrap_or_else(|| panic!("product {code} exists"));
        let entry = self
            .sf
            .records("PricebookEntry")
            .into_iter()
            .find(|e| e["Product2Id"] == product["Id"])
            .unwrap_or_else(|| panic!("product {code} has a price"));
        self.sf
            .insert(
                "OrderItem",
                json!({
                    "OrderId": order_id,
                    "PricebookEntryId": entry["Id"],
                    "Product2Id": product["Id"],
                    "Quantity": 1,
                    "UnitPrice": entry["UnitPrice"],
                }),
            )
            .expect("the OrderItem is created");
    }

    /// A new product (with its price) whose WHMCS fields are `fields`.
    pub fn add_product(&self, code: &str, fields: Value) {
        let book = self
            .sf
            .records("Pricebook2")
            .into_iter()
            .find(|b| b["IsStandard"] == json!(true))
            .expect("the standard price book is seeded");
        let mut body =
            json!({"Name": format!("Product {code}"), "ProductCode": code, "IsActive": true});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), fields.as_object()) {
            body.extend(extra.clone());
        }
        let product = self
            .sf
            .insert("Product2", body)
            .expect("the product is created");
        self.sf
            .insert(
                "PricebookEntry",
                json!({"Pricebook2Id": book["Id"], "Product2Id": product, "UnitPrice": 1000, "IsActive": true}),
            )
            .expect("the price is created");
    }

    /// Staff approve the Order: the Order Approval Flow sets `Activating` and
    /// publishes the event; returns the queue message the subscriber makes of it.
    pub fn approve(&self, order: &SeededOrder) -> ProvisioningMessage {
        self.sf
            .update("Order", &order.order_id, json!({"Status": "Approved"}))
            .expect("staff approve the Order");
        self.approve_again(order)
    }

    /// The queue message of the latest event the flow published for the Order.
    pub fn approve_again(&self, order: &SeededOrder) -> ProvisioningMessage {
        let event = self
            .sf
            .events()
            .all()
            .into_iter()
            .rev()
            .find(|e| e.order_id == order.order_id)
            .expect("the flow published an event");
        ProvisioningMessage::from_json(
            &json!({
                "schemaVersion": 1,
                "orderId": event.order_id,
                "idempotencyKey": event.idem_key,
                "correlationId": event.correlation_id,
                "requestedBy": event.requested_by,
                "source": "pubsub",
                "eventId": event.event_id,
                "replayId": BASE64.encode(event.replay_id),
            })
            .to_string(),
        )
        .expect("a valid message")
    }

    /// One invocation's view: a fresh request id and a deadline a minute away.
    pub fn invocation(&self) -> Invocation {
        let n = self
            .next_request
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Invocation {
            request_id: format!("request-{n}"),
            deadline: self.clock.now() + TimeDelta::minutes(1),
        }
    }

    /// Delivers `messages` as one batch (message ids `m0`, `m1`…, or `ids`).
    pub async fn deliver(&self, messages: &[(&str, &ProvisioningMessage)]) -> SqsBatchResponse {
        let event = sqs_event(
            &messages
                .iter()
                .map(|(id, m)| (*id, m.to_json()))
                .collect::<Vec<_>>(),
        );
        handle_batch(&self.provisioner, &event, &self.invocation()).await
    }

    /// Delivers one message; `true` when it was acknowledged.
    pub async fn deliver_one(&self, message: &ProvisioningMessage) -> bool {
        self.deliver(&[("m0", message)])
            .await
            .batch_item_failures
            .is_empty()
    }

    /// The provisioning record's status.
    pub async fn record_status(&self, order: &SeededOrder) -> Option<ProvisioningStatus> {
        let id = OrderId::parse(&order.order_id).expect("an Order id");
        self.provisioner
            .records()
            .get(&id)
            .await
            .expect("the store answers")
            .map(|r| r.state.status())
    }

    /// The provisioning record's status while other writes may be in flight:
    /// `None` also when the store cannot read it (moto may show a record
    /// half-written by a concurrent UpdateItem).
    pub async fn record_status_now(&self, order: &SeededOrder) -> Option<ProvisioningStatus> {
        let id = OrderId::parse(&order.order_id).expect("an Order id");
        self.provisioner
            .records()
            .get(&id)
            .await
            .ok()
            .flatten()
            .map(|r| r.state.status())
    }

    /// A Salesforce record.
    pub fn record(&self, id: &str) -> Value {
        self.sf.record(id).expect("the record exists")
    }

    /// WHMCS calls so far, GetProducts (cached per process) left out.
    pub fn whmcs_calls(&self) -> u64 {
        WHMCS_ACTIONS.iter().map(|a| self.whmcs.calls(a)).sum()
    }
}

/// An SQS event of FIFO records, in the shape Lambda delivers it.
pub fn sqs_event(records: &[(&str, String)]) -> SqsEvent {
    let records: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(i, (id, body))| {
            // SQS FIFO groups by Order: the group of a message is its Order id.
            let group = serde_json::from_str::<Value>(body)
                .ok()
                .and_then(|b| b["orderId"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "group".to_owned());
            json!({
                "messageId": id,
                "receiptHandle": format!("receipt-{id}"),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1545082649183",
                    "SequenceNumber": format!("{}", 1000 + i),
                    "MessageGroupId": group,
                    "MessageDeduplicationId": format!("dedup-{id}"),
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:ap-northeast-1:123456789012:provisioning.fifo",
                "awsRegion": "ap-northeast-1",
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).expect("a valid SQS event")
}

/// The ids SQS is told to deliver again.
pub fn failures(response: &SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

fn uuid_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
