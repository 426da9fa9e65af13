//! The use case wired to its production adapters.

use portal_aws::{
    AwsClients, DynamoAccountStatuses, DynamoProvisioningRecords, DynamoReconcileAttempts,
    DynamoReplayStore, SqsProvisioningQueue, SqsQueueDepths,
};
use portal_core::ports::{Clock, EVENT_DLQ, PROVISIONING_DLQ, SystemClock};
use portal_core::reconcile::{ReconcilePorts, ReconcileSettings, Reconciler};
use salesforce::SalesforceClient;
use salesforce::reconcile::{SalesforcePortalStatuses, SalesforceStuckOrders};

use crate::config::{AwsTargets, ReconcilerConfig};

/// The use case over Salesforce, DynamoDB and SQS, reading time from `C`.
pub type AwsReconciler<C> = Reconciler<
    SalesforceStuckOrders,
    DynamoProvisioningRecords,
    DynamoReconcileAttempts,
    DynamoReplayStore,
    SqsProvisioningQueue,
    SqsQueueDepths,
    C,
    SalesforcePortalStatuses,
    DynamoAccountStatuses,
>;

/// The use case as the Lambda runs it.
pub type LambdaReconciler = AwsReconciler<SystemClock>;

/// A client could not be created.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Salesforce client.
    #[error("cannot create the Salesforce client")]
    Salesforce(#[source] salesforce::SalesforceError),
}

/// Builds the use case from `config` and the AWS environment (region,
/// credentials, `AWS_ENDPOINT_URL`).
///
/// # Errors
/// [`BuildError`] when the Salesforce client cannot be created.
pub async fn build(config: ReconcilerConfig) -> Result<LambdaReconciler, BuildError> {
    let salesforce = SalesforceClient::new(config.salesforce).map_err(BuildError::Salesforce)?;
    let aws = AwsClients::from_env(None).await;
    Ok(assemble(
        salesforce,
        &aws,
        &config.targets,
        config.settings,
        SystemClock,
    ))
}

/// The use case over given clients (the Lambda's, or a test's).
pub fn assemble<C: Clock>(
    salesforce: SalesforceClient,
    aws: &AwsClients,
    targets: &AwsTargets,
    settings: ReconcileSettings,
    clock: C,
) -> AwsReconciler<C> {
    let table = targets.state_table.as_str();
    let ports = ReconcilePorts {
        orders: SalesforceStuckOrders::new(salesforce.clone()),
        portal_statuses: SalesforcePortalStatuses::new(salesforce),
        account_statuses: DynamoAccountStatuses::new(aws.dynamo.clone(), table),
        records: DynamoProvisioningRecords::new(aws.dynamo.clone(), table),
        attempts: DynamoReconcileAttempts::new(aws.dynamo.clone(), table),
        gaps: DynamoReplayStore::new(aws.dynamo.clone(), table),
        queue: SqsProvisioningQueue::new(aws.sqs.clone(), targets.provisioning_queue_url.as_str()),
        depths: SqsQueueDepths::new(
            aws.sqs.clone(),
            vec![
                (
                    PROVISIONING_DLQ.to_owned(),
                    targets.provisioning_dlq_url.clone(),
                ),
                (EVENT_DLQ.to_owned(), targets.event_dlq_url.clone()),
            ],
        ),
        clock,
    };
    Reconciler::new(ports, settings)
}
