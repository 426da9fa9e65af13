//! `portal-doctor --smoke`: the setup guide's "Testing" section as one run,
//! for a sandbox with the whole stack deployed. It writes, and says so first
//! ([`plan`]):
//!
//! 1. one Account, Contact, Opportunity and Order with one OrderItem (an
//!    active product mapped to WHMCS), named `Portal doctor smoke <stamp>`;
//! 2. subscribes to `/event/OrderProvisionRequested__e` (from `LATEST`), then
//!    sets the Order `Approved`;
//! 3. **Test order approval → event published**: the event for this Order
//!    arrives on Pub/Sub;
//! 4. **Test portal subscription → event received**: the Order leaves
//!    `Activating` (only the provisioner writes it, and it only hears of an
//!    Order through the subscriber and the SQS queue);
//! 5. **Test full provisioning flow end-to-end**: the Order is `Provisioned`
//!    with its `WHMCS_Order_Id__c`, WHMCS has that order, the Opportunity is
//!    `Active`.
//!
//! Cleaning up: the integration user has no delete permission (the
//! permission set grants none), so the run closes what it opened instead —
//! the test Account gets `Portal_Status__c = Inactive` — and prints every
//! id it created, in Salesforce and WHMCS, with the commands that remove them.

use std::time::Duration;

use chrono::Utc;
use portal_core::ports::ReplayFrom;
use salesforce::pubsub::{PubSubClient, PubSubConfig, SubscriptionItem};
use salesforce::schema::order_provision_requested;
use salesforce::soql::{self, Cond};
use salesforce::{Id, SalesforceClient, SalesforceError};
use serde_json::{Value, json};
use whmcs::WhmcsClient;

use crate::report::{Check, Item};

/// How long each wait (event, provisioning) lasts by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);

/// What the run writes, said before it writes.
pub fn plan(login_url: &str) -> String {
    format!(
        "Smoke run against {login_url} (use a sandbox): it creates one Account, Contact, \
         Opportunity and Order with one OrderItem named \"Portal doctor smoke <time>\", sets the \
         Order Approved, and waits for the deployed subscriber and provisioner: they create one \
         WHMCS client, order and service. Afterwards it marks the Account Inactive and prints \
         every id it created with the commands that delete them (the integration user may not \
         delete).\n"
    )
}

/// One record the run created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Where: `Salesforce` or `WHMCS`.
    pub system: &'static str,
    /// The object or entity, e.g. `Order`.
    pub object: &'static str,
    /// Its id.
    pub id: String,
}

/// What the run found and what it left.
#[derive(Debug, Clone, Default)]
pub struct SmokeReport {
    /// One check per "Testing" item.
    pub checks: Vec<Check>,
    /// Everything created, in order.
    pub created: Vec<Created>,
}

impl SmokeReport {
    /// The lines that say what was left and how to remove it.
    pub fn leftovers(&self) -> String {
        let mut out = String::from("\nCreated by the smoke run (remove when done):\n");
        for c in self.created.iter().rev() {
            let how = match c.system {
                "Salesforce" => format!(
                    "sf data delete record --sobject {} --record-id {} --target-org <org>",
                    c.object, c.id
                ),
                _ => format!("WHMCS admin: {} #{}", c.object, c.id),
            };
            out.push_str(&format!("  {} {} {} — {how}\n", c.system, c.object, c.id));
        }
        out
    }
}

/// Why the run stopped before its checks.
#[derive(Debug, thiserror::Error)]
pub enum SmokeError {
    /// A Salesforce call failed.
    #[error("Salesforce: {0}")]
    Salesforce(#[from] SalesforceError),
    /// A query could not be built.
    #[error("query: {0}")]
    Query(#[from] soql::SoqlError),
    /// No active product is mapped to WHMCS with a standard price.
    #[error("no active Product2 with WHMCS_Product_Id__c, Billing_Cycle__c and a standard price")]
    NoProduct,
}

/// The smoke run's clients and settings.
#[derive(Debug, Clone)]
pub struct SmokeRun {
    salesforce: SalesforceClient,
    whmcs: WhmcsClient,
    pubsub: PubSubConfig,
    timeout: Duration,
}

fn text(row: &Value, field: &str) -> Option<String> {
    row.get(field)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl SmokeRun {
    /// A run over these clients; each wait lasts at most `timeout`.
    pub fn new(
        salesforce: SalesforceClient,
        whmcs: WhmcsClient,
        pubsub: PubSubConfig,
        timeout: Duration,
    ) -> Self {
        Self {
            salesforce,
            whmcs,
            pubsub,
            timeout,
        }
    }

    /// Runs the three tests; a setup failure fails all three with its cause.
    pub async fn run(&self) -> SmokeReport {
        let mut report = SmokeReport::default();
        if let Err(error) = self.steps(&mut report).await {
            for item in [
                Item::TestApproval,
                Item::TestSubscription,
                Item::TestEndToEnd,
            ] {
                if !report.checks.iter().any(|c| c.item == item) {
                    report.checks.push(Check::fail(
                        item,
                        "smoke run",
                        format!("stopped: {error}"),
                        "fix the cause above and run `portal-doctor --smoke` again",
                    ));
                }
            }
        }
        // Close what was opened: the Account is marked Inactive.
        if let Some(account) = report.created.iter().find(|c| c.object == "Account")
            && let Ok(id) = Id::parse(&account.id)
            && let Err(error) = self
                .salesforce
                .update("Account", &id, &json!({"Portal_Status__c": "Inactive"}))
                .await
        {
            tracing::warn!(%error, "the smoke Account could not be marked Inactive");
        }
        report
    }

    async fn create(
        &self,
        report: &mut SmokeReport,
        object: &'static str,
        body: Value,
    ) -> Result<Id, SmokeError> {
        let id = self.salesforce.create(object, &body).await?;
        report.created.push(Created {
            system: "Salesforce",
            object,
            id: id.as_str().to_owned(),
        });
        Ok(id)
    }

    /// An active product mapped to WHMCS, its standard price book entry and
    /// the Opportunity commodity type its family sells as.
    async fn product(&self) -> Result<(Value, Value, String), SmokeError> {
        let products: Vec<Value> = self
            .salesforce
            .query_all(
                &soql::select(["Id", "Name", "Family"])
                    .from("Product2")
                    .where_(
                        Cond::eq("IsActive", true)
                            .and(Cond::ne("WHMCS_Product_Id__c", soql::Value::Null))
                            .and(Cond::ne("Billing_Cycle__c", soql::Value::Null))
                            .and(Cond::eq("Item_Class__c", "Service")),
                    )
                    .order_by("Name", soql::Order::Asc)
                    .build()?,
            )
            .await?;
        for product in products {
            let Some(product_id) = text(&product, "Id") else {
                continue;
            };
            let entries: Vec<Value> = self
                .salesforce
                .query_all(
                    &soql::select(["Id", "UnitPrice", "Pricebook2Id"])
                        .from("PricebookEntry")
                        .where_(
                            Cond::eq("Product2Id", product_id.as_str())
                                .and(Cond::eq("Pricebook2.IsStandard", true))
                                .and(Cond::eq("IsActive", true)),
                        )
                        .build()?,
                )
                .await?;
            let family = text(&product, "Family").unwrap_or_default();
            let commodity = match family.as_str() {
                "Internet" => "Personal SonixNet Home Internet",
                "SIM" => "SIM",
                "VPN" => "VPN",
                _ => continue,
            };
            if let Some(entry) = entries.into_iter().next() {
                return Ok((product, entry, commodity.to_owned()));
            }
        }
        Err(SmokeError::NoProduct)
    }

    async fn steps(&self, report: &mut SmokeReport) -> Result<(), SmokeError> {
        let stamp = Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
        let name = format!("Portal doctor smoke {stamp}");
        let (product, entry, commodity) = self.product().await?;
        let account = self
            .create(report, "Account", json!({"Name": name}))
            .await?;
        let email = format!(
            "portal-doctor-smoke-{}@example.invalid",
            Utc::now().timestamp()
        );
        self.create(
            report,
            "Contact",
            json!({"FirstName": "Smoke", "LastName": "Test", "Email": email, "AccountId": account.as_str()}),
        )
        .await?;
        let opportunity = self
            .create(
                report,
                "Opportunity",
                json!({"Name": name, "AccountId": account.as_str(), "StageName": "Post Processing",
                       "CloseDate": Utc::now().date_naive().to_string(), "CommodityType": commodity}),
            )
            .await?;
        let order = self
            .create(
                report,
                "Order",
                json!({"AccountId": account.as_str(), "OpportunityId": opportunity.as_str(),
                       "EffectiveDate": Utc::now().date_naive().to_string(),
                       "Pricebook2Id": entry["Pricebook2Id"], "Status": "Pending Review",
                       "Activation_Status__c": "Pending Review"}),
            )
            .await?;
        self.create(
            report,
            "OrderItem",
            json!({"OrderId": order.as_str(), "PricebookEntryId": entry["Id"], "Product2Id": product["Id"],
                   "Quantity": 1, "UnitPrice": entry["UnitPrice"]}),
        )
        .await?;

        // 3. The event, seen by our own subscription opened before the approval.
        let pubsub = PubSubClient::connect(self.pubsub.clone(), self.salesforce.clone()).await;
        let mut subscription = match pubsub {
            Ok(client) => Some(
                client
                    .subscribe(order_provision_requested::TOPIC, ReplayFrom::Latest, 100)
                    .await,
            ),
            Err(e) => {
                report.checks.push(Check::fail(
                    Item::TestApproval,
                    "Pub/Sub",
                    format!("could not connect: {e}"),
                    "check SF_PUBSUB_ENDPOINT and that this machine reaches it (port 7443)",
                ));
                None
            }
        };
        self.salesforce
            .update("Order", &order, &json!({"Status": "Approved"}))
            .await?;
        if let Some(subscription) = subscription.take() {
            let seen = match subscription {
                Ok(mut subscription) => {
                    let wait = async {
                        while let Some(item) = subscription.next().await {
                            match item {
                                Ok(SubscriptionItem::Event(event)) => {
                                    if event
                                        .decoded
                                        .as_ref()
                                        .is_ok_and(|e| e.order_id.as_str() == order.as_str())
                                    {
                                        return Ok(event.event_id);
                                    }
                                }
                                Ok(SubscriptionItem::Keepalive { .. }) => {}
                                Err(e) => return Err(e.to_string()),
                            }
                        }
                        Err("the stream ended".to_owned())
                    };
                    tokio::time::timeout(self.timeout, wait)
                        .await
                        .unwrap_or_else(|_| Err(format!("none within {:?}", self.timeout)))
                }
                Err(e) => Err(e.to_string()),
            };
            report.checks.push(match seen {
                Ok(event_id) => Check::pass(
                    Item::TestApproval,
                    format!("Order {}", order.as_str()),
                    format!("approved; OrderProvisionRequested__e {event_id} received on Pub/Sub"),
                ),
                Err(why) => Check::fail(
                    Item::TestApproval,
                    format!("Order {}", order.as_str()),
                    format!("approved, but no OrderProvisionRequested__e for it: {why}"),
                    "check the Order Approval Flow (lines above) and the integration user's Read on OrderProvisionRequested__e",
                ),
            });
        }

        // 4 and 5. The deployed pipeline takes it from there.
        let deadline = tokio::time::Instant::now() + self.timeout;
        let fields = [
            "Activation_Status__c",
            "Activation_Error__c",
            "WHMCS_Order_Id__c",
        ];
        let final_order = loop {
            let row: Value = self.salesforce.get("Order", &order, &fields).await?;
            let status = text(&row, "Activation_Status__c").unwrap_or_default();
            if status == "Provisioned" || status == "Failed" {
                break Some(row);
            }
            if tokio::time::Instant::now() >= deadline {
                break None;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        let subject = format!("Order {}", order.as_str());
        let Some(row) = final_order else {
            report.checks.push(Check::fail(
                Item::TestSubscription,
                subject.as_str(),
                format!("still Activating after {:?}: the event did not reach the provisioner", self.timeout),
                "read the subscriber's log (lease, stream, queue URL), the provisioning queue and its DLQ, then the provisioner's log",
            ));
            report.checks.push(Check::fail(
                Item::TestEndToEnd,
                subject.as_str(),
                "not provisioned",
                "see the line above",
            ));
            return Ok(());
        };
        let status = text(&row, "Activation_Status__c").unwrap_or_default();
        report.checks.push(Check::pass(
            Item::TestSubscription,
            subject.as_str(),
            format!("reached the provisioner through the subscriber and the queue (now {status})"),
        ));
        if status == "Failed" {
            report.checks.push(Check::fail(
                Item::TestEndToEnd,
                subject.as_str(),
                format!(
                    "provisioning failed: {}",
                    text(&row, "Activation_Error__c").unwrap_or_default()
                ),
                "fix the cause (product mapping, WHMCS credentials) and run the smoke again",
            ));
            return Ok(());
        }
        let whmcs_order = match &row["WHMCS_Order_Id__c"] {
            Value::Number(n) => n.as_f64().map(|f| f as u64),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        let in_whmcs = match whmcs_order {
            Some(id) => self
                .whmcs
                .get_orders(Some(id), None, None)
                .await
                .map(|orders| !orders.is_empty())
                .unwrap_or(false),
            None => false,
        };
        let opportunity_row: Value = self
            .salesforce
            .get("Opportunity", &opportunity, &["StageName"])
            .await?;
        let stage = text(&opportunity_row, "StageName").unwrap_or_default();
        if let Some(id) = whmcs_order {
            report.created.push(Created {
                system: "WHMCS",
                object: "order",
                id: id.to_string(),
            });
        }
        report.checks.push(match (whmcs_order, in_whmcs, stage.as_str()) {
            (Some(id), true, "Active") => Check::pass(
                Item::TestEndToEnd,
                subject.as_str(),
                format!("Provisioned with WHMCS order {id}; Opportunity Active"),
            ),
            _ => Check::fail(
                Item::TestEndToEnd,
                subject.as_str(),
                format!(
                    "Provisioned, but WHMCS order {whmcs_order:?} found: {in_whmcs}, Opportunity stage {stage:?}"
                ),
                "read the provisioner's log for this Order",
            ),
        });
        Ok(())
    }
}
