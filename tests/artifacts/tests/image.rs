//! The subscriber's OCI image that `infra/build image` made, without Docker:
//! its config agrees with `infra/subscriber/Dockerfile` and is arm64, it is
//! under 15 MB, and its binary, taken from the unpacked root filesystem and run
//! under `qemu-aarch64` (files looked up in that root filesystem first, as the
//! image's user) with the environment ECS gives it, forwards one event from
//! the org emulator's Pub/Sub face to the SQS provisioning queue on moto.
//!
//! Ignored by `cargo test --workspace`; run by CI after `infra/build image`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use artifact_tests::image::{self, Image, dockerfile_runtime};
use artifact_tests::{image_dir, workspace_root};
use base64::Engine as _;
use salesforce_emulator::{Emulator, EmulatorConfig, EventPayload, fixtures, ids};

const STATE_WAIT: Duration = Duration::from_secs(120);

fn image() -> Image {
    let layout = image_dir().join("oci");
    Image::read(&layout, image::TAG)
        .unwrap_or_else(|e| panic!("{e:#} (run infra/build image first)"))
}

#[test]
#[ignore = "needs infra/build image; run by CI"]
fn the_image_is_arm64_runs_like_the_dockerfile_and_is_under_15_mb() {
    let image = image();
    let stage = dockerfile_runtime(&workspace_root().join("infra/subscriber/Dockerfile")).unwrap();
    assert_eq!(image.architecture, "arm64");
    assert_eq!(image.os, "linux");
    assert_eq!(
        image.run, stage.run,
        "the image runs as the Dockerfile says"
    );
    assert_eq!(image.layers, 1, "one layer on an empty base");
    assert!(
        image.layer_bytes < image::MAX_BYTES,
        "{} bytes compressed",
        image.layer_bytes
    );

    let rootfs = image_dir().join("bundle/rootfs");
    let mut files = Vec::new();
    collect(&rootfs, &rootfs, &mut files);
    files.sort();
    assert_eq!(
        files,
        [
            "etc/group",
            "etc/passwd",
            "etc/ssl/certs/ca-certificates.crt",
            "usr/local/bin/subscriber",
        ],
        "only the binary, the CA certificates and the user"
    );
    let unpacked: u64 = files
        .iter()
        .map(|f| std::fs::metadata(rootfs.join(f)).unwrap().len())
        .sum();
    assert!(unpacked < image::MAX_BYTES, "{unpacked} bytes unpacked");
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap();
    let uid = stage.run.user.split(':').next().unwrap();
    assert!(
        passwd.lines().any(|l| l.split(':').nth(2) == Some(uid)),
        "user {uid} is in /etc/passwd"
    );
    let certs = std::fs::read_to_string(rootfs.join("etc/ssl/certs/ca-certificates.crt")).unwrap();
    assert!(
        certs.matches("BEGIN CERTIFICATE").count() > 100,
        "a CA bundle"
    );
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("the root filesystem is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            out.push(
                path.strip_prefix(root)
                    .expect("under the root")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

/// A child process killed when the test ends, passing or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// This process's real user id (0: root).
fn uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|r| r.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(u32::MAX)
}

#[tokio::test]
#[ignore = "needs infra/build image, qemu-aarch64 and moto; run by CI"]
async fn the_image_binary_forwards_an_event_from_pubsub_to_the_queue_under_qemu() {
    let image = image();
    let rootfs = image_dir().join("bundle/rootfs");
    let entrypoint = rootfs.join(image.run.entrypoint[0].trim_start_matches('/'));
    assert!(
        entrypoint.is_file(),
        "{} is in the image",
        entrypoint.display()
    );

    let org = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dynamo = test_support::aws::dynamo_client().await;
    let table = test_support::aws::create_table(&dynamo).await;
    let sqs = test_support::aws::sqs_client().await;
    let queue = test_support::aws::create_fifo_queue(&sqs, 5).await;
    let config = org.config();
    let key = base64::engine::general_purpose::STANDARD.encode(fixtures::CLIENT_PRIVATE_KEY_PEM);
    // The task definition's environment (template.yaml), pointed at the emulator and moto.
    let env: Vec<(String, String)> = [
        ("SF_LOGIN_URL", org.base_url()),
        ("SF_CLIENT_ID", config.client_id.clone()),
        ("SF_USERNAME", config.username.clone()),
        ("SF_PRIVATE_KEY_BASE64", key),
        ("SF_API_VERSION", "62.0".into()),
        ("SF_REQUEST_TIMEOUT_MS", "20000".into()),
        ("SF_PUBSUB_ENDPOINT", org.pubsub_url()),
        ("SF_PUBSUB_CONNECT_TIMEOUT_MS", "10000".into()),
        ("SF_PUBSUB_WATCHDOG_SECS", "300".into()),
        ("STATE_TABLE", table),
        ("PROVISIONING_QUEUE_URL", queue.url.clone()),
        ("DEAD_LETTER_QUEUE_URL", queue.dlq_url.clone()),
        ("SUBSCRIBER_BATCH", "100".into()),
        ("SUBSCRIBER_LEASE_SECS", "30".into()),
        ("SUBSCRIBER_LEASE_POLL_SECS", "5".into()),
        ("SUBSCRIBER_START_FROM", "earliest".into()),
        ("SUBSCRIBER_STOP_TIMEOUT_SECS", "25".into()),
        ("SUBSCRIBER_INSTANCE_ID", "image-test".into()),
        ("AWS_ENDPOINT_URL", test_support::moto::endpoint()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .chain(
        image
            .run
            .env
            .iter()
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .collect();

    // As the image's user when this process may switch to it; qemu's -L makes
    // absolute paths (the CA bundle, /etc/passwd) resolve in the image first.
    let mut command = if uid() == 0 {
        let (user, group) = image.run.user.split_once(':').unwrap();
        let mut c = Command::new("setpriv");
        c.args([
            format!("--reuid={user}"),
            format!("--regid={group}"),
            "--clear-groups".to_owned(),
            "qemu-aarch64".to_owned(),
        ]);
        c
    } else {
        Command::new("qemu-aarch64")
    };
    let log = std::env::temp_dir().join(format!("image-subscriber-{}.log", std::process::id()));
    let out = std::fs::File::create(&log).unwrap();
    let mut child = KillOnDrop(
        command
            .arg("-L")
            .arg(&rootfs)
            .arg(&entrypoint)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("qemu-aarch64 starts the image's binary"),
    );

    let deadline = tokio::time::Instant::now() + STATE_WAIT;
    while org.pubsub_stats().open_streams == 0 {
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!(
                "the subscriber exited ({status}):\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the subscriber never subscribed:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let order_id = ids::random_id("801");
    let published = org.events().publish(EventPayload::for_order(
        &order_id,
        &org.admin_user_id(),
        chrono::Utc::now(),
    ));

    let body = loop {
        let received = sqs
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if let Some(message) = received.messages().first() {
            break message.body().unwrap_or_default().to_owned();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no message reached the queue:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    };
    drop(child);
    let message: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(message["orderId"], order_id.as_str());
    assert_eq!(message["eventId"], published.event_id.as_str());
}
