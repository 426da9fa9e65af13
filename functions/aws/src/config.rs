//! Building the SDK clients from the normal AWS environment.
//!
//! `aws-config` already honours `AWS_ENDPOINT_URL` (and the per-service
//! `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SQS`), region, credentials
//! and profile variables; [`AwsClients::from_env`] adds an explicit endpoint
//! override on top, for local runs against a moto server.

use aws_config::{BehaviorVersion, SdkConfig};

/// The SDK clients the adapters need.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// DynamoDB.
    pub dynamo: aws_sdk_dynamodb::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
}

impl AwsClients {
    /// Loads the configuration from the environment (region, credentials,
    /// `AWS_ENDPOINT_URL`…); `endpoint_override`, when given, wins over it.
    pub async fn from_env(endpoint_override: Option<&str>) -> Self {
        Self::from_sdk_config(&load_sdk_config(endpoint_override).await)
    }

    /// Clients for an already loaded configuration.
    pub fn from_sdk_config(config: &SdkConfig) -> Self {
        Self {
            dynamo: aws_sdk_dynamodb::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
        }
    }
}

/// The SDK configuration from the environment, with an optional endpoint override.
pub async fn load_sdk_config(endpoint_override: Option<&str>) -> SdkConfig {
    let loader = aws_config::defaults(BehaviorVersion::latest());
    let loader = match endpoint_override {
        Some(url) => loader.endpoint_url(url),
        None => loader,
    };
    loader.load().await
}
