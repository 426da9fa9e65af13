//! Salesforce REST and Pub/Sub API clients.
//!
//! - [`config`]: the typed configuration, read once from `SF_*` variables;
//! - [`auth`]: the JWT bearer login and the shared, single-flight session cache;
//! - [`client`]: [`SalesforceClient`], sObject CRUD, upsert, queries, describe, composite;
//! - [`soql`]: the injection-proof SOQL builder;
//! - [`composite`]: the typed `/composite` builder;
//! - [`Id`]: Salesforce ids (15/18 characters), the workspace-wide type from `portal-core`;
//! - [`error`] and [`retry`]: the error type, its retry classification and backoff;
//! - [`pubsub`]: the Pub/Sub API client (gRPC, flow-controlled subscriptions, Avro);
//! - [`schema`]: the objects, fields and platform event of the org (defined in `portal-core`).

pub mod auth;
pub mod client;
pub mod composite;
pub mod config;
pub mod error;
pub mod portal;
pub mod provisioning;
pub mod pubsub;
pub mod reconcile;
pub mod retry;
pub mod soql;

pub use auth::{AuthError, JwtBearer, Session};
pub use client::{ApiUsage, ObjectDescribe, QueryPage, SalesforceClient, UpsertOutcome};
pub use composite::{AllOrNone, Composite, CompositeResults, Ref};
pub use config::SalesforceConfig;
pub use error::{ApiError, SalesforceError};
pub use portal_core::domain::{SalesforceId as Id, SalesforceIdError as IdError};
/// The org schema, defined once in `portal-core`.
pub use portal_core::schema;
pub use retry::RetryPolicy;
pub use soql::{Cond, Like, Order, Soql};
