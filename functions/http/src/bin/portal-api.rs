//! `portal-api`: every route of the portal API in one Lambda function behind
//! API Gateway (HTTP API). Configuration: `PORTAL_*`, `IDEMPOTENCY_TABLE` and
//! `SF_*` (see the README), the Salesforce key from Secrets Manager when
//! `SF_PRIVATE_KEY_SECRET_ARN` is set; a missing or malformed setting stops the start.

use std::sync::Arc;

use anyhow::Context as _;
use portal_aws::{
    AwsClients, DynamoAccountStatuses, DynamoIdempotencyStore, DynamoLoginLimits, DynamoLoginLinks,
    SecretOverlay,
};
use portal_core::config::Config as _;
use portal_http::{Api, ApiConfig, ApiStores, Authenticator, SalesforcePorts};
use salesforce::{SalesforceClient, SalesforceConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    portal_aws::init_json_logs();
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
    let table = config.idempotency_table.as_str();
    let store = ApiStores {
        idempotency: DynamoIdempotencyStore::new(aws.dynamo.clone(), table),
        links: DynamoLoginLinks::new(aws.dynamo.clone(), table),
        inactive: DynamoAccountStatuses::new(aws.dynamo.clone(), table),
        limits: DynamoLoginLimits::new(aws.dynamo.clone(), table),
    };
    let auth = Authenticator::new(&config.auth).context("loading the token verification key")?;
    let app = Api::new(Arc::new(ports), Arc::new(store), Arc::new(auth))
        .with_settings(config.settings)
        .with_identity(config.identity)
        .router();
    lambda_http::run(app).await.map_err(|e| anyhow::anyhow!(e))
}
