//! The workers' loops, one place each: what drives the use cases in AWS and
//! in portal-local alike (only the adapters differ).
//!
//! | worker | loop | in AWS | in portal-local |
//! | --- | --- | --- | --- |
//! | subscriber | [`subscriber::run()`]: events → provisioning queue, replay position, lease | the `subscriber` task on Fargate, Pub/Sub event source, DynamoDB + SQS | the same with in-memory (or DynamoDB + SQS) ports |
//! | provisioner | [`provisioner::settle`]: one receive's deliveries → acknowledge / retry / return / dead-letter, FIFO per group | the `provisioner` Lambda's SQS handler | [`provisioner::poll`] over the queue |
//! | reconciler | [`reconciler::Reconcile::run`] per tick | the `reconciler` Lambda on an EventBridge schedule | [`reconciler::every`] around the Lambda's own handler |
//!
//! What they share: the stop signal ([`Shutdown`]) and full-jitter
//! [`Backoff`] whose randomness is injectable ([`Jitter`]). Every wait is
//! tokio time and every "now" comes from a [`crate::ports::Clock`], so a test
//! (or a fault campaign) drives the loops with paused time and seeded jitter.

mod backoff;
pub mod provisioner;
pub mod reconciler;
mod shutdown;
pub mod subscriber;

pub use backoff::{Backoff, BackoffPolicy, Jitter, SeededJitter, ThreadJitter};
pub use shutdown::{Shutdown, ShutdownTrigger, shutdown_channel};
