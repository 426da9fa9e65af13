//! How every deployed worker logs: JSON lines on stdout (CloudWatch Logs
//! reads them from the Lambda or ECS runtime), filtered by `RUST_LOG`
//! (default `info`), with the fields of every span the line is in (Order,
//! correlation and run ids, the API request's `correlation_id`) on every line. Never a secret, a token or personal data: the
//! callers log ids and error chains only.

use tracing_subscriber::EnvFilter;

/// Installs the JSON logger; a second call (tests) keeps the first one.
pub fn init_json_logs() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // An error means a subscriber is already installed (tests): keep it.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(true)
        .with_target(false)
        .try_init();
}
