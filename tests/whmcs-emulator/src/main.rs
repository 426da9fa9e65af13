//! Runs the WHMCS emulator on `WHMCS_EMULATOR_BIND` (default `127.0.0.1:8083`)
//! with identifier `local` and secret `local`, until Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context as _;
use whmcs_emulator::{WhmcsEmulator, WhmcsEmulatorConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let bind: SocketAddr = std::env::var("WHMCS_EMULATOR_BIND")
        .unwrap_or_else(|_| "127.0.0.1:8083".to_owned())
        .parse()
        .context("WHMCS_EMULATOR_BIND is not a socket address (host:port)")?;
    let emulator = WhmcsEmulator::start(WhmcsEmulatorConfig {
        bind,
        ..WhmcsEmulatorConfig::default()
    })
    .await?;
    #[allow(clippy::print_stdout, reason = "the URL is this binary's output")]
    {
        println!("WHMCS emulator: {}", emulator.api_url());
    }
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")?;
    emulator.shutdown().await;
    Ok(())
}
