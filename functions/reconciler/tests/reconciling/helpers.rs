//! A world per test: an emulated org, a fresh table, a provisioning FIFO
//! queue with its DLQ and an event DLQ on the moto server, a test clock and
//! the reconciler wired to them exactly as the Lambda wires it.

use std::time::Duration;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use portal_aws::{AwsClients, DynamoProvisioningRecords, DynamoReplayStore};
use portal_core::domain::OrderId;
use portal_core::messages::ProvisioningMessage;
use portal_core::ports::TestClock;
use portal_core::reconcile::{ReconcileReport, ReconcileSettings};
use reconciler::{AwsReconciler, AwsTargets, assemble};
use salesforce::{RetryPolicy, SalesforceClient, SalesforceConfig};
use salesforce_emulator::{Emulator, EmulatorConfig, fixtures};
use serde_json::json;

/// One test's world.
pub struct World {
    pub sf: Emulator,
    pub aws: AwsClients,
    pub targets: AwsTargets,
    pub clock: TestClock,
    pub reconciler: AwsReconciler<TestClock>,
}

/// A Salesforce client of `sf` with quick retries.
pub fn salesforce_client(sf: &Emulator) -> SalesforceClient {
    let config = SalesforceConfig::new(
        &sf.base_url(),
        sf.config().client_id.clone(),
        sf.config().username.clone(),
        fixtures::CLIENT_PRIVATE_KEY_PEM.as_bytes(),
    )
    .unwrap();
    let retry = RetryPolicy {
        max_attempts: 2,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    };
    SalesforceClient::with_retry_policy(config, retry).unwrap()
}

pub async fn world() -> World {
    world_with(ReconcileSettings::default()).await
}

/// A world whose reconciler runs with `settings`.
pub async fn world_with(settings: ReconcileSettings) -> World {
    let sf = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let aws = AwsClients::from_sdk_config(&test_support::aws::sdk_config().await);
    let table = test_support::aws::create_table(&aws.dynamo).await;
    let provisioning = test_support::aws::create_fifo_queue(&aws.sqs, 5).await;
    let events = test_support::aws::create_fifo_queue(&aws.sqs, 5).await;
    let targets = AwsTargets {
        state_table: table,
        provisioning_queue_url: provisioning.url,
        provisioning_dlq_url: provisioning.dlq_url,
        event_dlq_url: events.dlq_url,
    };
    let clock = TestClock::starting_now();
    let reconciler = assemble(
        salesforce_client(&sf),
        &aws,
        &targets,
        settings,
        clock.clone(),
    );
    World {
        sf,
        aws,
        targets,
        clock,
        reconciler,
    }
}

/// A message received from the provisioning queue.
pub struct Received {
    pub message_id: String,
    pub body: String,
    pub message: ProvisioningMessage,
}

impl World {
    /// The provisioning records of the world's table.
    pub fn records(&self) -> DynamoProvisioningRecords {
        DynamoProvisioningRecords::new(self.aws.dynamo.clone(), &self.targets.state_table)
    }

    /// The replay store of the world's table.
    pub fn replay(&self) -> DynamoReplayStore {
        DynamoReplayStore::new(self.aws.dynamo.clone(), &self.targets.state_table)
    }

    /// An Order of `products` for a new Account with a Contact and an
    /// Opportunity, `Pending Review`.
    pub fn seed_order(&self, products: &[&str]) -> OrderId {
        let n = unique();
        let account = self
            .sf
            .insert(
                "Account",
                json!({"Name": format!("Reconcile Customer {n}")}),
            )
            .unwrap();
        self.sf
            .insert(
                "Contact",
                json!({"FirstName": "Aiko", "LastName": "Sato", "Email": format!("rc-{n}@example.com"), "AccountId": account}),
            )
            .unwrap();
        let book = self
            .sf
            .records("Pricebook2")
            .into_iter()
            .find(|b| b["IsStandard"] == json!(true))
            .unwrap();
        let opportunity = self
            .sf
            .insert(
                "Opportunity",
                json!({"Name": "SIM order", "AccountId": account, "StageName": "Post Processing",
                       "CloseDate": "2030-12-31", "CommodityType": "SIM"}),
            )
            .unwrap();
        let order = self
            .sf
            .insert(
                "Order",
                json!({"AccountId": account, "OpportunityId": opportunity, "EffectiveDate": "2030-01-01",
                       "Pricebook2Id": book["Id"], "Status": "Pending Review",
                       "Activation_Status__c": "Pending Review"}),
            )
            .unwrap();
        for code in products {
            let product = self
                .sf
                .records("Product2")
                .into_iter()
                .find(|p| p["ProductCode"] == json!(code))
                .unwrap();
            let entry = self
                .sf
                .records("PricebookEntry")
                .into_iter()
                .find(|e| e["Product2Id"] == product["Id"])
                .unwrap();
            self.sf
                .insert(
                    "OrderItem",
                    json!({"OrderId": order, "PricebookEntryId": entry["Id"], "Product2Id": product["Id"],
                           "Quantity": 1, "UnitPrice": entry["UnitPrice"]}),
                )
                .unwrap();
        }
        OrderId::parse(&order).unwrap()
    }

    /// Staff approve the Order: the flow sets it `Activating` (its event is
    /// the one that gets lost in these tests).
    pub fn approve(&self, order: &OrderId) {
        self.sf
            .update("Order", order.as_str(), json!({"Status": "Approved"}))
            .unwrap();
        assert_eq!(
            self.sf.record(order.as_str()).unwrap()["Activation_Status__c"],
            "Activating"
        );
    }

    /// One run, as the Lambda's handler makes it.
    pub async fn run(&self) -> ReconcileReport {
        self.run_with_metrics().await.0
    }

    /// One run and the EMF lines it wrote.
    pub async fn run_with_metrics(&self) -> (ReconcileReport, Vec<serde_json::Value>) {
        let event: EventBridgeEvent =
            serde_json::from_str(include_str!("../data/eventbridge-scheduled-event.json")).unwrap();
        let mut out = Vec::new();
        let report = reconciler::run_once(&self.reconciler, &event, "test-run", &mut out).await;
        let lines = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (report, lines)
    }

    /// Receives and deletes every message of the provisioning queue.
    pub async fn drain(&self) -> Vec<Received> {
        let mut received = Vec::new();
        loop {
            let out = self
                .aws
                .sqs
                .receive_message()
                .queue_url(&self.targets.provisioning_queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            if out.messages().is_empty() {
                return received;
            }
            for m in out.messages() {
                let body = m.body().unwrap().to_owned();
                received.push(Received {
                    message_id: m.message_id().unwrap().to_owned(),
                    message: ProvisioningMessage::from_json(&body).unwrap(),
                    body,
                });
                self.aws
                    .sqs
                    .delete_message()
                    .queue_url(&self.targets.provisioning_queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
