//! WHMCS External API client.
//!
//! Calls `POST …/includes/api.php` with form-encoded parameters: PHP-style
//! indexed arrays ([`form`]), custom fields and configurable options as
//! base64 of a PHP-serialised array ([`php`]), lenient reading of the numbers
//! WHMCS returns as strings ([`lenient`]). Errors say whether a call may be
//! retried and, for exactly-once provisioning, whether WHMCS may have acted
//! without our knowing ([`WhmcsError::outcome_unknown`]).
//!
//! No secret and no personal data (emails, names) is ever logged.

pub mod billing;
mod client;
pub mod config;
pub mod error;
pub mod form;
pub mod lenient;
pub mod model;
pub mod php;

pub use client::WhmcsClient;
pub use config::{DEFAULT_TIMEOUT, WhmcsConfig};
pub use error::{TransportStage, WhmcsError};
pub use model::{
    AcceptOutcome, AddedOrder, BillingCycle, ClientDetails, CustomFieldValue, NewClient, NewOrder,
    Order, OrderLine, OrderLineItem, OrderStatus, PaymentMethod, Product, ProductCustomField,
    ProductPrice, Service, ServiceStatus, UnknownBillingCycle,
};
