//! The `subscriber` binary as ECS runs it: every setting from the environment
//! (the AWS adapters on the moto server, the org emulator for Salesforce), and
//! stopped by a real SIGTERM. It must finish what it has, save the replay id,
//! release the lease and exit 0 within the stop timeout.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use base64::Engine as _;
use portal_core::ports::{LeaseAcquisition, LeaseOwner, SubscriberLease as _};
use salesforce_emulator::fixtures;

use crate::helpers::{
    AwsWorld, Org, aws_world, drain, eventually, next_task_asks_for_the_lease, org, saved,
};

/// The stop timeout the process is given (`SUBSCRIBER_STOP_TIMEOUT_SECS`).
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The lease item's name (the binary's default for the Order event topic).
fn lease_name() -> String {
    portal_core::workers::subscriber::Settings::new(LeaseOwner::new("any").unwrap()).lease_name
}

/// A running `subscriber` process writing its logs to a file.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts the binary against `org` and `world` as instance `instance`.
    fn start(org: &Org, world: &AwsWorld, instance: &str) -> Self {
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("subscriber-{}.log", unique_suffix()));
        let out = std::fs::File::create(&log).unwrap();
        let key =
            base64::engine::general_purpose::STANDARD.encode(fixtures::CLIENT_PRIVATE_KEY_PEM);
        let config = org.emulator.config();
        let child = Command::new(env!("CARGO_BIN_EXE_subscriber"))
            .env_clear()
            .env("RUST_LOG", "info")
            .env("SF_LOGIN_URL", org.emulator.base_url())
            .env("SF_CLIENT_ID", &config.client_id)
            .env("SF_USERNAME", &config.username)
            .env("SF_PRIVATE_KEY_BASE64", key)
            .env("SF_PUBSUB_ENDPOINT", org.emulator.pubsub_url())
            .env("PROVISIONING_QUEUE_URL", &world.queue_url)
            .env("DEAD_LETTER_QUEUE_URL", &world.dlq_url)
            .env("STATE_TABLE", &world.table)
            .env("SUBSCRIBER_START_FROM", "earliest")
            .env("SUBSCRIBER_INSTANCE_ID", instance)
            .env("SUBSCRIBER_LEASE_POLL_SECS", "1")
            .env(
                "SUBSCRIBER_STOP_TIMEOUT_SECS",
                STOP_TIMEOUT.as_secs().to_string(),
            )
            .env("AWS_ENDPOINT_URL", test_support::moto::endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Self { child, log }
    }

    /// Sends SIGTERM, as ECS does when it stops the task.
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the exit, failing the test if it takes longer than the stop timeout.
    async fn exit_within_stop_timeout(&mut self) -> ExitStatus {
        let deadline = tokio::time::Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "the process did not exit within the stop timeout; logs:\n{}",
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unique_suffix() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// Whether some log line (JSON) carries `message`.
fn logged(logs: &str, message: &str) -> bool {
    logs.lines().any(|line| {
        serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v["fields"]["message"].as_str().map(|m| m == message))
            .unwrap_or(false)
    })
}

#[tokio::test]
async fn sigterm_stops_the_binary_cleanly_after_saving_the_position_and_releasing_the_lease() {
    let org = org().await;
    let world = aws_world(&org).await;
    let mut process = Process::start(&org, &world, "sigterm-task");
    eventually("the binary subscribed", || async {
        org.emulator.pubsub_stats().open_streams == 1
    })
    .await;
    let published: Vec<_> = (0..3).map(|_| org.publish()).collect();
    let received = drain(&world.sqs, &world.queue_url, published.len()).await;
    let last = published.last().unwrap().replay_id.to_vec();
    eventually(
        "the position of the last forwarded event is saved",
        || async { saved(&world.ports.replay_store).await.as_deref() == Some(&last[..]) },
    )
    .await;

    process.terminate();
    let status = process.exit_within_stop_timeout().await;

    let logs = process.logs();
    assert_eq!(
        status.code(),
        Some(0),
        "exit 0 after SIGTERM; logs:\n{logs}"
    );
    let ids: Vec<&str> = received.iter().map(|r| r.dedup_id.as_str()).collect();
    let expected: Vec<&str> = published.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids, expected);
    assert_eq!(saved(&world.ports.replay_store).await, Some(last));
    let next = next_task_asks_for_the_lease(&world.ports.lease, &lease_name()).await;
    assert!(
        matches!(next, LeaseAcquisition::Acquired { .. }),
        "the lease was released at the stop: {next:?}"
    );
    assert!(logged(&logs, "stop requested"), "{logs}");
    assert!(logged(&logs, "lease released"), "{logs}");
    eventually("the stream is closed", || async {
        org.emulator.pubsub_stats().open_streams == 0
    })
    .await;
    for secret in [
        base64::engine::general_purpose::STANDARD.encode(fixtures::CLIENT_PRIVATE_KEY_PEM),
        "PRIVATE KEY".to_owned(),
    ] {
        assert!(!logs.contains(&secret), "a secret reached the logs");
    }
}

#[tokio::test]
async fn sigterm_while_waiting_for_the_lease_exits_0_and_leaves_the_holder_alone() {
    let org = org().await;
    let world = aws_world(&org).await;
    let holder = LeaseOwner::new("active-task").unwrap();
    let taken = world
        .ports
        .lease
        .acquire(
            &lease_name(),
            &holder,
            Duration::from_secs(600),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert!(matches!(taken, LeaseAcquisition::Acquired { .. }));
    let mut process = Process::start(&org, &world, "standby-task");
    let log = process.log.clone();
    eventually("the standby instance announced that it waits", || {
        let log = log.clone();
        async move {
            logged(
                &std::fs::read_to_string(&log).unwrap_or_default(),
                "another instance holds the lease; waiting",
            )
        }
    })
    .await;

    process.terminate();
    let status = process.exit_within_stop_timeout().await;

    assert_eq!(status.code(), Some(0), "logs:\n{}", process.logs());
    assert_eq!(
        org.emulator.pubsub_stats().subscribe_calls,
        0,
        "a waiting instance never subscribes"
    );
    let still = world
        .ports
        .lease
        .acquire(
            &lease_name(),
            &LeaseOwner::new("third-task").unwrap(),
            Duration::from_secs(30),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert!(
        matches!(&still, LeaseAcquisition::HeldBy { owner, .. } if owner == &holder),
        "the standby did not take or release the active holder's lease: {still:?}"
    );
}
