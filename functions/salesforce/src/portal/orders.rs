//! [`OrderBook`] over Salesforce.
//!
//! - Order context: one `/composite` of four queries — the Account's
//!   eligibility, its newest open Opportunity of the commodity, the portal's
//!   price book, and that price book's entries for the requested products with
//!   their Product2 `IsActive` and `Family`.
//! - Placement: one all-or-none `/composite` — the Opportunity (moved to or
//!   created at `Post Processing`), the Order, one OrderItem per line (each
//!   `@{order.id}`), then a query reading the new Order's `OrderNumber` back
//!   by its id (`WHERE Id = '@{order.id}'`), in the same call.
//! - List: one query. Detail: one `/composite` of two queries (the Order with
//!   its Opportunity's service id, and its items with the product names).
//!
//! Every query is filtered on the caller's Account.

use portal_core::domain::{
    AccountId, ActivationStatus, CommodityType, EligibilityStatus, OrderId, OrderStatus,
    ProductFamily, ProductId, UnitPrice, WhmcsOrderId, WhmcsServiceId,
};
use portal_core::portal::PortError;
use portal_core::portal::orders::{
    OrderContext, OrderDetail, OrderItemView, OrderPlacement, OrderSummary, PlacedOrder, PriceEntry,
};
use portal_core::portal::ports::OrderBook;
use portal_core::schema::{
    account, opportunity, order, order_item, pricebook, pricebook_entry, product,
};

use crate::client::SalesforceClient;
use crate::composite::{AllOrNone, Body, Composite, CompositeResults, Ref};
use crate::soql::{self, Cond, Order, Soql};

use super::PriceBook;
use super::catalog::unit_price;
use super::error::{MappingError, port_error};
use super::plan::{account_query, add_opportunity, open_opportunity_query, opportunity_summary};
use super::record::{CREATED_DATE, ID, Record, Row, created_id, format_date, found, path};

/// The most orders `GET /orders` lists (newest first; one page).
pub const MAX_LISTED_ORDERS: u32 = 200;
/// The most items read for one order (the portal writes at most 20).
const MAX_ORDER_ITEMS_READ: u32 = 200;

/// Orders (Account, Opportunity, PricebookEntry, Order, OrderItem) in Salesforce.
#[derive(Debug, Clone)]
pub struct SalesforceOrderBook {
    client: SalesforceClient,
    price_book: PriceBook,
}

impl SalesforceOrderBook {
    /// An adapter over `client`, selling from `price_book`.
    pub fn new(client: SalesforceClient, price_book: PriceBook) -> Self {
        Self { client, price_book }
    }
}

fn pricebook_query(price_book: &PriceBook) -> Result<Soql, PortError> {
    Ok(soql::select([ID])
        .from(pricebook::OBJECT)
        .where_(price_book.pricebook())
        .limit(1)
        .build()?)
}

fn entries_query(price_book: &PriceBook, products: &[ProductId]) -> Result<Soql, PortError> {
    let on_product = |field| path(pricebook_entry::OBJECT, pricebook_entry::PRODUCT_ID, field);
    Ok(soql::select([
        ID.to_owned(),
        pricebook_entry::PRODUCT_ID.to_owned(),
        pricebook_entry::UNIT_PRICE.to_owned(),
        pricebook_entry::IS_ACTIVE.to_owned(),
        on_product(product::IS_ACTIVE)?,
        on_product(product::FAMILY)?,
    ])
    .from(pricebook_entry::OBJECT)
    .where_(price_book.entries()?)
    .where_(Cond::in_(
        pricebook_entry::PRODUCT_ID,
        products.iter().map(ProductId::as_id),
    ))
    .build()?)
}

fn price_entry(record: &Record) -> Result<PriceEntry, MappingError> {
    let row = Row::new(pricebook_entry::OBJECT, record);
    let product_row = row.parent(pricebook_entry::PRODUCT_ID, product::OBJECT)?;
    Ok(PriceEntry {
        product_id: row.id(pricebook_entry::PRODUCT_ID)?,
        pricebook_entry_id: row.id(ID)?,
        unit_price: unit_price(&row)?,
        entry_active: row.bool(pricebook_entry::IS_ACTIVE)?,
        product_active: match &product_row {
            Some(p) => p.bool(product::IS_ACTIVE)?,
            None => false,
        },
        family: match &product_row {
            Some(p) => p.open_picklist(product::FAMILY, ProductFamily::from_salesforce)?,
            None => None,
        },
    })
}

/// The Order that subrequest `created` made, with its number, read in the
/// same composite: `WHERE Id = '@{<created>.id}'`.
fn read_back_query(created: &Ref) -> Result<Soql, PortError> {
    Ok(soql::select([ID, order::ORDER_NUMBER])
        .from(order::OBJECT)
        .where_(Cond::eq(ID, created.soql_id()))
        .limit(1)
        .build()?)
}

/// The number of the Order the read-back found, checked to be `order_id`'s.
fn order_number(
    results: &CompositeResults,
    read_back: &Ref,
    order_id: &OrderId,
) -> Result<String, MappingError> {
    let records = found(results, read_back, "the Order read-back")?;
    let Some(record) = records.first() else {
        return Err(MappingError::MissingResult("the new Order's number"));
    };
    let row = Row::new(order::OBJECT, record);
    if &row.id::<OrderId, _>(ID)? != order_id {
        return Err(MappingError::MissingResult("the new Order's number"));
    }
    Ok(row.text(order::ORDER_NUMBER)?.to_owned())
}

fn orders_query(account_id: &AccountId) -> Result<Soql, PortError> {
    Ok(soql::select([
        ID,
        order::ACCOUNT_ID,
        order::ORDER_NUMBER,
        order::STATUS,
        order::ACTIVATION_STATUS,
        order::EFFECTIVE_DATE,
    ])
    .from(order::OBJECT)
    .where_(Cond::eq(order::ACCOUNT_ID, account_id.as_id()))
    .order_by(CREATED_DATE, Order::Desc)
    .order_by(ID, Order::Desc)
    .limit(MAX_LISTED_ORDERS)
    .build()?)
}

fn order_summary(record: &Record) -> Result<OrderSummary, MappingError> {
    let row = Row::new(order::OBJECT, record);
    Ok(OrderSummary {
        order_id: row.id(ID)?,
        account_id: row.id(order::ACCOUNT_ID)?,
        order_number: row.text(order::ORDER_NUMBER)?.to_owned(),
        status: row.parsed(order::STATUS, str::parse::<OrderStatus>)?,
        activation_status: row
            .opt_parsed(order::ACTIVATION_STATUS, str::parse::<ActivationStatus>)?,
        effective_date: row.date(order::EFFECTIVE_DATE)?,
    })
}

fn order_query(account_id: &AccountId, order_id: &OrderId) -> Result<Soql, PortError> {
    Ok(soql::select([
        ID.to_owned(),
        order::ACCOUNT_ID.to_owned(),
        order::ORDER_NUMBER.to_owned(),
        order::STATUS.to_owned(),
        order::ACTIVATION_STATUS.to_owned(),
        order::WHMCS_ORDER_ID.to_owned(),
        order::EFFECTIVE_DATE.to_owned(),
        path(
            order::OBJECT,
            order::OPPORTUNITY_ID,
            opportunity::WHMCS_SERVICE_ID,
        )?,
    ])
    .from(order::OBJECT)
    .where_(Cond::eq(ID, order_id.as_id()))
    .where_(Cond::eq(order::ACCOUNT_ID, account_id.as_id()))
    .limit(1)
    .build()?)
}

fn items_query(account_id: &AccountId, order_id: &OrderId) -> Result<Soql, PortError> {
    Ok(soql::select([
        order_item::PRODUCT_ID.to_owned(),
        path(order_item::OBJECT, order_item::PRODUCT_ID, product::NAME)?,
        order_item::QUANTITY.to_owned(),
        order_item::UNIT_PRICE.to_owned(),
    ])
    .from(order_item::OBJECT)
    .where_(Cond::eq(order_item::ORDER_ID, order_id.as_id()))
    .where_(Cond::eq(
        &path(order_item::OBJECT, order_item::ORDER_ID, order::ACCOUNT_ID)?,
        account_id.as_id(),
    ))
    .order_by(order_item::ORDER_ITEM_NUMBER, Order::Asc)
    .limit(MAX_ORDER_ITEMS_READ)
    .build()?)
}

fn order_item_view(record: &Record) -> Result<OrderItemView, MappingError> {
    let row = Row::new(order_item::OBJECT, record);
    let name = row
        .parent(order_item::PRODUCT_ID, product::OBJECT)?
        .ok_or_else(|| {
            MappingError::invalid(order_item::OBJECT, order_item::PRODUCT_ID, "has no product")
        })?
        .text(product::NAME)?
        .to_owned();
    let quantity = row
        .opt_whole(order_item::QUANTITY)?
        .and_then(|q| u32::try_from(q).ok())
        .ok_or_else(|| {
            MappingError::invalid(
                order_item::OBJECT,
                order_item::QUANTITY,
                "is not a whole, non-negative number",
            )
        })?;
    let unit_price = UnitPrice::new(row.number(order_item::UNIT_PRICE)?)
        .map_err(|e| MappingError::invalid(order_item::OBJECT, order_item::UNIT_PRICE, e))?;
    Ok(OrderItemView {
        product_id: row.id(order_item::PRODUCT_ID)?,
        name,
        quantity,
        unit_price,
    })
}

fn order_detail(record: &Record, items: &[Record]) -> Result<OrderDetail, MappingError> {
    let row = Row::new(order::OBJECT, record);
    let whmcs_order_id = row
        .opt_whole(order::WHMCS_ORDER_ID)?
        .map(|n| {
            WhmcsOrderId::new(n)
                .map_err(|e| MappingError::invalid(order::OBJECT, order::WHMCS_ORDER_ID, e))
        })
        .transpose()?;
    let service_id = match row.parent(order::OPPORTUNITY_ID, opportunity::OBJECT)? {
        Some(opp) => opp
            .opt_whole(opportunity::WHMCS_SERVICE_ID)?
            .map(|n| {
                WhmcsServiceId::new(n).map_err(|e| {
                    MappingError::invalid(opportunity::OBJECT, opportunity::WHMCS_SERVICE_ID, e)
                })
            })
            .transpose()?,
        None => None,
    };
    Ok(OrderDetail {
        order_id: row.id(ID)?,
        account_id: row.id(order::ACCOUNT_ID)?,
        order_number: row.text(order::ORDER_NUMBER)?.to_owned(),
        status: row.parsed(order::STATUS, str::parse::<OrderStatus>)?,
        activation_status: row
            .opt_parsed(order::ACTIVATION_STATUS, str::parse::<ActivationStatus>)?,
        // `Activation_Error__c` is for staff (WHMCS's and Salesforce's
        // words); the use case tells the customer in its own.
        activation_error: None,
        whmcs_order_id,
        service_id,
        effective_date: row.date(order::EFFECTIVE_DATE)?,
        items: items
            .iter()
            .map(order_item_view)
            .collect::<Result<Vec<_>, _>>()?,
    })
}

impl OrderBook for SalesforceOrderBook {
    #[tracing::instrument(
        name = "salesforce.orders.context",
        skip_all,
        fields(account_id = %account_id, products = products.len())
    )]
    async fn order_context(
        &self,
        account_id: &AccountId,
        commodity: CommodityType,
        products: &[ProductId],
    ) -> Result<Option<OrderContext>, PortError> {
        let mut c = Composite::new(AllOrNone::No);
        let account_ref = c.query_named(
            "account",
            &account_query(account_id, account::ELIGIBILITY_STATUS)?,
        )?;
        let opportunity_ref = c.query_named(
            "opportunity",
            &open_opportunity_query(account_id, commodity)?,
        )?;
        let pricebook_ref = c.query_named("pricebook", &pricebook_query(&self.price_book)?)?;
        let entries_ref = if products.is_empty() {
            None
        } else {
            Some(c.query_named("entries", &entries_query(&self.price_book, products)?)?)
        };
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let accounts = found(&results, &account_ref, "the Account query")?;
        let Some(account_record) = accounts.first() else {
            return Ok(None);
        };
        let eligibility_status = Row::new(account::OBJECT, account_record)
            .opt_parsed(account::ELIGIBILITY_STATUS, str::parse::<EligibilityStatus>)?;
        let open_opportunity = found(&results, &opportunity_ref, "the Opportunity query")?
            .first()
            .map(opportunity_summary)
            .transpose()?;
        let pricebook_id = found(&results, &pricebook_ref, "the Pricebook2 query")?
            .first()
            .map(|r| Row::new(pricebook::OBJECT, r).id(ID))
            .transpose()?
            .ok_or(MappingError::NoPricebook)?;
        let entries = match &entries_ref {
            Some(r) => found(&results, r, "the PricebookEntry query")?
                .iter()
                .map(price_entry)
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        Ok(Some(OrderContext {
            eligibility_status,
            open_opportunity,
            pricebook_id,
            entries,
        }))
    }

    #[tracing::instrument(
        name = "salesforce.orders.place",
        skip_all,
        fields(account_id = %plan.account_id, items = plan.order.items.len())
    )]
    async fn place_order(&self, plan: &OrderPlacement) -> Result<PlacedOrder, PortError> {
        let mut c = Composite::new(AllOrNone::Yes);
        let opportunity = add_opportunity(&mut c, &plan.opportunity)?;
        let new = &plan.order;
        let order_body = Body::new()
            .set(order::ACCOUNT_ID, plan.account_id.as_str())
            .set_ref(order::OPPORTUNITY_ID, opportunity.lookup())
            .set(order::STATUS, new.status.as_salesforce())
            .set(
                order::ACTIVATION_STATUS,
                new.activation_status.as_salesforce(),
            )
            .set(order::EFFECTIVE_DATE, format_date(new.effective_date))
            .set(order::PRICEBOOK_ID, new.pricebook_id.as_str());
        let order_ref = c.create_named("order", order::OBJECT, order_body)?;
        for (i, item) in new.items.iter().enumerate() {
            let body = Body::new()
                .set_ref(order_item::ORDER_ID, &order_ref)
                .set(order_item::PRODUCT_ID, item.product_id.as_str())
                .set(
                    order_item::PRICEBOOK_ENTRY_ID,
                    item.pricebook_entry_id.as_str(),
                )
                .set(order_item::QUANTITY, item.quantity.get())
                .set(order_item::UNIT_PRICE, item.unit_price.get());
            c.create_named(&format!("item{i}"), order_item::OBJECT, body)?;
        }
        let read_back = c.query_named("orderNumber", &read_back_query(&order_ref)?)?;
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let order_id: OrderId = created_id(&results, &order_ref, "the new Order")?;
        let placed = PlacedOrder {
            order_number: order_number(&results, &read_back, &order_id)?,
            opportunity_id: opportunity.resolve(&results)?,
            order_id,
        };
        tracing::info!(order_id = %placed.order_id, opportunity_id = %placed.opportunity_id, "order written");
        Ok(placed)
    }

    #[tracing::instrument(name = "salesforce.orders.list", skip_all, fields(account_id = %account_id))]
    async fn orders(&self, account_id: &AccountId) -> Result<Vec<OrderSummary>, PortError> {
        let page = self
            .client
            .query::<Record>(&orders_query(account_id)?)
            .await
            .map_err(port_error)?;
        Ok(page
            .records
            .iter()
            .map(order_summary)
            .collect::<Result<Vec<_>, _>>()?)
    }

    #[tracing::instrument(
        name = "salesforce.orders.get",
        skip_all,
        fields(account_id = %account_id, order_id = %order_id)
    )]
    async fn order(
        &self,
        account_id: &AccountId,
        order_id: &OrderId,
    ) -> Result<Option<OrderDetail>, PortError> {
        let mut c = Composite::new(AllOrNone::No);
        let order_ref = c.query_named("order", &order_query(account_id, order_id)?)?;
        let items_ref = c.query_named("items", &items_query(account_id, order_id)?)?;
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let orders = found(&results, &order_ref, "the Order query")?;
        let Some(record) = orders.first() else {
            return Ok(None);
        };
        let items = found(&results, &items_ref, "the OrderItem query")?;
        Ok(Some(order_detail(record, &items)?))
    }
}
