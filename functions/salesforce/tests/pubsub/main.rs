//! The Pub/Sub client against the org emulator's Pub/Sub face, over real gRPC
//! on localhost. Every test starts its own org on 127.0.0.1:0; timings are
//! milliseconds through configuration, and tests assert outcomes, not durations.
#![allow(clippy::unwrap_used)] // tests: a failure should panic loudly

mod auth;
mod decode;
mod errors;
mod helpers;
mod subscribe;
mod tls;
