//! Whether an order of a commodity can be placed now, and if not why: the
//! one rule behind `POST /orders`' conflicts and `GET /account`'s `orderable`,
//! so the two never disagree.
//!
//! SIM and VPN need nothing. An Internet commodity needs the Account's
//! eligibility `Checked` and the commodity's open Opportunity (the newest at
//! `Introduction` or `Ready`) at `Ready`. Where the issue is silent: with the
//! eligibility checked, no open Opportunity and one at `Void` (CS's "not
//! eligible or abandoned"), the reason is "not eligible".

use serde::Serialize;

use crate::domain::{CommodityType, EligibilityStatus, OpportunityId, OpportunityStage};

use super::error::ConflictReason;

/// Why an order of a commodity cannot be placed now. The `Display` text is
/// written for the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum NotOrderable {
    /// No eligibility check was asked for (or CS reset it).
    #[error("Please request an Internet eligibility check for your address first.")]
    EligibilityNotChecked,
    /// The check is asked for and not done yet.
    #[error(
        "We are checking whether Internet service is available at your address. We will let you know as soon as we know."
    )]
    EligibilityPending,
    /// Eligible, but the application is not ready to order yet.
    #[error(
        "Your Internet application is not ready to be ordered yet. We will let you know as soon as it is."
    )]
    ApplicationNotReady,
    /// CS found the address not eligible (the Opportunity is `Void`).
    #[error(
        "Internet service is not available at your address. Please contact support if you think this is wrong."
    )]
    NotEligible,
}

impl NotOrderable {
    /// Every reason.
    pub const ALL: &'static [Self] = &[
        Self::EligibilityNotChecked,
        Self::EligibilityPending,
        Self::ApplicationNotReady,
        Self::NotEligible,
    ];

    /// The stable code (`eligibility-not-checked`, …).
    pub const fn code(self) -> &'static str {
        match self {
            Self::EligibilityNotChecked => "eligibility-not-checked",
            Self::EligibilityPending => "eligibility-pending",
            Self::ApplicationNotReady => "application-not-ready",
            Self::NotEligible => "not-eligible",
        }
    }

    /// The 409 an order refused for this reason answers with.
    pub const fn conflict(self) -> ConflictReason {
        match self {
            Self::EligibilityNotChecked | Self::EligibilityPending => {
                ConflictReason::EligibilityNotChecked
            }
            Self::ApplicationNotReady | Self::NotEligible => ConflictReason::ApplicationNotReady,
        }
    }
}

/// One of the Account's Opportunities, as the readiness rule needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommodityOpportunity {
    /// Its id.
    pub id: OpportunityId,
    /// Its `CommodityType` (none: not the portal's).
    pub commodity: Option<CommodityType>,
    /// Its `StageName`.
    pub stage: OpportunityStage,
}

/// Whether `commodity` can be ordered, given the Account's eligibility
/// status, the commodity's open Opportunity's stage (`open`) and whether it
/// has a `Void` one (`has_void`; pass `false` when not read).
pub fn readiness(
    commodity: CommodityType,
    eligibility: Option<EligibilityStatus>,
    open: Option<OpportunityStage>,
    has_void: bool,
) -> Result<(), NotOrderable> {
    if !commodity.needs_eligibility() {
        return Ok(());
    }
    match (eligibility, open) {
        (None, _) => Err(NotOrderable::EligibilityNotChecked),
        (Some(EligibilityStatus::Pending), _) => Err(NotOrderable::EligibilityPending),
        (Some(EligibilityStatus::Checked), Some(OpportunityStage::Ready)) => Ok(()),
        (Some(EligibilityStatus::Checked), None) if has_void => Err(NotOrderable::NotEligible),
        (Some(EligibilityStatus::Checked), _) => Err(NotOrderable::ApplicationNotReady),
    }
}

/// One entry of `GET /account`'s `orderable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Orderability {
    /// The commodity.
    pub commodity_type: CommodityType,
    /// Whether an order can be placed now.
    pub can_order: bool,
    /// Why not, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

/// A reason an order cannot be placed, for the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The stable code.
    pub code: &'static str,
    /// The sentence to show.
    pub message: String,
}

/// `orderable` for every commodity, from the Account's eligibility status
/// and its Opportunities, newest first.
pub fn orderable(
    eligibility: Option<EligibilityStatus>,
    opportunities: &[CommodityOpportunity],
) -> Vec<Orderability> {
    CommodityType::ALL
        .iter()
        .map(|&commodity| {
            let mine = || {
                opportunities
                    .iter()
                    .filter(move |o| o.commodity == Some(commodity))
            };
            let open = mine().find(|o| o.stage.is_open()).map(|o| o.stage);
            let has_void = mine().any(|o| o.stage == OpportunityStage::Void);
            let verdict = readiness(commodity, eligibility, open, has_void);
            Orderability {
                commodity_type: commodity,
                can_order: verdict.is_ok(),
                reason: verdict.err().map(|r| Reason {
                    code: r.code(),
                    message: r.to_string(),
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::fake::opportunity;

    const HOME: CommodityType = CommodityType::PersonalInternet;

    fn opp(commodity: CommodityType, stage: OpportunityStage) -> CommodityOpportunity {
        CommodityOpportunity {
            id: opportunity(),
            commodity: Some(commodity),
            stage,
        }
    }

    fn reason_of(
        eligibility: Option<EligibilityStatus>,
        opps: &[CommodityOpportunity],
    ) -> Option<&'static str> {
        orderable(eligibility, opps)
            .into_iter()
            .find(|o| o.commodity_type == HOME)
            .and_then(|o| o.reason.map(|r| r.code))
    }

    #[test]
    fn when_nothing_was_asked_sim_and_vpn_can_be_ordered_and_internet_cannot() {
        let all = orderable(None, &[]);
        assert_eq!(all.len(), CommodityType::ALL.len());
        for entry in all {
            assert_eq!(
                entry.can_order,
                !entry.commodity_type.needs_eligibility(),
                "{entry:?}"
            );
        }
        assert_eq!(reason_of(None, &[]), Some("eligibility-not-checked"));
    }

    #[test]
    fn when_the_eligibility_and_application_move_on_the_reason_should_follow() {
        use EligibilityStatus::{Checked, Pending};
        use OpportunityStage::{Active, Introduction, Ready, Void};
        assert_eq!(
            reason_of(Some(Pending), &[opp(HOME, Introduction)]),
            Some("eligibility-pending")
        );
        assert_eq!(
            reason_of(Some(Checked), &[opp(HOME, Introduction)]),
            Some("application-not-ready")
        );
        assert_eq!(reason_of(Some(Checked), &[]), Some("application-not-ready"));
        assert_eq!(
            reason_of(Some(Checked), &[opp(HOME, Void)]),
            Some("not-eligible")
        );
        assert_eq!(
            reason_of(Some(Checked), &[opp(HOME, Ready), opp(HOME, Void)]),
            None
        );
        assert_eq!(
            reason_of(
                Some(Checked),
                &[opp(CommodityType::Sim, Ready), opp(HOME, Active)]
            ),
            Some("application-not-ready")
        );
    }

    #[test]
    fn every_reason_should_map_to_the_conflict_an_order_gets() {
        use EligibilityStatus::{Checked, Pending};
        for (eligibility, open, conflict) in [
            (None, None, ConflictReason::EligibilityNotChecked),
            (
                Some(Pending),
                Some(OpportunityStage::Ready),
                ConflictReason::EligibilityNotChecked,
            ),
            (
                Some(Checked),
                Some(OpportunityStage::Introduction),
                ConflictReason::ApplicationNotReady,
            ),
            (Some(Checked), None, ConflictReason::ApplicationNotReady),
        ] {
            assert_eq!(
                readiness(HOME, eligibility, open, false)
                    .unwrap_err()
                    .conflict(),
                conflict
            );
        }
        assert_eq!(
            NotOrderable::NotEligible.conflict(),
            ConflictReason::ApplicationNotReady
        );
    }
}
