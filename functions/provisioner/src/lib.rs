//! The provisioner Lambda: takes batches of provisioning messages off the FIFO
//! queue and provisions each approved Order into WHMCS exactly once, writing
//! the result back to Salesforce (`portal_core::provisioning` does the work).
//!
//! - [`config`]: [`ProvisionerConfig`], read once at cold start;
//! - [`wiring`]: the use case over Salesforce, WHMCS and a record store
//!   (DynamoDB in Lambda; portal-local passes its own);
//! - [`batch`]: [`handle_batch`], one SQS batch → one partial batch response,
//!   through the core's delivery rule (`portal_core::workers::provisioner::settle`,
//!   FIFO per message group), which portal-local's worker runs too;
//! - [`metrics`]: the batch's outcomes as one EMF line (the dashboard's
//!   provisioner widgets);
//!
//! `main` only reads the config, wires the use case and runs the loop.

pub mod batch;
pub mod config;
pub mod metrics;
pub mod wiring;

pub use batch::{handle_batch, invocation, process_batch};
pub use config::ProvisionerConfig;
pub use wiring::{LambdaProvisioner, SalesforceWhmcsProvisioner, assemble, build};
