//! An org per test, a session token, a raw gRPC client and request builders.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use salesforce::pubsub::proto::pub_sub_client::PubSubClient;
use salesforce::pubsub::proto::{FetchRequest, FetchResponse, ReplayPreset};
use salesforce::pubsub::{
    ACCESS_TOKEN_HEADER, ERROR_CODE_TRAILER, INSTANCE_URL_HEADER, TENANT_ID_HEADER,
};
use salesforce::schema::order_provision_requested::TOPIC;
use salesforce_emulator::{Emulator, EmulatorConfig, EventPayload, PublishedEvent, fixtures, ids};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::transport::Channel;
use tonic::{Request, Status, Streaming};

/// An org, a live session token and a gRPC client of its Pub/Sub face.
pub struct Org {
    pub emu: Emulator,
    pub token: String,
    pub grpc: PubSubClient<Channel>,
}

/// Short timings, so that idle closes and keepalives happen within a test.
pub fn fast() -> EmulatorConfig {
    EmulatorConfig {
        pubsub_idle_timeout: Duration::from_millis(150),
        pubsub_keepalive_interval: Duration::from_millis(50),
        ..EmulatorConfig::default()
    }
}

pub async fn org() -> Org {
    org_with(EmulatorConfig::default()).await
}

pub async fn org_with(config: EmulatorConfig) -> Org {
    let emu = Emulator::start(config).await.unwrap();
    let claims = json!({
        "iss": emu.config().client_id,
        "sub": emu.config().username,
        "aud": emu.base_url(),
        "exp": chrono::Utc::now().timestamp() + 120,
    });
    let key = EncodingKey::from_rsa_pem(fixtures::CLIENT_PRIVATE_KEY_PEM.as_bytes()).unwrap();
    let assertion = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", emu.base_url()))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = answer["access_token"].as_str().unwrap().to_owned();
    let grpc = PubSubClient::connect(emu.pubsub_url()).await.unwrap();
    Org { emu, token, grpc }
}

impl Org {
    /// `message` with this org's valid auth metadata.
    pub fn request<M>(&self, message: M) -> Request<M> {
        self.request_as(
            &self.token,
            &self.emu.base_url(),
            &self.emu.org_id(),
            message,
        )
    }

    /// `message` with the given auth metadata.
    pub fn request_as<M>(
        &self,
        token: &str,
        instance: &str,
        tenant: &str,
        message: M,
    ) -> Request<M> {
        let mut request = Request::new(message);
        let metadata = request.metadata_mut();
        metadata.insert(ACCESS_TOKEN_HEADER, token.parse().unwrap());
        metadata.insert(INSTANCE_URL_HEADER, instance.parse().unwrap());
        metadata.insert(TENANT_ID_HEADER, tenant.parse().unwrap());
        request
    }

    /// Opens a subscription with `first` as its first request; later requests go through
    /// the returned sender.
    pub async fn subscribe(
        &self,
        first: FetchRequest,
    ) -> Result<
        (
            mpsc::UnboundedSender<FetchRequest>,
            Streaming<FetchResponse>,
        ),
        Status,
    > {
        let (tx, rx) = mpsc::unbounded_channel();
        tx.send(first).unwrap();
        let request = self.request(UnboundedReceiverStream::new(rx));
        let response = self.grpc.clone().subscribe(request).await?;
        Ok((tx, response.into_inner()))
    }

    /// Publishes an event for a fresh Order id.
    pub fn publish(&self) -> PublishedEvent {
        self.emu.events().publish(EventPayload::for_order(
            &ids::random_id("801"),
            &self.emu.admin_user_id(),
            chrono::Utc::now(),
        ))
    }
}

/// The first request of a subscription.
pub fn first(preset: ReplayPreset, replay_id: Vec<u8>, n: i32) -> FetchRequest {
    FetchRequest {
        topic_name: TOPIC.to_owned(),
        replay_preset: preset.into(),
        replay_id,
        num_requested: n,
        auth_refresh: String::new(),
    }
}

/// A later request for `n` more events.
pub fn more(n: i32) -> FetchRequest {
    FetchRequest {
        num_requested: n,
        ..FetchRequest::default()
    }
}

/// The `error-code` trailer of a status.
pub fn error_code(status: &Status) -> Option<String> {
    status
        .metadata()
        .get(ERROR_CODE_TRAILER)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// Reads responses until `n` events arrived (keepalives skipped); panics on an error.
pub async fn events(stream: &mut Streaming<FetchResponse>, n: usize) -> Vec<FetchResponse> {
    let mut responses = Vec::new();
    let mut seen = 0;
    while seen < n {
        let response = stream.message().await.unwrap().unwrap();
        seen += response.events.len();
        if !response.events.is_empty() {
            responses.push(response);
        }
    }
    responses
}
