//! `POST /orders`, `GET /orders`, `GET /orders/{orderId}`.
//!
//! Rules (issue 3): prices come from PricebookEntry only; quantity 1–99;
//! unknown or inactive products are refused naming `items[i].productId`;
//! products must belong to the commodity's `Product2.Family`; Internet orders
//! need `Internet_Eligibility_Status__c = Checked` and the Opportunity at
//! `Ready`, else a conflict a customer can read; SIM and VPN need no
//! eligibility. The Opportunity goes to `Post Processing` with `Portal - Order
//! Placement` (found or created); the Order is created `Pending Review` with
//! `Activation_Status__c = Pending Review`, `EffectiveDate` today, and one
//! OrderItem per line with Product2, PricebookEntry and the entry's price.
//!
//! Decisions where the issue is silent:
//! - 1 to [`MAX_ORDER_ITEMS`] lines, each product at most once (the composite
//!   has 25 subrequests: Opportunity, Order, read-back and the items).
//! - Field errors (422) are reported before conflicts (409).
//! - A SIM/VPN order reuses the open (`Introduction`/`Ready`) Opportunity of
//!   its commodity, or creates one.
//! - "Today" is the date in the configured timezone.
//! - Another account's order is `NotFound`, as is a malformed order id.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    AccountId, ActivationStatus, CommodityType, EligibilityStatus, FieldError, FieldErrors,
    OpportunityId, OpportunityStage, OrderId, OrderStatus, PortalSource, PricebookEntryId,
    PricebookId, ProductFamily, ProductId, Quantity, UnitPrice, WhmcsOrderId, WhmcsServiceId,
};

use super::caller::Caller;
use super::error::{ConflictReason, PortalError};
use super::plans::{NewOpportunity, OpportunityPlan, OpportunitySummary};
use super::ports::OrderBook;
use super::settings::PortalSettings;

/// The most lines an order may have.
pub const MAX_ORDER_ITEMS: usize = 20;

/// The raw body of `POST /orders`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRequest {
    /// A `CommodityType` value.
    pub commodity_type: Option<String>,
    /// The lines.
    pub items: Option<Vec<OrderItemInput>>,
}

/// One raw line of `POST /orders`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItemInput {
    /// A `Product2` id.
    pub product_id: Option<String>,
    /// 1 to 99.
    pub quantity: Option<i64>,
}

/// One checked line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// The product.
    pub product_id: ProductId,
    /// How many.
    pub quantity: Quantity,
}

/// A checked order request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCommand {
    /// The commodity.
    pub commodity: CommodityType,
    /// The lines, in the body's order.
    pub lines: Vec<OrderLine>,
}

impl OrderCommand {
    /// The products ordered.
    pub fn product_ids(&self) -> Vec<ProductId> {
        self.lines.iter().map(|l| l.product_id.clone()).collect()
    }
}

impl OrderRequest {
    /// Checks every field.
    pub fn parse(self) -> Result<OrderCommand, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let commodity =
            errors.required("commodityType", self.commodity_type.as_deref(), str::parse);
        let mut lines = Vec::new();
        match self.items {
            None => errors.push("items", "is required"),
            Some(items) if items.is_empty() => errors.push("items", "must have at least one item"),
            Some(items) if items.len() > MAX_ORDER_ITEMS => {
                errors.push(
                    "items",
                    format!("must have at most {MAX_ORDER_ITEMS} items"),
                );
            }
            Some(items) => {
                let mut seen = HashSet::new();
                for (i, item) in items.into_iter().enumerate() {
                    let field = format!("items[{i}].productId");
                    let product =
                        errors.required(&field, item.product_id.as_deref(), ProductId::parse);
                    if let Some(product) = &product
                        && !seen.insert(product.clone())
                    {
                        errors.push(&field, "appears more than once");
                    }
                    let quantity = errors.required(
                        &format!("items[{i}].quantity"),
                        item.quantity,
                        Quantity::new,
                    );
                    if let (Some(product_id), Some(quantity)) = (product, quantity) {
                        lines.push(OrderLine {
                            product_id,
                            quantity,
                        });
                    }
                }
            }
        }
        match commodity {
            Some(commodity) if errors.is_empty() => Ok(OrderCommand { commodity, lines }),
            _ => Err(errors.into_vec()),
        }
    }
}

/// A PricebookEntry of an ordered product.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceEntry {
    /// `Product2Id`.
    pub product_id: ProductId,
    /// The entry's `Id`.
    pub pricebook_entry_id: PricebookEntryId,
    /// The entry's `UnitPrice`.
    pub unit_price: UnitPrice,
    /// The entry's `IsActive`.
    pub entry_active: bool,
    /// `Product2.IsActive`.
    pub product_active: bool,
    /// `Product2.Family`.
    pub family: Option<ProductFamily>,
}

/// What the one read of an order returns.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderContext {
    /// The Account's `Internet_Eligibility_Status__c`.
    pub eligibility_status: Option<EligibilityStatus>,
    /// The newest open (`Introduction`/`Ready`) Opportunity of the Account
    /// with the order's `CommodityType`.
    pub open_opportunity: Option<OpportunitySummary>,
    /// The portal's price book (becomes `Order.Pricebook2Id`).
    pub pricebook_id: PricebookId,
    /// Its entries for the ordered products (active or not; missing when none).
    pub entries: Vec<PriceEntry>,
}

/// A new OrderItem.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrderItem {
    /// `Product2Id`.
    pub product_id: ProductId,
    /// `PricebookEntryId`.
    pub pricebook_entry_id: PricebookEntryId,
    /// `Quantity`.
    pub quantity: Quantity,
    /// `UnitPrice`: the entry's.
    pub unit_price: UnitPrice,
}

/// A new Order (its `OpportunityId` is the plan's Opportunity).
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    /// `Status`: `Pending Review`.
    pub status: OrderStatus,
    /// `Activation_Status__c`: `Pending Review`.
    pub activation_status: ActivationStatus,
    /// `EffectiveDate`: today.
    pub effective_date: NaiveDate,
    /// `Pricebook2Id`.
    pub pricebook_id: PricebookId,
    /// The items.
    pub items: Vec<NewOrderItem>,
}

/// The one write of an order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderPlacement {
    /// `Order.AccountId` (and a created Opportunity's).
    pub account_id: AccountId,
    /// The Opportunity: updated to `Post Processing` or created there.
    pub opportunity: OpportunityPlan,
    /// The Order and its items.
    pub order: NewOrder,
}

/// What an order write ends with (the adapter reads `OrderNumber` back in
/// the same composite).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    /// The Order.
    pub order_id: OrderId,
    /// Its `OrderNumber`.
    pub order_number: String,
    /// The plan's Opportunity.
    pub opportunity_id: OpportunityId,
}

/// The body of the 201 response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPlaced {
    /// The Order.
    pub order_id: OrderId,
    /// Its number.
    pub order_number: String,
    /// `Pending Review`.
    pub status: OrderStatus,
    /// `Pending Review`.
    pub activation_status: ActivationStatus,
    /// The Opportunity.
    pub opportunity_id: OpportunityId,
}

/// One order of `GET /orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummary {
    /// `Id`.
    pub order_id: OrderId,
    /// `AccountId`, checked against the caller's; not shown.
    #[serde(skip)]
    pub account_id: AccountId,
    /// `OrderNumber`.
    pub order_number: String,
    /// `Status`.
    pub status: OrderStatus,
    /// `Activation_Status__c`.
    pub activation_status: Option<ActivationStatus>,
    /// `EffectiveDate`.
    pub effective_date: NaiveDate,
}

/// The body of `GET /orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderList {
    /// The caller's orders.
    pub orders: Vec<OrderSummary>,
}

/// One line of `GET /orders/{orderId}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItemView {
    /// `Product2Id`.
    pub product_id: ProductId,
    /// `Product2.Name`.
    pub name: String,
    /// `Quantity`.
    pub quantity: u32,
    /// `UnitPrice`.
    pub unit_price: UnitPrice,
}

/// The body of `GET /orders/{orderId}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDetail {
    /// `Id`.
    pub order_id: OrderId,
    /// `AccountId`, checked against the caller's; not shown.
    #[serde(skip)]
    pub account_id: AccountId,
    /// `OrderNumber`.
    pub order_number: String,
    /// `Status`.
    pub status: OrderStatus,
    /// `Activation_Status__c`.
    pub activation_status: Option<ActivationStatus>,
    /// When provisioning failed: [`ACTIVATION_FAILED`], the product's own
    /// words (the upstream error stays in `Activation_Error__c`, for staff).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_error: Option<String>,
    /// `WHMCS_Order_Id__c`, once provisioned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whmcs_order_id: Option<WhmcsOrderId>,
    /// The Opportunity's `WHMCS_Service_ID__c`, once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<WhmcsServiceId>,
    /// `EffectiveDate`.
    pub effective_date: NaiveDate,
    /// The OrderItems.
    pub items: Vec<OrderItemView>,
}

/// The pure decision of an order.
pub fn decide_order(
    account_id: &AccountId,
    command: &OrderCommand,
    context: OrderContext,
    today: NaiveDate,
) -> Result<OrderPlacement, PortalError> {
    let family = command.commodity.product_family();
    let mut errors = FieldErrors::new();
    let mut items = Vec::with_capacity(command.lines.len());
    for (i, line) in command.lines.iter().enumerate() {
        let field = format!("items[{i}].productId");
        let entry = context
            .entries
            .iter()
            .find(|e| e.product_id == line.product_id && e.entry_active && e.product_active);
        match entry {
            None => errors.push(field, "is not a product that can be ordered"),
            Some(entry) if entry.family != Some(family) => {
                errors.push(field, format!("is not a {} product", command.commodity))
            }
            Some(entry) => items.push(NewOrderItem {
                product_id: entry.product_id.clone(),
                pricebook_entry_id: entry.pricebook_entry_id.clone(),
                quantity: line.quantity,
                unit_price: entry.unit_price,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(PortalError::Validation(errors.into_vec()));
    }
    let opportunity = if command.commodity.needs_eligibility() {
        if context.eligibility_status != Some(EligibilityStatus::Checked) {
            return Err(PortalError::conflict(ConflictReason::EligibilityNotChecked));
        }
        match context.open_opportunity {
            Some(OpportunitySummary {
                id,
                stage: OpportunityStage::Ready,
            }) => to_post_processing(id),
            _ => return Err(PortalError::conflict(ConflictReason::ApplicationNotReady)),
        }
    } else {
        match context.open_opportunity {
            Some(open) => to_post_processing(open.id),
            None => OpportunityPlan::Create(NewOpportunity::for_order(
                account_id.clone(),
                command.commodity,
                today,
            )),
        }
    };
    Ok(OrderPlacement {
        account_id: account_id.clone(),
        opportunity,
        order: NewOrder {
            status: OrderStatus::PendingReview,
            activation_status: ActivationStatus::PendingReview,
            effective_date: today,
            pricebook_id: context.pricebook_id,
            items,
        },
    })
}

fn to_post_processing(id: OpportunityId) -> OpportunityPlan {
    OpportunityPlan::Update {
        id,
        stage: OpportunityStage::PostProcessing,
        portal_source: PortalSource::OrderPlacement,
    }
}

/// Places an order for the caller's Account.
#[tracing::instrument(name = "place_order", skip_all, fields(account_id = ?caller.account_id))]
pub async fn place_order<B: OrderBook>(
    book: &B,
    caller: &Caller,
    body: OrderRequest,
    now: DateTime<Utc>,
    settings: &PortalSettings,
) -> Result<OrderPlaced, PortalError> {
    let account = caller.account()?;
    let command = body.parse()?;
    let context = book
        .order_context(account, command.commodity, &command.product_ids())
        .await?
        .ok_or(PortalError::NotFound)?;
    let plan = decide_order(account, &command, context, settings.timezone.today(now))?;
    let placed = book.place_order(&plan).await?;
    tracing::info!(order_id = %placed.order_id, opportunity_id = %placed.opportunity_id, "order placed");
    Ok(OrderPlaced {
        order_id: placed.order_id,
        order_number: placed.order_number,
        status: plan.order.status,
        activation_status: plan.order.activation_status,
        opportunity_id: placed.opportunity_id,
    })
}

/// The caller's orders.
#[tracing::instrument(name = "list_orders", skip_all, fields(account_id = ?caller.account_id))]
pub async fn list_orders<B: OrderBook>(
    book: &B,
    caller: &Caller,
) -> Result<OrderList, PortalError> {
    let account = caller.account()?;
    let orders = book
        .orders(account)
        .await?
        .into_iter()
        .filter(|o| &o.account_id == account)
        .collect();
    Ok(OrderList { orders })
}

/// One of the caller's orders; `order_id` is the raw path segment.
#[tracing::instrument(name = "get_order", skip_all, fields(account_id = ?caller.account_id))]
pub async fn get_order<B: OrderBook>(
    book: &B,
    caller: &Caller,
    order_id: &str,
) -> Result<OrderDetail, PortalError> {
    let account = caller.account()?;
    let order_id = OrderId::parse(order_id).map_err(|_| PortalError::NotFound)?;
    let mut detail = book
        .order(account, &order_id)
        .await?
        .filter(|o| &o.account_id == account && o.order_id == order_id)
        .ok_or(PortalError::NotFound)?;
    detail.activation_error = (detail.activation_status == Some(ActivationStatus::Failed))
        .then(|| ACTIVATION_FAILED.to_owned());
    Ok(detail)
}

/// What a customer reads when their Order could not be provisioned. Staff
/// read WHMCS's or Salesforce's own error in `Activation_Error__c`.
pub const ACTIVATION_FAILED: &str = "We could not activate this order yet. Our team has been notified and will contact you; there is no need to order again.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::fake::*;

    const FIBER: &str = "01t000000000001";
    const ROUTER: &str = "01t000000000002";
    const SIM: &str = "01t000000000003";

    fn product(raw: &str) -> ProductId {
        ProductId::parse(raw).unwrap()
    }

    fn pricebook() -> PricebookId {
        PricebookId::parse("01s000000000001").unwrap()
    }

    fn price(product_id: &str, entry: &str, family: ProductFamily, amount: f64) -> PriceEntry {
        PriceEntry {
            product_id: product(product_id),
            pricebook_entry_id: PricebookEntryId::parse(entry).unwrap(),
            unit_price: UnitPrice::new(amount).unwrap(),
            entry_active: true,
            product_active: true,
            family: Some(family),
        }
    }

    fn context(
        eligibility_status: Option<EligibilityStatus>,
        open_opportunity: Option<OpportunitySummary>,
    ) -> OrderContext {
        OrderContext {
            eligibility_status,
            open_opportunity,
            pricebook_id: pricebook(),
            entries: vec![
                price(FIBER, "01u000000000001", ProductFamily::Internet, 4980.0),
                price(ROUTER, "01u000000000002", ProductFamily::Internet, 550.0),
                price(SIM, "01u000000000003", ProductFamily::Sim, 1980.0),
            ],
        }
    }

    fn ready() -> Option<OpportunitySummary> {
        Some(OpportunitySummary {
            id: opportunity(),
            stage: OpportunityStage::Ready,
        })
    }

    fn item(product_id: &str, quantity: i64) -> OrderItemInput {
        OrderItemInput {
            product_id: Some(product_id.into()),
            quantity: Some(quantity),
        }
    }

    fn internet_order() -> OrderRequest {
        OrderRequest {
            commodity_type: Some("Personal SonixNet Home Internet".into()),
            items: Some(vec![item(FIBER, 1), item(ROUTER, 2)]),
        }
    }

    async fn place(org: &FakeOrg, body: OrderRequest) -> Result<OrderPlaced, PortalError> {
        place_order(org, &caller(), body, now(), &PortalSettings::default()).await
    }

    fn org(context: OrderContext) -> FakeOrg {
        FakeOrg {
            order_context: Some(context),
            ..FakeOrg::default()
        }
    }

    #[tokio::test]
    async fn when_internet_is_checked_and_ready_should_plan_post_processing_and_a_pending_review_order_at_entry_prices()
     {
        let org = org(context(Some(EligibilityStatus::Checked), ready()));
        let placed = place(&org, internet_order()).await.unwrap();
        assert_eq!(
            org.calls()[0],
            Call::OrderContext(
                account(),
                CommodityType::PersonalInternet,
                vec![product(FIBER), product(ROUTER)]
            )
        );
        let today = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        assert_eq!(
            org.only_write(),
            Call::PlaceOrder(OrderPlacement {
                account_id: account(),
                opportunity: OpportunityPlan::Update {
                    id: opportunity(),
                    stage: OpportunityStage::PostProcessing,
                    portal_source: PortalSource::OrderPlacement,
                },
                order: NewOrder {
                    status: OrderStatus::PendingReview,
                    activation_status: ActivationStatus::PendingReview,
                    effective_date: today,
                    pricebook_id: pricebook(),
                    items: vec![
                        NewOrderItem {
                            product_id: product(FIBER),
                            pricebook_entry_id: PricebookEntryId::parse("01u000000000001").unwrap(),
                            quantity: Quantity::new(1).unwrap(),
                            unit_price: UnitPrice::new(4980.0).unwrap(),
                        },
                        NewOrderItem {
                            product_id: product(ROUTER),
                            pricebook_entry_id: PricebookEntryId::parse("01u000000000002").unwrap(),
                            quantity: Quantity::new(2).unwrap(),
                            unit_price: UnitPrice::new(550.0).unwrap(),
                        },
                    ],
                },
            })
        );
        assert_eq!(
            serde_json::to_value(&placed).unwrap(),
            serde_json::json!({
                "orderId": written_order().as_str(),
                "orderNumber": "00000100",
                "status": "Pending Review",
                "activationStatus": "Pending Review",
                "opportunityId": opportunity().as_str(),
            })
        );
    }

    #[tokio::test]
    async fn when_internet_eligibility_is_not_checked_should_conflict_and_write_nothing() {
        for status in [None, Some(EligibilityStatus::Pending)] {
            let org = org(context(status, ready()));
            let err = place(&org, internet_order()).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    PortalError::Conflict {
                        reason: ConflictReason::EligibilityNotChecked
                    }
                ),
                "{err:?}"
            );
            assert!(org.writes().is_empty());
        }
    }

    #[tokio::test]
    async fn when_the_internet_opportunity_is_not_ready_should_conflict_and_write_nothing() {
        let introduction = Some(OpportunitySummary {
            id: opportunity(),
            stage: OpportunityStage::Introduction,
        });
        for open in [None, introduction] {
            let org = org(context(Some(EligibilityStatus::Checked), open));
            let err = place(&org, internet_order()).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    PortalError::Conflict {
                        reason: ConflictReason::ApplicationNotReady
                    }
                ),
                "{err:?}"
            );
            assert!(org.writes().is_empty());
        }
    }

    #[tokio::test]
    async fn when_ordering_a_sim_should_need_no_eligibility_and_create_the_opportunity_at_post_processing()
     {
        let org = org(context(None, None));
        let body = OrderRequest {
            commodity_type: Some("SIM".into()),
            items: Some(vec![item(SIM, 3)]),
        };
        let placed = place(&org, body).await.unwrap();
        let Call::PlaceOrder(plan) = org.only_write() else {
            panic!("expected an order");
        };
        assert_eq!(
            plan.opportunity,
            OpportunityPlan::Create(NewOpportunity {
                account_id: account(),
                name: "SIM - portal order 2026-04-01".into(),
                commodity: CommodityType::Sim,
                stage: OpportunityStage::PostProcessing,
                portal_source: PortalSource::OrderPlacement,
                close_date: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            })
        );
        assert_eq!(placed.opportunity_id, written_opportunity());
    }

    #[tokio::test]
    async fn when_products_are_unknown_inactive_or_of_another_family_should_name_each_item_and_write_nothing()
     {
        let mut ctx = context(Some(EligibilityStatus::Checked), ready());
        ctx.entries[1].entry_active = false;
        let org = org(ctx);
        let body = OrderRequest {
            commodity_type: Some("Personal SonixNet Home Internet".into()),
            items: Some(vec![
                item(FIBER, 1),
                item(ROUTER, 1),
                item("01t000000000099", 1),
                item(SIM, 1),
            ]),
        };
        assert_eq!(
            invalid_fields(place(&org, body).await),
            [
                "items[1].productId",
                "items[2].productId",
                "items[3].productId"
            ]
        );
        assert!(org.writes().is_empty());
    }

    #[tokio::test]
    async fn when_every_field_is_bad_should_list_them_all_and_call_nothing() {
        let org = org(context(None, None));
        let body = OrderRequest {
            commodity_type: Some("Internet".into()),
            items: Some(vec![
                item("801000000000001", 1),
                item(FIBER, 0),
                item(ROUTER, 100),
                item(FIBER, 1),
                OrderItemInput::default(),
            ]),
        };
        assert_eq!(
            invalid_fields(place(&org, body).await),
            [
                "commodityType",
                "items[0].productId",
                "items[1].quantity",
                "items[2].quantity",
                "items[3].productId",
                "items[4].productId",
                "items[4].quantity",
            ]
        );
        let empty = OrderRequest {
            commodity_type: Some("SIM".into()),
            items: Some(vec![]),
        };
        assert_eq!(invalid_fields(place(&org, empty).await), ["items"]);
        let too_many = OrderRequest {
            commodity_type: Some("SIM".into()),
            items: Some(vec![item(SIM, 1); MAX_ORDER_ITEMS + 1]),
        };
        assert_eq!(invalid_fields(place(&org, too_many).await), ["items"]);
        assert!(org.calls().is_empty());
    }

    fn detail(account_id: AccountId) -> OrderDetail {
        OrderDetail {
            order_id: order(),
            account_id,
            order_number: "00000100".into(),
            status: OrderStatus::Activated,
            activation_status: Some(ActivationStatus::Provisioned),
            activation_error: None,
            whmcs_order_id: Some(WhmcsOrderId::new(12).unwrap()),
            service_id: Some(WhmcsServiceId::new(31).unwrap()),
            effective_date: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            items: vec![OrderItemView {
                product_id: product(SIM),
                name: "SIM 10GB".into(),
                quantity: 1,
                unit_price: UnitPrice::new(1980.0).unwrap(),
            }],
        }
    }

    #[tokio::test]
    async fn when_getting_the_callers_order_should_show_the_known_provisioning_fields_only() {
        let org = FakeOrg {
            order_detail: Some(detail(account())),
            ..FakeOrg::default()
        };
        let got = get_order(&org, &caller(), "801000000000001").await.unwrap();
        assert_eq!(org.calls(), vec![Call::Order(account(), order())]);
        let json = serde_json::to_value(&got).unwrap();
        assert_eq!(json["whmcsOrderId"], 12);
        assert_eq!(json["serviceId"], 31);
        assert_eq!(json["activationStatus"], "Provisioned");
        assert!(json.get("activationError").is_none());
        assert!(json.get("accountId").is_none());
        assert_eq!(json["items"][0]["unitPrice"], 1980.0);
    }

    #[tokio::test]
    async fn when_provisioning_failed_should_tell_the_customer_in_our_words_only() {
        let org = FakeOrg {
            order_detail: Some(OrderDetail {
                activation_status: Some(ActivationStatus::Failed),
                activation_error: Some("WHMCS product 12 has no custom field 7".into()),
                ..detail(account())
            }),
            ..FakeOrg::default()
        };
        let got = get_order(&org, &caller(), "801000000000001").await.unwrap();
        assert_eq!(got.activation_error.as_deref(), Some(ACTIVATION_FAILED));
        let json = serde_json::to_string(&got).unwrap();
        assert!(!json.contains("WHMCS"), "{json}");
    }

    #[tokio::test]
    async fn when_the_order_is_another_accounts_or_the_id_is_malformed_should_be_not_found() {
        let org = FakeOrg {
            order_detail: Some(detail(other_account())),
            ..FakeOrg::default()
        };
        assert!(matches!(
            get_order(&org, &caller(), "801000000000001").await,
            Err(PortalError::NotFound)
        ));
        let calls = org.calls().len();
        assert!(matches!(
            get_order(&org, &caller(), "../001000000000002").await,
            Err(PortalError::NotFound)
        ));
        assert!(matches!(
            get_order(&org, &caller(), "001000000000002").await,
            Err(PortalError::NotFound)
        ));
        assert_eq!(org.calls().len(), calls, "a malformed id reads nothing");
    }

    #[tokio::test]
    async fn when_listing_orders_should_show_only_the_callers() {
        let summary = |account_id: AccountId| OrderSummary {
            order_id: order(),
            account_id,
            order_number: "00000100".into(),
            status: OrderStatus::PendingReview,
            activation_status: Some(ActivationStatus::PendingReview),
            effective_date: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
        };
        let org = FakeOrg {
            orders: vec![summary(account()), summary(other_account())],
            ..FakeOrg::default()
        };
        let list = list_orders(&org, &caller()).await.unwrap();
        assert_eq!(list.orders, vec![summary(account())]);
        assert!(matches!(
            list_orders(&org, &unlinked_caller()).await,
            Err(PortalError::NotLinked)
        ));
    }
}
