//! The doctor's settings: the Salesforce (`SF_*`) and WHMCS (`WHMCS_*`)
//! variables the functions read, validated once, and `WHMCS_PAYMENT_METHOD`
//! (the gateway AddOrder uses); a problem names the variable (exit code 2).

use portal_core::config::{Config, ConfigError, Env};
use salesforce::SalesforceConfig;
use whmcs::WhmcsConfig;

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

impl Config for DoctorConfig {
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            salesforce: SalesforceConfig::read(env)?,
            whmcs: WhmcsConfig::read(env)?,
            payment_method: env.required("WHMCS_PAYMENT_METHOD")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named() {
        let err = DoctorConfig::from_lookup(|_| None).unwrap_err();
        assert!(err.to_string().contains("SF_"), "{err}");
    }
}
