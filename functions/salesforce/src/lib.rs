//! Salesforce REST client and the org schema the product relies on.
//!
//! - [`config`]: the typed configuration, read once from `SF_*` variables;
//! - [`auth`]: the JWT bearer login and the shared, single-flight session cache;
//! - [`client`]: [`SalesforceClient`], sObject CRUD, upsert, queries, describe, composite;
//! - [`soql`]: the injection-proof SOQL builder;
//! - [`composite`]: the typed `/composite` builder;
//! - [`id`]: the [`Id`] newtype (15/18-character ids);
//! - [`error`] and [`retry`]: the error type, its retry classification and backoff;
//! - [`schema`]: the objects, fields and platform event of the org.

pub mod auth;
pub mod client;
pub mod composite;
pub mod config;
pub mod error;
pub mod id;
pub mod retry;
pub mod schema;
pub mod soql;

pub use auth::{AuthError, JwtBearer, Session};
pub use client::{ApiUsage, ObjectDescribe, QueryPage, SalesforceClient, UpsertOutcome};
pub use composite::{AllOrNone, Composite, CompositeResults, Ref};
pub use config::{ConfigError, SalesforceConfig};
pub use error::{ApiError, SalesforceError};
pub use id::Id;
pub use retry::RetryPolicy;
pub use soql::{Cond, Like, Order, Soql};
