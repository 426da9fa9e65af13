//! The emulator's Pub/Sub face over real gRPC, with the generated client and
//! hand-written `FetchRequest`s (the product's client is tested in `salesforce`).
//! Every test starts its own org on 127.0.0.1:0.
#![allow(clippy::unwrap_used)] // tests: a failure should panic loudly

mod auth;
mod helpers;
mod subscribe;
