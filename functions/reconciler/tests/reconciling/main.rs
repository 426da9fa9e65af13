//! The reconciler against the org emulator over real HTTP and DynamoDB/SQS on
//! the moto server, and end to end with the provisioner and the WHMCS emulator.

// Test code: helpers are plain fns, which clippy's `allow-unwrap-in-tests` does not cover.
#![allow(clippy::unwrap_used)]

mod end_to_end;
mod helpers;
mod runs;
