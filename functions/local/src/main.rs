//! `portal-local`: the whole system in one process (see the crate docs and
//! the README's "Run locally"). Logs go to stderr; the URLs to stdout.

use std::io::Write as _;

use anyhow::Context as _;
use portal_local::{LocalConfig, Runner};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = LocalConfig::from_env().context("reading the configuration")?;
    let runner = Runner::start(config)
        .await
        .context("starting portal-local")?;
    let mut out = std::io::stdout().lock();
    for line in runner.summary() {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    drop(out);
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    tracing::info!("stopping");
    runner.shutdown().await;
    Ok(())
}
