//! The reconciler's backlog, the world condition of the scenario
//! `reconciler-backlog` (see [`crate::schedule`]): Orders approved long ago
//! and `Activating` ever since, whose reconcile attempts are used up. The
//! reconciler reports such an Order instead of re-enqueueing it — it is left
//! to staff — and production may hold hundreds of them. They are seeded
//! straight into the org, as history ([`Emulator::insert_history`]: stamped a
//! day ago, no event, since the events of that day are long gone), and into
//! the reconcile-attempt store (attempts used up, backoff long over), before
//! any worker starts. They are older than every Order of the seed in both
//! orders a sweep could read them (Id, `LastModifiedDate`), so a sweep that
//! reads the oldest page again every run never gets past them.
//!
//! The invariants leave the backlog out by design (nothing in the pipeline
//! is meant to provision it); every other approved Order must still end
//! `Provisioned`, and the seed settles only once none of those is left
//! `Activating`.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use portal_core::domain::OrderId;
use portal_core::ports::memory::InMemoryReconcileAttempts;
use portal_core::ports::{ReconcileAttempt, ReconcileAttempts as _};
use portal_core::reconcile::ReconcileSettings;
use portal_core::schema::order;
use salesforce_emulator::Emulator;
use serde_json::json;

use super::WorldError;

/// The Orders of the backlog (none for most seeds).
#[derive(Debug, Clone, Default)]
pub struct Backlog {
    /// Their 15-character ids.
    orders: BTreeSet<String>,
}

impl Backlog {
    /// Whether Order `id` (15 or 18 characters) is one of them.
    pub fn contains(&self, id: &str) -> bool {
        self.orders.contains(id.get(..15).unwrap_or(id))
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }
}

/// Seeds `n` Orders of the backlog into `org` and `attempts` (each with
/// `settings.max_attempts` attempts made). Call it before the workers start.
pub(super) async fn seed(
    org: &Emulator,
    attempts: &InMemoryReconcileAttempts,
    n: usize,
    settings: &ReconcileSettings,
) -> Result<Backlog, WorldError> {
    if n == 0 {
        return Ok(Backlog::default());
    }
    let now = Utc::now();
    // Whole seconds: the attempt store keeps the Order's LastModifiedDate
    // exactly as Salesforce shows it (a later one starts the attempts over).
    let approved_at = DateTime::from_timestamp(now.timestamp() - 86_400, 0).unwrap_or(now);
    let approved = json!({"Status": "Approved", "EffectiveDate": "2026-01-01"});
    let ids = org.insert_history(order::OBJECT, &vec![approved; n], approved_at)?;
    let used_up = ReconcileAttempt {
        attempts: settings.max_attempts,
        next_at: approved_at + TimeDelta::hours(1),
        last_at: approved_at + TimeDelta::hours(1),
        order_modified_at: Some(approved_at),
        expires_at: now + TimeDelta::days(30),
    };
    let mut backlog = Backlog::default();
    for id in ids {
        let order_id = OrderId::parse(&id).map_err(|_| WorldError::Backlog(id.clone()))?;
        attempts
            .record_attempt(&order_id, &used_up)
            .await
            .map_err(|_| WorldError::Backlog(id.clone()))?;
        backlog
            .orders
            .insert(id.get(..15).unwrap_or(&id).to_owned());
    }
    Ok(backlog)
}
