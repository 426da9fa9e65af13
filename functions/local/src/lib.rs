//! `portal-local`: the whole system in one process on embedded defaults.
//!
//! [`Runner::start`] wires the components over shared in-memory state
//! ([`Shared`]: clock, idempotency store, provisioning queue):
//!
//! | component | module | default address |
//! | --- | --- | --- |
//! | the emulated Salesforce org (REST, OAuth JWT bearer, seeded catalog, admin token) | [`components::org`] | `127.0.0.1:8081` |
//! | the portal HTTP API + the local-only `POST /_local/token` | [`components::api`] | `127.0.0.1:3000` |
//!
//! The Pub/Sub subscriber, the provisioner (with the WHMCS emulator on 8083)
//! and the reconciler are added the same way: one module in [`components`]
//! each, started by [`Runner::start`] with what it needs from [`Shared`] and
//! the org, listed in [`Runner::summary`].
//!
//! When `SF_LOGIN_URL` is set, the same binary talks to that real org
//! (`SF_*` settings) and starts no emulator.

pub mod components;
pub mod config;
pub mod runner;
pub mod token;

pub use config::{LocalConfig, LocalConfigError, SalesforceTarget};
pub use runner::{Runner, RunnerError, Shared};
