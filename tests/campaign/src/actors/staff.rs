//! Customer service, as it works in the org: it reads the org's records (its
//! list views, here the emulator's store) and writes through the REST API
//! with the staff token, retrying what failed — so its writes meet the same
//! faults as everyone else's. It checks eligibility, approves every Order
//! waiting for review, approves some Orders a second time once provisioned,
//! and, once the faults are over, approves again the Orders that failed (as
//! their `Activation_Error__c` tells it to).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use portal_core::schema::order;
use salesforce_emulator::Emulator;
use serde_json::{Value, json};
use tokio::time::Instant;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many times staff approve a failed Order again.
pub const REAPPROVALS: u32 = 2;

/// Whether a failed Order waits for staff to finish its WHMCS order by hand
/// (an `IncompleteOrder`: the order exists without every line). Staff in
/// the campaign do not emulate that work, so they leave such an Order Failed.
pub fn left_to_staff(record: &Value) -> bool {
    text(record, order::ACTIVATION_ERROR).contains("by hand")
}

/// What staff did.
#[derive(Debug, Default, Clone)]
pub struct StaffLog {
    /// Orders approved (their first approval), with when.
    pub approved: BTreeMap<String, Instant>,
    /// Provisioned Orders approved a second time.
    pub approved_twice: BTreeSet<String>,
    /// Failed Orders approved again, and how often.
    pub reapproved: BTreeMap<String, u32>,
}

/// Customer service.
#[derive(Debug, Clone)]
pub struct Staff {
    http: reqwest::Client,
    rest: String,
    token: String,
    /// Accounts whose Orders staff approve twice.
    pub twice: Arc<Mutex<BTreeSet<String>>>,
    /// What staff did.
    pub log: Arc<Mutex<StaffLog>>,
}

impl Staff {
    /// Staff of the org at `base_url`, signed in with `token`.
    pub fn new(base_url: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("a plain HTTP client builds"),
            rest: format!("{base_url}/services/data/v62.0"),
            token: token.to_owned(),
            twice: Arc::default(),
            log: Arc::default(),
        }
    }

    /// A copy of what staff did.
    pub fn log(&self) -> StaffLog {
        lock(&self.log).clone()
    }

    /// `PATCH sobjects/<object>/<id>`, again after any failure, until it
    /// succeeds or `until`.
    pub async fn patch(&self, object: &str, id: &str, fields: &Value, until: Instant) -> bool {
        let url = format!("{}/sobjects/{object}/{id}", self.rest);
        let mut wait = Duration::from_millis(30);
        loop {
            let sent = self
                .http
                .patch(&url)
                .bearer_auth(&self.token)
                .json(fields)
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => return true,
                Ok(response) if response.status().as_u16() == 400 => {
                    // A lock error is worth another try; other refusals are not.
                    let body = response.text().await.unwrap_or_default();
                    if !body.contains("UNABLE_TO_LOCK_ROW") {
                        tracing::warn!(object, %body, "staff's update was refused");
                        return false;
                    }
                }
                _ => {}
            }
            if Instant::now() + wait > until {
                return false;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(300));
        }
    }

    /// The eligibility check of an Internet customer: Account `Checked`,
    /// Opportunity `Ready`.
    pub async fn check_eligibility(
        &self,
        account: &str,
        opportunity: &str,
        until: Instant,
    ) -> bool {
        self.patch(
            "Account",
            account,
            &json!({"Internet_Eligibility_Status__c": "Checked"}),
            until,
        )
        .await
            && self
                .patch(
                    "Opportunity",
                    opportunity,
                    &json!({"StageName": "Ready"}),
                    until,
                )
                .await
    }

    /// One round over the org's Orders: approve those waiting for review,
    /// approve again the provisioned ones of the "twice" accounts, and, when
    /// `failed_too`, approve again the failed ones (at most [`REAPPROVALS`]
    /// times each).
    pub async fn round(&self, org: &Emulator, failed_too: bool, until: Instant) {
        for record in org.records(order::OBJECT) {
            let id = text(&record, "Id");
            let account = text(&record, order::ACCOUNT_ID);
            let status = text(&record, order::STATUS);
            let activation = text(&record, order::ACTIVATION_STATUS);
            let (approved, twice_done, reapproved) = {
                let log = lock(&self.log);
                (
                    log.approved.contains_key(&id),
                    log.approved_twice.contains(&id),
                    log.reapproved.get(&id).copied().unwrap_or(0),
                )
            };
            if status == "Pending Review" && !approved {
                if self
                    .patch(order::OBJECT, &id, &json!({"Status": "Approved"}), until)
                    .await
                {
                    lock(&self.log).approved.insert(id, Instant::now());
                }
            } else if activation == "Provisioned"
                && !twice_done
                && lock(&self.twice).contains(&account)
            {
                lock(&self.log).approved_twice.insert(id.clone());
                self.activate(&id, until).await;
            } else if failed_too
                && activation == "Failed"
                && reapproved < REAPPROVALS
                && !left_to_staff(&record)
            {
                *lock(&self.log).reapproved.entry(id.clone()).or_insert(0) += 1;
                self.activate(&id, until).await;
            }
        }
    }

    /// Approves an Order again: `Activation_Status__c = Activating`, which
    /// the Order Approval Flow turns into a new event.
    async fn activate(&self, id: &str, until: Instant) -> bool {
        self.patch(
            order::OBJECT,
            id,
            &json!({"Activation_Status__c": "Activating"}),
            until,
        )
        .await
    }
}

/// A text field of a record (empty when absent).
pub fn text(record: &Value, field: &str) -> String {
    record[field].as_str().unwrap_or_default().to_owned()
}
