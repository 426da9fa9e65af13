//! The product's domain, use cases and ports.

pub mod config;
pub mod diagnostics;
pub mod domain;
pub mod logs;
pub mod messages;
pub mod portal;
pub mod ports;
pub mod provisioning;
pub mod reconcile;
pub mod schema;
pub mod workers;
