//! Reads the org (as the integration user) and WHMCS, then runs the checks of
//! [`crate::checks`] over what was read. Every call is a read: the doctor
//! never writes to Salesforce or WHMCS.

use salesforce::schema::{OBJECTS, PLATFORM_EVENTS, product};
use salesforce::soql::{self, Cond};
use salesforce::{ObjectDescribe, SalesforceClient, SalesforceError};
use serde_json::Value;
use whmcs::{WhmcsClient, WhmcsError};

use crate::checks::{self, CatalogProduct, FlowDefinitionRow, FlowVersionRow};
use crate::config::DoctorConfig;
use crate::report::{Check, Item, Report};

/// Why the doctor could not start (not a finding: a finding is a [`Check`]).
#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    /// The Salesforce client could not be built.
    #[error("cannot build the Salesforce client: {0}")]
    Salesforce(#[source] SalesforceError),
    /// The WHMCS client could not be built.
    #[error("cannot build the WHMCS client: {0}")]
    Whmcs(#[source] WhmcsError),
}

/// The doctor: the two clients and the payment method to check.
#[derive(Debug, Clone)]
pub struct Doctor {
    salesforce: SalesforceClient,
    whmcs: WhmcsClient,
    payment_method: String,
}

/// An object's describe: found, absent (404, or not visible), or unreadable.
enum Described {
    Found(Box<ObjectDescribe>),
    Absent,
    Failed(SalesforceError),
}

impl Doctor {
    /// A doctor for `config`.
    pub fn new(config: DoctorConfig) -> Result<Self, DoctorError> {
        Ok(Self {
            salesforce: SalesforceClient::new(config.salesforce)
                .map_err(DoctorError::Salesforce)?,
            whmcs: WhmcsClient::new(config.whmcs).map_err(DoctorError::Whmcs)?,
            payment_method: config.payment_method,
        })
    }

    /// A doctor over existing clients (tests, tools).
    pub fn from_clients(
        salesforce: SalesforceClient,
        whmcs: WhmcsClient,
        payment_method: impl Into<String>,
    ) -> Self {
        Self {
            salesforce,
            whmcs,
            payment_method: payment_method.into(),
        }
    }

    /// The smoke run (`--smoke`) over this doctor's clients.
    pub fn smoke(
        &self,
        pubsub: salesforce::pubsub::PubSubConfig,
        timeout: std::time::Duration,
    ) -> crate::smoke::SmokeRun {
        crate::smoke::SmokeRun::new(self.salesforce.clone(), self.whmcs.clone(), pubsub, timeout)
    }

    /// Runs every check.
    pub async fn run(&self) -> Report {
        let sf = self.salesforce.config();
        let mut report = Report {
            target: vec![
                ("Salesforce login URL".to_owned(), sf.login_url().to_owned()),
                (
                    "Salesforce API version".to_owned(),
                    sf.api_version().as_str().to_owned(),
                ),
                (
                    "WHMCS API URL".to_owned(),
                    redacted(&self.whmcs.config().api_url),
                ),
            ],
            checks: Vec::new(),
        };
        let logged_in = self.check_salesforce(&mut report.checks).await;
        let catalog = if logged_in {
            Some(self.active_catalog().await)
        } else {
            None
        };
        self.check_whmcs(catalog, &mut report.checks).await;
        report.checks.extend(checks::manual_checks());
        report
    }

    /// The login, every object and the platform event. Returns whether the login worked.
    async fn check_salesforce(&self, out: &mut Vec<Check>) -> bool {
        let session = match self.salesforce.session().await {
            Ok(session) => session,
            Err(SalesforceError::Auth(error)) => {
                out.extend(checks::check_login(Err(&error)));
                return false;
            }
            Err(other) => {
                out.push(Check::fail(
                    Item::ConnectedApp,
                    "JWT bearer login",
                    format!("failed: {other}"),
                    "check SF_LOGIN_URL and the Connected App settings",
                ));
                return false;
            }
        };
        out.extend(checks::check_login(Ok(session.user_id.as_str())));
        for def in OBJECTS {
            match self.describe(def.name).await {
                Described::Found(d) => out.extend(checks::check_object(def, Some(&d))),
                Described::Absent => out.extend(checks::check_object(def, None)),
                Described::Failed(e) => out.push(unreadable(Item::ObjectPermissions, def.name, &e)),
            }
        }
        for event in PLATFORM_EVENTS {
            match self.describe(event.name).await {
                Described::Found(d) => out.extend(checks::check_event(event, Some(&d))),
                Described::Absent => out.extend(checks::check_event(event, None)),
                Described::Failed(e) => out.push(unreadable(Item::EventCreated, event.name, &e)),
            }
        }
        match self.read_flow().await {
            Ok((definition, version)) => {
                out.extend(checks::check_flow(definition.as_ref(), version.as_ref()));
            }
            Err(e) => out.extend(checks::flow_unreadable(&e)),
        }
        true
    }

    /// The Order Approval Flow through the Tooling API: its `FlowDefinition`
    /// and, when it has one, its active `Flow` version with the metadata.
    async fn read_flow(
        &self,
    ) -> Result<(Option<FlowDefinitionRow>, Option<FlowVersionRow>), SalesforceError> {
        let query = soql::select(["Id", "ActiveVersionId", "LatestVersionId"])
            .from("FlowDefinition")
            .where_(Cond::eq("DeveloperName", checks::FLOW_API_NAME))
            .build()?;
        let page = self.salesforce.tooling_query::<Value>(&query).await?;
        let Some(row) = page.records.first() else {
            return Ok((None, None));
        };
        let id = |field: &str| row.get(field).and_then(Value::as_str).map(str::to_owned);
        let definition = FlowDefinitionRow {
            active_version_id: id("ActiveVersionId"),
            latest_version_id: id("LatestVersionId"),
        };
        let Some(active) = definition.active_version_id.clone() else {
            return Ok((Some(definition), None));
        };
        let query = soql::select(["Id", "VersionNumber", "Status", "Metadata"])
            .from("Flow")
            .where_(Cond::eq("Id", active.as_str()))
            .build()?;
        let page = self.salesforce.tooling_query::<Value>(&query).await?;
        let version = page.records.first().map(|row| FlowVersionRow {
            version_number: row.get("VersionNumber").and_then(Value::as_u64),
            status: row
                .get("Status")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            metadata: row.get("Metadata").cloned().unwrap_or(Value::Null),
        });
        Ok((Some(definition), version))
    }

    async fn describe(&self, name: &str) -> Described {
        match self.salesforce.describe(name).await {
            Ok(d) => Described::Found(Box::new(d)),
            Err(e) if e.status() == Some(404) || e.error_codes().contains(&"NOT_FOUND") => {
                Described::Absent
            }
            Err(e) => Described::Failed(e),
        }
    }

    /// The active Product2 records and their WHMCS mapping.
    async fn active_catalog(&self) -> Result<Vec<CatalogProduct>, SalesforceError> {
        let query = soql::select([
            product::NAME,
            product::WHMCS_PRODUCT_ID,
            product::BILLING_CYCLE,
        ])
        .from(product::OBJECT)
        .where_(Cond::eq(product::IS_ACTIVE, true))
        .order_by(product::NAME, soql::Order::Asc)
        .build()?;
        let rows: Vec<Value> = self.salesforce.query_all(&query).await?;
        let text = |row: &Value, field: &str| {
            row.get(field)
                .and_then(Value::as_str)
                .filter(|v| !v.trim().is_empty())
                .map(str::to_owned)
        };
        Ok(rows
            .iter()
            .map(|row| CatalogProduct {
                name: text(row, product::NAME).unwrap_or_default(),
                whmcs_product_id: text(row, product::WHMCS_PRODUCT_ID),
                billing_cycle: text(row, product::BILLING_CYCLE),
            })
            .collect())
    }

    /// Credentials, products and custom field (when the catalog was read), payment method.
    async fn check_whmcs(
        &self,
        catalog: Option<Result<Vec<CatalogProduct>, SalesforceError>>,
        out: &mut Vec<Check>,
    ) {
        let products = self.whmcs.get_products(None).await;
        out.extend(checks::check_whmcs_credentials(
            products.as_ref().map(|_| ()),
        ));
        let Ok(products) = products else {
            return;
        };
        match catalog {
            Some(Ok(catalog)) => out.extend(checks::check_whmcs_products(&catalog, &products)),
            Some(Err(e)) => out.push(Check::fail(
                Item::WhmcsProducts,
                "active Product2 catalog",
                format!("could not be read: {e}"),
                "fix the Product2 fields and permissions reported above, then run the doctor again",
            )),
            None => {}
        }
        let methods = self.whmcs.get_payment_methods().await;
        out.extend(checks::check_payment_method(
            &self.payment_method,
            methods.as_deref(),
        ));
    }
}

/// An object that could not be described for another reason than absence.
fn unreadable(item: Item, name: &str, error: &SalesforceError) -> Check {
    Check::fail(
        item,
        name,
        format!("could not be described: {error}"),
        "check the integration user's API access (API Enabled) and run the doctor again",
    )
}

/// A URL without what could be a credential (user info, query, fragment).
fn redacted(url: &url::Url) -> String {
    let mut shown = url.clone();
    // Neither can fail on an http(s) URL, the only kind the configuration accepts.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_credentials() {
        let url =
            url::Url::parse("https://user:secret@billing.example/includes/api.php?accesskey=k")
                .expect("a URL");
        assert_eq!(redacted(&url), "https://billing.example/includes/api.php");
    }
}
