//! The `ProvisioningDeliveries` port: taking provisioning messages off the
//! FIFO queue, then acknowledging each (deleting it) or releasing it (visible
//! again at once). In AWS the Lambda's SQS trigger does this; portal-local's
//! provisioner worker does it through this port (SQS or in memory).
//!
//! A [`Delivery`] is one receive of one message: the same message delivered
//! again has a new receipt. Its body is parsed here, so a body that is not a
//! provisioning message reaches the worker as an error it can dead-letter.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::QueueError;
use crate::messages::{MessageError, ProvisioningMessage};

/// Identifies one delivery of a message; stale once the message is delivered again.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct ReceiptHandle(String);

impl ReceiptHandle {
    /// Wraps the queue's handle.
    pub fn new(handle: impl Into<String>) -> Self {
        Self(handle.into())
    }

    /// The handle's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReceiptHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A received message.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The queue's id of the message (stable across deliveries).
    pub message_id: String,
    /// Acknowledges or releases this delivery.
    pub receipt: ReceiptHandle,
    /// The FIFO message group, as the queue reports it.
    pub group: Option<String>,
    /// How many times it has been delivered, this time included.
    pub receive_count: u32,
    /// The body, parsed.
    pub message: Result<ProvisioningMessage, MessageError>,
}

impl Delivery {
    /// A delivery of `body`, parsed.
    pub fn from_body(
        message_id: impl Into<String>,
        receipt: ReceiptHandle,
        group: Option<String>,
        receive_count: u32,
        body: &str,
    ) -> Self {
        Self {
            message_id: message_id.into(),
            receipt,
            group,
            receive_count,
            message: ProvisioningMessage::from_json(body),
        }
    }

    /// The message group: the queue's, else the parsed message's (the Order id).
    pub fn group(&self) -> Option<&str> {
        self.group.as_deref().or_else(|| {
            self.message
                .as_ref()
                .ok()
                .map(ProvisioningMessage::group_id)
        })
    }
}

/// Receives provisioning messages and settles each delivery.
pub trait ProvisioningDeliveries: Send + Sync {
    /// Up to `max` messages, oldest first; a group with a message in flight
    /// delivers nothing more until that one is settled (FIFO). May wait a
    /// little for messages (long polling); empty when none came.
    fn receive(&self, max: usize)
    -> impl Future<Output = Result<Vec<Delivery>, QueueError>> + Send;

    /// Deletes the delivered message: it is done with.
    fn acknowledge(
        &self,
        receipt: &ReceiptHandle,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Makes the delivered message visible again at once (it was not attempted).
    fn release(
        &self,
        receipt: &ReceiptHandle,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

impl<T: ProvisioningDeliveries> ProvisioningDeliveries for Arc<T> {
    fn receive(
        &self,
        max: usize,
    ) -> impl Future<Output = Result<Vec<Delivery>, QueueError>> + Send {
        (**self).receive(max)
    }

    fn acknowledge(
        &self,
        receipt: &ReceiptHandle,
    ) -> impl Future<Output = Result<(), QueueError>> + Send {
        (**self).acknowledge(receipt)
    }

    fn release(
        &self,
        receipt: &ReceiptHandle,
    ) -> impl Future<Output = Result<(), QueueError>> + Send {
        (**self).release(receipt)
    }
}
