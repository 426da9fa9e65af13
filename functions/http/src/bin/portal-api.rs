//! `portal-api`: every route of the portal API in one Lambda function behind
//! API Gateway (HTTP API). Configuration: `PORTAL_*`, `IDEMPOTENCY_TABLE` and
//! `SF_*` (see the README), the Salesforce key from Secrets Manager when
//! `SF_PRIVATE_KEY_SECRET_ARN` is set; a missing or malformed setting stops the start.

use std::sync::Arc;

use anyhow::Context as _;
use portal_aws::{AwsClients, DynamoIdempotencyStore, SecretOverlay};
use portal_http::{Api, ApiConfig, Authenticator, SalesforcePorts};
use salesforce::{SalesforceClient, SalesforceConfig};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_current_span(false)
        .without_time()
        .init();
    // Once per cold start: warm invocations reuse the clients built below.
    let secrets = SecretOverlay::from_env(portal_http::config::SECRETS)
        .await
        .context("reading the secrets")?;
    let env = secrets.lookup(|name| std::env::var(name).ok());
    let config = ApiConfig::from_lookup(&env).context("reading the API configuration")?;
    let salesforce =
        SalesforceConfig::from_lookup(&env).context("reading the Salesforce configuration")?;
    let client = SalesforceClient::new(salesforce).context("building the Salesforce client")?;
    let ports = SalesforcePorts::new(client, config.price_book.clone());
    let aws = AwsClients::from_env(None).await;
    let store = DynamoIdempotencyStore::new(aws.dynamo, config.idempotency_table.clone());
    let auth = Authenticator::new(&config.auth).context("loading the token verification key")?;
    let mut app = Api::new(Arc::new(ports), Arc::new(store), Arc::new(auth))
        .with_settings(config.settings)
        .router();
    if config.serve_docs {
        app = portal_http::docs::router().merge(app);
    }
    lambda_http::run(app).await.map_err(|e| anyhow::anyhow!(e))
}
