//! [`PubSubClient`]: one gRPC channel to the Pub/Sub API, authenticated with the
//! REST client's session, with the schema cache shared by every subscription.
//!
//! Every call carries `accesstoken`, `instanceurl` and `tenantid` from the
//! current [`Session`]. On `UNAUTHENTICATED` the session is reported stale, a
//! fresh one is obtained (one login, shared by every caller) and the call is
//! made once more; a second refusal is [`PubSubError::AuthFailed`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use apache_avro::Schema;
use portal_core::ports::ReplayFrom;
use secrecy::ExposeSecret as _;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Request, Response, Status};

use super::config::{PubSubConfig, Transport};
use super::error::{PubSubError, TransientError};
use super::proto::pub_sub_client::PubSubClient as Grpc;
use super::proto::{FetchRequest, ReplayPreset, SchemaRequest, TopicRequest};
use super::subscription::Subscription;
use super::{ACCESS_TOKEN_HEADER, INSTANCE_URL_HEADER, MAX_OWED_EVENTS, TENANT_ID_HEADER};
use crate::auth::Session;
use crate::client::SalesforceClient;

/// How long an idle TCP connection waits before probing its peer.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// What the caller may do with a topic (`GetTopic`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// The topic, e.g. `/event/OrderProvisionRequested__e`.
    pub topic_name: String,
    /// The org the topic belongs to.
    pub tenant_guid: String,
    /// Whether the integration user may publish.
    pub can_publish: bool,
    /// Whether the integration user may subscribe.
    pub can_subscribe: bool,
    /// The schema events are published with now.
    pub schema_id: String,
    /// The call's id, for Salesforce support.
    pub rpc_id: String,
}

struct Inner {
    grpc: Grpc<Channel>,
    salesforce: SalesforceClient,
    config: PubSubConfig,
    /// Parsed writer schemas by schema id; the lock is held while one is fetched,
    /// so each unknown id is fetched once.
    schemas: tokio::sync::Mutex<HashMap<String, Arc<Schema>>>,
}

/// A Pub/Sub API client. Clones share the channel, the session and the schema cache.
#[derive(Clone)]
pub struct PubSubClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PubSubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSubClient")
            .field("endpoint", &self.inner.config.endpoint())
            .field("watchdog", &self.inner.config.watchdog())
            .finish_non_exhaustive()
    }
}

impl PubSubClient {
    /// Connects to `config`'s endpoint (TLS with the webpki roots and the configured
    /// CA certificate for `https://`, plaintext for `http://`); calls authenticate
    /// with `salesforce`'s session.
    pub async fn connect(
        config: PubSubConfig,
        salesforce: SalesforceClient,
    ) -> Result<Self, PubSubError> {
        let endpoint_error = |source| PubSubError::Endpoint {
            endpoint: config.endpoint().to_owned(),
            source,
        };
        let mut endpoint = Endpoint::from_shared(config.endpoint().to_owned())
            .map_err(endpoint_error)?
            .user_agent(concat!("portal-salesforce/", env!("CARGO_PKG_VERSION")))
            .map_err(endpoint_error)?
            .connect_timeout(config.connect_timeout())
            .tcp_keepalive(Some(TCP_KEEPALIVE));
        if config.transport() == Transport::Tls {
            let mut tls = ClientTlsConfig::new().with_webpki_roots();
            if let Some(pem) = config.ca_certificate() {
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint.tls_config(tls).map_err(endpoint_error)?;
        }
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| PubSubError::Transient(TransientError::Connect(e)))?;
        tracing::info!(endpoint = %config.endpoint(), "connected to the Pub/Sub API");
        Ok(Self {
            inner: Arc::new(Inner {
                grpc: Grpc::new(channel),
                salesforce,
                config,
                schemas: tokio::sync::Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PubSubConfig {
        &self.inner.config
    }

    /// `GetTopic`: whether the integration user may subscribe, and the current schema id.
    #[tracing::instrument(name = "pubsub.get_topic", skip(self))]
    pub async fn get_topic(&self, topic: &str) -> Result<TopicInfo, PubSubError> {
        let message = TopicRequest {
            topic_name: topic.to_owned(),
        };
        let info = self
            .unary(message, |mut grpc, request| async move {
                grpc.get_topic(request).await
            })
            .await?;
        Ok(TopicInfo {
            topic_name: info.topic_name,
            tenant_guid: info.tenant_guid,
            can_publish: info.can_publish,
            can_subscribe: info.can_subscribe,
            schema_id: info.schema_id,
            rpc_id: info.rpc_id,
        })
    }

    /// The writer schema `schema_id`, from the cache or else from `GetSchema` (once per id).
    /// An unknown id is [`PubSubError::Permanent`] with [`Code::NotFound`]; a schema that
    /// does not parse is [`PubSubError::InvalidSchema`].
    #[tracing::instrument(name = "pubsub.get_schema", skip(self))]
    pub async fn get_schema(&self, schema_id: &str) -> Result<Arc<Schema>, PubSubError> {
        let mut cache = self.inner.schemas.lock().await;
        if let Some(schema) = cache.get(schema_id) {
            return Ok(Arc::clone(schema));
        }
        let message = SchemaRequest {
            schema_id: schema_id.to_owned(),
        };
        let info = self
            .unary(message, |mut grpc, request| async move {
                grpc.get_schema(request).await
            })
            .await?;
        let schema =
            Schema::parse_str(&info.schema_json).map_err(|e| PubSubError::InvalidSchema {
                schema_id: schema_id.to_owned(),
                source: Box::new(e),
            })?;
        let schema = Arc::new(schema);
        cache.insert(schema_id.to_owned(), Arc::clone(&schema));
        tracing::info!("cached a Pub/Sub event schema");
        Ok(schema)
    }

    /// Opens a subscription to `topic` starting at `from`, keeping up to `batch`
    /// events requested (clamped to 1..=100). A `CUSTOM` replay id the API refuses
    /// is [`PubSubError::ReplayIdCorrupted`], here or from the first
    /// [`Subscription::next`].
    #[tracing::instrument(name = "pubsub.subscribe", skip(self, from), fields(from = ?from))]
    pub async fn subscribe(
        &self,
        topic: &str,
        from: ReplayFrom,
        batch: u32,
    ) -> Result<Subscription, PubSubError> {
        let batch = batch.clamp(1, MAX_OWED_EVENTS);
        let (preset, replay_id) = match &from {
            ReplayFrom::Latest => (ReplayPreset::Latest, Vec::new()),
            ReplayFrom::Earliest => (ReplayPreset::Earliest, Vec::new()),
            ReplayFrom::After(id) => (ReplayPreset::Custom, id.as_bytes().to_vec()),
        };
        let first = FetchRequest {
            topic_name: topic.to_owned(),
            replay_preset: preset.into(),
            replay_id,
            num_requested: i32::try_from(batch).unwrap_or(i32::MAX),
            auth_refresh: String::new(),
        };
        let mut session = self.session().await?;
        let mut relogged = false;
        loop {
            let (requests, outgoing) = mpsc::unbounded_channel();
            // The receiver is alive (it is in `outgoing`), so this cannot fail.
            let _ = requests.send(first.clone());
            let request = authenticated(&session, UnboundedReceiverStream::new(outgoing))?;
            match self.inner.grpc.clone().subscribe(request).await {
                Ok(response) => {
                    tracing::info!("subscribed");
                    return Ok(Subscription::new(
                        self.clone(),
                        topic.to_owned(),
                        session,
                        requests,
                        response.into_inner(),
                        batch,
                    ));
                }
                Err(status) if status.code() == Code::Unauthenticated && !relogged => {
                    tracing::info!("the Pub/Sub API refused the session; logging in again");
                    self.inner.salesforce.invalidate(&session).await;
                    session = self.session().await?;
                    relogged = true;
                }
                Err(status) => return Err(PubSubError::from_status(&status)),
            }
        }
    }

    /// Reports `stale` as refused so the next call logs in again.
    pub(crate) async fn invalidate(&self, stale: &Session) {
        self.inner.salesforce.invalidate(stale).await;
    }

    async fn session(&self) -> Result<Arc<Session>, PubSubError> {
        self.inner
            .salesforce
            .session()
            .await
            .map_err(PubSubError::Login)
    }

    /// Makes a unary call with the session's metadata, logging in again once on
    /// `UNAUTHENTICATED`.
    async fn unary<M, R, F, Fut>(&self, message: M, call: F) -> Result<R, PubSubError>
    where
        M: Clone,
        F: Fn(Grpc<Channel>, Request<M>) -> Fut,
        Fut: Future<Output = Result<Response<R>, Status>>,
    {
        let mut session = self.session().await?;
        let mut relogged = false;
        loop {
            let request = authenticated(&session, message.clone())?;
            match call(self.inner.grpc.clone(), request).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) if status.code() == Code::Unauthenticated && !relogged => {
                    tracing::info!("the Pub/Sub API refused the session; logging in again");
                    self.inner.salesforce.invalidate(&session).await;
                    session = self.session().await?;
                    relogged = true;
                }
                Err(status) => return Err(PubSubError::from_status(&status)),
            }
        }
    }
}

/// `message` with the session's `accesstoken` (marked sensitive), `instanceurl` and `tenantid`.
fn authenticated<M>(session: &Session, message: M) -> Result<Request<M>, PubSubError> {
    let value = |text: &str, what: &str| {
        AsciiMetadataValue::try_from(text).map_err(|_| PubSubError::AuthFailed {
            message: format!("the session's {what} cannot be sent as gRPC metadata"),
        })
    };
    let mut token = value(session.access_token.expose_secret(), "access token")?;
    token.set_sensitive(true);
    let mut metadata = MetadataMap::new();
    metadata.insert(ACCESS_TOKEN_HEADER, token);
    metadata.insert(
        INSTANCE_URL_HEADER,
        value(&session.instance_url, "instance URL")?,
    );
    metadata.insert(TENANT_ID_HEADER, value(session.org_id.as_str(), "org id")?);
    let mut request = Request::new(message);
    *request.metadata_mut() = metadata;
    Ok(request)
}
