//! Order values: quantities, prices, currencies and WHMCS references.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a quantity is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number from 1 to 99")]
pub struct QuantityError;

/// How many of a product an order line asks for: 1 to 99.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Quantity(u8);

impl Quantity {
    /// Checks `raw`.
    pub fn new(raw: i64) -> Result<Self, QuantityError> {
        u8::try_from(raw)
            .ok()
            .filter(|q| (1..=99).contains(q))
            .map(Self)
            .ok_or(QuantityError)
    }

    /// The quantity.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// Why a WHMCS id is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a positive whole number")]
pub struct WhmcsIdError;

macro_rules! whmcs_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "i64", into = "u64")]
        pub struct $name(u64);

        impl $name {
            /// Checks `raw`.
            pub fn new(raw: i64) -> Result<Self, WhmcsIdError> {
                u64::try_from(raw)
                    .ok()
                    .filter(|id| *id > 0)
                    .map(Self)
                    .ok_or(WhmcsIdError)
            }

            /// The id.
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = WhmcsIdError;

            fn try_from(raw: i64) -> Result<Self, Self::Error> {
                Self::new(raw)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

whmcs_id!(
    /// A WHMCS service (hosting) id, as stored in `Opportunity.WHMCS_Service_ID__c`.
    WhmcsServiceId
);
whmcs_id!(
    /// A WHMCS order id, as stored in `Order.WHMCS_Order_Id__c`.
    WhmcsOrderId
);

/// Why a price is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a price must be a finite, non-negative number")]
pub struct UnitPriceError;

/// A unit price read from a `PricebookEntry`.
///
/// The portal never computes with prices: it copies the entry's value into
/// the OrderItem and shows it in the catalog, so the `f64` Salesforce sends
/// (a JSON number) travels unchanged.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct UnitPrice(f64);

impl UnitPrice {
    /// Checks `raw`.
    pub fn new(raw: f64) -> Result<Self, UnitPriceError> {
        if raw.is_finite() && raw >= 0.0 {
            Ok(Self(raw))
        } else {
            Err(UnitPriceError)
        }
    }

    /// The amount, in the org's currency.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// Why a currency code is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an ISO 4217 code of three capital letters, like JPY")]
pub struct CurrencyCodeError;

/// An ISO 4217 currency code (the org's currency; `JPY` by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    /// Japanese yen.
    pub const JPY: CurrencyCode = CurrencyCode(*b"JPY");

    /// Checks `raw`.
    pub fn parse(raw: &str) -> Result<Self, CurrencyCodeError> {
        let bytes: [u8; 3] = raw
            .trim()
            .as_bytes()
            .try_into()
            .map_err(|_| CurrencyCodeError)?;
        if bytes.iter().all(u8::is_ascii_uppercase) {
            Ok(Self(bytes))
        } else {
            Err(CurrencyCodeError)
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        // Only ASCII capitals are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl Default for CurrencyCode {
    fn default() -> Self {
        Self::JPY
    }
}

impl From<CurrencyCode> for String {
    fn from(c: CurrencyCode) -> Self {
        c.as_str().to_owned()
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn when_the_quantity_is_1_to_99_should_accept_it() {
        assert_eq!(Quantity::new(1).unwrap().get(), 1);
        assert_eq!(Quantity::new(99).unwrap().get(), 99);
    }

    #[test]
    fn when_the_quantity_is_out_of_range_should_refuse() {
        for bad in [0, -1, 100, 256, i64::MAX, i64::MIN] {
            assert_eq!(Quantity::new(bad), Err(QuantityError), "{bad}");
        }
    }

    #[test]
    fn when_the_whmcs_id_is_not_positive_should_refuse() {
        assert_eq!(WhmcsServiceId::new(0), Err(WhmcsIdError));
        assert_eq!(WhmcsServiceId::new(-5), Err(WhmcsIdError));
        assert_eq!(WhmcsServiceId::new(31).unwrap().get(), 31);
        assert_eq!(
            serde_json::to_string(&WhmcsOrderId::new(12).unwrap()).unwrap(),
            "12"
        );
        assert!(serde_json::from_str::<WhmcsServiceId>("0").is_err());
    }

    #[test]
    fn when_the_price_is_not_finite_or_negative_should_refuse() {
        assert!(UnitPrice::new(4980.0).is_ok());
        assert!(UnitPrice::new(0.0).is_ok());
        assert!(UnitPrice::new(-1.0).is_err());
        assert!(UnitPrice::new(f64::NAN).is_err());
        assert!(UnitPrice::new(f64::INFINITY).is_err());
    }

    #[test]
    fn when_the_currency_is_three_capitals_should_accept_it() {
        assert_eq!(CurrencyCode::parse("USD").unwrap().as_str(), "USD");
        assert_eq!(CurrencyCode::default().as_str(), "JPY");
        assert_eq!(
            serde_json::to_string(&CurrencyCode::JPY).unwrap(),
            "\"JPY\""
        );
        for bad in ["jpy", "JP", "JPYY", "円"] {
            assert!(CurrencyCode::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn when_any_integer_is_a_quantity_it_should_be_within_1_to_99(n in any::<i64>()) {
            match Quantity::new(n) {
                Ok(q) => prop_assert!((1..=99).contains(&q.get()) && i64::from(q.get()) == n),
                Err(_) => prop_assert!(!(1..=99).contains(&n)),
            }
        }
    }
}
