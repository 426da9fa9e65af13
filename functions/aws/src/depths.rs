//! `SqsQueueDepths`: the depth of the watched queues (normally the two
//! dead-letter queues) with one `GetQueueAttributes` each
//! (`ApproximateNumberOfMessages`, `ApproximateNumberOfMessagesNotVisible`).

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use portal_core::ports::{QueueDepth, QueueDepths, QueueError};

use crate::errors::queue_error;

/// [`QueueDepths`] of SQS queues, each under a label (the metric's `Queue` dimension).
#[derive(Debug, Clone)]
pub struct SqsQueueDepths {
    client: Client,
    queues: Vec<(String, String)>,
}

impl SqsQueueDepths {
    /// Watches `queues`, given as `(label, queue URL)`.
    pub fn new(client: Client, queues: Vec<(String, String)>) -> Self {
        Self { client, queues }
    }
}

impl QueueDepths for SqsQueueDepths {
    #[tracing::instrument(skip_all, fields(queues = self.queues.len()))]
    async fn depths(&self) -> Result<Vec<QueueDepth>, QueueError> {
        let mut depths = Vec::with_capacity(self.queues.len());
        for (label, url) in &self.queues {
            let out = self
                .client
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .send()
                .await
                .map_err(queue_error)?;
            let number = |name: &QueueAttributeName| {
                out.attributes()
                    .and_then(|a| a.get(name))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            depths.push(QueueDepth {
                queue: label.clone(),
                visible: number(&QueueAttributeName::ApproximateNumberOfMessages),
                in_flight: number(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            });
        }
        Ok(depths)
    }
}
