//! The Salesforce Pub/Sub API client: gRPC (`eventbus.v1.PubSub`) with the
//! session of the REST client, flow-controlled subscriptions, and Avro decoding
//! of platform events.
//!
//! - [`config`]: [`PubSubConfig`] (`SF_PUBSUB_ENDPOINT`, the watchdog);
//! - [`client`]: [`PubSubClient`]: auth metadata, one re-login on
//!   `UNAUTHENTICATED`, `GetTopic`, `GetSchema` with a cache by schema id;
//! - [`subscription`]: [`Subscription`], the pull loop (owed count, top-up at
//!   half, watchdog) yielding [`SubscriptionItem`]s;
//! - [`event`]: the Avro decoding of `OrderProvisionRequested__e` into the
//!   core's typed event;
//! - [`source`]: the client as the subscriber's event source (the core port
//!   `EventSource`), its failures classified;
//! - [`error`]: [`PubSubError`], classified for the caller's retry decision;
//! - [`proto`]: the generated messages, client and server (the org emulator
//!   serves the same API with it).

pub mod client;
pub mod config;
pub mod error;
pub mod event;
pub mod source;
pub mod subscription;

pub use client::{PubSubClient, TopicInfo};
pub use config::PubSubConfig;
pub use error::{PubSubError, TransientError};
pub use event::DecodeError;
pub use subscription::{Event, Subscription, SubscriptionItem};

/// The messages and gRPC stubs generated from `proto/pubsub_api.proto`.
#[allow(
    missing_docs,
    missing_debug_implementations,
    unused_qualifications,
    clippy::all,
    clippy::pedantic
)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/eventbus.v1.rs"));
}

/// Call metadata: the session's access token.
pub const ACCESS_TOKEN_HEADER: &str = "accesstoken";
/// Call metadata: the org's instance URL.
pub const INSTANCE_URL_HEADER: &str = "instanceurl";
/// Call metadata: the org id.
pub const TENANT_ID_HEADER: &str = "tenantid";
/// The trailer carrying Salesforce's error code on a failed call.
pub const ERROR_CODE_TRAILER: &str = "error-code";
/// `error-code` of a refused session (`UNAUTHENTICATED`).
pub const AUTH_ERROR_CODE: &str = "sfdc.platform.eventbus.grpc.service.auth.error";
/// `error-code` of a replay id that is corrupted or expired (`INVALID_ARGUMENT`).
pub const REPLAY_ID_CORRUPTED_CODE: &str =
    "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted";
/// `error-code` of an unknown topic (`NOT_FOUND`).
pub const TOPIC_NOT_FOUND_CODE: &str = "sfdc.platform.eventbus.grpc.topic.not.found";
/// `error-code` of an unknown schema id (`NOT_FOUND`).
pub const SCHEMA_NOT_FOUND_CODE: &str = "sfdc.platform.eventbus.grpc.schema.not.found";
/// The most events a subscriber may have requested and not yet received.
pub const MAX_OWED_EVENTS: u32 = 100;
