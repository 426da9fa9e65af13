//! What the portal sells: the commodity types of an Opportunity and the
//! Product2 picklists.
//!
//! The strings mirror `salesforce::schema::opportunity::COMMODITY_TYPE_VALUES`
//! and `salesforce::schema::product::{FAMILY_VALUES, BILLING_CYCLE_VALUES,
//! ITEM_CLASS_VALUES}`.

use super::picklist::picklist;

picklist!(
    /// `Opportunity.CommodityType`. The API accepts these by their Salesforce value.
    CommodityType {
        /// Home Internet for a person.
        PersonalInternet => "Personal SonixNet Home Internet",
        /// Home Internet for a company.
        CorporateInternet => "Corporate SonixNet Home Internet",
        /// A mobile SIM.
        Sim => "SIM",
        /// A VPN.
        Vpn => "VPN",
    }
);

impl CommodityType {
    /// The `Product2.Family` whose products an order of this commodity may contain.
    pub const fn product_family(self) -> ProductFamily {
        match self {
            Self::PersonalInternet | Self::CorporateInternet => ProductFamily::Internet,
            Self::Sim => ProductFamily::Sim,
            Self::Vpn => ProductFamily::Vpn,
        }
    }

    /// Whether ordering it needs a checked Internet eligibility (only Internet does).
    pub const fn needs_eligibility(self) -> bool {
        matches!(self.product_family(), ProductFamily::Internet)
    }
}

picklist!(
    /// `Product2.Family`: the commodity a product belongs to.
    ProductFamily {
        /// Both Internet commodity types.
        Internet => "Internet",
        /// SIM.
        Sim => "SIM",
        /// VPN.
        Vpn => "VPN",
    }
);

picklist!(
    /// `Product2.Billing_Cycle__c`.
    BillingCycle {
        /// Billed every month.
        Monthly => "Monthly",
        /// Billed every year.
        Annually => "Annually",
        /// Billed once.
        OneTime => "One-time",
    }
);

picklist!(
    /// `Product2.Item_Class__c`.
    ItemClass {
        /// The service itself.
        Service => "Service",
        /// A one-off activation fee.
        Activation => "Activation",
        /// An option on a service.
        AddOn => "Add-on",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_the_commodity_is_internet_should_need_eligibility_and_map_to_the_internet_family() {
        for c in [
            CommodityType::PersonalInternet,
            CommodityType::CorporateInternet,
        ] {
            assert!(c.needs_eligibility());
            assert_eq!(c.product_family(), ProductFamily::Internet);
        }
        assert!(!CommodityType::Sim.needs_eligibility());
        assert!(!CommodityType::Vpn.needs_eligibility());
        assert_eq!(CommodityType::Sim.product_family().as_salesforce(), "SIM");
        assert_eq!(CommodityType::Vpn.product_family().as_salesforce(), "VPN");
    }

    #[test]
    fn when_parsing_a_commodity_should_accept_only_the_exact_salesforce_value() {
        assert_eq!(
            "Corporate SonixNet Home Internet".parse::<CommodityType>(),
            Ok(CommodityType::CorporateInternet)
        );
        assert!("sim".parse::<CommodityType>().is_err());
        assert!("Internet".parse::<CommodityType>().is_err());
    }

    #[test]
    fn when_listing_picklists_should_mirror_the_org_schema() {
        let joined = |v: Vec<&str>| v.join("|");
        assert_eq!(
            joined(
                CommodityType::ALL
                    .iter()
                    .map(|v| v.as_salesforce())
                    .collect()
            ),
            "Personal SonixNet Home Internet|Corporate SonixNet Home Internet|SIM|VPN"
        );
        assert_eq!(
            joined(
                ProductFamily::ALL
                    .iter()
                    .map(|v| v.as_salesforce())
                    .collect()
            ),
            "Internet|SIM|VPN"
        );
        assert_eq!(
            joined(
                BillingCycle::ALL
                    .iter()
                    .map(|v| v.as_salesforce())
                    .collect()
            ),
            "Monthly|Annually|One-time"
        );
        assert_eq!(
            joined(ItemClass::ALL.iter().map(|v| v.as_salesforce()).collect()),
            "Service|Activation|Add-on"
        );
    }
}
