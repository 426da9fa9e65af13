//! `GET /services`: the caller's services — what a "My services" screen
//! lists and what `POST /cancellations` needs (`serviceId`). One read.
//!
//! A service is an Opportunity the provisioner gave a WHMCS service id
//! (`WHMCS_Service_ID__c`), at `Active`, `△Cancelling` or `△Cancelled`, with
//! the Order it came from and that Order's service product (the line whose
//! product's `Item_Class__c` is `Service`).
//!
//! Decisions where the issue is silent:
//! - Newest first (by the Order's creation); one entry per service id even if
//!   staff attached several Orders to its Opportunity (the newest wins).
//! - Another account's services are never read (the query is filtered on the
//!   caller's Account) and, should one come back, dropped.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{
    AccountId, CommodityType, OpportunityId, OpportunityStage, OrderId, ProductId, WhmcsServiceId,
};

use super::caller::Caller;
use super::error::PortalError;
use super::ports::ServiceBook;

/// The stages a service can be at.
pub const SERVICE_STAGES: &[OpportunityStage] = &[
    OpportunityStage::Active,
    OpportunityStage::Cancelling,
    OpportunityStage::Cancelled,
];

/// The product of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceProduct {
    /// `Product2.Id`.
    pub product_id: ProductId,
    /// `Product2.Name`.
    pub name: String,
}

/// One service of `GET /services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    /// The WHMCS service id (what `POST /cancellations` takes).
    pub service_id: WhmcsServiceId,
    /// The Opportunity's `CommodityType`.
    pub commodity_type: Option<CommodityType>,
    /// The service product of its Order, if the Order has one.
    pub product: Option<ServiceProduct>,
    /// `Active`, `△Cancelling` or `△Cancelled`.
    pub stage: OpportunityStage,
    /// `ScheduledCancellationDateAndTime__c`, once a cancellation is asked for.
    pub scheduled_cancellation_at: Option<DateTime<Utc>>,
    /// The Opportunity.
    pub opportunity_id: OpportunityId,
    /// The Order it came from.
    pub order_id: OrderId,
    /// That Order's number.
    pub order_number: String,
    /// The Opportunity's `AccountId`, checked against the caller's; not shown.
    #[serde(skip)]
    pub account_id: AccountId,
}

/// The body of `GET /services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceList {
    /// The caller's services, newest first.
    pub services: Vec<ServiceView>,
}

/// The caller's services.
#[tracing::instrument(name = "list_services", skip_all, fields(account_id = ?caller.account_id))]
pub async fn list_services<B: ServiceBook>(
    book: &B,
    caller: &Caller,
) -> Result<ServiceList, PortalError> {
    let account = caller.account()?;
    let mut seen = HashSet::new();
    let services = book
        .services(account)
        .await?
        .into_iter()
        .filter(|s| &s.account_id == account && SERVICE_STAGES.contains(&s.stage))
        .filter(|s| seen.insert(s.service_id))
        .collect();
    Ok(ServiceList { services })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::fake::*;

    fn service(account_id: AccountId, id: i64, stage: OpportunityStage) -> ServiceView {
        ServiceView {
            service_id: WhmcsServiceId::new(id).unwrap(),
            commodity_type: Some(CommodityType::Sim),
            product: Some(ServiceProduct {
                product_id: ProductId::parse("01t000000000003").unwrap(),
                name: "SonixNet SIM Data 20GB".into(),
            }),
            stage,
            scheduled_cancellation_at: None,
            opportunity_id: opportunity(),
            order_id: order(),
            order_number: "00000100".into(),
            account_id,
        }
    }

    #[tokio::test]
    async fn when_listing_should_show_only_the_callers_services_once_each() {
        let org = FakeOrg {
            services: vec![
                service(account(), 9001, OpportunityStage::Active),
                service(other_account(), 9002, OpportunityStage::Active),
                service(account(), 9001, OpportunityStage::Active),
                service(account(), 9003, OpportunityStage::PostProcessing),
            ],
            ..FakeOrg::default()
        };
        let list = list_services(&org, &caller()).await.unwrap();
        assert_eq!(
            list.services,
            vec![service(account(), 9001, OpportunityStage::Active)]
        );
        assert_eq!(org.calls(), vec![Call::Services(account())]);
        assert_eq!(
            serde_json::to_value(&list).unwrap()["services"][0],
            serde_json::json!({
                "serviceId": 9001,
                "commodityType": "SIM",
                "product": {"productId": "01t000000000003AAA", "name": "SonixNet SIM Data 20GB"},
                "stage": "Active",
                "scheduledCancellationAt": null,
                "opportunityId": opportunity().as_str(),
                "orderId": order().as_str(),
                "orderNumber": "00000100",
            })
        );
    }

    #[tokio::test]
    async fn when_the_login_is_unlinked_should_read_nothing() {
        let org = FakeOrg::default();
        assert!(matches!(
            list_services(&org, &unlinked_caller()).await,
            Err(PortalError::NotLinked)
        ));
        assert!(org.calls().is_empty());
    }
}
