//! A world per test: an emulated org (possibly lacking parts of the schema),
//! an emulated WHMCS, and a doctor or the doctor's environment pointed at them.
#![allow(clippy::expect_used)] // test set-up: a failure here should stop the test loudly

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use portal_doctor::Doctor;
use salesforce::{RetryPolicy, SalesforceClient, SalesforceConfig};
use salesforce_emulator::{Emulator, EmulatorConfig, SchemaGaps, fixtures};
use whmcs::{WhmcsClient, WhmcsConfig};
use whmcs_emulator::{WhmcsEmulator, WhmcsEmulatorConfig};

/// The payment gateway the emulated WHMCS has.
pub const GATEWAY: &str = "banktransfer";

/// An org and a WHMCS.
pub struct World {
    pub org: Emulator,
    pub whmcs: WhmcsEmulator,
}

/// A complete org (or one lacking `gaps`) and the seeded WHMCS.
pub async fn world(gaps: SchemaGaps) -> World {
    world_with(EmulatorConfig {
        schema_gaps: gaps,
        ..EmulatorConfig::default()
    })
    .await
}

/// An org set up as `config` says and the seeded WHMCS.
pub async fn world_with(config: EmulatorConfig) -> World {
    let org = Emulator::start(config).await.expect("the org starts");
    let whmcs = WhmcsEmulator::start(WhmcsEmulatorConfig::default())
        .await
        .expect("WHMCS starts");
    World { org, whmcs }
}

impl World {
    /// A doctor logging in with `key_pem`.
    pub fn doctor_with_key(&self, key_pem: &str) -> Doctor {
        let config = SalesforceConfig::new(
            &self.org.base_url(),
            self.org.config().client_id.clone(),
            self.org.config().username.clone(),
            key_pem.as_bytes(),
        )
        .expect("a valid configuration");
        let retry = RetryPolicy {
            max_attempts: 2,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
        };
        let salesforce =
            SalesforceClient::with_retry_policy(config, retry).expect("the client builds");
        let whmcs = WhmcsClient::new(WhmcsConfig {
            api_url: url(&self.whmcs.api_url()),
            identifier: "local".to_owned(),
            secret: secrecy::SecretString::from("local"),
            access_key: None,
            timeout: Duration::from_secs(10),
        })
        .expect("the WHMCS client builds");
        Doctor::from_clients(salesforce, whmcs, GATEWAY)
    }

    /// A doctor with the trusted key.
    pub fn doctor(&self) -> Doctor {
        self.doctor_with_key(fixtures::CLIENT_PRIVATE_KEY_PEM)
    }

    /// The environment the binary reads.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SF_LOGIN_URL", self.org.base_url()),
            ("SF_CLIENT_ID", self.org.config().client_id.clone()),
            ("SF_USERNAME", self.org.config().username.clone()),
            (
                "SF_PRIVATE_KEY_BASE64",
                base64::engine::general_purpose::STANDARD.encode(fixtures::CLIENT_PRIVATE_KEY_PEM),
            ),
            ("WHMCS_API_URL", self.whmcs.api_url()),
            ("WHMCS_API_IDENTIFIER", "local".to_owned()),
            ("WHMCS_API_SECRET", "local".to_owned()),
            ("WHMCS_PAYMENT_METHOD", GATEWAY.to_owned()),
        ]
    }
}

fn url(text: &str) -> url::Url {
    url::Url::parse(text).expect("an emulator URL")
}

/// What a run of the binary gave.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `portal-doctor` binary with exactly `env` (and `args`), off the
/// runtime so the emulators keep answering.
pub async fn run_binary(env: Vec<(&'static str, String)>, args: &[&str]) -> Run {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_portal-doctor"))
            .args(&args)
            .env_clear()
            .envs(env)
            .output()
            .expect("the binary runs");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .expect("the blocking task completes")
}

/// The package's source directory in the repository.
pub fn package_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(portal_doctor::metadata::PACKAGE_DIR)
}
