//! Objects every org has that the product's schema does not define, because the
//! product never writes them: `Organization`, which third-party clients query
//! for the tenant id (`SELECT Id FROM Organization`). The emulator finds objects
//! through [`object`] and [`object_by_key_prefix`]: the product's schema first,
//! then these.

use salesforce::schema::{self, FieldDef, FieldType, ObjectDef};

const fn read_only(name: &'static str, label: &'static str, kind: FieldType) -> FieldDef {
    FieldDef {
        name,
        label,
        kind,
        required: false,
        createable: false,
        updateable: false,
        custom: false,
        external_id: false,
        unique: false,
        default: None,
    }
}

/// `Organization` (key prefix `00D`, SF docs "Object Reference: Organization"):
/// one read-only record per org, its id the org id.
pub static ORGANIZATION: ObjectDef = ObjectDef {
    name: "Organization",
    label: "Organization",
    key_prefix: "00D",
    fields: &[
        read_only("Name", "Name", FieldType::Text { length: 80 }),
        read_only(
            "InstanceName",
            "Instance Name",
            FieldType::Text { length: 5 },
        ),
        read_only("IsSandbox", "Is Sandbox", FieldType::Boolean),
        read_only(
            "OrganizationType",
            "Edition",
            FieldType::Text { length: 40 },
        ),
        read_only(
            "TimeZoneSidKey",
            "Default Time Zone",
            FieldType::Text { length: 40 },
        ),
    ],
};

/// The platform's own objects.
pub static PLATFORM_OBJECTS: &[&ObjectDef] = &[&ORGANIZATION];

/// The object called `name` (case-insensitive): the product's, else the platform's.
pub fn object(name: &str) -> Option<&'static ObjectDef> {
    schema::object(name).or_else(|| {
        PLATFORM_OBJECTS
            .iter()
            .copied()
            .find(|o| o.name.eq_ignore_ascii_case(name))
    })
}

/// The object whose ids start with `prefix`.
pub fn object_by_key_prefix(prefix: &str) -> Option<&'static ObjectDef> {
    schema::object_by_key_prefix(prefix).or_else(|| {
        PLATFORM_OBJECTS
            .iter()
            .copied()
            .find(|o| o.key_prefix == prefix)
    })
}
