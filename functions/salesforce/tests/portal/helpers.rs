//! Builds a world per test: an emulated org, a client logged in to it, the
//! adapters, and seeding helpers that write through the emulator's staff API
//! (not counted as API calls).

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use portal_core::domain::Login;
use portal_core::domain::{
    AccountId, CaseId, ContactId, Email, OpportunityId, OrderId, PricebookEntryId, PricebookId,
    ProductId,
};
use portal_core::portal::{
    Attempt, Caller, DEFAULT_LINK_CACHE_TTL, Logins, PortError, PortalError, RequestKey,
};
use portal_core::ports::memory::{InMemoryAccountStatuses, InMemoryLoginLinks};
use salesforce::portal::record::ID;
use salesforce::portal::{PriceBook, SalesforcePortal};
use salesforce::schema::{
    account, case, contact, opportunity, order, order_item, pricebook, pricebook_entry, product,
};
use salesforce::{RetryPolicy, SalesforceClient, SalesforceConfig};
use salesforce_emulator::{Emulator, EmulatorConfig, fixtures};
use serde_json::{Value, json};

/// A running org, a client pointed at it and the adapters over that client.
pub struct TestOrg {
    pub emulator: Emulator,
    pub client: SalesforceClient,
    pub portal: SalesforcePortal,
}

impl TestOrg {
    /// API calls the org has counted so far.
    pub fn calls(&self) -> u64 {
        self.emulator.api_calls()
    }

    /// Logs the client in (token requests are not API calls), so that call
    /// counts measure only the adapters' requests.
    pub async fn warm_up(&self) {
        self.client.session().await.expect("the client logs in");
    }

    /// The stored record with `id`.
    pub fn record(&self, id: &str) -> Value {
        self.emulator
            .record(id)
            .unwrap_or_else(|| panic!("no record {id}"))
    }

    /// The bytes of a file version, read over REST as staff
    /// (`sobjects/ContentVersion/{id}/VersionData`).
    pub async fn version_data(&self, id: &str) -> Vec<u8> {
        let url = format!(
            "{}/services/data/v62.0/sobjects/ContentVersion/{id}/VersionData",
            self.emulator.base_url()
        );
        let response = reqwest::Client::new()
            .get(url)
            .bearer_auth(salesforce_emulator::config::DEFAULT_ADMIN_TOKEN)
            .send()
            .await
            .expect("the org answers");
        assert_eq!(response.status(), 200);
        response.bytes().await.expect("the bytes").to_vec()
    }

    /// How many records `object` has.
    pub fn count(&self, object: &str) -> usize {
        self.emulator.count(object)
    }

    /// Inserts a record as staff; returns its id.
    pub fn insert(&self, object: &str, fields: Value) -> String {
        self.emulator
            .insert(object, fields)
            .unwrap_or_else(|e| panic!("seeding a {object} failed: {e}"))
    }

    /// Updates a record as staff.
    pub fn update(&self, object: &str, id: &str, fields: Value) {
        self.emulator
            .update(object, id, fields)
            .unwrap_or_else(|e| panic!("updating a {object} failed: {e}"));
    }

    /// A customer's Account.
    pub fn account(&self, name: &str, fields: Value) -> AccountId {
        let mut body = json!({ account::NAME: name });
        merge(&mut body, fields);
        AccountId::parse(&self.insert(account::OBJECT, body)).expect("an Account id")
    }

    /// A Contact on `account_id`.
    pub fn contact(&self, account_id: Option<&AccountId>, email: &str) -> ContactId {
        let body = json!({
            contact::FIRST_NAME: "Hanako",
            contact::LAST_NAME: "Yamada",
            contact::EMAIL: email,
            contact::ACCOUNT_ID: account_id.map(AccountId::as_str),
        });
        ContactId::parse(&self.insert(contact::OBJECT, body)).expect("a Contact id")
    }

    /// An Opportunity of `account_id`.
    pub fn opportunity(
        &self,
        account_id: &AccountId,
        commodity: &str,
        stage: &str,
        fields: Value,
    ) -> OpportunityId {
        let mut body = json!({
            opportunity::NAME: format!("{commodity} - seeded"),
            opportunity::ACCOUNT_ID: account_id.as_str(),
            opportunity::COMMODITY_TYPE: commodity,
            opportunity::STAGE: stage,
            opportunity::CLOSE_DATE: "2026-05-01",
        });
        merge(&mut body, fields);
        OpportunityId::parse(&self.insert(opportunity::OBJECT, body)).expect("an Opportunity id")
    }

    /// A Case of `account_id`.
    pub fn case(&self, account_id: &AccountId, case_type: &str, fields: Value) -> CaseId {
        let mut body = json!({
            case::ACCOUNT_ID: account_id.as_str(),
            case::TYPE: case_type,
            case::STATUS: "New",
            case::ORIGIN: "Portal",
            case::SUBJECT: format!("{case_type} - seeded"),
        });
        merge(&mut body, fields);
        CaseId::parse(&self.insert(case::OBJECT, body)).expect("a Case id")
    }

    /// The standard price book.
    pub fn standard_pricebook(&self) -> PricebookId {
        let book = self
            .emulator
            .records(pricebook::OBJECT)
            .into_iter()
            .find(|b| b[pricebook::IS_STANDARD] == true)
            .expect("the seeded standard price book");
        PricebookId::parse(book[ID].as_str().expect("an id")).expect("a Pricebook2 id")
    }

    /// A seeded product by `ProductCode`, with its standard entry and price.
    pub fn product(&self, code: &str) -> SeededProduct {
        let product = self
            .emulator
            .records(product::OBJECT)
            .into_iter()
            .find(|p| p[product::PRODUCT_CODE] == code)
            .unwrap_or_else(|| panic!("no seeded product {code}"));
        let product_id = product[ID].as_str().expect("an id").to_owned();
        let entry = self
            .emulator
            .records(pricebook_entry::OBJECT)
            .into_iter()
            .find(|e| e[pricebook_entry::PRODUCT_ID] == product_id.as_str())
            .expect("a standard price book entry");
        SeededProduct {
            id: ProductId::parse(&product_id).expect("a Product2 id"),
            entry: PricebookEntryId::parse(entry[ID].as_str().expect("an id"))
                .expect("a PricebookEntry id"),
            price: entry[pricebook_entry::UNIT_PRICE]
                .as_f64()
                .expect("a price"),
            name: product[product::NAME].as_str().expect("a name").to_owned(),
        }
    }

    /// An Order of `account_id` with one item of `product`, as staff would have it.
    pub fn order(&self, account_id: &AccountId, product: &SeededProduct, fields: Value) -> OrderId {
        let mut body = json!({
            order::ACCOUNT_ID: account_id.as_str(),
            order::STATUS: "Pending Review",
            order::ACTIVATION_STATUS: "Pending Review",
            order::EFFECTIVE_DATE: "2026-04-01",
            order::PRICEBOOK_ID: self.standard_pricebook().as_str(),
        });
        merge(&mut body, fields);
        let order_id = self.insert(order::OBJECT, body);
        self.insert(
            order_item::OBJECT,
            json!({
                order_item::ORDER_ID: order_id,
                order_item::PRICEBOOK_ENTRY_ID: product.entry.as_str(),
                order_item::QUANTITY: 2,
                order_item::UNIT_PRICE: product.price,
            }),
        );
        OrderId::parse(&order_id).expect("an Order id")
    }

    /// Every record of `object` whose `field` is `value`.
    pub fn records_where(&self, object: &str, field: &str, value: &str) -> Vec<Value> {
        self.emulator
            .records(object)
            .into_iter()
            .filter(|r| r[field] == value)
            .collect()
    }
}

/// A product of the seeded catalog.
#[derive(Debug, Clone)]
pub struct SeededProduct {
    pub id: ProductId,
    pub entry: PricebookEntryId,
    pub price: f64,
    pub name: String,
}

fn merge(body: &mut Value, extra: Value) {
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
}

/// Retries quickly, so that retry tests do not wait.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    }
}

/// An org with the seeded catalog and a client with fast retries.
pub async fn org() -> TestOrg {
    org_with_retry(fast_retry()).await
}

/// An org whose client never retries (to see the first failure).
pub async fn org_without_retries() -> TestOrg {
    org_with_retry(RetryPolicy::none()).await
}

async fn org_with_retry(retry: RetryPolicy) -> TestOrg {
    org_with(EmulatorConfig::default(), retry).await
}

/// An org started with `config`, and a client with `retry`.
pub async fn org_with(config: EmulatorConfig, retry: RetryPolicy) -> TestOrg {
    let emulator = Emulator::start(config).await.expect("the emulator starts");
    let config = SalesforceConfig::new(
        &emulator.base_url(),
        emulator.config().client_id.clone(),
        emulator.config().username.clone(),
        fixtures::CLIENT_PRIVATE_KEY_PEM.as_bytes(),
    )
    .expect("the test configuration is valid");
    let client = SalesforceClient::with_retry_policy(config, retry).expect("the client builds");
    let portal = SalesforcePortal::new(client.clone(), PriceBook::Standard);
    let org = TestOrg {
        emulator,
        client,
        portal,
    };
    org.warm_up().await;
    org
}

/// The verified caller acting for `account_id` (its login linked to it).
pub fn caller(email: &str, account_id: Option<&AccountId>) -> Caller {
    Caller {
        login: Login::new("https://id.example.jp/", &format!("idp|{email}")).expect("a login"),
        email: Email::parse(email).expect("a valid e-mail"),
        email_verified: true,
        account_id: account_id.cloned(),
    }
}

/// In-memory login links, as the API keeps them.
pub type TestLogins = Logins<InMemoryLoginLinks, InMemoryAccountStatuses>;

/// No login linked yet.
pub fn logins() -> TestLogins {
    Logins::new(
        InMemoryLoginLinks::new(),
        InMemoryAccountStatuses::new(),
        DEFAULT_LINK_CACHE_TTL,
    )
}

/// 2026-04-01 09:30 in Tokyo.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 0, 30, 0).unwrap()
}

/// The port error inside a use case's error.
pub fn upstream(err: PortalError) -> PortError {
    match err {
        PortalError::Upstream(port) => port,
        other => panic!("expected an upstream error, got {other:?}"),
    }
}

/// A request key no other request of the test process uses (each POST's
/// records carry one; Salesforce refuses a second record with the same).
pub fn request_key() -> RequestKey {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let login = Login::new("https://id.example.jp/", "tester").expect("a login");
    RequestKey::derive(&login, &format!("key-{n}"), "fingerprint")
}

/// The first attempt of a new request.
pub fn attempt() -> Attempt {
    Attempt::first(request_key())
}
