//! The setup doctor and the Salesforce metadata package generator.
//!
//! - [`metadata`]: the SFDX source files generated from `salesforce::schema`;
//! - [`access`]: the integration user's object and field access (the guide's table);
//! - [`checks`]: pure checks over what was read from Salesforce and WHMCS;
//! - [`report`]: the checklist, as text or JSON, and the exit code;
//! - [`run`]: reads the org and WHMCS and runs the checks;
//! - [`config`]: the settings, from the environment.

pub mod access;
pub mod checks;
pub mod config;
pub mod metadata;
pub mod report;
pub mod run;
pub mod smoke;

pub use config::DoctorConfig;
pub use report::{Check, Item, Report, Section, Status};
pub use run::Doctor;
