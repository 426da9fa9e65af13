//! [`Catalog`] over Salesforce: the active PricebookEntries of the portal's
//! price book with their active Product2, in one query through the
//! `PricebookEntry → Product2` relationship.

use portal_core::domain::{BillingCycle, ItemClass, ProductFamily, UnitPrice};
use portal_core::portal::PortError;
use portal_core::portal::catalog::PriceListEntry;
use portal_core::portal::ports::Catalog;
use portal_core::schema::{pricebook_entry, product};

use crate::client::SalesforceClient;
use crate::soql::{self, Cond, Order, Soql};

use super::PriceBook;
use super::error::{MappingError, port_error};
use super::record::{ID, Record, Row, path};

/// The most entries the catalog lists (one page: Salesforce pages at 2 000).
pub const MAX_CATALOG_ENTRIES: u32 = 500;

/// The portal's price list in Salesforce.
#[derive(Debug, Clone)]
pub struct SalesforceCatalog {
    client: SalesforceClient,
    price_book: PriceBook,
}

impl SalesforceCatalog {
    /// An adapter over `client`, selling from `price_book`.
    pub fn new(client: SalesforceClient, price_book: PriceBook) -> Self {
        Self { client, price_book }
    }
}

/// `Product2.<field>` from a PricebookEntry.
fn on_product(field: &str) -> Result<String, MappingError> {
    path(pricebook_entry::OBJECT, pricebook_entry::PRODUCT_ID, field)
}

fn price_list_query(price_book: &PriceBook) -> Result<Soql, PortError> {
    let families = ProductFamily::ALL.iter().map(|f| f.as_salesforce());
    Ok(soql::select([
        ID.to_owned(),
        pricebook_entry::PRODUCT_ID.to_owned(),
        pricebook_entry::UNIT_PRICE.to_owned(),
        pricebook_entry::IS_ACTIVE.to_owned(),
        on_product(product::NAME)?,
        on_product(product::FAMILY)?,
        on_product(product::ITEM_CLASS)?,
        on_product(product::BILLING_CYCLE)?,
        on_product(product::IS_ACTIVE)?,
    ])
    .from(pricebook_entry::OBJECT)
    .where_(price_book.entries()?)
    .where_(Cond::eq(pricebook_entry::IS_ACTIVE, true))
    .where_(Cond::eq(&on_product(product::IS_ACTIVE)?, true))
    .where_(Cond::in_(&on_product(product::FAMILY)?, families))
    .order_by(&on_product(product::FAMILY)?, Order::Asc)
    .order_by(&on_product(product::NAME)?, Order::Asc)
    .limit(MAX_CATALOG_ENTRIES)
    .build()?)
}

fn price_list_entry(record: &Record) -> Result<PriceListEntry, MappingError> {
    let row = Row::new(pricebook_entry::OBJECT, record);
    let product_row = row
        .parent(pricebook_entry::PRODUCT_ID, product::OBJECT)?
        .ok_or_else(|| {
            MappingError::invalid(
                pricebook_entry::OBJECT,
                pricebook_entry::PRODUCT_ID,
                "has no product",
            )
        })?;
    Ok(PriceListEntry {
        product_id: row.id(pricebook_entry::PRODUCT_ID)?,
        pricebook_entry_id: row.id(ID)?,
        name: product_row.text(product::NAME)?.to_owned(),
        family: product_row.open_picklist(product::FAMILY, ProductFamily::from_salesforce)?,
        item_class: product_row.opt_parsed(product::ITEM_CLASS, str::parse::<ItemClass>)?,
        billing_cycle: product_row
            .opt_parsed(product::BILLING_CYCLE, str::parse::<BillingCycle>)?,
        unit_price: unit_price(&row)?,
        product_active: product_row.bool(product::IS_ACTIVE)?,
        entry_active: row.bool(pricebook_entry::IS_ACTIVE)?,
    })
}

/// A PricebookEntry's `UnitPrice`.
pub(crate) fn unit_price(row: &Row<'_>) -> Result<UnitPrice, MappingError> {
    UnitPrice::new(row.number(pricebook_entry::UNIT_PRICE)?)
        .map_err(|e| MappingError::invalid(pricebook_entry::OBJECT, pricebook_entry::UNIT_PRICE, e))
}

impl Catalog for SalesforceCatalog {
    #[tracing::instrument(name = "salesforce.catalog.price_list", skip_all)]
    async fn price_list(&self) -> Result<Vec<PriceListEntry>, PortError> {
        let page = self
            .client
            .query::<Record>(&price_list_query(&self.price_book)?)
            .await
            .map_err(port_error)?;
        Ok(page
            .records
            .iter()
            .map(price_list_entry)
            .collect::<Result<Vec<_>, _>>()?)
    }
}
