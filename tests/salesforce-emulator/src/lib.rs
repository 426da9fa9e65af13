//! An emulated Salesforce org over real HTTP, as strict as the real one.
//!
//! It serves the OAuth 2.0 JWT bearer token endpoint, the sObject REST API
//! (create, read, update, upsert, describe), SOQL queries with paging,
//! `composite` and `composite/sobjects` with real all-or-none transactions,
//! the Order Approval Flow with its platform event, and fault injection.
//!
//! Start one per test with [`Emulator::start`] on `127.0.0.1:0`; every
//! emulator is its own org.
//!
//! Where things live:
//! - [`config`]: [`EmulatorConfig`] and its defaults.
//! - [`gaps`]: [`SchemaGaps`], an org missing objects, fields or picklist values.
//! - [`ids`]: 15/18-character record ids and their checksum.
//! - `store/`: records, write validation and the transaction.
//! - [`flow`]: the Order Approval Flow.
//! - [`events`]: the platform-event bus.
//! - [`faults`]: fault injection.
//! - `oauth`: the token endpoint and sessions.
//! - [`observe`]: bench observation points (request and event timestamps).
//! - [`pubsub`]: the Pub/Sub API (gRPC) over the event bus.
//! - `rest/`: the REST API (sObjects, query, composite, describe, errors).
//! - `seed`: the users and the documented catalog.
//! - [`server`]: [`Emulator`], the running org.

pub mod config;
mod control;
pub mod error;
pub mod events;
pub mod faults;
pub mod fixtures;
pub mod flow;
pub mod gaps;
mod identity;
pub mod ids;
mod net;
mod oauth;
pub mod observe;
pub mod platform;
pub mod pubsub;
mod rest;
pub mod seed;
pub mod server;
pub mod soql;
pub mod store;
mod usage;

pub use config::EmulatorConfig;
pub use error::{ApiError, EmulatorError};
pub use events::{EventBus, EventPayload, PublishedEvent};
pub use faults::Fault;
pub use flow::OrderFlowSetup;
pub use gaps::SchemaGaps;
pub use observe::{Observed, ObservedCall, ObservedEvent};
pub use server::Emulator;

/// The newest REST API version the emulator serves (the default for URLs it builds itself).
pub const LATEST_API_VERSION: &str = "66.0";
/// The oldest REST API version the emulator serves.
pub const OLDEST_API_MAJOR: u32 = 31;
/// The newest REST API major version the emulator serves.
pub const LATEST_API_MAJOR: u32 = 66;
