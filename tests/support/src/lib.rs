//! Test-only helpers: a moto server (DynamoDB, SQS) on localhost started on
//! demand, and SDK clients plus uniquely named tables and queues so every
//! test builds its own world and tests run in parallel.

pub mod aws;
pub mod moto;
