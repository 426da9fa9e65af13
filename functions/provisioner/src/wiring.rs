//! The use case wired to its production adapters.

use portal_aws::AwsClients;
use portal_aws::DynamoProvisioningRecords;
use portal_core::ports::SystemClock;
use portal_core::provisioning::{Provisioner, ProvisioningSettings};
use salesforce::SalesforceClient;
use salesforce::provisioning::SalesforceOrderLedger;
use whmcs::WhmcsClient;
use whmcs::billing::WhmcsBilling;

use crate::config::ProvisionerConfig;

/// The use case as the Lambda runs it.
pub type LambdaProvisioner =
    Provisioner<SalesforceOrderLedger, WhmcsBilling, DynamoProvisioningRecords, SystemClock>;

/// A client could not be created.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Salesforce client.
    #[error("cannot create the Salesforce client")]
    Salesforce(#[source] salesforce::SalesforceError),
    /// The WHMCS client.
    #[error("cannot create the WHMCS client")]
    Whmcs(#[source] whmcs::WhmcsError),
}

/// Builds the use case from `config` and the AWS environment (region,
/// credentials, `AWS_ENDPOINT_URL`).
///
/// # Errors
/// [`BuildError`] when an HTTP client cannot be created.
pub async fn build(config: ProvisionerConfig) -> Result<LambdaProvisioner, BuildError> {
    let salesforce = SalesforceClient::new(config.salesforce).map_err(BuildError::Salesforce)?;
    let whmcs = WhmcsClient::new(config.whmcs).map_err(BuildError::Whmcs)?;
    let aws = AwsClients::from_env(None).await;
    Ok(Provisioner::new(
        SalesforceOrderLedger::new(salesforce),
        WhmcsBilling::new(whmcs, config.payment_method),
        DynamoProvisioningRecords::new(aws.dynamo, config.state_table),
        SystemClock,
        ProvisioningSettings::default(),
    ))
}
