//! The portal HTTP API: every route of issue 3 on ONE router, with bearer-JWT
//! identity, `Idempotency-Key` on every POST and `application/problem+json`
//! errors. The same router is served by `lambda_http` in Lambda (the
//! `portal-api` binary) and by `axum::serve` locally (`portal-local`).
//!
//! - [`config`]: the settings, read once from the environment;
//! - [`auth`]: token verification (PEM key or JWKS) into a [`VerifiedToken`](portal_core::portal::VerifiedToken);
//! - [`store`]: [`ApiStore`], the API's own records (idempotency, login links, limits);
//! - [`app`]: [`Api`], the shared state, and the GET/POST pipelines;
//! - [`routes`]: the router and the thin handlers;
//! - [`salesforce`]: [`SalesforcePorts`], the Salesforce adapter of every port;
//! - [`body`], [`idempotency`], [`problem`]: request bodies, idempotency
//!   records, and the one mapping of errors to problem responses.
//!
//! The contract is `openapi.json` beside this crate's `Cargo.toml`
//! ([`OPENAPI_JSON`]); the tests check every response against it.

pub mod app;
pub mod auth;
pub mod body;
pub mod config;
pub mod correlation;
pub mod idempotency;
pub mod lock;
pub mod problem;
pub mod routes;
pub mod salesforce;
pub mod store;

pub use app::{Api, Limits, PortalPorts};
pub use auth::{AuthError, Authenticator};
pub use config::{ApiConfig, AuthConfig, IdentitySettings, KeySource};
pub use problem::Problem;
pub use routes::router;
pub use salesforce::SalesforcePorts;
pub use store::{ApiStore, ApiStores, InMemoryApiStores};

/// The OpenAPI 3.1 document of the API.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");
