//! `Catalog`: the active entries of the price book with their active products,
//! in one query through `PricebookEntry → Product2`.

use portal_core::domain::{BillingCycle, ItemClass, PricebookId, ProductFamily};
use portal_core::portal::ports::Catalog;
use salesforce::portal::{PriceBook, SalesforceCatalog};
use salesforce::schema::{pricebook, pricebook_entry, product};
use salesforce_emulator::seed::CATALOG;
use serde_json::json;

use crate::helpers::org;

#[tokio::test]
async fn the_price_list_is_every_active_entry_of_an_active_product_of_the_standard_book_in_one_query()
 {
    let org = org().await;
    // A product with no family the portal sells, and an inactive entry.
    let odd = org.insert(
        product::OBJECT,
        json!({ product::NAME: "Gift card", product::IS_ACTIVE: true, product::FAMILY: "Gifts" }),
    );
    org.insert(
        pricebook_entry::OBJECT,
        json!({
            pricebook_entry::PRICEBOOK_ID: org.standard_pricebook().as_str(),
            pricebook_entry::PRODUCT_ID: odd,
            pricebook_entry::UNIT_PRICE: 1000,
            pricebook_entry::IS_ACTIVE: true,
        }),
    );
    let static_ip = org.product("INT-STATIC-IP");
    org.update(
        pricebook_entry::OBJECT,
        static_ip.entry.as_str(),
        json!({ pricebook_entry::IS_ACTIVE: false }),
    );

    let calls = org.calls();
    let list = org.portal.catalog().price_list().await.unwrap();
    assert_eq!(org.calls() - calls, 1);

    let expected: Vec<_> = CATALOG
        .iter()
        .filter(|p| p.is_active && p.product_code != "INT-STATIC-IP")
        .collect();
    assert_eq!(list.len(), expected.len(), "{list:?}");
    for seeded in expected {
        let p = org.product(seeded.product_code);
        let entry = list
            .iter()
            .find(|e| e.product_id == p.id)
            .unwrap_or_else(|| panic!("{} is listed", seeded.name));
        assert_eq!(entry.pricebook_entry_id, p.entry);
        assert_eq!(entry.name, seeded.name);
        assert_eq!(entry.unit_price.get(), seeded.unit_price_jpy);
        assert_eq!(
            entry.family.map(ProductFamily::as_salesforce),
            Some(seeded.family)
        );
        assert_eq!(
            entry.item_class.map(ItemClass::as_salesforce),
            Some(seeded.item_class)
        );
        assert_eq!(
            entry.billing_cycle.map(BillingCycle::as_salesforce),
            Some(seeded.billing_cycle)
        );
        assert!(entry.product_active && entry.entry_active);
    }
    let families: Vec<_> = list.iter().map(|e| e.family).collect();
    let mut sorted = families.clone();
    sorted.sort_by_key(|f| f.map(ProductFamily::as_salesforce));
    assert_eq!(families, sorted, "grouped by family");
}

#[tokio::test]
async fn a_configured_price_book_lists_its_own_entries_and_prices() {
    let org = org().await;
    let book = PricebookId::parse(&org.insert(
        pricebook::OBJECT,
        json!({ pricebook::NAME: "Campaign", pricebook::IS_ACTIVE: true }),
    ))
    .unwrap();
    let sim = org.product("SIM-DATA-20GB");
    let entry = org.insert(
        pricebook_entry::OBJECT,
        json!({
            pricebook_entry::PRICEBOOK_ID: book.as_str(),
            pricebook_entry::PRODUCT_ID: sim.id.as_str(),
            pricebook_entry::UNIT_PRICE: 1500,
            pricebook_entry::IS_ACTIVE: true,
        }),
    );
    let catalog = SalesforceCatalog::new(org.client.clone(), PriceBook::Configured(book));
    let list = catalog.price_list().await.unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].pricebook_entry_id.as_str(), entry);
    assert_eq!(list[0].unit_price.get(), 1500.0);
}
