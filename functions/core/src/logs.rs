//! The one logger every binary installs, filtered by `RUST_LOG`:
//!
//! - [`LogFormat::Json`] (the deployed functions and the subscriber): JSON
//!   lines on stdout, which CloudWatch Logs reads from the Lambda or ECS
//!   runtime, with the fields of every span the line is in (Order,
//!   correlation and run ids) on every line;
//! - [`LogFormat::Text`] (portal-local, the doctor): readable lines on
//!   stderr, coloured only when stderr is a terminal (never escape codes in a
//!   file or a pipe).
//!
//! Never a secret, a token or personal data: the callers log ids and error
//! chains only. The normal path logs nothing above INFO.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// JSON lines on stdout.
    Json,
    /// Text lines on stderr.
    Text,
}

/// Installs the logger with `default_filter` when `RUST_LOG` is unset; a
/// second call (tests) keeps the first one.
pub fn init(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // An error means a subscriber is already installed (tests): keep it.
    let _ = match format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .with_span_list(true)
            .with_target(false)
            .try_init(),
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}
