//! [`ServiceBook`] over Salesforce: the Account's services in one query.
//!
//! The query reads OrderItems with their Order and the Order's Opportunity
//! (parent paths only, so it is one plain SOQL query): every line of every
//! Order of the Account whose Opportunity has a WHMCS service id and is at a
//! service stage. Lines are grouped per service id in the query's order
//! (newest Order first); a service's product is its first line whose
//! product's `Item_Class__c` is `Service`.

use portal_core::domain::{AccountId, CommodityType, ItemClass, OpportunityStage, WhmcsServiceId};
use portal_core::portal::PortError;
use portal_core::portal::ports::ServiceBook;
use portal_core::portal::services::{SERVICE_STAGES, ServiceProduct, ServiceView};
use portal_core::schema::{opportunity, order, order_item, product};

use crate::client::SalesforceClient;
use crate::soql::{self, Cond, Order, Soql};

use super::error::{MappingError, port_error};
use super::record::{CREATED_DATE, Record, Row, path};

/// The most order lines read (newest Orders first): a customer with more
/// services than this sees the newest ones.
pub const MAX_SERVICE_LINES: u32 = 500;

/// Services (Opportunity, Order, OrderItem, Product2) in Salesforce.
#[derive(Debug, Clone)]
pub struct SalesforceServiceBook {
    client: SalesforceClient,
}

impl SalesforceServiceBook {
    /// An adapter over `client`.
    pub fn new(client: SalesforceClient) -> Self {
        Self { client }
    }
}

/// `OrderItem.Order.<field>`.
fn on_order(field: &str) -> Result<String, MappingError> {
    path(order_item::OBJECT, order_item::ORDER_ID, field)
}

/// `OrderItem.Order.Opportunity.<field>`.
fn on_opportunity(field: &str) -> Result<String, MappingError> {
    on_order(&path(order::OBJECT, order::OPPORTUNITY_ID, field)?)
}

fn services_query(account_id: &AccountId) -> Result<Soql, PortError> {
    let on_product = |field| path(order_item::OBJECT, order_item::PRODUCT_ID, field);
    Ok(soql::select([
        order_item::PRODUCT_ID.to_owned(),
        on_product(product::NAME)?,
        on_product(product::ITEM_CLASS)?,
        order_item::ORDER_ID.to_owned(),
        on_order(order::ORDER_NUMBER)?,
        on_order(order::OPPORTUNITY_ID)?,
        on_opportunity(opportunity::ACCOUNT_ID)?,
        on_opportunity(opportunity::WHMCS_SERVICE_ID)?,
        on_opportunity(opportunity::COMMODITY_TYPE)?,
        on_opportunity(opportunity::STAGE)?,
        on_opportunity(opportunity::SCHEDULED_CANCELLATION)?,
    ])
    .from(order_item::OBJECT)
    .where_(Cond::eq(&on_order(order::ACCOUNT_ID)?, account_id.as_id()))
    .where_(Cond::eq(
        &on_opportunity(opportunity::ACCOUNT_ID)?,
        account_id.as_id(),
    ))
    .where_(Cond::ne(
        &on_opportunity(opportunity::WHMCS_SERVICE_ID)?,
        soql::Value::Null,
    ))
    .where_(Cond::in_(
        &on_opportunity(opportunity::STAGE)?,
        SERVICE_STAGES.iter().map(|s| s.as_salesforce()),
    ))
    .order_by(&on_order(CREATED_DATE)?, Order::Desc)
    .order_by(order_item::ORDER_ID, Order::Desc)
    .order_by(order_item::ORDER_ITEM_NUMBER, Order::Asc)
    .limit(MAX_SERVICE_LINES)
    .build()?)
}

/// One line: its service, and whether its product is the service product.
fn service_line(record: &Record) -> Result<(ServiceView, bool), MappingError> {
    let line = Row::new(order_item::OBJECT, record);
    let missing = |what| MappingError::invalid(order_item::OBJECT, order_item::ORDER_ID, what);
    let order_row = line
        .parent(order_item::ORDER_ID, order::OBJECT)?
        .ok_or_else(|| missing("has no Order"))?;
    let opp = order_row
        .parent(order::OPPORTUNITY_ID, opportunity::OBJECT)?
        .ok_or_else(|| missing("has no Opportunity"))?;
    let product_row = line.parent(order_item::PRODUCT_ID, product::OBJECT)?;
    let (product, is_service) = match (&product_row, line.opt_id(order_item::PRODUCT_ID)?) {
        (Some(p), Some(product_id)) => (
            Some(ServiceProduct {
                product_id,
                name: p.text(product::NAME)?.to_owned(),
            }),
            p.opt_parsed(product::ITEM_CLASS, str::parse::<ItemClass>)? == Some(ItemClass::Service),
        ),
        _ => (None, false),
    };
    let service_id = opp
        .opt_whole(opportunity::WHMCS_SERVICE_ID)?
        .ok_or_else(|| {
            MappingError::invalid(
                opportunity::OBJECT,
                opportunity::WHMCS_SERVICE_ID,
                "is empty",
            )
        })
        .and_then(|n| {
            WhmcsServiceId::new(n).map_err(|e| {
                MappingError::invalid(opportunity::OBJECT, opportunity::WHMCS_SERVICE_ID, e)
            })
        })?;
    let view = ServiceView {
        service_id,
        commodity_type: opp.opt_parsed(opportunity::COMMODITY_TYPE, str::parse::<CommodityType>)?,
        product,
        stage: opp.parsed(opportunity::STAGE, str::parse::<OpportunityStage>)?,
        scheduled_cancellation_at: opp.opt_datetime(opportunity::SCHEDULED_CANCELLATION)?,
        opportunity_id: order_row.id(order::OPPORTUNITY_ID)?,
        order_id: line.id(order_item::ORDER_ID)?,
        order_number: order_row.text(order::ORDER_NUMBER)?.to_owned(),
        account_id: opp.id(opportunity::ACCOUNT_ID)?,
    };
    Ok((view, is_service))
}

/// One service per service id, in first-seen order; the product is the
/// first service-class line's (else none).
fn group(lines: Vec<(ServiceView, bool)>) -> Vec<ServiceView> {
    let mut services: Vec<(ServiceView, bool)> = Vec::new();
    for (line, is_service) in lines {
        match services
            .iter_mut()
            .find(|(s, _)| s.service_id == line.service_id)
        {
            None => {
                let product_known = is_service;
                let mut view = line;
                if !is_service {
                    view.product = None;
                }
                services.push((view, product_known));
            }
            Some((service, product_known)) => {
                if !*product_known && is_service && service.order_id == line.order_id {
                    service.product = line.product;
                    *product_known = true;
                }
            }
        }
    }
    services.into_iter().map(|(s, _)| s).collect()
}

impl ServiceBook for SalesforceServiceBook {
    #[tracing::instrument(name = "salesforce.services.list", skip_all, fields(account_id = %account_id))]
    async fn services(&self, account_id: &AccountId) -> Result<Vec<ServiceView>, PortError> {
        let page = self
            .client
            .query::<Record>(&services_query(account_id)?)
            .await
            .map_err(port_error)?;
        let lines = page
            .records
            .iter()
            .map(service_line)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(group(lines))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_core::domain::AccountId;

    #[test]
    fn the_query_should_be_filtered_on_the_callers_account_twice() {
        let account = AccountId::parse("001000000000001").unwrap();
        let q = services_query(&account).unwrap();
        let text = q.as_str();
        assert!(text.starts_with("SELECT Product2Id, Product2.Name, Product2.Item_Class__c, OrderId, Order.OrderNumber"), "{text}");
        assert!(text.contains("WHERE (Order.AccountId = '001000000000001AAA' AND Order.Opportunity.AccountId = '001000000000001AAA' AND Order.Opportunity.WHMCS_Service_ID__c != null"), "{text}");
        assert!(
            text.ends_with(
                "ORDER BY Order.CreatedDate DESC, OrderId DESC, OrderItemNumber ASC LIMIT 500"
            ),
            "{text}"
        );
    }
}
