//! The Order Approval Flow, read through the Tooling API (`FlowDefinition`,
//! `Flow`): active and publishing passes; not deployed, inactive, or active
//! without the event element fails both lines with the fix.

use portal_doctor::{Item, Status};
use salesforce_emulator::{EmulatorConfig, OrderFlowSetup};

use crate::helpers::world_with;

async fn flow_lines(setup: OrderFlowSetup) -> Vec<(Item, Status, String)> {
    let world = world_with(EmulatorConfig {
        order_flow: setup,
        ..EmulatorConfig::default()
    })
    .await;
    let report = world.doctor().run().await;
    report
        .checks
        .iter()
        .filter(|c| matches!(c.item, Item::FlowActive | Item::FlowPublishes))
        .map(|c| (c.item, c.status, c.line()))
        .collect()
}

#[tokio::test]
async fn an_active_flow_that_creates_the_event_passes_both_lines() {
    let lines = flow_lines(OrderFlowSetup::Active).await;
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines.iter().all(|(_, s, _)| *s == Status::Pass),
        "{lines:#?}"
    );
    assert!(lines[0].2.contains("is active (version 1)"), "{lines:#?}");
}

#[tokio::test]
async fn a_missing_or_inactive_flow_fails_both_lines_with_the_deploy_fix() {
    for (setup, says) in [
        (OrderFlowSetup::Missing, "is not in the org"),
        (OrderFlowSetup::Inactive, "has no active version"),
    ] {
        let lines = flow_lines(setup).await;
        assert_eq!(lines.len(), 2, "{setup:?}: {lines:#?}");
        assert!(
            lines.iter().all(|(_, s, _)| *s == Status::Fail),
            "{setup:?}: {lines:#?}"
        );
        assert!(lines[0].2.contains(says), "{setup:?}: {lines:#?}");
        assert!(
            lines[0].2.contains("flows/Order_Approval.flow-meta.xml"),
            "{lines:#?}"
        );
    }
}

#[tokio::test]
async fn an_active_flow_without_the_event_element_fails_only_the_publish_line() {
    let lines = flow_lines(OrderFlowSetup::WithoutEvent).await;
    let status = |item| lines.iter().find(|(i, ..)| *i == item).map(|(_, s, _)| *s);
    assert_eq!(status(Item::FlowActive), Some(Status::Pass), "{lines:#?}");
    assert_eq!(
        status(Item::FlowPublishes),
        Some(Status::Fail),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|(_, _, l)| l.contains("creates no OrderProvisionRequested__e")),
        "{lines:#?}"
    );
}
