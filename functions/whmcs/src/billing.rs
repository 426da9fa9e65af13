//! The WHMCS side of provisioning: [`WhmcsBilling`] implements the
//! [`BillingGateway`] port of `portal_core::provisioning` over [`WhmcsClient`].
//!
//! - The client: `WH_Account__c` when set (no call), else GetClientsDetails by
//!   the Contact's email, else AddClient with only what the portal knows
//!   (names, email, phone when known, the Account's name as company) and
//!   `skipvalidation`, since the portal collects no postal address.
//! - The order: AddOrder with one line per OrderItem, the Salesforce Order Id
//!   in each product's admin-only custom field "Salesforce Order Id". Real
//!   WHMCS gives that field its own id on every product, so the ids come from
//!   one GetProducts call, cached for the life of the process (and refreshed
//!   when a product is missing from the cache).
//! - Settling an unknown outcome: GetClientsProducts, keeping the services
//!   whose "Salesforce Order Id" is the Order's; and, when none is, the
//!   client's orders (GetOrders by `userid`, every page) each with whether
//!   its line items hold a service (`type` `product`), so that an order
//!   WHMCS made with no service at all (it drops a line it cannot sell) is
//!   seen. AddOrder takes nothing that tags the
//!   order itself (its API reference has no notes field), so the services
//!   are the only tag.
//!
//! An AddOrder that WHMCS carried out without every line (`IncompleteOrder`)
//! is [`BillingError::Incomplete`] with the order it made: the order exists.
//!
//! Other errors are classified for the use case: [`WhmcsError::outcome_unknown`]
//! becomes [`BillingError::OutcomeUnknown`], other retryable errors
//! [`BillingError::Unavailable`], the rest [`BillingError::Rejected`] with
//! WHMCS's message (readable, no personal data).

use portal_core::ports::{
    BilledService, BillingAccount, BillingContact, BillingError, BillingGateway, BillingLine,
    ClientOrder, EnsuredClient,
};
use std::collections::HashMap;
use std::fmt;

use portal_core::domain::BillingCycle as CatalogCycle;
use portal_core::domain::OrderId;
use portal_core::ports::WhmcsOrder;

use tokio::sync::Mutex;

use crate::WhmcsClient;
use crate::error::WhmcsError;
use crate::model::{BillingCycle, NewClient, NewOrder, OrderLine};

/// The name of the admin-only product custom field that carries the Salesforce Order Id.
pub const SALESFORCE_ORDER_ID_FIELD: &str = "Salesforce Order Id";

/// The [`BillingGateway`] over the WHMCS External API.
pub struct WhmcsBilling {
    client: WhmcsClient,
    payment_method: String,
    /// Product id → id of its "Salesforce Order Id" custom field.
    order_id_fields: Mutex<HashMap<u32, u32>>,
}

impl fmt::Debug for WhmcsBilling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhmcsBilling")
            .field("client", &self.client)
            .field("payment_method", &self.payment_method)
            .finish_non_exhaustive()
    }
}

impl WhmcsBilling {
    /// Orders through `client`, paid with the gateway `payment_method`
    /// (its system name, e.g. `banktransfer`).
    pub fn new(client: WhmcsClient, payment_method: impl Into<String>) -> Self {
        Self {
            client,
            payment_method: payment_method.into(),
            order_id_fields: Mutex::new(HashMap::new()),
        }
    }

    /// The WHMCS client in use.
    pub fn client(&self) -> &WhmcsClient {
        &self.client
    }

    /// The id of product `pid`'s "Salesforce Order Id" field: from the cache,
    /// else from one GetProducts call for every product (single-flight).
    async fn order_id_field(&self, pid: u32) -> Result<u32, BillingError> {
        let mut fields = self.order_id_fields.lock().await;
        if let Some(id) = fields.get(&pid) {
            return Ok(*id);
        }
        let products = self.client.get_products(None).await.map_err(classify)?;
        let known = products.iter().any(|p| p.pid == pid);
        fields.clear();
        fields.extend(products.iter().filter_map(|p| {
            p.custom_field_id(SALESFORCE_ORDER_ID_FIELD)
                .map(|id| (p.pid, id))
        }));
        tracing::info!(
            products = products.len(),
            with_field = fields.len(),
            "cached the WHMCS products' Salesforce Order Id fields"
        );
        fields.get(&pid).copied().ok_or_else(|| {
            refused(if known {
                Refusal::NoOrderIdField { pid }
            } else {
                Refusal::UnknownProduct { pid }
            })
        })
    }
}

/// What the adapter itself refuses before asking WHMCS.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The Order's product is not in WHMCS.
    #[error("WHMCS has no product with id {pid}")]
    UnknownProduct {
        /// The product id.
        pid: u32,
    },
    /// The product lacks the admin-only field that carries the Salesforce Order Id.
    #[error("WHMCS product {pid} has no custom field \"{SALESFORCE_ORDER_ID_FIELD}\"")]
    NoOrderIdField {
        /// The product id.
        pid: u32,
    },
    /// A new client needs an email and the Account's Contact has none.
    #[error("the Account has no WHMCS client and no Contact with an email address")]
    NoContactEmail,
}

/// A permanent refusal of the adapter's own.
fn refused(refusal: Refusal) -> BillingError {
    BillingError::Rejected {
        reason: refusal.to_string(),
        source: Box::new(refusal),
    }
}

/// Sorts a WHMCS failure into what the use case must do.
fn classify(error: WhmcsError) -> BillingError {
    if error.outcome_unknown() {
        BillingError::OutcomeUnknown(Box::new(error))
    } else if error.is_retryable() {
        BillingError::Unavailable(Box::new(error))
    } else {
        BillingError::Rejected {
            reason: error.to_string(),
            source: Box::new(error),
        }
    }
}

fn cycle(cycle: CatalogCycle) -> BillingCycle {
    match cycle {
        CatalogCycle::Monthly => BillingCycle::Monthly,
        CatalogCycle::Annually => BillingCycle::Annually,
        CatalogCycle::OneTime => BillingCycle::OneTime,
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

impl BillingGateway for WhmcsBilling {
    #[tracing::instrument(name = "whmcs.ensure_client", skip_all, fields(account_id = %account.id))]
    async fn ensure_client(
        &self,
        account: &BillingAccount,
        contact: Option<&BillingContact>,
    ) -> Result<EnsuredClient, BillingError> {
        if let Some(client_id) = account.whmcs_client_id {
            return Ok(EnsuredClient {
                client_id,
                linked: false,
            });
        }
        let email = non_empty(contact.and_then(|c| c.email.as_deref()))
            .ok_or_else(|| refused(Refusal::NoContactEmail))?;
        if let Some(found) = self
            .client
            .get_client_by_email(email)
            .await
            .map_err(classify)?
        {
            tracing::info!(client_id = found.id, "found the WHMCS client by email");
            return Ok(EnsuredClient {
                client_id: found.id,
                linked: true,
            });
        }
        let last_name = contact
            .and_then(|c| non_empty(Some(c.last_name.as_str())))
            .unwrap_or(account.name.as_str());
        // Only what the portal knows; `skipvalidation` lets WHMCS create the
        // client without the address it does not collect.
        let new = NewClient {
            firstname: non_empty(contact.and_then(|c| c.first_name.as_deref()))
                .unwrap_or(last_name)
                .to_owned(),
            lastname: last_name.to_owned(),
            email: email.to_owned(),
            phonenumber: non_empty(contact.and_then(|c| c.phone.as_deref())).map(str::to_owned),
            companyname: non_empty(Some(account.name.as_str())).map(str::to_owned),
            address1: None,
            address2: None,
            city: None,
            state: None,
            postcode: None,
            country: None,
            password2: None,
            no_email: true,
            skip_validation: true,
        };
        let client_id = match self.client.add_client(&new).await {
            Ok(id) => id,
            // Created by a concurrent or earlier attempt between our lookup and now.
            Err(WhmcsError::EmailAlreadyExists) => self
                .client
                .get_client_by_email(email)
                .await
                .map_err(classify)?
                .map(|c| c.id)
                .ok_or_else(|| classify(WhmcsError::EmailAlreadyExists))?,
            Err(other) => return Err(classify(other)),
        };
        Ok(EnsuredClient {
            client_id,
            linked: true,
        })
    }

    #[tracing::instrument(name = "whmcs.place_order", skip_all, fields(client_id = client_id, lines = lines.len()))]
    async fn place_order(
        &self,
        client_id: u64,
        order_id: &OrderId,
        lines: &[BillingLine],
    ) -> Result<WhmcsOrder, BillingError> {
        let mut items = Vec::with_capacity(lines.len());
        for line in lines {
            let field = self.order_id_field(line.pid).await?;
            items.push(OrderLine {
                pid: line.pid,
                billing_cycle: cycle(line.billing_cycle),
                config_options: line.config_options.clone(),
                custom_fields: [(field, order_id.as_str().to_owned())].into(),
                qty: line.qty,
            });
        }
        let order = NewOrder {
            client_id,
            payment_method: self.payment_method.clone(),
            items,
            promo_code: None,
            no_invoice: false,
            no_invoice_email: false,
            no_email: false,
            client_ip: None,
        };
        match self.client.add_order(&order).await {
            Ok(added) => Ok(WhmcsOrder {
                order_id: added.order_id,
                service_ids: added.service_ids,
            }),
            // The order exists although WHMCS dropped a line: say so, with the order.
            Err(WhmcsError::IncompleteOrder {
                order_id,
                expected,
                service_ids,
            }) => Err(BillingError::Incomplete {
                reason: format!(
                    "WHMCS created order {order_id} with {} of its {expected} lines",
                    service_ids.len()
                ),
                order: WhmcsOrder {
                    order_id,
                    service_ids,
                },
            }),
            Err(other) => Err(classify(other)),
        }
    }

    #[tracing::instrument(name = "whmcs.accept", skip(self))]
    async fn accept(&self, whmcs_order_id: u64) -> Result<(), BillingError> {
        self.client
            .accept_order(whmcs_order_id, true, true)
            .await
            .map(|_| ())
            .map_err(classify)
    }

    #[tracing::instrument(name = "whmcs.find_by_salesforce_order", skip(self, order_id))]
    async fn find_by_salesforce_order(
        &self,
        client_id: u64,
        order_id: &OrderId,
    ) -> Result<Vec<BilledService>, BillingError> {
        let fields = self.order_id_fields.lock().await.clone();
        let services = self
            .client
            .get_clients_products(client_id, None, None)
            .await
            .map_err(classify)?;
        Ok(services
            .into_iter()
            .filter(|s| {
                let by_id = fields.get(&s.pid).and_then(|f| s.custom_field(*f));
                let by_name = s.custom_field_by_name(SALESFORCE_ORDER_ID_FIELD);
                by_id.or(by_name) == Some(order_id.as_str())
            })
            .map(|s| BilledService {
                service_id: s.id,
                order_id: s.order_id,
                pid: Some(s.pid),
            })
            .collect())
    }

    #[tracing::instrument(name = "whmcs.client_orders", skip(self))]
    async fn client_orders(&self, client_id: u64) -> Result<Vec<ClientOrder>, BillingError> {
        let orders = self
            .client
            .get_orders(None, Some(client_id), None)
            .await
            .map_err(classify)?;
        Ok(orders
            .into_iter()
            // Not filtered again by `userid`: an order of doubtful owner errs
            // towards staff, never towards a second AddOrder.
            .map(|o| ClientOrder {
                order_id: o.id,
                placed_at: o.date,
                status: o.status.as_str().to_owned(),
                // Any service, with or without a Salesforce Order Id: a staff
                // order (services without it) is not what a lost AddOrder of
                // ours can leave unseen, only an order with no service is.
                has_services: o.line_items.iter().any(|line| line.kind == "product"),
            })
            .collect())
    }
}
