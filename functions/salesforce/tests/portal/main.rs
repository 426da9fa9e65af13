//! The Salesforce adapters of the portal's ports against the org emulator,
//! over real HTTP.
//!
//! One test binary with a module per port, plus the end-to-end journeys
//! through the core use cases and the fault tests. Every test starts its own
//! emulated org on `127.0.0.1:0`, seeds its own world (with another account's
//! records that must never come back) and counts the Salesforce API calls each
//! read and write costs.

mod account;
mod cancellation;
mod catalog;
mod eligibility;
mod faults;
mod free_text;
mod helpers;
mod id_verification;
mod journey;
mod orders;
mod registration;
mod services;
mod support;
