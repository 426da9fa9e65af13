//! The portal API over real HTTP against the emulated org, every response
//! checked against `openapi.json`.

mod errors;
mod fuzz;
mod helpers;
mod idempotency;
mod identity;
mod linking;
mod routes;
mod upstream;
