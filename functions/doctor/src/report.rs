//! The doctor's findings: one [`Check`] per thing verified, grouped under the
//! items of the setup guide's "Checklist for Salesforce Setup" (plus WHMCS),
//! rendered as plain text or JSON. No check ever carries a secret.

use serde::Serialize;
use serde_json::Value;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The org or WHMCS is as the product needs.
    Pass,
    /// Something is missing or wrong; the check says how to fix it.
    Fail,
    /// Cannot be verified without changing data: the check says how to verify it by hand.
    Manual,
}

impl Status {
    /// `PASS`, `FAIL` or `MANUAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Manual => "MANUAL",
        }
    }
}

/// A section of the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Section {
    /// Connected App, certificate, integration user, permissions.
    Security,
    /// Objects, fields, picklist values.
    ObjectsAndFields,
    /// The platform event.
    PlatformEvents,
    /// The Order Approval Flow.
    Flows,
    /// WHMCS credentials, products, custom field, payment method.
    Whmcs,
    /// End-to-end tests.
    Testing,
}

impl Section {
    /// The heading, as the guide writes it.
    pub fn title(self) -> &'static str {
        match self {
            Section::Security => "Security",
            Section::ObjectsAndFields => "Objects & Fields",
            Section::PlatformEvents => "Platform Events",
            Section::Flows => "Flows",
            Section::Whmcs => "WHMCS",
            Section::Testing => "Testing",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Item {
    /// Connected App created with JWT settings.
    ConnectedApp,
    /// Certificate uploaded.
    Certificate,
    /// Integration user created.
    IntegrationUser,
    /// Profile permissions assigned (object access).
    ObjectPermissions,
    /// Field-Level Security configured.
    FieldLevelSecurity,
    /// Platform Event subscribe permission granted.
    EventSubscribe,
    /// All Account custom fields created.
    AccountFields,
    /// All Order custom fields created.
    OrderFields,
    /// All Opportunity custom fields created.
    OpportunityFields,
    /// Product2 WHMCS mapping fields created.
    Product2Fields,
    /// The other objects' fields and standard picklist values.
    OtherFields,
    /// `OrderProvisionRequested__e` event created.
    EventCreated,
    /// Event fields configured.
    EventFields,
    /// Order Approval Flow created and activated.
    FlowActive,
    /// Flow publishes Platform Event on Order approval.
    FlowPublishes,
    /// WHMCS accepts the API credentials.
    WhmcsCredentials,
    /// Every active product's WHMCS product exists, in its billing cycle.
    WhmcsProducts,
    /// Every such WHMCS product has the "Salesforce Order Id" custom field.
    WhmcsOrderIdField,
    /// The payment method is an active gateway.
    WhmcsPaymentMethod,
    /// Test order approval → event published.
    TestApproval,
    /// Test portal subscription → event received.
    TestSubscription,
    /// Test full provisioning flow end-to-end.
    TestEndToEnd,
}

impl Item {
    /// Every item, in the order of the report.
    pub const ALL: [Item; 22] = [
        Item::ConnectedApp,
        Item::Certificate,
        Item::IntegrationUser,
        Item::ObjectPermissions,
        Item::FieldLevelSecurity,
        Item::EventSubscribe,
        Item::AccountFields,
        Item::OrderFields,
        Item::OpportunityFields,
        Item::Product2Fields,
        Item::OtherFields,
        Item::EventCreated,
        Item::EventFields,
        Item::FlowActive,
        Item::FlowPublishes,
        Item::WhmcsCredentials,
        Item::WhmcsProducts,
        Item::WhmcsOrderIdField,
        Item::WhmcsPaymentMethod,
        Item::TestApproval,
        Item::TestSubscription,
        Item::TestEndToEnd,
    ];

    /// The checklist's wording.
    pub fn title(self) -> &'static str {
        match self {
            Item::ConnectedApp => "Connected App created with JWT settings",
            Item::Certificate => "Certificate uploaded",
            Item::IntegrationUser => "Integration user created",
            Item::ObjectPermissions => "Profile permissions assigned",
            Item::FieldLevelSecurity => "Field-Level Security configured",
            Item::EventSubscribe => "Platform Event subscribe permission granted",
            Item::AccountFields => "All Account custom fields created",
            Item::OrderFields => "All Order custom fields created",
            Item::OpportunityFields => "All Opportunity custom fields created",
            Item::Product2Fields => "Product2 WHMCS mapping fields created",
            Item::OtherFields => {
                "Contact, Case, OrderItem, Pricebook2, PricebookEntry and User fields the product uses"
            }
            Item::EventCreated => "`OrderProvisionRequested__e` event created",
            Item::EventFields => "Event fields configured",
            Item::FlowActive => "Order Approval Flow created and activated",
            Item::FlowPublishes => "Flow publishes Platform Event on Order approval",
            Item::WhmcsCredentials => "WHMCS accepts the API credentials",
            Item::WhmcsProducts => {
                "Every active Product2's WHMCS product exists in its billing cycle"
            }
            Item::WhmcsOrderIdField => {
                "Every such WHMCS product has the \"Salesforce Order Id\" custom field"
            }
            Item::WhmcsPaymentMethod => "WHMCS_PAYMENT_METHOD is an active payment gateway",
            Item::TestApproval => "Test order approval → event published",
            Item::TestSubscription => "Test portal subscription → event received",
            Item::TestEndToEnd => "Test full provisioning flow end-to-end",
        }
    }

    /// The section the item belongs to.
    pub fn section(self) -> Section {
        match self {
            Item::ConnectedApp
            | Item::Certificate
            | Item::IntegrationUser
            | Item::ObjectPermissions
            | Item::FieldLevelSecurity
            | Item::EventSubscribe => Section::Security,
            Item::AccountFields
            | Item::OrderFields
            | Item::OpportunityFields
            | Item::Product2Fields
            | Item::OtherFields => Section::ObjectsAndFields,
            Item::EventCreated | Item::EventFields => Section::PlatformEvents,
            Item::FlowActive | Item::FlowPublishes => Section::Flows,
            Item::WhmcsCredentials
            | Item::WhmcsProducts
            | Item::WhmcsOrderIdField
            | Item::WhmcsPaymentMethod => Section::Whmcs,
            Item::TestApproval | Item::TestSubscription | Item::TestEndToEnd => Section::Testing,
        }
    }
}

/// One thing verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The checklist item it belongs to.
    pub item: Item,
    /// The outcome.
    pub status: Status,
    /// What was checked, e.g. `Order.Activation_Status__c`.
    pub subject: String,
    /// What was found, e.g. `picklist value "Activating" is missing`.
    pub message: String,
    /// How to fix it (failures) or verify it (manual checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    /// A passing check.
    pub fn pass(item: Item, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Check {
            item,
            status: Status::Pass,
            subject: subject.into(),
            message: message.into(),
            fix: None,
        }
    }

    /// A failing check and its fix.
    pub fn fail(
        item: Item,
        subject: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check {
            item,
            status: Status::Fail,
            subject: subject.into(),
            message: message.into(),
            fix: Some(fix.into()),
        }
    }

    /// A check the doctor cannot make read-only, and how to make it by hand.
    pub fn manual(item: Item, how: impl Into<String>) -> Self {
        Check {
            item,
            status: Status::Manual,
            subject: item.title().to_owned(),
            message: "not checked by the doctor (it only reads)".to_owned(),
            fix: Some(how.into()),
        }
    }

    /// The failure line: `FAIL <subject> <message> — <fix>`.
    pub fn line(&self) -> String {
        let mut line = format!("{} {} {}", self.status.as_str(), self.subject, self.message);
        if let Some(fix) = &self.fix {
            line.push_str(" — ");
            line.push_str(fix);
        }
        line
    }
}

/// Everything the doctor found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Where the doctor looked (URLs, API version; never a credential).
    pub target: Vec<(String, String)>,
    /// Every check, in the order made.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether nothing failed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }

    /// The failing checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Fail)
    }

    /// 0 when everything passed, 1 when anything failed.
    pub fn exit_code(&self) -> u8 {
        if self.passed() { 0 } else { 1 }
    }

    /// The checklist as plain text: per item one `PASS` line, or a `FAIL` line
    /// followed by one `FAIL` line per failed check with its fix; manual items
    /// with how to verify them.
    pub fn to_text(&self) -> String {
        let mut out = String::from("Customer Portal setup doctor\n");
        for (name, value) in &self.target {
            out.push_str(&format!("  {name}: {value}\n"));
        }
        let mut section = None;
        for item in Item::ALL {
            let checks: Vec<&Check> = self.checks.iter().filter(|c| c.item == item).collect();
            if checks.is_empty() {
                continue;
            }
            if section != Some(item.section()) {
                section = Some(item.section());
                out.push_str(&format!("\n{}\n", item.section().title()));
            }
            let failed: Vec<&&Check> = checks.iter().filter(|c| c.status == Status::Fail).collect();
            if let Some(manual) = checks.iter().find(|c| c.status == Status::Manual) {
                out.push_str(&format!(
                    "  MANUAL {} — {}\n",
                    item.title(),
                    manual.fix.as_deref().unwrap_or_default()
                ));
            } else if failed.is_empty() {
                out.push_str(&format!("  PASS {}\n", item.title()));
            } else {
                out.push_str(&format!("  FAIL {}\n", item.title()));
                for check in failed {
                    out.push_str(&format!("    {}\n", check.line()));
                }
            }
        }
        let failures = self.failures().count();
        let checked = self
            .checks
            .iter()
            .filter(|c| c.status != Status::Manual)
            .count();
        if failures == 0 {
            out.push_str(&format!("\nAll {checked} checks passed.\n"));
        } else {
            out.push_str(&format!(
                "\n{failures} of {checked} checks failed: fix them and run the doctor again.\n"
            ));
        }
        out
    }

    /// The report as JSON: `{"passed", "target", "checks": [{item, title, section, status, subject, message, fix}]}`.
    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "item": c.item,
                    "title": c.item.title(),
                    "section": c.item.section().title(),
                    "status": c.status,
                    "subject": c.subject,
                    "message": c.message,
                    "fix": c.fix,
                })
            })
            .collect();
        let target: serde_json::Map<String, Value> = self
            .target
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        serde_json::json!({
            "passed": self.passed(),
            "target": target,
            "checks": checks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_item_lists_each_failure_with_its_fix_and_passing_items_take_one_line() {
        let report = Report {
            target: vec![],
            checks: vec![
                Check::pass(Item::OrderFields, "Order.Status", "exists"),
                Check::fail(
                    Item::OrderFields,
                    "Order.Activation_Status__c",
                    "picklist value \"Activating\" is missing",
                    "add it to the field's value set",
                ),
                Check::pass(Item::AccountFields, "Account.Name", "exists"),
                Check::manual(Item::FlowActive, "approve a test Order"),
            ],
        };
        let text = report.to_text();
        assert!(text.contains("  PASS All Account custom fields created\n"));
        assert!(text.contains("  FAIL All Order custom fields created\n    FAIL Order.Activation_Status__c picklist value \"Activating\" is missing — add it to the field's value set\n"));
        assert!(text.contains(
            "  MANUAL Order Approval Flow created and activated — approve a test Order\n"
        ));
        assert!(text.contains("1 of 3 checks failed"));
        assert_eq!(report.exit_code(), 1);
        let json = report.to_json();
        assert_eq!(json["passed"], false);
        assert_eq!(json["checks"][1]["status"], "FAIL");
        assert_eq!(json["checks"][1]["section"], "Objects & Fields");
    }
}
