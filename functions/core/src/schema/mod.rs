//! The slice of the Salesforce org the product relies on: objects, fields,
//! field types, picklist values and the platform event.
//!
//! This is the single source of truth. The code names fields through the
//! constants of the per-object modules ([`account`], [`order`], …), the org
//! emulator builds its schema from [`OBJECTS`], and the Salesforce metadata
//! package and the setup doctor are checked against it.

mod objects;

pub use objects::*;

/// The type of a field, as Salesforce describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// The record id (`id` in describe).
    Id,
    /// Single-line text of at most `length` characters (`string`).
    Text { length: u32 },
    /// Multi-line text (`textarea`); long text areas are the same type with a larger length.
    TextArea { length: u32 },
    /// An e-mail address (`email`).
    Email,
    /// A phone number (`phone`).
    Phone,
    /// A picklist; when `restricted`, values outside `values` are refused.
    Picklist {
        values: &'static [&'static str],
        restricted: bool,
    },
    /// A lookup or master-detail to `to`, navigable in SOQL as `relationship`.
    Reference {
        to: &'static str,
        relationship: &'static str,
    },
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// An instant, ISO 8601.
    DateTime,
    /// A number (`double`), serialised by Salesforce as a JSON number with a fraction (`12.0`).
    Number { precision: u8, scale: u8 },
    /// A currency amount (`currency`).
    Currency,
    /// `true` / `false`; never null.
    Boolean,
    /// A read-only, system-assigned text counter, e.g. `00000100`.
    AutoNumber { digits: u8 },
    /// Binary data (`base64`): base64 text in JSON bodies; reads return the
    /// URL of the blob (`/services/data/vXX.X/sobjects/{Object}/{id}/{Field}`).
    Base64,
}

impl FieldType {
    /// The `type` Salesforce's describe reports for this field.
    pub fn describe_name(&self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::Text { .. } | FieldType::AutoNumber { .. } => "string",
            FieldType::TextArea { .. } => "textarea",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Picklist { .. } => "picklist",
            FieldType::Reference { .. } => "reference",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Number { .. } => "double",
            FieldType::Currency => "currency",
            FieldType::Boolean => "boolean",
            FieldType::Base64 => "base64",
        }
    }
}

/// One field of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// API name, e.g. `Activation_Status__c`.
    pub name: &'static str,
    /// Label shown to staff.
    pub label: &'static str,
    pub kind: FieldType,
    /// Must be given on create (not nillable, no default, not system-set).
    pub required: bool,
    pub createable: bool,
    pub updateable: bool,
    /// A custom field, part of the product's metadata package.
    pub custom: bool,
    /// Usable for upsert by external id.
    pub external_id: bool,
    pub unique: bool,
    /// The value a record gets on create when the field is not given.
    pub default: Option<DefaultValue>,
}

/// A field's default on create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    Text(&'static str),
    Bool(bool),
}

/// One object (sObject type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectDef {
    pub name: &'static str,
    pub label: &'static str,
    /// The three-character id prefix (`001` for Account…).
    pub key_prefix: &'static str,
    /// Only the fields the product relies on, plus the system fields of [`SYSTEM_FIELDS`].
    pub fields: &'static [FieldDef],
}

impl ObjectDef {
    /// The field called `name` (case-insensitive, as Salesforce matches API names),
    /// including the system fields every object has.
    pub fn field(&self, name: &str) -> Option<&'static FieldDef> {
        self.fields
            .iter()
            .chain(SYSTEM_FIELDS.iter())
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Every field: the object's own, then the system fields.
    pub fn all_fields(&self) -> impl Iterator<Item = &'static FieldDef> + use<> {
        let own: &'static [FieldDef] = self.fields;
        own.iter().chain(SYSTEM_FIELDS.iter())
    }

    /// The reference field navigable as `relationship` (e.g. `Account` for `AccountId`).
    pub fn relationship(&self, relationship: &str) -> Option<&'static FieldDef> {
        self.all_fields().find(|f| match f.kind {
            FieldType::Reference {
                relationship: r, ..
            } => r.eq_ignore_ascii_case(relationship),
            _ => false,
        })
    }
}

/// The object called `name` (case-insensitive).
pub fn object(name: &str) -> Option<&'static ObjectDef> {
    OBJECTS.iter().find(|o| o.name.eq_ignore_ascii_case(name))
}

/// The object whose ids start with `prefix`.
pub fn object_by_key_prefix(prefix: &str) -> Option<&'static ObjectDef> {
    OBJECTS.iter().find(|o| o.key_prefix == prefix)
}

/// A platform event the product subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformEventDef {
    pub name: &'static str,
    pub label: &'static str,
    /// The Pub/Sub API topic, `/event/<name>`.
    pub topic: &'static str,
    /// The custom fields, as (API name, type).
    pub fields: &'static [FieldDef],
    /// The Avro schema Salesforce generates for the event.
    pub avro_schema: &'static str,
}

/// `OrderProvisionRequested__e`, published by the Order Approval Flow.
pub mod order_provision_requested {
    use super::{FieldDef, FieldType, PlatformEventDef};

    pub const EVENT: &str = "OrderProvisionRequested__e";
    pub const TOPIC: &str = "/event/OrderProvisionRequested__e";
    pub const ORDER_ID: &str = "OrderId__c";
    pub const IDEM_KEY: &str = "IdemKey__c";
    pub const CORRELATION_ID: &str = "CorrelationId__c";
    pub const REQUESTED_BY: &str = "RequestedBy__c";
    pub const VERSION: &str = "Version__c";
    /// The schema version the flow stamps on every event it publishes.
    pub const CURRENT_VERSION: f64 = 1.0;

    const fn field(
        name: &'static str,
        label: &'static str,
        kind: FieldType,
        required: bool,
    ) -> FieldDef {
        FieldDef {
            name,
            label,
            kind,
            required,
            createable: true,
            updateable: false,
            custom: true,
            external_id: false,
            unique: false,
            default: None,
        }
    }

    pub static DEF: PlatformEventDef = PlatformEventDef {
        name: EVENT,
        label: "Order Provision Requested",
        topic: TOPIC,
        fields: &[
            field(ORDER_ID, "Order ID", FieldType::Text { length: 18 }, true),
            field(
                IDEM_KEY,
                "Idempotency Key",
                FieldType::Text { length: 80 },
                false,
            ),
            field(
                CORRELATION_ID,
                "Correlation ID",
                FieldType::Text { length: 80 },
                false,
            ),
            field(
                REQUESTED_BY,
                "Requested By",
                FieldType::Text { length: 80 },
                false,
            ),
            field(
                VERSION,
                "Version",
                FieldType::Number {
                    precision: 18,
                    scale: 2,
                },
                false,
            ),
        ],
        avro_schema: include_str!("OrderProvisionRequested__e.avsc"),
    };
}

/// Every platform event the product uses.
pub static PLATFORM_EVENTS: &[&PlatformEventDef] = &[&order_provision_requested::DEF];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_prefixes_are_the_real_ones_and_unique() {
        let expected = [
            ("Account", "001"),
            ("Contact", "003"),
            ("User", "005"),
            ("Opportunity", "006"),
            ("Case", "500"),
            ("Order", "801"),
            ("OrderItem", "802"),
            ("Product2", "01t"),
            ("Pricebook2", "01s"),
            ("PricebookEntry", "01u"),
            ("ContentVersion", "068"),
            ("ContentDocument", "069"),
            ("ContentDocumentLink", "06A"),
        ];
        for (name, prefix) in expected {
            assert_eq!(object(name).map(|o| o.key_prefix), Some(prefix), "{name}");
        }
        let mut prefixes: Vec<_> = OBJECTS.iter().map(|o| o.key_prefix).collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        assert_eq!(prefixes.len(), OBJECTS.len());
    }

    #[test]
    fn every_reference_points_at_a_known_object_and_relationship_names_are_unique() {
        for o in OBJECTS {
            let mut rels = Vec::new();
            for f in o.all_fields() {
                if let FieldType::Reference { to, relationship } = f.kind {
                    assert!(object(to).is_some(), "{}.{} -> {to}", o.name, f.name);
                    rels.push(relationship.to_ascii_lowercase());
                }
            }
            let n = rels.len();
            rels.sort();
            rels.dedup();
            assert_eq!(n, rels.len(), "duplicate relationship names on {}", o.name);
        }
    }

    #[test]
    fn field_names_are_unique_per_object_and_defaults_are_legal() {
        for o in OBJECTS {
            let mut names: Vec<_> = o
                .all_fields()
                .map(|f| f.name.to_ascii_lowercase())
                .collect();
            let n = names.len();
            names.sort();
            names.dedup();
            assert_eq!(n, names.len(), "duplicate field on {}", o.name);
            for f in o.all_fields() {
                if let (Some(DefaultValue::Text(v)), FieldType::Picklist { values, .. }) =
                    (f.default, f.kind)
                {
                    assert!(values.contains(&v), "{}.{} default {v}", o.name, f.name);
                }
                if f.required {
                    assert!(f.createable && f.default.is_none(), "{}.{}", o.name, f.name);
                }
            }
        }
    }

    #[test]
    fn fields_are_found_case_insensitively() {
        let order = object("order").unwrap();
        assert_eq!(
            order.field("activation_status__c").unwrap().name,
            order::ACTIVATION_STATUS
        );
        assert_eq!(
            order.relationship("account").unwrap().name,
            order::ACCOUNT_ID
        );
        assert!(order.field("Nope__c").is_none());
    }
}
