//! The portal's settings the use cases need.

use crate::domain::{CurrencyCode, Timezone};

/// Settings read once at start by the binary and passed to the use cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortalSettings {
    /// Where "today" is judged (orders' EffectiveDate, cancellation dates).
    /// Default Asia/Tokyo (`+09:00`).
    pub timezone: Timezone,
    /// The org's currency, shown with catalog prices. Default `JPY`.
    pub currency: CurrencyCode,
}
