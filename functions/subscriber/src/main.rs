//! The subscriber task (ECS Fargate): config once, the AWS adapters, SIGTERM
//! and Ctrl-C as the stop signal, then the loop. Exits 0 after a clean stop,
//! 1 when the loop fails for good (a missing topic, no permission…).

use std::process::ExitCode;

use anyhow::Context as _;
use portal_aws::{
    AwsClients, DynamoReplayStore, DynamoSubscriberLease, SqsDeadLetters, SqsProvisioningQueue,
};
use portal_core::config::Config as _;
use portal_core::ports::SystemClock;
use portal_core::workers::shutdown_channel;
use portal_core::workers::subscriber::{Metrics, Ports, run};
use salesforce::SalesforceClient;
use salesforce::pubsub::PubSubClient;
use subscriber::{EmfMetrics, SubscriberConfig};

#[tokio::main]
async fn main() -> ExitCode {
    portal_aws::init_json_logs();
    match start().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "the subscriber exits with an error"
            );
            ExitCode::FAILURE
        }
    }
}

async fn start() -> anyhow::Result<()> {
    let config = SubscriberConfig::from_env().context("reading the configuration")?;
    let salesforce =
        SalesforceClient::new(config.salesforce).context("building the Salesforce client")?;
    let pubsub = PubSubClient::connect(config.pubsub, salesforce)
        .await
        .context("connecting to the Pub/Sub API")?;
    let aws = AwsClients::from_env(None).await;
    let ports = Ports {
        events: pubsub,
        replay_store: DynamoReplayStore::new(aws.dynamo.clone(), config.state_table.clone()),
        lease: DynamoSubscriberLease::new(aws.dynamo.clone(), config.state_table),
        queue: SqsProvisioningQueue::new(aws.sqs.clone(), config.provisioning_queue_url),
        dead_letters: SqsDeadLetters::new(aws.sqs, config.dead_letter_queue_url),
        clock: SystemClock,
    };
    let (trigger, shutdown) = shutdown_channel();
    tokio::spawn(async move {
        stop_signal().await;
        tracing::info!("stop requested");
        trigger.trigger();
    });
    let metrics = Metrics::new(EmfMetrics::Stdout);
    run(&ports, &config.settings, &metrics, &shutdown).await?;
    Ok(())
}

/// SIGTERM (ECS stopping the task) or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot listen for SIGTERM; Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
