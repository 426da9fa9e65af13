//! `GetTopic`, `GetSchema` and `Subscribe`, behind the auth metadata checks.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use salesforce::pubsub::proto::pub_sub_server::PubSub;
use salesforce::pubsub::proto::{
    FetchRequest, FetchResponse, ReplayPreset, SchemaInfo, SchemaRequest, TopicInfo, TopicRequest,
};
use salesforce::pubsub::{
    ACCESS_TOKEN_HEADER, AUTH_ERROR_CODE, ERROR_CODE_TRAILER, INSTANCE_URL_HEADER,
    REPLAY_ID_CORRUPTED_CODE, SCHEMA_NOT_FOUND_CODE, TENANT_ID_HEADER, TOPIC_NOT_FOUND_CODE,
};
use salesforce::schema::order_provision_requested;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Response, Status, Streaming};

use super::stream::{self, Start};
use crate::events::{schema_id, schema_json};
use crate::server::Shared;

type BoxStream<T> =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The gRPC service of one org.
#[derive(Debug)]
pub(crate) struct PubSubService {
    shared: Arc<Shared>,
}

impl PubSubService {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Checks `accesstoken` (a token the REST face accepts: a live session or the
    /// static staff token), `instanceurl` and `tenantid`.
    fn authenticate(&self, metadata: &MetadataMap) -> Result<(), Status> {
        let header = |name: &str| metadata.get(name).and_then(|v| v.to_str().ok());
        let token_ok = header(ACCESS_TOKEN_HEADER)
            .is_some_and(|token| self.shared.actor_of_token(token).is_some());
        let instance_ok = header(INSTANCE_URL_HEADER).is_some_and(|url| {
            url.trim_end_matches('/') == self.shared.base_url.trim_end_matches('/')
        });
        let tenant_ok = header(TENANT_ID_HEADER) == Some(self.shared.config.org_id.as_str());
        if token_ok && instance_ok && tenant_ok {
            Ok(())
        } else {
            Err(with_error_code(
                Code::Unauthenticated,
                "Authentication failed: the access token, instance URL or tenant id is not valid",
                AUTH_ERROR_CODE,
            ))
        }
    }
}

/// A status carrying Salesforce's `error-code` trailer.
pub(crate) fn with_error_code(code: Code, message: &str, error_code: &'static str) -> Status {
    let mut metadata = MetadataMap::new();
    metadata.insert(
        ERROR_CODE_TRAILER,
        tonic::metadata::AsciiMetadataValue::from_static(error_code),
    );
    Status::with_metadata(code, message, metadata)
}

pub(crate) fn rpc_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn topic_not_found(topic: &str) -> Status {
    with_error_code(
        Code::NotFound,
        &format!("Topic not found: {topic}"),
        TOPIC_NOT_FOUND_CODE,
    )
}

fn replay_id_corrupted() -> Status {
    with_error_code(
        Code::InvalidArgument,
        "The Replay ID validation failed. Ensure that the Replay ID is valid and \
         that it is within the retention window.",
        REPLAY_ID_CORRUPTED_CODE,
    )
}

#[tonic::async_trait]
impl PubSub for PubSubService {
    async fn get_topic(
        &self,
        request: Request<TopicRequest>,
    ) -> Result<Response<TopicInfo>, Status> {
        self.shared
            .pubsub
            .get_topic_calls
            .fetch_add(1, Ordering::SeqCst);
        self.authenticate(request.metadata())?;
        let topic = request.into_inner().topic_name;
        if topic != order_provision_requested::TOPIC {
            return Err(topic_not_found(&topic));
        }
        Ok(Response::new(TopicInfo {
            topic_name: topic,
            tenant_guid: self.shared.config.org_id.clone(),
            can_publish: false,
            can_subscribe: true,
            schema_id: schema_id(),
            rpc_id: rpc_id(),
        }))
    }

    async fn get_schema(
        &self,
        request: Request<SchemaRequest>,
    ) -> Result<Response<SchemaInfo>, Status> {
        self.shared
            .pubsub
            .get_schema_calls
            .fetch_add(1, Ordering::SeqCst);
        self.authenticate(request.metadata())?;
        let id = request.into_inner().schema_id;
        if id != schema_id() {
            return Err(with_error_code(
                Code::NotFound,
                &format!("Schema not found: {id}"),
                SCHEMA_NOT_FOUND_CODE,
            ));
        }
        Ok(Response::new(SchemaInfo {
            schema_json: schema_json().to_owned(),
            schema_id: id,
            rpc_id: rpc_id(),
        }))
    }

    /// Refusals and the auth check come first; then the first `FetchRequest` is read
    /// and checked (topic, replay id) before the stream starts, so the start
    /// position is fixed once the client's call has returned.
    async fn subscribe(
        &self,
        request: Request<Streaming<FetchRequest>>,
    ) -> Result<Response<BoxStream<FetchResponse>>, Status> {
        let state = &self.shared.pubsub;
        state.subscribe_calls.fetch_add(1, Ordering::SeqCst);
        if self.shared.faults.pubsub.take_refusal() {
            return Err(Status::unavailable(
                "The service is temporarily unavailable (injected)",
            ));
        }
        self.authenticate(request.metadata())?;
        let mut inbound = request.into_inner();
        let idle = self.shared.config.pubsub_idle_timeout;
        let first = match tokio::time::timeout(idle, inbound.message()).await {
            Ok(Ok(Some(first))) => first,
            Ok(Ok(None)) => return Err(Status::cancelled("the client closed the stream")),
            Ok(Err(status)) => return Err(status),
            Err(_) => return Err(stream::idle_status(idle)),
        };
        if first.topic_name != order_provision_requested::TOPIC {
            return Err(topic_not_found(&first.topic_name));
        }
        if self.shared.faults.pubsub.take_corrupted() {
            return Err(replay_id_corrupted());
        }
        let bus = &self.shared.events;
        // Listen before reading the backlog, so that nothing falls in between.
        let live = bus.subscribe();
        let start = match ReplayPreset::try_from(first.replay_preset) {
            Ok(ReplayPreset::Latest) => Start {
                after: bus.latest_replay_id(),
                backlog: Vec::new(),
            },
            Ok(ReplayPreset::Earliest) => Start {
                after: None,
                backlog: bus.all(),
            },
            Ok(ReplayPreset::Custom) => {
                let Ok(id) = <[u8; 8]>::try_from(first.replay_id.as_slice()) else {
                    return Err(replay_id_corrupted());
                };
                if !bus.is_retained(id) {
                    return Err(replay_id_corrupted());
                }
                Start {
                    after: Some(id),
                    backlog: bus.after(Some(id)),
                }
            }
            Err(_) => {
                return Err(Status::invalid_argument(format!(
                    "Unknown replay preset: {}",
                    first.replay_preset
                )));
            }
        };
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        stream::spawn(
            Arc::clone(&self.shared),
            inbound,
            live,
            start,
            first.num_requested,
            tx,
        );
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
