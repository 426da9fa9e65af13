//! `portal-local`: the whole system in one process (see the crate docs and
//! the README's "Run locally"). Logs go to stderr; the URLs to stdout.

use std::io::Write as _;

use anyhow::Context as _;
use portal_core::config::Config as _;
use portal_core::logs::LogFormat;
use portal_local::{LocalConfig, Runner};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    portal_core::logs::init(LogFormat::Text, "info");
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
