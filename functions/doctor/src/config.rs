//! The doctor's settings: the Salesforce (`SF_*`) and WHMCS (`WHMCS_*`)
//! variables the functions read, validated once; a problem names the variable.

use portal_core::config::Env;
use salesforce::SalesforceConfig;
use whmcs::WhmcsConfig;

/// `WHMCS_PAYMENT_METHOD`: the gateway system name AddOrder uses.
pub const PAYMENT_METHOD: &str = "WHMCS_PAYMENT_METHOD";

/// A missing or malformed setting (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A Salesforce setting; the message names the variable.
    #[error(transparent)]
    Salesforce(#[from] salesforce::ConfigError),
    /// A WHMCS setting; the message names the variable.
    #[error(transparent)]
    Whmcs(#[from] whmcs::ConfigError),
    /// A required variable is unset or empty.
    #[error("{0} is not set")]
    NotSet(&'static str),
}

/// Everything the doctor needs.
#[derive(Debug)]
pub struct DoctorConfig {
    /// How to reach and log in to the org.
    pub salesforce: SalesforceConfig,
    /// How to reach WHMCS.
    pub whmcs: WhmcsConfig,
    /// The payment gateway the provisioner will use.
    pub payment_method: String,
}

impl DoctorConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let salesforce = SalesforceConfig::from_lookup(&lookup)?;
        let whmcs = WhmcsConfig::from_lookup(&lookup)?;
        let payment_method = Env::new(&lookup)
            .required(PAYMENT_METHOD)
            .map_err(|_| ConfigError::NotSet(PAYMENT_METHOD))?;
        Ok(Self {
            salesforce,
            whmcs,
            payment_method,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named() {
        let err = DoctorConfig::from_lookup(|_| None).unwrap_err();
        assert!(err.to_string().contains("SF_LOGIN_URL"), "{err}");
    }
}
