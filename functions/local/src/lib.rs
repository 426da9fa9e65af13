//! `portal-local`: the whole system in one process on embedded defaults.
//!
//! [`Runner::start`] wires the components over shared in-memory state
//! ([`Shared`]: clock, idempotency store, provisioning queue, replay store,
//! lease, dead letters, provisioning records, reconciler attempts);
//! [`Runner::start_over`] over any [`State`], e.g. [`Aws`]: the same ports
//! on DynamoDB and SQS (`STATE_TABLE`, see [`state`]):
//!
//! | component | module | default address |
//! | --- | --- | --- |
//! | the emulated Salesforce org (REST, OAuth JWT bearer, Pub/Sub gRPC, the Order Approval Flow, seeded catalog, admin token) | [`components::org`] | `127.0.0.1:8081`, gRPC `127.0.0.1:8082` |
//! | the portal HTTP API + the local-only `POST /_local/token` | [`components::api`] | `127.0.0.1:3000` |
//! | the emulated WHMCS (`local`/`local`) | [`components::whmcs`] | `127.0.0.1:8083` |
//! | the Pub/Sub subscriber (`portal_core::workers::subscriber::run` over the shared state) | [`components::subscriber`] | |
//! | the provisioner worker (the queue → `portal_core::provisioning`) | [`components::provisioner`] | |
//! | the reconciler, every `RECONCILER_EVERY_SECS` (`portal_core::reconcile` → the queue) | [`components::reconciler`] | |
//!
//! [`Runner::shutdown`] stops the subscriber, the provisioner and the
//! reconciler cleanly.
//!
//! When `SF_LOGIN_URL` is set, the same binary talks to that real org
//! (`SF_*` and `SF_PUBSUB_*` settings) and starts no org emulator; when
//! `WHMCS_API_URL` is set, to that WHMCS (`WHMCS_*`) instead of its emulator.

pub mod components;
pub mod config;
pub mod runner;
pub mod state;
pub mod token;

pub use config::{LocalConfig, SalesforceTarget, StateTarget, WhmcsTarget};
pub use runner::{Runner, RunnerError};
pub use state::{Aws, AwsNames, InMemory, Shared, State};
