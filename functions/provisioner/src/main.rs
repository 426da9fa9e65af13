//! The provisioner Lambda's entry point: secrets and config once, then the runtime loop.

use std::convert::Infallible;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};
use portal_aws::SecretOverlay;
use portal_core::config::Config as _;
use provisioner::{ProvisionerConfig, build, invocation, metrics, process_batch};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    portal_aws::init_json_logs();
    // Once per cold start: warm invocations reuse the use case built here.
    let secrets = SecretOverlay::from_env(provisioner::config::SECRETS).await?;
    let config = ProvisionerConfig::from_lookup(secrets.lookup(|name| std::env::var(name).ok()))?;
    let provisioner = Arc::new(Box::pin(build(config)).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let provisioner = Arc::clone(&provisioner);
        async move {
            let invocation = invocation(&event.context);
            let (response, counts) =
                process_batch(&*provisioner, &event.payload, &invocation).await;
            metrics::write(&mut std::io::stdout(), &counts, chrono::Utc::now());
            Ok::<SqsBatchResponse, Infallible>(response)
        }
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}
