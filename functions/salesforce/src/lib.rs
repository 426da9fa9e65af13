//! Salesforce REST client and the org schema the product relies on.
pub mod schema;
