//! The portal API over real HTTP against the emulated org, every response
//! checked against `openapi.json`.

mod contract;
mod errors;
mod fuzz;
mod helpers;
mod idempotency;
mod identity;
mod linking;
mod lost_answers;
mod routes;
mod upstream;
