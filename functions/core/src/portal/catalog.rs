//! `GET /catalog`: the products a customer can order, with their prices.
//!
//! Only active PricebookEntries of active products are listed; prices come
//! from the entries, and the currency is the org's ([`PortalSettings::currency`]).

use serde::Serialize;

use crate::domain::{
    BillingCycle, CurrencyCode, ItemClass, PricebookEntryId, ProductFamily, ProductId, UnitPrice,
};

use super::caller::Caller;
use super::error::PortalError;
use super::ports::Catalog;
use super::settings::PortalSettings;

/// One PricebookEntry of the portal's price book, with its product.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceListEntry {
    /// `Product2Id`.
    pub product_id: ProductId,
    /// The entry's `Id`.
    pub pricebook_entry_id: PricebookEntryId,
    /// `Product2.Name`.
    pub name: String,
    /// `Product2.Family`.
    pub family: Option<ProductFamily>,
    /// `Product2.Item_Class__c`.
    pub item_class: Option<ItemClass>,
    /// `Product2.Billing_Cycle__c`.
    pub billing_cycle: Option<BillingCycle>,
    /// The entry's `UnitPrice`.
    pub unit_price: UnitPrice,
    /// `Product2.IsActive`.
    pub product_active: bool,
    /// The entry's `IsActive`.
    pub entry_active: bool,
}

impl PriceListEntry {
    /// Whether it may be shown and ordered: active entry of an active product.
    pub fn is_orderable(&self) -> bool {
        self.product_active && self.entry_active
    }
}

/// One product of the catalog response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogProduct {
    /// `Product2Id`.
    pub product_id: ProductId,
    /// The PricebookEntry to order it at.
    pub pricebook_entry_id: PricebookEntryId,
    /// Name.
    pub name: String,
    /// `Internet`, `SIM` or `VPN`: which `commodityType` orders it.
    pub family: Option<ProductFamily>,
    /// `Service`, `Activation` or `Add-on`.
    pub item_class: Option<ItemClass>,
    /// `Monthly`, `Annually` or `One-time`.
    pub billing_cycle: Option<BillingCycle>,
    /// From the PricebookEntry.
    pub unit_price: UnitPrice,
    /// The org's currency.
    pub currency: CurrencyCode,
}

/// The body of `GET /catalog`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogResponse {
    /// The orderable products.
    pub products: Vec<CatalogProduct>,
}

/// The orderable products.
#[tracing::instrument(name = "get_catalog", skip_all, fields(account_id = ?caller.account_id))]
pub async fn get_catalog<C: Catalog>(
    catalog: &C,
    caller: &Caller,
    settings: &PortalSettings,
) -> Result<CatalogResponse, PortalError> {
    caller.account()?;
    let products = catalog
        .price_list()
        .await?
        .into_iter()
        .filter(PriceListEntry::is_orderable)
        .map(|e| CatalogProduct {
            product_id: e.product_id,
            pricebook_entry_id: e.pricebook_entry_id,
            name: e.name,
            family: e.family,
            item_class: e.item_class,
            billing_cycle: e.billing_cycle,
            unit_price: e.unit_price,
            currency: settings.currency,
        })
        .collect();
    Ok(CatalogResponse { products })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::fake::*;

    fn entry(product: &str, product_active: bool, entry_active: bool) -> PriceListEntry {
        PriceListEntry {
            product_id: ProductId::parse(product).unwrap(),
            pricebook_entry_id: PricebookEntryId::parse("01u000000000001").unwrap(),
            name: "SIM 10GB".into(),
            family: Some(ProductFamily::Sim),
            item_class: Some(ItemClass::Service),
            billing_cycle: Some(BillingCycle::Monthly),
            unit_price: UnitPrice::new(1980.0).unwrap(),
            product_active,
            entry_active,
        }
    }

    #[tokio::test]
    async fn when_listing_should_show_only_active_entries_of_active_products_in_the_org_currency() {
        let org = FakeOrg {
            price_list: vec![
                entry("01t000000000001", true, true),
                entry("01t000000000002", false, true),
                entry("01t000000000003", true, false),
            ],
            ..FakeOrg::default()
        };
        let catalog = get_catalog(&org, &caller(), &PortalSettings::default())
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&catalog).unwrap(),
            serde_json::json!({"products": [{
                "productId": "01t000000000001AAA",
                "pricebookEntryId": "01u000000000001AAA",
                "name": "SIM 10GB",
                "family": "SIM",
                "itemClass": "Service",
                "billingCycle": "Monthly",
                "unitPrice": 1980.0,
                "currency": "JPY",
            }]})
        );
    }

    #[tokio::test]
    async fn when_unlinked_should_refuse_without_reading() {
        let org = FakeOrg::default();
        let err = get_catalog(&org, &unlinked_caller(), &PortalSettings::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PortalError::NotLinked));
        assert!(org.calls().is_empty());
    }
}
