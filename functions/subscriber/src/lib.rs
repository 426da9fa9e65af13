//! The platform event subscriber: `OrderProvisionRequested__e` from the
//! Salesforce Pub/Sub API onto the SQS FIFO provisioning queue, with the
//! replay position saved durably and one active instance at a time.
//!
//! - [`config`]: [`SubscriberConfig`], every setting read once from the environment;
//! - [`settings`]: [`Settings`], what the loop itself needs (no AWS, no secrets);
//! - [`run`](mod@run): [`run()`], the loop, generic over the ports
//!   ([`Ports`]) and driven by a [`Shutdown`];
//! - [`batch`]: events turned into provisioning messages or dead letters, and
//!   the highest contiguous accepted position of a batch;
//! - [`backoff`]: full-jitter backoff that resets after a healthy period;
//! - [`metrics`]: CloudWatch Embedded Metric Format lines and the counters tests read;
//! - [`shutdown`]: the stop signal and its deadline;
//! - [`error`]: [`SubscriberError`], why the loop stopped for good.
//!
//! The binary (`src/main.rs`) reads the config, wires the DynamoDB and SQS
//! adapters, turns SIGTERM and Ctrl-C into a [`Shutdown`] and exits non-zero
//! on a [`SubscriberError`].

pub mod backoff;
pub mod batch;
pub mod config;
pub mod error;
pub mod metrics;
pub mod run;
pub mod settings;
pub mod shutdown;

pub use backoff::{Backoff, BackoffPolicy};
pub use config::{ConfigError, SubscriberConfig};
pub use error::SubscriberError;
pub use metrics::{Metrics, MetricsSink, MetricsSnapshot};
pub use run::{Ports, Stopped, run};
pub use settings::{Settings, StartFrom};
pub use shutdown::{Shutdown, ShutdownTrigger, shutdown_channel};
