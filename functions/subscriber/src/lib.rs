//! The platform event subscriber task (ECS Fargate): `OrderProvisionRequested__e`
//! from the Salesforce Pub/Sub API onto the SQS FIFO provisioning queue. The
//! loop itself is the core use case `portal_core::workers::subscriber::run`;
//! this crate only runs it:
//!
//! - [`config`]: [`SubscriberConfig`], every setting read once from the environment;
//! - [`metrics`]: [`EmfMetrics`], the loop's metric windows as CloudWatch
//!   Embedded Metric Format lines.
//!
//! The binary (`src/main.rs`) reads the config, wires the Pub/Sub client (the
//! event source) and the DynamoDB and SQS adapters, turns SIGTERM and Ctrl-C
//! into a stop and exits non-zero when the loop fails for good.

pub mod config;
pub mod metrics;

pub use config::SubscriberConfig;
pub use metrics::EmfMetrics;
