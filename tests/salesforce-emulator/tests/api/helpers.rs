//! Shared test set-up: an org per test, signed assertions, a logged-in client.
#![allow(clippy::unwrap_used)] // test set-up: a failure here should panic loudly

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::HeaderMap;
use salesforce_emulator::{Emulator, EmulatorConfig, fixtures};
use serde_json::{Value, json};

pub const V: &str = "v62.0";

/// A running org and a client logged in as the integration user.
pub struct TestOrg {
    pub emu: Emulator,
    pub http: reqwest::Client,
    pub token: String,
}

/// An HTTP answer: status, headers, JSON body (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn error_code(&self) -> &str {
        self.body[0]["errorCode"].as_str().unwrap_or_default()
    }

    pub fn message(&self) -> &str {
        self.body[0]["message"].as_str().unwrap_or_default()
    }

    pub fn usage(&self) -> Option<String> {
        self.headers
            .get("sforce-limit-info")
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

pub fn sign(claims: &Value, key_pem: &str) -> String {
    let key = EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).unwrap()
}

pub fn claims(emu: &Emulator) -> Value {
    json!({
        "iss": emu.config().client_id,
        "sub": emu.config().username,
        "aud": emu.base_url(),
        "exp": chrono::Utc::now().timestamp() + 120,
    })
}

pub async fn request_token(emu: &Emulator, http: &reqwest::Client, assertion: &str) -> Answer {
    let response = http
        .post(format!("{}/services/oauth2/token", emu.base_url()))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion),
        ])
        .send()
        .await
        .unwrap();
    answer(response).await
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

pub async fn spawn() -> TestOrg {
    spawn_with(EmulatorConfig::default()).await
}

pub async fn spawn_with(config: EmulatorConfig) -> TestOrg {
    let emu = Emulator::start(config).await.unwrap();
    let http = reqwest::Client::new();
    let assertion = sign(&claims(&emu), fixtures::CLIENT_PRIVATE_KEY_PEM);
    let token = request_token(&emu, &http, &assertion).await;
    assert_eq!(token.status, 200, "{}", token.text);
    let token = token.body["access_token"].as_str().unwrap().to_owned();
    TestOrg { emu, http, token }
}

impl TestOrg {
    pub fn url(&self, path: &str) -> String {
        format!("{}/services/data/{V}/{path}", self.emu.base_url())
    }

    pub async fn send_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let url = if path.starts_with('/') {
            format!("{}{path}", self.emu.base_url())
        } else {
            self.url(path)
        };
        let mut request = self
            .http
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.unwrap()).await
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.send_as(Some(&self.token), method, path, body).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send("POST", path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send("PATCH", path, Some(body)).await
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.send_as(Some("local-admin"), method, path, body).await
    }

    /// Creates an Account over the API and returns its id.
    pub async fn account(&self, name: &str) -> String {
        let created = self.post("sobjects/Account", json!({"Name": name})).await;
        assert_eq!(created.status, 201, "{}", created.text);
        created.body["id"].as_str().unwrap().to_owned()
    }

    /// The standard price book id and the first active catalog entry (id, product id, price).
    pub fn catalog_entry(&self, code: &str) -> (String, String, String, f64) {
        let product = self
            .emu
            .records("Product2")
            .into_iter()
            .find(|p| p["ProductCode"] == code)
            .unwrap();
        let product_id = product["Id"].as_str().unwrap().to_owned();
        let entry = self
            .emu
            .records("PricebookEntry")
            .into_iter()
            .find(|e| e["Product2Id"] == product_id.as_str())
            .unwrap();
        (
            entry["Pricebook2Id"].as_str().unwrap().to_owned(),
            entry["Id"].as_str().unwrap().to_owned(),
            product_id,
            entry["UnitPrice"].as_f64().unwrap(),
        )
    }

    /// An Order in `Pending Review` with one item of the 1G plan, created as the portal would.
    pub async fn pending_order(&self) -> String {
        let account = self.account("Order Customer").await;
        let (book, entry, _, price) = self.catalog_entry("INT-HOME-1G");
        let order = self
            .post(
                "sobjects/Order",
                json!({"AccountId": account, "EffectiveDate": "2024-05-01", "Status": "Pending Review",
                       "Activation_Status__c": "Pending Review", "Pricebook2Id": book}),
            )
            .await;
        assert_eq!(order.status, 201, "{}", order.text);
        let order_id = order.body["id"].as_str().unwrap().to_owned();
        let item = self
            .post(
                "sobjects/OrderItem",
                json!({"OrderId": order_id, "PricebookEntryId": entry, "Quantity": 1, "UnitPrice": price}),
            )
            .await;
        assert_eq!(item.status, 201, "{}", item.text);
        order_id
    }
}
