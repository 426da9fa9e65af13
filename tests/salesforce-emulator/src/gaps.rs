//! [`SchemaGaps`]: an org that lacks parts of the product's schema (objects,
//! fields, picklist values), as a half-configured real org does. Describe,
//! writes, record reads and SOQL all behave as if the missing parts were never
//! created, so the setup doctor and the clients can be tested against it.

/// What the org is missing, by API name (matched case-insensitively). The
/// default lacks nothing.
///
/// ```
/// use salesforce_emulator::{EmulatorConfig, SchemaGaps};
/// let config = EmulatorConfig {
///     schema_gaps: SchemaGaps {
///         missing_fields: vec![("Order", "Activation_Error__c")],
///         missing_picklist_values: vec![("Order", "Activation_Status__c", "Activating")],
///         missing_objects: vec![],
///     },
///     ..EmulatorConfig::default()
/// };
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaGaps {
    /// Objects or platform events that do not exist (describe answers 404,
    /// SOQL `INVALID_TYPE`).
    pub missing_objects: Vec<&'static str>,
    /// `(object, field)` pairs that do not exist (absent from describe,
    /// `INVALID_FIELD` in writes, reads and SOQL).
    pub missing_fields: Vec<(&'static str, &'static str)>,
    /// `(object, field, value)`: picklist values absent from the field's value
    /// set (absent from describe; refused on write when the picklist is restricted).
    pub missing_picklist_values: Vec<(&'static str, &'static str, &'static str)>,
}

/// The org that lacks nothing.
pub(crate) static NO_GAPS: SchemaGaps = SchemaGaps {
    missing_objects: Vec::new(),
    missing_fields: Vec::new(),
    missing_picklist_values: Vec::new(),
};

impl SchemaGaps {
    /// Whether the org lacks nothing.
    pub fn is_empty(&self) -> bool {
        self.missing_objects.is_empty()
            && self.missing_fields.is_empty()
            && self.missing_picklist_values.is_empty()
    }

    /// Whether `object` does not exist.
    pub fn hides_object(&self, object: &str) -> bool {
        self.missing_objects
            .iter()
            .any(|o| o.eq_ignore_ascii_case(object))
    }

    /// Whether `object.field` does not exist (also when the object does not).
    pub fn hides_field(&self, object: &str, field: &str) -> bool {
        self.hides_object(object)
            || self
                .missing_fields
                .iter()
                .any(|(o, f)| o.eq_ignore_ascii_case(object) && f.eq_ignore_ascii_case(field))
    }

    /// Whether `value` is absent from the value set of picklist `object.field`.
    pub fn hides_value(&self, object: &str, field: &str, value: &str) -> bool {
        self.missing_picklist_values.iter().any(|(o, f, v)| {
            o.eq_ignore_ascii_case(object) && f.eq_ignore_ascii_case(field) && *v == value
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_case_insensitively_and_a_missing_object_hides_its_fields() {
        let gaps = SchemaGaps {
            missing_objects: vec!["OrderProvisionRequested__e"],
            missing_fields: vec![("Order", "Activation_Error__c")],
            missing_picklist_values: vec![("Order", "Activation_Status__c", "Activating")],
        };
        assert!(gaps.hides_field("order", "activation_error__c"));
        assert!(gaps.hides_field("OrderProvisionRequested__e", "OrderId__c"));
        assert!(!gaps.hides_field("Order", "Status"));
        assert!(gaps.hides_value("Order", "Activation_Status__c", "Activating"));
        assert!(!gaps.hides_value("Order", "Activation_Status__c", "activating"));
        assert!(NO_GAPS.is_empty() && !gaps.is_empty());
    }
}
