//! Behaviour tests of the adapters: each behaviour is written once, generic
//! over the port, and runs against the DynamoDB/SQS adapter (on a moto
//! server, one fresh table or queue per test) and against the in-memory one.

// Test code: the behaviours are plain async fns (not `#[test]`s), which
// clippy's `allow-unwrap-in-tests` does not cover.
#![allow(clippy::unwrap_used)]

mod deliveries;
mod idempotency;
mod identity;
mod lease;
mod prefixes;
mod provisioning;
mod queue;
mod reconcile;
mod replay;

use chrono::{DateTime, Utc};
use portal_core::ports::{LeaseOwner, TestClock};

/// Writes one `#[tokio::test]` per adapter for each behaviour:
/// `behaviour => dynamo_factory, memory_factory;` where the behaviour is an
/// `async fn(Port)` and each factory builds a fresh port.
#[macro_export]
macro_rules! behaviours {
    ($($behaviour:ident => $dynamo:ident, $memory:ident;)*) => {
        $(
            mod $behaviour {
                #[tokio::test]
                async fn on_moto() {
                    super::$behaviour(super::$dynamo().await).await;
                }

                #[tokio::test]
                async fn in_memory() {
                    super::$behaviour(super::$memory()).await;
                }
            }
        )*
    };
}

/// A fixed, millisecond-aligned start time: stores keep milliseconds.
pub fn start() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_900_000_000_000).expect("valid instant")
}

/// A clock at [`start`].
pub fn clock() -> TestClock {
    TestClock::new(start())
}

/// A lease owner.
pub fn owner(name: &str) -> LeaseOwner {
    LeaseOwner::new(name).expect("valid owner")
}

/// A client and a fresh table on the moto server.
pub async fn table() -> (aws_sdk_dynamodb::Client, String) {
    let client = test_support::aws::dynamo_client().await;
    let table = test_support::aws::create_table(&client).await;
    (client, table)
}
