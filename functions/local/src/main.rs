//! `portal-local`: the whole system in one process (see the crate docs and
//! the README's "Run locally"). Logs go to stderr; the URLs to stdout. With
//! `STATE_TABLE` set, the state lives in DynamoDB and SQS at the AWS SDK's
//! endpoint (`AWS_ENDPOINT_URL`: a moto server) instead of in memory.

use std::io::Write as _;

use anyhow::Context as _;
use portal_aws::AwsClients;
use portal_core::config::Config as _;
use portal_core::logs::LogFormat;
use portal_local::{AwsNames, LocalConfig, Runner, Shared, State, StateTarget};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    portal_core::logs::init(LogFormat::Text, "info");
    let config = LocalConfig::from_env().context("reading the configuration")?;
    match config.state.clone() {
        StateTarget::InMemory => run(config, Shared::in_memory()).await,
        StateTarget::Aws {
            table,
            provisioning_queue,
            provisioning_dlq,
            event_dlq,
        } => {
            let clients = AwsClients::from_env(None).await;
            let names = AwsNames {
                table,
                provisioning_queue,
                provisioning_dlq,
                event_dlq,
            };
            let shared = Shared::aws(&clients, &names)
                .await
                .context("finding or creating the table and the queues")?;
            run(config, shared).await
        }
    }
}

async fn run<S: State>(config: LocalConfig, shared: Shared<S>) -> anyhow::Result<()> {
    let runner = Runner::start_over(config, shared)
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
