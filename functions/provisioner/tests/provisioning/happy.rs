//! Approved Orders end provisioned: one WHMCS client, order and accepted
//! services; the Order `Activated`/`Provisioned`; the Opportunity `Active`;
//! and the calls each system saw.

use portal_core::ports::{ProvisioningRecords, ProvisioningStatus};
use serde_json::{Value, json};
use whmcs_emulator::{OrderStatus, ServiceStatus, salesforce_order_id_field};

use crate::helpers::{World, world};

/// Approves and provisions an Order of `products`, then checks every system.
async fn provisions<R: ProvisioningRecords>(
    w: &World<R>,
    commodity: &str,
    products: &[&str],
    service_pid: u32,
) {
    let order = w.seed_order(commodity, products);
    let message = w.approve(&order);
    assert_eq!(
        w.record(&order.order_id)["Activation_Status__c"],
        json!("Activating")
    );

    assert!(w.deliver_one(&message).await, "the message is acknowledged");

    // WHMCS: one client, one accepted order, one active service per item,
    // each carrying the Salesforce Order Id in its product's admin field.
    assert_eq!(w.whmcs.orders_created(), 1);
    let client = w.whmcs.clients().into_iter().next().expect("a client");
    assert_eq!(client.email, order.email);
    let whmcs_order = w.whmcs.orders().into_iter().next().expect("an order");
    assert_eq!(whmcs_order.client_id, client.id);
    assert_eq!(whmcs_order.status, OrderStatus::Active);
    assert_eq!(whmcs_order.payment_method, "banktransfer");
    let services = w.whmcs.services();
    assert_eq!(services.len(), products.len());
    for service in &services {
        assert_eq!(service.status, ServiceStatus::Active);
        let field = salesforce_order_id_field(service.pid).expect("the product has the field");
        assert_eq!(service.custom_fields.get(&field), Some(&order.order_id));
    }
    let service = services
        .iter()
        .find(|s| s.pid == service_pid)
        .expect("the Service item's service");

    // Salesforce: Order, Opportunity, Account.
    let sf_order = w.record(&order.order_id);
    assert_eq!(sf_order["Status"], json!("Activated"));
    assert_eq!(sf_order["Activation_Status__c"], json!("Provisioned"));
    assert_eq!(
        sf_order["WHMCS_Order_Id__c"].as_f64(),
        Some(whmcs_order.id as f64)
    );
    assert_eq!(sf_order["Activation_Error__c"], Value::Null);
    let opportunity = w.record(&order.opportunity_id);
    assert_eq!(opportunity["StageName"], json!("Active"));
    assert_eq!(
        opportunity["WHMCS_Service_ID__c"].as_f64(),
        Some(service.id as f64)
    );
    let account = w.record(&order.account_id);
    assert_eq!(account["WH_Account__c"].as_f64(), Some(client.id as f64));

    assert_eq!(
        w.record_status(&order).await,
        Some(ProvisioningStatus::Completed)
    );
}

#[tokio::test]
async fn an_approved_internet_order_is_provisioned() {
    let w = world().await;
    provisions(
        &w,
        "Personal SonixNet Home Internet",
        &["INT-ACTIVATION", "INT-HOME-1G", "INT-STATIC-IP"],
        101,
    )
    .await;
}

#[tokio::test]
async fn an_approved_sim_order_is_provisioned() {
    let w = world().await;
    provisions(&w, "SIM", &["SIM-VOICE-DATA-20GB", "SIM-ACTIVATION"], 202).await;
}

#[tokio::test]
async fn an_approved_vpn_order_is_provisioned() {
    let w = world().await;
    provisions(&w, "VPN", &["VPN-ANNUAL"], 302).await;
}

#[tokio::test]
async fn a_provisioned_order_costs_two_salesforce_calls_for_new_and_linked_accounts() {
    let w = world().await;
    let first = w.seed_order("SIM", &["SIM-DATA-20GB", "SIM-ACTIVATION"]);
    let message = w.approve(&first);
    let (sf_before, whmcs_before) = (w.sf.api_calls(), w.whmcs_calls());
    assert!(w.deliver_one(&message).await);
    // A new customer: the composite read (Order, items and the Account's
    // Contacts through `@{order.records[0].AccountId}`), the composite write.
    assert_eq!(w.sf.api_calls() - sf_before, 2);
    // GetClientsDetails (by email), AddClient, AddOrder, AcceptOrder.
    assert_eq!(w.whmcs_calls() - whmcs_before, 4);
    assert_eq!(w.whmcs.calls("GetProducts"), 1);

    // The same Account orders again: WH_Account__c is set now.
    let second = w.seed_order_for(&first.account_id, &first.email, "VPN", &["VPN-MONTHLY"]);
    let message = w.approve(&second);
    let (sf_before, whmcs_before) = (w.sf.api_calls(), w.whmcs_calls());
    assert!(w.deliver_one(&message).await);
    assert_eq!(
        w.sf.api_calls() - sf_before,
        2,
        "one composite read, one composite write"
    );
    assert_eq!(w.whmcs_calls() - whmcs_before, 2, "AddOrder, AcceptOrder");
    assert_eq!(
        w.whmcs.calls("GetProducts"),
        1,
        "the product fields are cached"
    );
    assert_eq!(w.whmcs.clients_created(), 1);
    assert_eq!(
        w.record(&second.order_id)["Activation_Status__c"],
        json!("Provisioned")
    );
}

#[tokio::test]
async fn an_order_that_no_longer_awaits_provisioning_is_skipped() {
    let w = world().await;
    let order = w.seed_order("VPN", &["VPN-MONTHLY"]);
    let message = w.approve(&order);
    w.sf.update("Order", &order.order_id, json!({"Status": "Cancelled"}))
        .expect("staff cancel the Order");
    assert!(w.deliver_one(&message).await, "acknowledged");
    assert_eq!(w.whmcs.orders_created(), 0);
    assert_eq!(w.whmcs_calls(), 0);
    assert_eq!(w.record(&order.order_id)["Status"], json!("Cancelled"));
}
