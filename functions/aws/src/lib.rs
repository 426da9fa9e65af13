//! AWS adapters of the core ports: DynamoDB for state (idempotency records,
//! login links, per-login limits, deactivated Accounts, provisioning records, the reconciler's attempts, replay positions and
//! gaps, the subscriber lease) and SQS for the provisioning queue and the
//! dead-letter queues' depth; and [`secrets`], the Secrets Manager values a
//! function reads once at cold start; [`resources`] creates the table and the
//! queues when missing (portal-local against moto). The in-memory adapters with the same
//! semantics live in [`portal_core::ports::memory`] and are re-exported here
//! as [`memory`].
//!
//! The table layout (pk/sk per item kind, attributes, the `gsi1` index) is
//! documented in this crate's `README.md`.

pub mod config;
pub mod dead_letters;
pub mod depths;
pub mod dynamo;
pub mod emf;
mod errors;
pub mod logs;
pub mod resources;
pub mod secrets;
pub mod sqs;

pub use config::AwsClients;
pub use dead_letters::SqsDeadLetters;
pub use depths::SqsQueueDepths;
pub use dynamo::{
    DynamoAccountStatuses, DynamoIdempotencyStore, DynamoLoginLimits, DynamoLoginLinks,
    DynamoProvisioningRecords, DynamoReconcileAttempts, DynamoReplayStore, DynamoSubscriberLease,
};
pub use logs::init_json_logs;
pub use portal_core::ports::memory;
pub use secrets::{SecretOverlay, SecretsError};
pub use sqs::SqsProvisioningQueue;
