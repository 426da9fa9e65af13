//! What the integration user must be allowed to do: the object permissions of
//! the setup guide's table, and the field-level security that follows from
//! `salesforce::schema`. The permission set is generated from here and the
//! doctor checks the org against the same rules.

use salesforce::schema::{FieldDef, ObjectDef, case, opportunity};

/// The object permissions one object needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectAccess {
    /// The object's API name.
    pub object: &'static str,
    /// Create records.
    pub create: bool,
    /// Read records.
    pub read: bool,
    /// Update records.
    pub update: bool,
}

const fn full(object: &'static str) -> ObjectAccess {
    ObjectAccess {
        object,
        create: true,
        read: true,
        update: true,
    }
}

const fn read_only(object: &'static str) -> ObjectAccess {
    ObjectAccess {
        object,
        create: false,
        read: true,
        update: false,
    }
}

/// The setup guide's "Required Object Permissions" (nobody deletes).
pub const GUIDE_TABLE: &[ObjectAccess] = &[
    full("Account"),
    full("Contact"),
    full("Order"),
    full("OrderItem"),
    full("Opportunity"),
    full("Case"),
    read_only("Product2"),
    read_only("PricebookEntry"),
];

/// The access the integration user needs on `object`: the guide's row, or
/// read-only for the other objects the product reads (`Pricebook2`, `User`).
pub fn required(object: &str) -> ObjectAccess {
    GUIDE_TABLE
        .iter()
        .copied()
        .find(|a| a.object.eq_ignore_ascii_case(object))
        .unwrap_or(ObjectAccess {
            object: "",
            create: false,
            read: true,
            update: false,
        })
}

/// Objects whose permissions a permission set carries itself. Salesforce
/// derives `OrderItem` from `Order` and `PricebookEntry` from `Product2` and
/// `Pricebook2`, and `User` access is not granted by permission sets.
pub const PERMISSIONABLE_OBJECTS: &[&str] = &[
    "Account",
    "Contact",
    "Opportunity",
    "Case",
    "Order",
    "Product2",
    "Pricebook2",
];

/// Whether the integration user must be able to set `field` when creating a
/// record of `object`.
pub fn must_create(object: &ObjectDef, field: &FieldDef) -> bool {
    required(object.name).create && field.createable
}

/// Whether the integration user must be able to change `field` on update.
pub fn must_update(object: &ObjectDef, field: &FieldDef) -> bool {
    required(object.name).update && field.updateable
}

/// Fields the guide names without the `__c` a custom field must have: no
/// metadata package can create them under these names, so they must already
/// exist in the org (see `infra/salesforce/README.md`). The doctor checks them
/// like any other field.
pub const PRE_EXISTING_FIELDS: &[(&str, &str)] = &[
    (opportunity::OBJECT, opportunity::COMMODITY_TYPE),
    (case::OBJECT, case::OPPORTUNITY_ID),
];

/// Whether `object.field` is one of [`PRE_EXISTING_FIELDS`].
pub fn is_pre_existing(object: &str, field: &str) -> bool {
    PRE_EXISTING_FIELDS
        .iter()
        .any(|(o, f)| o.eq_ignore_ascii_case(object) && f.eq_ignore_ascii_case(field))
}

/// Whether `field` belongs to the metadata package: a custom field whose API
/// name ends in `__c`.
pub fn in_package(field: &FieldDef) -> bool {
    field.custom && field.name.ends_with("__c")
}

#[cfg(test)]
mod tests {
    use salesforce::schema::{self, order, product};

    use super::*;

    #[test]
    fn the_guide_table_and_the_schema_agree_on_what_is_writable() {
        let order_def = schema::object(order::OBJECT).expect("Order");
        let status = order_def.field(order::ACTIVATION_STATUS).expect("field");
        assert!(must_create(order_def, status) && must_update(order_def, status));
        let catalog = schema::object(product::OBJECT).expect("Product2");
        let whmcs = catalog.field(product::WHMCS_PRODUCT_ID).expect("field");
        assert!(!must_create(catalog, whmcs) && !must_update(catalog, whmcs));
        assert!(required("Pricebook2").read && !required("Pricebook2").create);
        for access in GUIDE_TABLE {
            assert!(schema::object(access.object).is_some(), "{}", access.object);
        }
    }

    #[test]
    fn fields_without_the_custom_suffix_stay_out_of_the_package() {
        for (object, field) in PRE_EXISTING_FIELDS {
            let def = schema::object(object)
                .and_then(|o| o.field(field))
                .expect("the schema has the field");
            assert!(!in_package(def), "{object}.{field}");
            assert!(is_pre_existing(object, field));
        }
    }
}
