//! The provisioner Lambda: takes batches of provisioning messages off the FIFO
//! queue and provisions each approved Order into WHMCS exactly once, writing
//! the result back to Salesforce (`portal_core::provisioning` does the work).
//!
//! - [`config`]: [`ProvisionerConfig`], read once at cold start;
//! - [`wiring`]: the use case over Salesforce, WHMCS and DynamoDB;
//! - [`batch`]: [`handle_batch`], one SQS batch → one partial batch response,
//!   with the FIFO rule (stop at the first failure);
//! - [`init_json_logs`]: JSON logs for CloudWatch.
//!
//! `main` only reads the config, wires the use case and runs the loop.

pub mod batch;
pub mod config;
pub mod wiring;

pub use batch::{Invocation, handle_batch};
pub use config::{ConfigError, ProvisionerConfig};
pub use wiring::{LambdaProvisioner, build};

/// Installs JSON logs on stdout (CloudWatch), filtered by `RUST_LOG`
/// (default `info`), with the current span's fields (order and correlation
/// ids) on every line.
pub fn init_json_logs() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // An error means a subscriber is already installed (tests): keep it.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .try_init();
}
