//! `salesforce-emulator`: runs an emulated Salesforce org until Ctrl-C.
//!
//! Settings (environment): `SF_EMULATOR_BIND` (default `127.0.0.1:8081`),
//! `SF_EMULATOR_PUBSUB_BIND` (the Pub/Sub gRPC server, default `127.0.0.1:8082`),
//! `SF_EMULATOR_PUBSUB_TLS` (`1`: serve Pub/Sub over TLS with a self-signed certificate,
//! written to `SF_EMULATOR_PUBSUB_CERT_PATH`, default `salesforce-emulator-pubsub.pem`
//! in the system temp dir),
//! `SF_EMULATOR_CLIENT_ID`, `SF_EMULATOR_USERNAME`, `SF_EMULATOR_PUBLIC_KEY_PATH`
//! (default: the embedded test key), `SF_EMULATOR_ADMIN_TOKEN` (default `local-admin`),
//! `SF_EMULATOR_SESSION_TTL_SECS`, `SF_EMULATOR_LOG_FORMAT` (`pretty` or `json`).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use salesforce_emulator::{Emulator, EmulatorConfig};
use tracing_subscriber::EnvFilter;

fn var(name: &str) -> anyhow::Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => bail!("{name} is set but empty"),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => bail!("{name} is not valid UTF-8"),
    }
}

/// Where the Pub/Sub certificate is written in TLS mode.
fn cert_path() -> anyhow::Result<PathBuf> {
    Ok(var("SF_EMULATOR_PUBSUB_CERT_PATH")?.map_or_else(
        || std::env::temp_dir().join("salesforce-emulator-pubsub.pem"),
        PathBuf::from,
    ))
}

fn config_from_env() -> anyhow::Result<EmulatorConfig> {
    let mut config = EmulatorConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 8081)),
        pubsub_bind: SocketAddr::from(([127, 0, 0, 1], 8082)),
        ..EmulatorConfig::default()
    };
    if let Some(bind) = var("SF_EMULATOR_BIND")? {
        config.bind = bind
            .parse()
            .with_context(|| format!("SF_EMULATOR_BIND must be host:port, got {bind:?}"))?;
    }
    if let Some(bind) = var("SF_EMULATOR_PUBSUB_BIND")? {
        config.pubsub_bind = bind
            .parse()
            .with_context(|| format!("SF_EMULATOR_PUBSUB_BIND must be host:port, got {bind:?}"))?;
    }
    if let Some(tls) = var("SF_EMULATOR_PUBSUB_TLS")? {
        config.pubsub_tls = match tls.trim() {
            "1" | "true" => true,
            "0" | "false" => false,
            other => bail!("SF_EMULATOR_PUBSUB_TLS must be 1, true, 0 or false, got {other:?}"),
        };
    }
    if let Some(id) = var("SF_EMULATOR_CLIENT_ID")? {
        config.client_id = id;
    }
    if let Some(username) = var("SF_EMULATOR_USERNAME")? {
        config.username = username;
    }
    if let Some(path) = var("SF_EMULATOR_PUBLIC_KEY_PATH")? {
        config.public_key_pem = std::fs::read_to_string(&path)
            .with_context(|| format!("SF_EMULATOR_PUBLIC_KEY_PATH: cannot read {path}"))?;
    }
    if let Some(token) = var("SF_EMULATOR_ADMIN_TOKEN")? {
        config.admin_token = Some(token);
    }
    if let Some(ttl) = var("SF_EMULATOR_SESSION_TTL_SECS")? {
        let secs: u64 = ttl.parse().with_context(|| {
            format!("SF_EMULATOR_SESSION_TTL_SECS must be a number of seconds, got {ttl:?}")
        })?;
        config.session_ttl = Duration::from_secs(secs);
    }
    Ok(config)
}

fn init_tracing() -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match var("SF_EMULATOR_LOG_FORMAT")?.as_deref() {
        None | Some("pretty") => tracing_subscriber::fmt().with_env_filter(filter).init(),
        Some("json") => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init(),
        Some(other) => bail!("SF_EMULATOR_LOG_FORMAT must be pretty or json, got {other:?}"),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing()?;
    let config = config_from_env()?;
    let cert_path = cert_path()?;
    let emulator = Emulator::start(config)
        .await
        .context("starting the Salesforce emulator")?;
    let config = emulator.config();
    // The admin token is a local, static test credential: printing it is the point.
    let mut out = std::io::stdout().lock();
    writeln!(out, "Salesforce emulator at {}", emulator.base_url())?;
    writeln!(
        out,
        "  token endpoint: {}/services/oauth2/token",
        emulator.base_url()
    )?;
    writeln!(out, "  Pub/Sub (gRPC): {}", emulator.pubsub_url())?;
    if let Some(pem) = emulator.pubsub_ca_pem() {
        std::fs::write(&cert_path, pem).with_context(|| {
            format!(
                "SF_EMULATOR_PUBSUB_CERT_PATH: cannot write {}",
                cert_path.display()
            )
        })?;
        writeln!(out, "  Pub/Sub CA:     {}", cert_path.display())?;
    }
    writeln!(out, "  client id:      {}", config.client_id)?;
    writeln!(out, "  username:       {}", config.username)?;
    writeln!(
        out,
        "  admin token:    {}",
        config.admin_token.as_deref().unwrap_or("(none)")
    )?;
    writeln!(out, "  org id:         {}", emulator.org_id())?;
    drop(out);
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    emulator.shutdown();
    Ok(())
}
