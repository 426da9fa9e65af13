//! The scenario `catalog-change-on-lost-order` (see [`crate::schedule`]) as
//! the world carries it out. At its moment the next AddOrder is armed to
//! commit and lose its answer ([`fault`]). The world watches WHMCS spend
//! that fault ([`WhmcsEmulator::spent_faults`](whmcs_emulator::WhmcsEmulator::spent_faults))
//! and, the moment WHMCS has committed the order — while the provisioner is
//! still waiting for the answer — removes the WHMCS mapping of its products
//! in the org, as staff editing the catalog would. So the delivery after the
//! lost answer meets a record whose outcome is unknown *and* a broken
//! mapping: the provisioner must settle the record (find the order WHMCS
//! made) before the mapping can fail the Order. Once Salesforce shows the
//! Order `Failed` (or after [`FAILED_WITHIN`]) the mappings are put back;
//! the window's end then lifts the faults and staff approve the failed Order
//! again, as they do every failed Order: the approval reopens the Order, and
//! one WHMCS order per Order must still hold.

use std::time::Duration;

use tokio::time::Instant;
use whmcs_emulator::{SpentFault, WhmcsFault, salesforce_order_id_field};

use super::World;
use super::catalog::Catalog;
use crate::actors::staff::text;
use crate::schedule::{Fault, LostAnswer, Schedule};

/// How long the mappings stay removed at most, waiting for the Order to fail.
pub const FAILED_WITHIN: Duration = Duration::from_secs(10);

/// The WHMCS fault of `answer` on AddOrder (`stall`: how late a stalled answer comes).
pub fn fault(answer: LostAnswer, stall: Duration) -> WhmcsFault {
    match answer {
        LostAnswer::Timeout => WhmcsFault::timeout_after_commit("AddOrder"),
        LostAnswer::Stall => WhmcsFault::stall_after_commit("AddOrder", stall),
        LostAnswer::Drop => WhmcsFault::drop_after_commit("AddOrder"),
    }
}

/// Whether `spent` lost an AddOrder answer after commit.
fn lost_add_order(spent: &SpentFault) -> bool {
    match &spent.fault {
        WhmcsFault::TimeoutAfterCommit { action }
        | WhmcsFault::StallAfterCommit { action, .. }
        | WhmcsFault::DropAfterCommit { action } => action.eq_ignore_ascii_case("AddOrder"),
        _ => false,
    }
}

/// Carries out the schedule's `catalog-change-on-lost-order`, if it has one
/// (the fault itself is armed by the schedule's runner at its moment): from
/// that moment until the end of the window, waits for an AddOrder answer to
/// be lost, removes the mapping of that order's products at once, waits for
/// its Order to fail and puts the mappings back. Returns what it did, with
/// when (counted from `start`).
pub async fn unmap_on_lost_order(
    world: &World,
    schedule: &Schedule,
    catalog: &Catalog,
    start: Instant,
    window: Duration,
) -> Vec<(u64, String)> {
    let Some(armed_at) = schedule.faults.iter().find_map(|s| {
        matches!(s.fault, Fault::CatalogChangeOnLostOrder { .. }).then_some(s.at_millis)
    }) else {
        return Vec::new();
    };
    let at = |note: String| {
        (
            u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            note,
        )
    };
    let mut spent = world.whmcs.spent_faults();
    tokio::time::sleep_until(start + Duration::from_millis(armed_at)).await;
    let mut seen = spent.borrow_and_update().len();
    let lost = loop {
        {
            let all = spent.borrow_and_update();
            if let Some(lost) = all[seen..].iter().find(|s| lost_add_order(s)) {
                break lost.clone();
            }
            seen = all.len();
        }
        tokio::select! {
            changed = spent.changed() => if changed.is_err() { return Vec::new() },
            () = tokio::time::sleep_until(start + window) => {
                return vec![at("CatalogChangeOnLostOrder: no AddOrder answer was lost in the window".to_owned())];
            }
        }
    };
    let mut notes = Vec::new();
    let whmcs_order = lost.answer["orderid"].as_u64();
    let services: Vec<_> = world
        .whmcs
        .services()
        .into_iter()
        .filter(|s| Some(s.order_id) == whmcs_order)
        .collect();
    let order = services.iter().find_map(|s| {
        let field = salesforce_order_id_field(s.pid)?;
        s.custom_fields
            .get(&field)
            .filter(|v| !v.is_empty())
            .cloned()
    });
    let mut codes: Vec<String> = services
        .iter()
        .flat_map(|s| catalog.codes_of_pid(s.pid))
        .collect();
    codes.dedup();
    for code in &codes {
        if let Err(error) = catalog.unmap(world, code) {
            notes.push(at(format!("unmapping {code} refused: {error}")));
        }
    }
    notes.push(at(format!(
        "AddOrder answer lost ({:?}): WHMCS order {whmcs_order:?} of Order {order:?} committed; mapping of {codes:?} removed",
        lost.fault
    )));
    let until = Instant::now() + FAILED_WITHIN;
    let failed = loop {
        let activation = order
            .as_deref()
            .and_then(|id| world.org.record(id))
            .map(|record| text(&record, "Activation_Status__c"));
        if activation.as_deref() == Some("Failed") {
            break true;
        }
        if order.is_none() || Instant::now() >= until {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for code in &codes {
        catalog.remap(world, code);
    }
    notes.push(at(format!(
        "mapping of {codes:?} put back ({})",
        if failed {
            "the Order failed"
        } else {
            "the Order did not fail"
        }
    )));
    notes
}
