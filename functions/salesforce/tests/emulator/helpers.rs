//! Builds a world per test: an emulated org and a client logged in to it.

use std::time::Duration;

use salesforce::{RetryPolicy, SalesforceClient, SalesforceConfig};
use salesforce_emulator::{Emulator, EmulatorConfig, fixtures};

/// A running org and a client pointed at it.
pub struct TestOrg {
    pub emulator: Emulator,
    pub client: SalesforceClient,
}

/// Retries quickly, so that retry tests do not wait.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    }
}

/// An org with the default settings.
pub async fn org() -> TestOrg {
    org_with(EmulatorConfig::default()).await
}

/// An org with `config`, and a client using the trusted key and fast retries.
pub async fn org_with(config: EmulatorConfig) -> TestOrg {
    let emulator = Emulator::start(config).await.expect("the emulator starts");
    let client = client_for(
        &emulator,
        &emulator.base_url(),
        fixtures::CLIENT_PRIVATE_KEY_PEM,
    );
    TestOrg { emulator, client }
}

/// A client of `emulator` logging in at `login_url` with `key_pem`.
pub fn client_for(emulator: &Emulator, login_url: &str, key_pem: &str) -> SalesforceClient {
    SalesforceClient::with_retry_policy(config_for(emulator, login_url, key_pem), fast_retry())
        .expect("the client builds")
}

/// A client of `emulator` whose requests time out after `timeout`.
pub fn client_with_timeout(emulator: &Emulator, timeout: Duration) -> SalesforceClient {
    let config = config_for(
        emulator,
        &emulator.base_url(),
        fixtures::CLIENT_PRIVATE_KEY_PEM,
    )
    .with_request_timeout(timeout);
    SalesforceClient::with_retry_policy(config, fast_retry()).expect("the client builds")
}

fn config_for(emulator: &Emulator, login_url: &str, key_pem: &str) -> SalesforceConfig {
    SalesforceConfig::new(
        login_url,
        emulator.config().client_id.clone(),
        emulator.config().username.clone(),
        key_pem.as_bytes(),
    )
    .expect("the test configuration is valid")
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid_like())
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
