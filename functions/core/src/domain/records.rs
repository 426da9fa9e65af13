//! The picklists of the records the portal writes: Opportunity, Case, Order.
//!
//! The strings mirror `salesforce::schema::opportunity::{STAGE_VALUES,
//! PORTAL_SOURCE_VALUES}`, `salesforce::schema::case::{TYPE_VALUES,
//! STATUS_VALUES, ORIGIN_VALUES}` and `salesforce::schema::order::{STATUS_VALUES,
//! ACTIVATION_STATUS_VALUES}`.

use super::picklist::picklist;

picklist!(
    /// `Opportunity.StageName`: the customer's journey for one commodity.
    OpportunityStage {
        /// Inquiry or eligibility request.
        Introduction => "Introduction",
        /// Eligible, ready to order.
        Ready => "Ready",
        /// Order placed, being processed.
        PostProcessing => "Post Processing",
        /// The service is live.
        Active => "Active",
        /// Cancellation requested.
        Cancelling => "△Cancelling",
        /// Cancelled.
        Cancelled => "△Cancelled",
        /// Not eligible or abandoned.
        Void => "Void",
    }
);

impl OpportunityStage {
    /// Whether the Opportunity is still before an order (`Introduction` or
    /// `Ready`): the "open" Opportunity that eligibility requests and orders
    /// reuse instead of creating another.
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Introduction | Self::Ready)
    }
}

picklist!(
    /// `Opportunity.Portal_Source__c`: which portal action created or last moved it.
    PortalSource {
        /// An Internet eligibility request.
        EligibilityRequest => "Portal - Internet Eligibility Request",
        /// An order.
        OrderPlacement => "Portal - Order Placement",
        /// Created by sales staff (never written by the portal).
        SalesManual => "Sales - Manual",
    }
);

picklist!(
    /// `Case.Type` of the cases the portal opens.
    CaseType {
        /// Internet eligibility request.
        EligibilityCheck => "Eligibility Check",
        /// Manual ID verification review.
        IdVerification => "ID Verification",
        /// Service cancellation.
        CancellationRequest => "Cancellation Request",
        /// Support ticket.
        GeneralInquiry => "General Inquiry",
    }
);

picklist!(
    /// `Case.Status`.
    CaseStatus {
        /// Just opened (what the portal writes).
        New => "New",
        /// Being worked on.
        Working => "Working",
        /// Escalated.
        Escalated => "Escalated",
        /// Done.
        Closed => "Closed",
    }
);

impl CaseStatus {
    /// Whether the case is still open (anything but `Closed`).
    pub const fn is_open(self) -> bool {
        !matches!(self, Self::Closed)
    }
}

picklist!(
    /// `Case.Origin`: the portal writes only `Portal`.
    CaseOrigin {
        /// Phone.
        Phone => "Phone",
        /// E-mail.
        Email => "Email",
        /// The public website.
        Web => "Web",
        /// The customer portal.
        Portal => "Portal",
    }
);

picklist!(
    /// `Order.Status`.
    OrderStatus {
        /// Being created.
        Draft => "Draft",
        /// Waiting for CS approval (what the portal writes).
        PendingReview => "Pending Review",
        /// Approved by CS; triggers provisioning.
        Approved => "Approved",
        /// Provisioned and active.
        Activated => "Activated",
        /// Cancelled.
        Cancelled => "Cancelled",
    }
);

picklist!(
    /// `Order.Activation_Status__c`: the provisioning state.
    ActivationStatus {
        /// Waiting for CS approval (what the portal writes).
        PendingReview => "Pending Review",
        /// Being provisioned in WHMCS.
        Activating => "Activating",
        /// Provisioned.
        Provisioned => "Provisioned",
        /// Provisioning failed; see `Activation_Error__c`.
        Failed => "Failed",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn joined<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> String {
        all.iter().map(|v| f(*v)).collect::<Vec<_>>().join("|")
    }

    #[test]
    fn when_listing_picklists_should_mirror_the_org_schema() {
        assert_eq!(
            joined(OpportunityStage::ALL, OpportunityStage::as_salesforce),
            "Introduction|Ready|Post Processing|Active|△Cancelling|△Cancelled|Void"
        );
        assert_eq!(
            joined(PortalSource::ALL, PortalSource::as_salesforce),
            "Portal - Internet Eligibility Request|Portal - Order Placement|Sales - Manual"
        );
        assert_eq!(
            joined(CaseType::ALL, CaseType::as_salesforce),
            "Eligibility Check|ID Verification|Cancellation Request|General Inquiry"
        );
        assert_eq!(
            joined(CaseStatus::ALL, CaseStatus::as_salesforce),
            "New|Working|Escalated|Closed"
        );
        assert_eq!(
            joined(CaseOrigin::ALL, CaseOrigin::as_salesforce),
            "Phone|Email|Web|Portal"
        );
        assert_eq!(
            joined(OrderStatus::ALL, OrderStatus::as_salesforce),
            "Draft|Pending Review|Approved|Activated|Cancelled"
        );
        assert_eq!(
            joined(ActivationStatus::ALL, ActivationStatus::as_salesforce),
            "Pending Review|Activating|Provisioned|Failed"
        );
    }

    #[test]
    fn when_the_stage_is_before_an_order_should_count_as_open() {
        let open: Vec<_> = OpportunityStage::ALL
            .iter()
            .filter(|s| s.is_open())
            .copied()
            .collect();
        assert_eq!(
            open,
            vec![OpportunityStage::Introduction, OpportunityStage::Ready]
        );
    }

    #[test]
    fn when_a_value_is_unknown_should_not_map() {
        assert_eq!(OpportunityStage::from_salesforce("Cancelling"), None);
        assert_eq!(
            OpportunityStage::from_salesforce("△Cancelling"),
            Some(OpportunityStage::Cancelling)
        );
    }
}
