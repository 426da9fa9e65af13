//! The state table and the queues, created when missing: what `template.yaml`
//! declares in AWS, for portal-local against a moto server (or a developer's
//! own account). The table has `pk`/`sk`, the `gsi1` index and the `ttl`
//! attribute (see `README.md`); the provisioning queue is FIFO with a
//! dead-letter queue after five receives and a six-minute visibility timeout,
//! as in the template.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use portal_core::ports::{QueueError, StoreError};

use crate::AwsClients;
use crate::errors::{queue_error, store_error};

/// The queues' URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    /// The provisioning queue (FIFO).
    pub provisioning: String,
    /// Its dead-letter queue.
    pub provisioning_dlq: String,
    /// The subscriber's dead-letter queue.
    pub event_dlq: String,
}

/// A resource could not be found or created.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// The table.
    #[error("the state table {table} cannot be found or created")]
    Table {
        /// Its name.
        table: String,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// A queue.
    #[error("the queue {queue} cannot be found or created")]
    Queue {
        /// Its name.
        queue: String,
        /// Why.
        #[source]
        source: QueueError,
    },
}

/// Creates the state table `table` unless it exists.
///
/// # Errors
/// [`ResourceError::Table`] when it can be neither described nor created.
pub async fn ensure_state_table(clients: &AwsClients, table: &str) -> Result<(), ResourceError> {
    let error = |source| ResourceError::Table {
        table: table.to_owned(),
        source,
    };
    let dynamo = &clients.dynamo;
    if dynamo
        .describe_table()
        .table_name(table)
        .send()
        .await
        .is_ok()
    {
        return Ok(());
    }
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("name and key type are set")
    };
    let text = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("name and type are set")
    };
    let index = GlobalSecondaryIndex::builder()
        .index_name("gsi1")
        .key_schema(key("gsi1pk", KeyType::Hash))
        .key_schema(key("gsi1sk", KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("index name and keys are set");
    dynamo
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(["pk", "sk", "gsi1pk", "gsi1sk"].map(text).to_vec()))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(index)
        .send()
        .await
        .map_err(|e| error(store_error(e)))?;
    dynamo
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("ttl")
                .enabled(true)
                .build()
                .expect("attribute name and flag are set"),
        )
        .send()
        .await
        .map_err(|e| error(store_error(e)))?;
    tracing::info!(table, "created the state table");
    Ok(())
}

/// Creates the three FIFO queues unless they exist; their URLs.
///
/// # Errors
/// [`ResourceError::Queue`] naming the first queue that cannot be created.
pub async fn ensure_queues(
    clients: &AwsClients,
    provisioning: &str,
    provisioning_dlq: &str,
    event_dlq: &str,
) -> Result<QueueUrls, ResourceError> {
    let provisioning_dlq_url = ensure_queue(clients, provisioning_dlq, Vec::new()).await?;
    let event_dlq_url = ensure_queue(clients, event_dlq, Vec::new()).await?;
    let dlq_arn = clients
        .sqs
        .get_queue_attributes()
        .queue_url(&provisioning_dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| ResourceError::Queue {
            queue: provisioning_dlq.to_owned(),
            source: queue_error(e),
        })?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .unwrap_or_default();
    let redrive = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}"#);
    let provisioning_url = ensure_queue(
        clients,
        provisioning,
        vec![
            (QueueAttributeName::VisibilityTimeout, "360".to_owned()),
            (QueueAttributeName::RedrivePolicy, redrive),
        ],
    )
    .await?;
    Ok(QueueUrls {
        provisioning: provisioning_url,
        provisioning_dlq: provisioning_dlq_url,
        event_dlq: event_dlq_url,
    })
}

/// The URL of the FIFO queue `name`, created with `attributes` when missing.
async fn ensure_queue(
    clients: &AwsClients,
    name: &str,
    attributes: Vec<(QueueAttributeName, String)>,
) -> Result<String, ResourceError> {
    if let Ok(found) = clients.sqs.get_queue_url().queue_name(name).send().await
        && let Some(url) = found.queue_url
    {
        return Ok(url);
    }
    let mut create = clients
        .sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::FifoQueue, "true");
    for (attribute, value) in attributes {
        create = create.attributes(attribute, value);
    }
    let url = create
        .send()
        .await
        .map_err(|e| ResourceError::Queue {
            queue: name.to_owned(),
            source: queue_error(e),
        })?
        .queue_url
        .unwrap_or_default();
    tracing::info!(queue = name, "created the queue");
    Ok(url)
}
