//! The Salesforce side of provisioning: [`SalesforceOrderLedger`] implements
//! the [`OrderLedger`] port of `portal_core::provisioning`.
//!
//! - `load`: ONE `/composite` of three queries, always — the Order with its
//!   Account (`Name`, `WH_Account__c`) and Opportunity through parent paths;
//!   the OrderItems with their Product2 WHMCS fields; and the Account's
//!   Contacts, filtered on `AccountId = '@{order.records[0].AccountId}'` (a
//!   Contact is a child of the Account, not reachable by a parent path from
//!   the Order). The composite is not all-or-none, so an Order that does not
//!   exist fails only the Contact query (its reference has nothing to
//!   resolve) and reads as [`LedgerError::OrderNotFound`]. The Contacts are
//!   used only when the Account has no WHMCS client yet.
//! - `record_provisioned` / `record_failed`: ONE all-or-none `/composite` each.
//!
//! Field and object names come only from `portal_core::schema`; queries only
//! from the SOQL builder. Errors: lock contention, the concurrent-request
//! limit, 5xx and network failures (after the client's own retries) are
//! [`LedgerError::Unavailable`]; the rest [`LedgerError::Rejected`].

use chrono::SecondsFormat;
use portal_core::domain::OrderId;
use portal_core::domain::{
    AccountId, ActivationStatus, OpportunityId, OpportunityStage, OrderStatus,
};
use portal_core::ports::{
    BillingAccount, BillingContact, FailedOrder, LedgerError, OrderBundle, OrderLedger,
    OrderLineRecord, ProvisionedOrder,
};

use serde_json::{Map, Value};

use crate::Id;
use crate::client::SalesforceClient;
use crate::composite::{AllOrNone, Body, Composite, Ref};
use crate::error::SalesforceError;
use crate::schema::{account, contact, opportunity, order, order_item, product};
use crate::soql::{Cond, Order, Soql, select};

/// `Id`, a system field of every object.
const ID: &str = "Id";
/// `CreatedDate`, a system field of every object.
const CREATED_DATE: &str = "CreatedDate";
/// Contacts read to find the first with an email.
const CONTACTS_READ: u32 = 10;

/// The [`OrderLedger`] over the Salesforce REST API.
#[derive(Debug, Clone)]
pub struct SalesforceOrderLedger {
    client: SalesforceClient,
}

impl SalesforceOrderLedger {
    /// A ledger over `client`.
    pub fn new(client: SalesforceClient) -> Self {
        Self { client }
    }

    /// The client in use.
    pub fn client(&self) -> &SalesforceClient {
        &self.client
    }
}

/// The relationship names the queries follow (schema: `Order.AccountId` →
/// `Account`, `OrderItem.Product2Id` → `Product2`).
const ACCOUNT_REL: &str = "Account";
const PRODUCT_REL: &str = "Product2";

fn order_query(order_id: &Id) -> Result<Soql, SalesforceError> {
    let account_name = format!("{ACCOUNT_REL}.{}", account::NAME);
    let account_whmcs = format!("{ACCOUNT_REL}.{}", account::WHMCS_ACCOUNT);
    Ok(select([
        ID,
        order::STATUS,
        order::ACTIVATION_STATUS,
        order::WHMCS_ORDER_ID,
        order::ACCOUNT_ID,
        order::OPPORTUNITY_ID,
        account_name.as_str(),
        account_whmcs.as_str(),
    ])
    .from(order::OBJECT)
    .where_(Cond::eq(ID, order_id))
    .build()?)
}

fn items_query(order_id: &Id) -> Result<Soql, SalesforceError> {
    let fields = [
        product::NAME,
        product::WHMCS_PRODUCT_ID,
        product::BILLING_CYCLE,
        product::ITEM_CLASS,
        product::CONFIG_OPTIONS_JSON,
    ]
    .map(|f| format!("{PRODUCT_REL}.{f}"));
    let mut selected = vec![ID, order_item::QUANTITY];
    selected.extend(fields.iter().map(String::as_str));
    Ok(select(selected)
        .from(order_item::OBJECT)
        .where_(Cond::eq(order_item::ORDER_ID, order_id))
        .order_by(order_item::ORDER_ITEM_NUMBER, Order::Asc)
        .build()?)
}

/// The Contacts of the Account of the Order that query `order` found.
fn contacts_query(order: &Ref) -> Result<Soql, SalesforceError> {
    let account_id = order.soql_path(&format!("records[0].{}", order::ACCOUNT_ID))?;
    Ok(select([
        ID,
        contact::FIRST_NAME,
        contact::LAST_NAME,
        contact::EMAIL,
        contact::PHONE,
    ])
    .from(contact::OBJECT)
    .where_(Cond::eq(contact::ACCOUNT_ID, account_id))
    .order_by(CREATED_DATE, Order::Asc)
    .limit(CONTACTS_READ)
    .build()?)
}

/// Sorts a client error into what the use case must do.
fn ledger_error(error: SalesforceError) -> LedgerError {
    // A spent daily limit frees up as the 24-hour window rolls: the message is
    // retried later (SQS, then the reconciler), the Order is not failed.
    if error.is_retryable() || error.is_daily_limit() {
        LedgerError::Unavailable(Box::new(error))
    } else {
        LedgerError::Rejected {
            reason: error.to_string(),
            source: Box::new(error),
        }
    }
}

/// An answer that does not have the shape the queries ask for.
fn malformed(detail: &'static str) -> LedgerError {
    let error = crate::error::UnexpectedAnswer(detail);
    LedgerError::Rejected {
        reason: error.to_string(),
        source: Box::new(error),
    }
}

fn text(record: &Map<String, Value>, field: &str) -> Option<String> {
    record.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// A Number(18, 0) field (`12.0` on the wire) as a positive id.
fn whole(record: &Map<String, Value>, field: &str) -> Option<u64> {
    let n = record.get(field).and_then(Value::as_f64)?;
    // Checked: a whole number from 1 to below 2^53, so the cast is exact.
    (n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n < 9.0e15).then_some(n as u64)
}

fn parent<'a>(
    record: &'a Map<String, Value>,
    relationship: &str,
) -> Option<&'a Map<String, Value>> {
    record.get(relationship).and_then(Value::as_object)
}

fn parse_contact(record: &Map<String, Value>) -> BillingContact {
    BillingContact {
        first_name: text(record, contact::FIRST_NAME),
        last_name: text(record, contact::LAST_NAME).unwrap_or_default(),
        email: text(record, contact::EMAIL).filter(|e| !e.trim().is_empty()),
        phone: text(record, contact::PHONE),
    }
}

fn parse_item(record: &Map<String, Value>) -> OrderLineRecord {
    let empty = Map::new();
    let product = parent(record, PRODUCT_REL).unwrap_or(&empty);
    OrderLineRecord {
        product_name: text(product, product::NAME).unwrap_or_else(|| "(no product)".to_owned()),
        whmcs_product_id: text(product, product::WHMCS_PRODUCT_ID),
        billing_cycle: text(product, product::BILLING_CYCLE),
        item_class: text(product, product::ITEM_CLASS),
        config_options_json: text(product, product::CONFIG_OPTIONS_JSON),
        quantity: record
            .get(order_item::QUANTITY)
            .and_then(Value::as_f64)
            .unwrap_or(0.0),
    }
}

impl OrderLedger for SalesforceOrderLedger {
    #[tracing::instrument(name = "salesforce.provisioning.load", skip_all, fields(order_id = %order_id))]
    async fn load(&self, order_id: &OrderId) -> Result<OrderBundle, LedgerError> {
        let id = order_id.as_id();
        let mut c = Composite::new(AllOrNone::No);
        let build = |e| ledger_error(SalesforceError::CompositeBuild(e));
        let order_ref = c
            .query_named("order", &order_query(id).map_err(ledger_error)?)
            .map_err(build)?;
        let items_ref = c
            .query_named("items", &items_query(id).map_err(ledger_error)?)
            .map_err(build)?;
        let contacts_ref = c
            .query_named(
                "contacts",
                &contacts_query(&order_ref).map_err(ledger_error)?,
            )
            .map_err(build)?;
        let results = self
            .client
            .composite_partial(&c)
            .await
            .map_err(ledger_error)?;

        if let Some(e) = results.failure_of(&order_ref) {
            return Err(ledger_error(e));
        }
        let orders: Vec<Map<String, Value>> = results.records(&order_ref).map_err(ledger_error)?;
        let Some(order) = orders.first() else {
            // The Contact query failed too: its reference had nothing to resolve.
            return Err(LedgerError::OrderNotFound);
        };
        if let Some(e) = results.failure_of(&items_ref) {
            return Err(ledger_error(e));
        }
        let items: Vec<Map<String, Value>> = results.records(&items_ref).map_err(ledger_error)?;
        let account_id = text(order, order::ACCOUNT_ID)
            .and_then(|a| AccountId::parse(&a).ok())
            .ok_or_else(|| malformed("the Order has no valid AccountId"))?;
        let empty = Map::new();
        let account_record = parent(order, ACCOUNT_REL).unwrap_or(&empty);
        let account = BillingAccount {
            id: account_id,
            name: text(account_record, account::NAME).unwrap_or_default(),
            whmcs_client_id: whole(account_record, account::WHMCS_ACCOUNT),
        };
        let contact = if account.whmcs_client_id.is_none() {
            if let Some(e) = results.failure_of(&contacts_ref) {
                return Err(ledger_error(e));
            }
            let records: Vec<Map<String, Value>> =
                results.records(&contacts_ref).map_err(ledger_error)?;
            let contacts: Vec<BillingContact> = records.iter().map(parse_contact).collect();
            contacts
                .iter()
                .find(|c| c.email.is_some())
                .or_else(|| contacts.first())
                .cloned()
        } else {
            None
        };
        Ok(OrderBundle {
            order_id: order_id.clone(),
            status: text(order, order::STATUS).unwrap_or_default(),
            activation_status: text(order, order::ACTIVATION_STATUS),
            whmcs_order_id: whole(order, order::WHMCS_ORDER_ID),
            account,
            contact,
            opportunity_id: text(order, order::OPPORTUNITY_ID)
                .and_then(|o| OpportunityId::parse(&o).ok()),
            items: items.iter().map(parse_item).collect(),
        })
    }

    #[tracing::instrument(
        name = "salesforce.provisioning.record_provisioned",
        skip_all,
        fields(order_id = %result.order_id, whmcs_order_id = result.whmcs_order_id)
    )]
    async fn record_provisioned(&self, result: &ProvisionedOrder) -> Result<(), LedgerError> {
        let build = |e| ledger_error(SalesforceError::CompositeBuild(e));
        let order_id = result.order_id.as_id();
        let mut c = Composite::new(AllOrNone::Yes);
        c.update_named(
            "order",
            order::OBJECT,
            order_id,
            Body::new()
                .set(order::STATUS, OrderStatus::Activated.as_salesforce())
                .set(
                    order::ACTIVATION_STATUS,
                    ActivationStatus::Provisioned.as_salesforce(),
                )
                .set(order::WHMCS_ORDER_ID, result.whmcs_order_id)
                .set(order::ACTIVATION_ERROR, Value::Null)
                .set(order::ACTIVATION_ERROR_AT, Value::Null),
        )
        .map_err(build)?;
        if let Some(opportunity_id) = &result.opportunity_id {
            let body = Body::new()
                .set(opportunity::STAGE, OpportunityStage::Active.as_salesforce())
                .set_opt(opportunity::WHMCS_SERVICE_ID, result.whmcs_service_id);
            c.update_named(
                "opportunity",
                opportunity::OBJECT,
                opportunity_id.as_id(),
                body,
            )
            .map_err(build)?;
        }
        if let Some((account_id, client_id)) = &result.link_account {
            c.update_named(
                "account",
                account::OBJECT,
                account_id.as_id(),
                Body::new().set(account::WHMCS_ACCOUNT, *client_id),
            )
            .map_err(build)?;
        }
        self.client.composite(&c).await.map_err(ledger_error)?;
        Ok(())
    }

    #[tracing::instrument(
        name = "salesforce.provisioning.record_failed",
        skip_all,
        fields(order_id = %failure.order_id)
    )]
    async fn record_failed(&self, failure: &FailedOrder) -> Result<(), LedgerError> {
        let order_id = failure.order_id.as_id();
        let mut c = Composite::new(AllOrNone::Yes);
        c.update_named(
            "order",
            order::OBJECT,
            order_id,
            // The error is outside text (WHMCS's words): data, whatever it holds.
            Body::new()
                .set(
                    order::ACTIVATION_STATUS,
                    ActivationStatus::Failed.as_salesforce(),
                )
                .set(order::ACTIVATION_ERROR, failure.error.as_str())
                .set(
                    order::ACTIVATION_ERROR_AT,
                    failure.at.to_rfc3339_opts(SecondsFormat::Millis, true),
                ),
        )
        .map_err(|e| ledger_error(SalesforceError::CompositeBuild(e)))?;
        self.client.composite(&c).await.map_err(ledger_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queries_read_the_order_its_items_and_contacts_through_the_schema() {
        let id = Id::parse("801000000000001").expect("valid id");
        let q = order_query(&id).expect("builds");
        assert!(q.as_str().contains("Account.WH_Account__c"), "{q}");
        assert!(
            q.as_str()
                .contains("FROM Order WHERE Id = '801000000000001AAA'"),
            "{q}"
        );
        let q = items_query(&id).expect("builds");
        assert!(q.as_str().contains("Product2.WHMCS_Product_Id__c"), "{q}");
        assert!(
            q.as_str().contains("Product2.Portal_ConfigOptions_JSON__c"),
            "{q}"
        );
        assert!(q.as_str().contains("ORDER BY OrderItemNumber ASC"), "{q}");
        let mut c = Composite::new(AllOrNone::No);
        let order_ref = c
            .query_named("order", &order_query(&id).expect("builds"))
            .expect("added");
        let q = contacts_query(&order_ref).expect("builds");
        assert!(
            q.as_str()
                .contains("FROM Contact WHERE AccountId = '@{order.records[0].AccountId}'"),
            "{q}"
        );
        assert_eq!(q.references().count(), 1);
    }

    #[test]
    fn numbers_read_as_whole_ids_only() {
        let record = json!({"a": 12.0, "b": 12.5, "c": null, "d": -1.0});
        let record = record.as_object().expect("an object");
        assert_eq!(whole(record, "a"), Some(12));
        assert_eq!(whole(record, "b"), None);
        assert_eq!(whole(record, "c"), None);
        assert_eq!(whole(record, "d"), None);
    }

    #[test]
    fn lock_contention_is_retryable_and_validation_is_not() {
        let lock = SalesforceError::Composite {
            reference_id: "order".to_owned(),
            status: 400,
            errors: vec![crate::ApiError {
                error_code: "UNABLE_TO_LOCK_ROW".to_owned(),
                message: "unable to obtain exclusive access to this record".to_owned(),
                fields: Vec::new(),
            }],
            rolled_back: true,
        };
        assert!(ledger_error(lock).is_retryable());
        let invalid = SalesforceError::Composite {
            reference_id: "order".to_owned(),
            status: 400,
            errors: vec![crate::ApiError {
                error_code: "FIELD_CUSTOM_VALIDATION_EXCEPTION".to_owned(),
                message: "nope".to_owned(),
                fields: Vec::new(),
            }],
            rolled_back: true,
        };
        let error = ledger_error(invalid);
        assert!(!error.is_retryable());
        assert!(
            error
                .to_string()
                .contains("FIELD_CUSTOM_VALIDATION_EXCEPTION")
        );
    }
}
