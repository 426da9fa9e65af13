//! The use case wired to its adapters: the Lambda's (DynamoDB records,
//! system clock) by [`build`], any record store and clock by [`assemble`]
//! (portal-local's in-memory or DynamoDB ones).

use portal_aws::AwsClients;
use portal_aws::DynamoProvisioningRecords;
use portal_core::ports::{Clock, ProvisioningRecords, SystemClock};
use portal_core::provisioning::{Provisioner, ProvisioningSettings};
use salesforce::SalesforceClient;
use salesforce::provisioning::SalesforceOrderLedger;
use whmcs::WhmcsClient;
use whmcs::billing::WhmcsBilling;

use crate::config::ProvisionerConfig;

/// The use case over Salesforce and WHMCS, with records `R` and clock `C`.
pub type SalesforceWhmcsProvisioner<R, C> = Provisioner<SalesforceOrderLedger, WhmcsBilling, R, C>;

/// The use case as the Lambda runs it.
pub type LambdaProvisioner = SalesforceWhmcsProvisioner<DynamoProvisioningRecords, SystemClock>;

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
    let records = DynamoProvisioningRecords::new(aws.dynamo, config.state_table);
    Ok(assemble(
        salesforce,
        whmcs,
        config.payment_method,
        records,
        SystemClock,
    ))
}

/// The use case over given clients, record store and clock.
pub fn assemble<R: ProvisioningRecords, C: Clock>(
    salesforce: SalesforceClient,
    whmcs: WhmcsClient,
    payment_method: String,
    records: R,
    clock: C,
) -> SalesforceWhmcsProvisioner<R, C> {
    Provisioner::new(
        SalesforceOrderLedger::new(salesforce),
        WhmcsBilling::new(whmcs, payment_method),
        records,
        clock,
        ProvisioningSettings::default(),
    )
}
