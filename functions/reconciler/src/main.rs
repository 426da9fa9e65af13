//! The reconciler Lambda's entry point: secrets and config once, then the runtime loop.

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use portal_aws::SecretOverlay;
use portal_core::config::Config as _;
use reconciler::{ReconcilerConfig, build, handle};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    portal_aws::init_json_logs();
    // Once per cold start: warm invocations reuse the use case built here.
    let secrets = SecretOverlay::from_env(reconciler::config::SECRETS).await?;
    let config = ReconcilerConfig::from_lookup(secrets.lookup(|name| std::env::var(name).ok()))?;
    let reconciler = Arc::new(build(config).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| {
        let reconciler = Arc::clone(&reconciler);
        async move { handle(&*reconciler, &event.payload, &event.context.request_id).await }
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}
