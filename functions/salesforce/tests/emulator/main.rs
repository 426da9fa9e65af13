//! The client against the Salesforce org emulator, over real HTTP.
//!
//! One test binary (one link) with a module per concern; every test starts its
//! own emulated org on `127.0.0.1:0`, so tests run in parallel.

mod auth;
mod composite;
mod helpers;
mod injection;
mod reconcile;
mod records;
mod retry;
mod token_cache;
