//! The Salesforce metadata package (SFDX source format), generated from
//! `salesforce::schema`: every `__c` field, the platform event, the standard
//! value sets the product relies on and the integration user's permission set.
//!
//! The generated files are committed under [`PACKAGE_DIR`]; a test regenerates
//! them and fails when they differ (`portal-doctor generate-metadata
//! infra/salesforce` rewrites them). The Order Approval flow and the connected
//! app template are written by hand in the same tree.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use salesforce::schema::{
    self, DefaultValue, FieldDef, FieldType, OBJECTS, PLATFORM_EVENTS, PlatformEventDef, case,
    opportunity, order, product,
};

use crate::access::{self, PERMISSIONABLE_OBJECTS};

/// The source directory of the package inside the SFDX project.
pub const SOURCE_DIR: &str = "force-app/main/default";
/// The SFDX project inside the repository.
pub const PROJECT_DIR: &str = "infra/salesforce";
/// The package's source directory, from the repository root.
pub const PACKAGE_DIR: &str = "infra/salesforce/force-app/main/default";
/// The integration user's permission set.
pub const PERMISSION_SET: &str = "Customer_Portal_Integration";
/// The Salesforce metadata API version of the package.
pub const API_VERSION: &str = "62.0";

/// Directories (under [`SOURCE_DIR`]) whose content is entirely generated.
pub const GENERATED_DIRS: &[&str] = &["objects", "standardValueSets", "permissionsets"];

/// Why the package cannot be generated or written.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// A schema field has a type no custom field can have.
    #[error("{object}.{field}: a {kind} cannot be a custom field")]
    Unsupported {
        /// The object.
        object: &'static str,
        /// The field.
        field: &'static str,
        /// Its type, as describe names it.
        kind: &'static str,
    },
    /// A file could not be read, written or removed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A standard value set the product relies on, with the field it backs.
#[derive(Debug, Clone, Copy)]
pub struct StandardValueSet {
    /// The value set's name, e.g. `OpportunityStage`.
    pub name: &'static str,
    /// The object of the field it backs.
    pub object: &'static str,
    /// The field it backs.
    pub field: &'static str,
}

/// The standard picklists whose values the product reads or writes.
pub const STANDARD_VALUE_SETS: &[StandardValueSet] = &[
    StandardValueSet {
        name: "OpportunityStage",
        object: opportunity::OBJECT,
        field: opportunity::STAGE,
    },
    StandardValueSet {
        name: "CaseType",
        object: case::OBJECT,
        field: case::TYPE,
    },
    StandardValueSet {
        name: "CaseStatus",
        object: case::OBJECT,
        field: case::STATUS,
    },
    StandardValueSet {
        name: "CaseOrigin",
        object: case::OBJECT,
        field: case::ORIGIN,
    },
    StandardValueSet {
        name: "Product2Family",
        object: product::OBJECT,
        field: product::FAMILY,
    },
    StandardValueSet {
        name: "OrderStatus",
        object: order::OBJECT,
        field: order::STATUS,
    },
];

/// The standard value set backing `object.field`, if any.
pub fn standard_value_set(object: &str, field: &str) -> Option<&'static StandardValueSet> {
    STANDARD_VALUE_SETS
        .iter()
        .find(|s| s.object.eq_ignore_ascii_case(object) && s.field.eq_ignore_ascii_case(field))
}

/// The path (under [`SOURCE_DIR`]) of the file defining `object.field`.
pub fn field_file(object: &str, field: &str) -> String {
    format!("objects/{object}/fields/{field}.field-meta.xml")
}

/// The path (under [`SOURCE_DIR`]) of a standard value set.
pub fn value_set_file(name: &str) -> String {
    format!("standardValueSets/{name}.standardValueSet-meta.xml")
}

/// The path (under [`SOURCE_DIR`]) of the permission set.
pub fn permission_set_file() -> String {
    format!("permissionsets/{PERMISSION_SET}.permissionset-meta.xml")
}

/// The path (under [`SOURCE_DIR`]) of a platform event's object file.
pub fn event_file(event: &str) -> String {
    format!("objects/{event}/{event}.object-meta.xml")
}

/// Every generated file: path under [`SOURCE_DIR`] → content.
pub fn generate() -> Result<BTreeMap<String, String>, MetadataError> {
    let mut files = BTreeMap::new();
    for object in OBJECTS {
        for field in object.fields.iter().filter(|f| access::in_package(f)) {
            files.insert(
                field_file(object.name, field.name),
                field_xml(object.name, field)?,
            );
        }
    }
    for event in PLATFORM_EVENTS {
        files.insert(event_file(event.name), event_xml(event));
        for field in event.fields {
            files.insert(
                field_file(event.name, field.name),
                field_xml(event.name, field)?,
            );
        }
    }
    for set in STANDARD_VALUE_SETS {
        files.insert(value_set_file(set.name), value_set_xml(set));
    }
    files.insert(permission_set_file(), permission_set_xml());
    Ok(files)
}

/// Writes the generated files into the SFDX project at `project` (e.g.
/// `infra/salesforce`) and removes files of the generated directories that
/// are no longer generated. Returns the paths written.
pub fn write(project: &Path) -> Result<Vec<PathBuf>, MetadataError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MetadataError::Io { path, source }
    };
    let root = project.join(SOURCE_DIR);
    let files = generate()?;
    for stale in existing_generated(&root)? {
        let relative = relative(&root, &stale);
        if !files.contains_key(&relative) {
            std::fs::remove_file(&stale).map_err(io(&stale))?;
        }
    }
    let mut written = Vec::with_capacity(files.len());
    for (relative, content) in &files {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, content).map_err(io(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// Every file currently under the generated directories of `root`.
pub fn existing_generated(root: &Path) -> Result<Vec<PathBuf>, MetadataError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), MetadataError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(MetadataError::Io {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        };
        for entry in entries {
            let path = entry
                .map_err(|source| MetadataError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?
                .path();
            if path.is_dir() {
                walk(&path, out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for dir in GENERATED_DIRS {
        walk(&root.join(dir), &mut out)?;
    }
    out.sort();
    Ok(out)
}

/// `path` relative to `root`, with `/` separators.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

const XML_HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const XMLNS: &str = "http://soap.sforce.com/2006/04/metadata";
const GENERATED_NOTE: &str =
    "Generated from salesforce::schema by portal-doctor generate-metadata; do not edit.";

/// Escapes text for an XML element.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            other => out.push(other),
        }
    }
    out
}

/// An indented `<name>value</name>` line.
fn element(out: &mut String, indent: usize, name: &str, value: &str) {
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{:indent$}<{name}>{}</{name}>",
        "",
        escape(value),
        indent = indent * 4
    );
}

fn open(out: &mut String, indent: usize, name: &str) {
    let _ = writeln!(out, "{:indent$}<{name}>", "", indent = indent * 4);
}

fn close(out: &mut String, indent: usize, name: &str) {
    let _ = writeln!(out, "{:indent$}</{name}>", "", indent = indent * 4);
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// The `CustomField` file of `object.field`.
pub fn field_xml(object: &'static str, field: &FieldDef) -> Result<String, MetadataError> {
    let unsupported = || MetadataError::Unsupported {
        object,
        field: field.name,
        kind: field.kind.describe_name(),
    };
    let mut out = String::from(XML_HEADER);
    let _ = writeln!(out, "<CustomField xmlns=\"{XMLNS}\">");
    element(&mut out, 1, "fullName", field.name);
    let unique_text = field.unique && matches!(field.kind, FieldType::Text { .. });
    if unique_text {
        element(&mut out, 1, "caseSensitive", "false");
    }
    if field.kind == FieldType::Boolean {
        let default = matches!(field.default, Some(DefaultValue::Bool(true)));
        element(&mut out, 1, "defaultValue", bool_text(default));
    }
    element(&mut out, 1, "description", GENERATED_NOTE);
    element(&mut out, 1, "externalId", bool_text(field.external_id));
    element(&mut out, 1, "label", field.label);
    let (type_name, length, precision_scale) = match field.kind {
        FieldType::Text { length } => ("Text", Some(length), None),
        FieldType::TextArea { length } if length <= 255 => ("TextArea", None, None),
        FieldType::TextArea { length } => ("LongTextArea", Some(length), None),
        FieldType::Email => ("Email", None, None),
        FieldType::Phone => ("Phone", None, None),
        FieldType::Picklist { .. } => ("Picklist", None, None),
        FieldType::Date => ("Date", None, None),
        FieldType::DateTime => ("DateTime", None, None),
        FieldType::Number { precision, scale } => ("Number", None, Some((precision, scale))),
        FieldType::Currency => ("Currency", None, Some((18, 2))),
        FieldType::Boolean => ("Checkbox", None, None),
        FieldType::Id
        | FieldType::Reference { .. }
        | FieldType::AutoNumber { .. }
        | FieldType::Base64 => {
            return Err(unsupported());
        }
    };
    if let Some(length) = length {
        element(&mut out, 1, "length", &length.to_string());
    }
    if let Some((precision, _)) = precision_scale {
        element(&mut out, 1, "precision", &precision.to_string());
    }
    if field.kind != FieldType::Boolean {
        element(&mut out, 1, "required", bool_text(field.required));
    }
    if let Some((_, scale)) = precision_scale {
        element(&mut out, 1, "scale", &scale.to_string());
    }
    element(&mut out, 1, "type", type_name);
    if matches!(
        field.kind,
        FieldType::Text { .. } | FieldType::Number { .. } | FieldType::Email
    ) {
        element(&mut out, 1, "unique", bool_text(field.unique));
    }
    if let FieldType::Picklist { values, restricted } = field.kind {
        open(&mut out, 1, "valueSet");
        element(&mut out, 2, "restricted", bool_text(restricted));
        open(&mut out, 2, "valueSetDefinition");
        element(&mut out, 3, "sorted", "false");
        for value in values {
            open(&mut out, 3, "value");
            element(&mut out, 4, "fullName", value);
            let default = field.default == Some(DefaultValue::Text(value));
            element(&mut out, 4, "default", bool_text(default));
            element(&mut out, 4, "label", value);
            close(&mut out, 3, "value");
        }
        close(&mut out, 2, "valueSetDefinition");
        close(&mut out, 1, "valueSet");
    }
    if type_name == "LongTextArea" {
        element(&mut out, 1, "visibleLines", "3");
    }
    out.push_str("</CustomField>\n");
    Ok(out)
}

/// The `CustomObject` file of a High Volume platform event, published after commit.
pub fn event_xml(event: &PlatformEventDef) -> String {
    let mut out = String::from(XML_HEADER);
    let _ = writeln!(out, "<CustomObject xmlns=\"{XMLNS}\">");
    element(&mut out, 1, "deploymentStatus", "Deployed");
    element(&mut out, 1, "description", GENERATED_NOTE);
    element(&mut out, 1, "eventType", "HighVolume");
    element(&mut out, 1, "label", event.label);
    element(&mut out, 1, "pluralLabel", event.label);
    element(&mut out, 1, "publishBehavior", "PublishAfterCommit");
    out.push_str("</CustomObject>\n");
    out
}

/// The values of the schema's picklist `object.field` (empty when it is none).
fn picklist_values(object: &str, field: &str) -> &'static [&'static str] {
    match schema::object(object)
        .and_then(|o| o.field(field))
        .map(|f| f.kind)
    {
        Some(FieldType::Picklist { values, .. }) => values,
        _ => &[],
    }
}

/// The default value of `object.field`, if any.
fn default_value(object: &str, field: &str) -> Option<&'static str> {
    match schema::object(object)
        .and_then(|o| o.field(field))
        .and_then(|f| f.default)
    {
        Some(DefaultValue::Text(v)) => Some(v),
        _ => None,
    }
}

/// The extra attributes some standard value sets require for each value.
fn value_attributes(set: &str, value: &str) -> Vec<(&'static str, String)> {
    match set {
        // Stage: open through Post Processing; Active and Cancelling are a won
        // (live) service; Cancelled and Void are lost.
        "OpportunityStage" => {
            let (closed, won, probability, forecast) = match value {
                "Introduction" => (false, false, 10, "Pipeline"),
                "Ready" => (false, false, 50, "Pipeline"),
                "Post Processing" => (false, false, 90, "Commit"),
                "Active" | "△Cancelling" => (true, true, 100, "Closed"),
                _ => (true, false, 0, "Omitted"),
            };
            vec![
                ("closed", bool_text(closed).to_owned()),
                ("forecastCategory", forecast.to_owned()),
                ("probability", probability.to_string()),
                ("won", bool_text(won).to_owned()),
            ]
        }
        "CaseStatus" => vec![("closed", bool_text(value == "Closed").to_owned())],
        // Order statuses belong to the Draft or Activated category.
        "OrderStatus" => {
            let category = if value == "Activated" {
                "Activated"
            } else {
                "Draft"
            };
            vec![("statusCategory", category.to_owned())]
        }
        _ => Vec::new(),
    }
}

/// The `StandardValueSet` file of `set`, with the schema's values.
pub fn value_set_xml(set: &StandardValueSet) -> String {
    let default = default_value(set.object, set.field);
    let mut out = String::from(XML_HEADER);
    let _ = writeln!(out, "<StandardValueSet xmlns=\"{XMLNS}\">");
    element(&mut out, 1, "sorted", "false");
    for value in picklist_values(set.object, set.field) {
        open(&mut out, 1, "standardValue");
        element(&mut out, 2, "fullName", value);
        element(&mut out, 2, "default", bool_text(default == Some(*value)));
        element(&mut out, 2, "label", value);
        for (name, text) in value_attributes(set.name, value) {
            element(&mut out, 2, name, &text);
        }
        close(&mut out, 1, "standardValue");
    }
    out.push_str("</StandardValueSet>\n");
    out
}

/// The integration user's permission set: the guide's object permissions, read
/// (and edit where the product writes) on every custom field of the package,
/// and read (subscribe) on the platform events.
pub fn permission_set_xml() -> String {
    let mut out = String::from(XML_HEADER);
    let _ = writeln!(out, "<PermissionSet xmlns=\"{XMLNS}\">");
    element(
        &mut out,
        1,
        "description",
        "Customer Portal integration user: object access of the setup guide, field-level security of every product field, subscribe to OrderProvisionRequested__e. Generated from salesforce::schema by portal-doctor generate-metadata; do not edit.",
    );
    let mut fields: Vec<(String, bool)> = Vec::new();
    for object in OBJECTS {
        if !PERMISSIONABLE_OBJECTS.contains(&object.name) {
            continue;
        }
        for field in object.fields.iter().filter(|f| access::in_package(f)) {
            let editable = access::must_create(object, field) || access::must_update(object, field);
            fields.push((format!("{}.{}", object.name, field.name), editable));
        }
    }
    fields.sort();
    for (field, editable) in &fields {
        open(&mut out, 1, "fieldPermissions");
        element(&mut out, 2, "editable", bool_text(*editable));
        element(&mut out, 2, "field", field);
        element(&mut out, 2, "readable", "true");
        close(&mut out, 1, "fieldPermissions");
    }
    element(&mut out, 1, "hasActivationRequired", "false");
    element(&mut out, 1, "label", "Customer Portal Integration");
    let mut objects: Vec<(&str, bool, bool, bool)> = PERMISSIONABLE_OBJECTS
        .iter()
        .map(|name| {
            let a = access::required(name);
            (*name, a.create, a.read, a.update)
        })
        .chain(PLATFORM_EVENTS.iter().map(|e| (e.name, false, true, false)))
        .collect();
    objects.sort_unstable();
    for (object, create, read, edit) in objects {
        open(&mut out, 1, "objectPermissions");
        element(&mut out, 2, "allowCreate", bool_text(create));
        element(&mut out, 2, "allowDelete", "false");
        element(&mut out, 2, "allowEdit", bool_text(edit));
        element(&mut out, 2, "allowRead", bool_text(read));
        element(&mut out, 2, "modifyAllRecords", "false");
        element(&mut out, 2, "object", object);
        element(&mut out, 2, "viewAllRecords", "false");
        close(&mut out, 1, "objectPermissions");
    }
    out.push_str("</PermissionSet>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restricted_picklist_field_carries_its_values_and_restriction() {
        let def = schema::object("Order")
            .and_then(|o| o.field(order::ACTIVATION_STATUS))
            .expect("field");
        let xml = field_xml("Order", def).expect("a picklist is a custom field type");
        assert!(xml.contains("<fullName>Activation_Status__c</fullName>"));
        assert!(xml.contains("<type>Picklist</type>"));
        assert!(xml.contains("<restricted>true</restricted>"));
        for value in order::ACTIVATION_STATUS_VALUES {
            assert!(
                xml.contains(&format!("<fullName>{value}</fullName>")),
                "{value}"
            );
        }
    }

    #[test]
    fn external_ids_numbers_and_long_text_get_their_attributes() {
        let account = schema::object("Account").expect("Account");
        let number =
            field_xml("Account", account.field("SF_Account_No__c").expect("field")).expect("text");
        assert!(number.contains("<externalId>true</externalId>"));
        assert!(number.contains("<unique>true</unique>"));
        assert!(number.contains("<caseSensitive>false</caseSensitive>"));
        let whmcs =
            field_xml("Account", account.field("WH_Account__c").expect("field")).expect("number");
        assert!(whmcs.contains("<precision>18</precision>") && whmcs.contains("<scale>0</scale>"));
        let json = field_xml(
            "Product2",
            schema::object("Product2")
                .and_then(|o| o.field(product::CONFIG_OPTIONS_JSON))
                .expect("field"),
        )
        .expect("long text");
        assert!(
            json.contains("<type>LongTextArea</type>") && json.contains("<length>32768</length>")
        );
    }

    #[test]
    fn values_are_escaped_and_the_package_has_no_field_without_the_suffix() {
        assert_eq!(escape("a & <b> \"c\""), "a &amp; &lt;b&gt; &quot;c&quot;");
        let files = generate().expect("the schema generates");
        assert!(files.keys().all(|p| !p.contains("CommodityType")));
        assert!(files.contains_key(
            "objects/OrderProvisionRequested__e/OrderProvisionRequested__e.object-meta.xml"
        ));
        let event =
            &files["objects/OrderProvisionRequested__e/OrderProvisionRequested__e.object-meta.xml"];
        assert!(event.contains("<eventType>HighVolume</eventType>"));
        assert!(event.contains("<publishBehavior>PublishAfterCommit</publishBehavior>"));
    }

    #[test]
    fn the_permission_set_grants_edit_only_where_the_product_writes() {
        let xml = permission_set_xml();
        let entry = |field: &str| {
            let at = xml
                .find(&format!("<field>{field}</field>"))
                .unwrap_or_else(|| panic!("{field} is in the permission set"));
            xml[..at]
                .rsplit("<fieldPermissions>")
                .next()
                .map(str::to_owned)
        };
        assert!(entry("Order.Activation_Status__c").is_some_and(|e| e.contains("<editable>true")));
        assert!(
            entry("Product2.WHMCS_Product_Id__c").is_some_and(|e| e.contains("<editable>false"))
        );
        assert!(xml.contains("<object>OrderProvisionRequested__e</object>"));
        assert!(!xml.contains("<allowDelete>true"));
    }
}
