//! The Order Approval Flow of the setup guide (section "Record-Triggered Flows").
//!
//! Entry: an Order's `Status` changes to `Approved`, or its `Activation_Status__c`
//! changes to `Activating`. Actions: set `Activation_Status__c = Activating`, clear
//! `Activation_Error__c` and `Activation_Error_DateTime__c`, and publish one
//! `OrderProvisionRequested__e`. It runs inside the writing transaction; the event is
//! published only when that transaction commits.

use chrono::{DateTime, Utc};
use salesforce::schema::order;
use serde_json::Value;

use crate::events::EventPayload;
use crate::store::Record;

const APPROVED: &str = "Approved";
const ACTIVATING: &str = "Activating";

fn text<'a>(record: Option<&'a Record>, field: &str) -> Option<&'a str> {
    record.and_then(|r| r.get(field)).and_then(Value::as_str)
}

fn changed_to(old: Option<&Record>, new: &Record, field: &str, value: &str) -> bool {
    text(Some(new), field) == Some(value) && text(old, field) != Some(value)
}

/// Runs the flow on an Order being created (`old` is `None`) or updated, as `user_id`
/// at `now`. Updates `new` in place and returns the event to publish on commit.
pub fn order_approval(
    old: Option<&Record>,
    new: &mut Record,
    user_id: &str,
    now: DateTime<Utc>,
) -> Option<EventPayload> {
    let triggered = changed_to(old, new, order::STATUS, APPROVED)
        || changed_to(old, new, order::ACTIVATION_STATUS, ACTIVATING);
    if !triggered {
        return None;
    }
    new.insert(
        order::ACTIVATION_STATUS.to_owned(),
        Value::String(ACTIVATING.to_owned()),
    );
    new.insert(order::ACTIVATION_ERROR.to_owned(), Value::Null);
    new.insert(order::ACTIVATION_ERROR_AT.to_owned(), Value::Null);
    let order_id = text(Some(new), "Id").unwrap_or_default().to_owned();
    Some(EventPayload::for_order(&order_id, user_id, now))
}

/// How the org's Order Approval Flow is set up: what the Tooling API shows
/// (`FlowDefinition`, `Flow`) and what an Order approval does. The default is
/// the deployed, active flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OrderFlowSetup {
    /// Deployed and active; publishes the event.
    #[default]
    Active,
    /// Deployed but never activated: the definition has no active version and
    /// nothing runs on approval.
    Inactive,
    /// Not deployed: no definition, nothing runs.
    Missing,
    /// Active, but its version lacks the "create OrderProvisionRequested__e"
    /// element: the Order becomes Activating and no event is published.
    WithoutEvent,
}

impl OrderFlowSetup {
    /// Whether the flow runs on an Order write.
    pub fn runs(self) -> bool {
        matches!(self, Self::Active | Self::WithoutEvent)
    }

    /// Whether a run publishes the event.
    pub fn publishes(self) -> bool {
        self == Self::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(status: &str, activation: &str) -> Record {
        let Value::Object(map) = json!({
            "Id": "801Em0000000001AAA",
            "Status": status,
            "Activation_Status__c": activation,
            "Activation_Error__c": "boom",
            "Activation_Error_DateTime__c": "2024-01-01T00:00:00.000+0000",
        }) else {
            unreachable!()
        };
        map
    }

    #[test]
    fn when_status_changes_to_approved_the_flow_should_fire() {
        let old = order("Pending Review", "Pending Review");
        let mut new = order("Approved", "Pending Review");
        let event = order_approval(Some(&old), &mut new, "005Em0000000001AAA", Utc::now()).unwrap();
        assert_eq!(new["Activation_Status__c"], json!("Activating"));
        assert_eq!(new["Activation_Error__c"], Value::Null);
        assert_eq!(new["Activation_Error_DateTime__c"], Value::Null);
        assert_eq!(event.order_id, "801Em0000000001AAA");
        assert!(event.idem_key.starts_with("801Em0000000001AAA-"));
        assert_eq!(event.requested_by, "005Em0000000001AAA");
    }

    #[test]
    fn when_activation_status_changes_to_activating_the_flow_should_fire_again() {
        let old = order("Approved", "Failed");
        let mut new = order("Approved", "Activating");
        assert!(order_approval(Some(&old), &mut new, "005x", Utc::now()).is_some());
    }

    #[test]
    fn when_nothing_relevant_changes_the_flow_should_stay_quiet() {
        let old = order("Approved", "Activating");
        let mut new = order("Approved", "Activating");
        assert!(order_approval(Some(&old), &mut new, "005x", Utc::now()).is_none());
        let mut provisioned = order("Approved", "Provisioned");
        assert!(order_approval(Some(&old), &mut provisioned, "005x", Utc::now()).is_none());
        assert_eq!(provisioned["Activation_Error__c"], json!("boom"));
    }
}
