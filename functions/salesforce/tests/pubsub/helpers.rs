//! A world per test: an emulated org, a REST client logged in to it and a
//! Pub/Sub client of its gRPC face.

use std::time::Duration;

use portal_core::ports::ReplayFrom;
use salesforce::pubsub::{
    Event, PubSubClient, PubSubConfig, PubSubError, Subscription, SubscriptionItem,
};
use salesforce::schema::order_provision_requested::TOPIC;
use salesforce::{RetryPolicy, SalesforceClient, SalesforceConfig};
use salesforce_emulator::{Emulator, EmulatorConfig, EventPayload, PublishedEvent, fixtures, ids};

/// A watchdog long enough never to trip in a test that does not test it.
pub const PATIENT: Duration = Duration::from_secs(20);

/// A running org and clients of it.
pub struct TestOrg {
    pub emulator: Emulator,
    pub pubsub: PubSubClient,
}

/// An org with default settings and a patient watchdog.
pub async fn org() -> TestOrg {
    org_with(EmulatorConfig::default(), PATIENT).await
}

/// An org with `config`, and a Pub/Sub client whose watchdog is `watchdog`.
pub async fn org_with(config: EmulatorConfig, watchdog: Duration) -> TestOrg {
    let emulator = Emulator::start(config).await.unwrap();
    let salesforce = salesforce_client(&emulator);
    let pubsub = pubsub_client(&emulator.pubsub_url(), salesforce, watchdog).await;
    TestOrg { emulator, pubsub }
}

/// A REST client logging in to `emulator`.
pub fn salesforce_client(emulator: &Emulator) -> SalesforceClient {
    let config = SalesforceConfig::new(
        &emulator.base_url(),
        emulator.config().client_id.clone(),
        emulator.config().username.clone(),
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

/// A Pub/Sub client of `endpoint` using `salesforce`'s session.
pub async fn pubsub_client(
    endpoint: &str,
    salesforce: SalesforceClient,
    watchdog: Duration,
) -> PubSubClient {
    let config = PubSubConfig::new(endpoint).unwrap().with_watchdog(watchdog);
    PubSubClient::connect(config, salesforce).await.unwrap()
}

impl TestOrg {
    /// Subscribes to the Order event topic.
    pub async fn subscribe(
        &self,
        from: ReplayFrom,
        batch: u32,
    ) -> Result<Subscription, PubSubError> {
        self.pubsub.subscribe(TOPIC, from, batch).await
    }

    /// Publishes an event for a fresh Order id.
    pub fn publish(&self) -> PublishedEvent {
        self.emulator.events().publish(EventPayload::for_order(
            &ids::random_id("801"),
            &self.emulator.admin_user_id(),
            chrono::Utc::now(),
        ))
    }

    /// An Order with one item in `Pending Review`, created through the emulator's API.
    pub fn pending_order(&self) -> String {
        let account = self
            .emulator
            .insert("Account", serde_json::json!({"Name": "Pub/Sub Customer"}))
            .unwrap();
        let entry = self
            .emulator
            .records("PricebookEntry")
            .into_iter()
            .next()
            .unwrap();
        let order = self
            .emulator
            .insert(
                "Order",
                serde_json::json!({
                    "AccountId": account,
                    "EffectiveDate": "2024-05-01",
                    "Status": "Pending Review",
                    "Activation_Status__c": "Pending Review",
                    "Pricebook2Id": entry["Pricebook2Id"],
                }),
            )
            .unwrap();
        self.emulator
            .insert(
                "OrderItem",
                serde_json::json!({
                    "OrderId": order,
                    "PricebookEntryId": entry["Id"],
                    "Quantity": 1,
                    "UnitPrice": entry["UnitPrice"],
                }),
            )
            .unwrap();
        order
    }
}

/// The next item, which must be an event.
pub async fn next_event(subscription: &mut Subscription) -> Event {
    loop {
        match subscription.next().await {
            Some(Ok(SubscriptionItem::Event(event))) => return event,
            Some(Ok(SubscriptionItem::Keepalive { .. })) => {}
            Some(Err(error)) => panic!("the subscription failed: {error}"),
            None => panic!("the subscription ended"),
        }
    }
}

/// The error that ends the subscription (keepalives and events skipped).
pub async fn end_of(subscription: &mut Subscription) -> PubSubError {
    loop {
        match subscription.next().await {
            Some(Ok(_)) => {}
            Some(Err(error)) => return error,
            None => panic!("the subscription ended without an error"),
        }
    }
}
