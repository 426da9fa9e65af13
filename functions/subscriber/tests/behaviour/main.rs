//! The subscriber against the org emulator's Pub/Sub face (real gRPC on
//! localhost) and, where the AWS adapters matter, the moto server (DynamoDB
//! and SQS FIFO). Every test builds its own org, table and queues; timings
//! are milliseconds through the settings, and tests assert outcomes, not
//! durations.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should panic loudly

mod abort;
mod corrupted;
mod dead_letters;
mod helpers;
mod lease;
mod order;
mod process;
mod shutdown;
mod watchdog;
