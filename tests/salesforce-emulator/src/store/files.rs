//! Salesforce Files in the emulated org, as the REST API shows them.
//!
//! Creating a `ContentVersion` with `VersionData` (base64 in the JSON body)
//! stores the file's bytes and, as Salesforce does:
//! - sets `ContentSize`, `Checksum` (MD5, hex), `FileExtension` and
//!   `FileType` (from `PathOnClient`'s extension), `VersionNumber` `1`,
//!   `IsLatest`, and `Title` from `PathOnClient` when none is given;
//! - creates the `ContentDocument` (`LatestPublishedVersionId` = the version)
//!   and sets the version's `ContentDocumentId`;
//! - with `FirstPublishLocationId`, creates the `ContentDocumentLink` from the
//!   document to that record (`ShareType` `I`, `Visibility` `AllUsers`).
//!   (Salesforce also links the file to its owner; the emulator's schema
//!   links files to Cases only, so that link is left out.)
//!
//! The bytes are kept beside the records ([`Blobs`], shared, not copied by a
//! transaction) and served at `sobjects/ContentVersion/{id}/VersionData`;
//! reads of the field return that URL. They roll back with the transaction
//! that stored them. Request size limits are the REST layer's
//! (`rest/files.rs`).

use std::sync::Arc;

use base64::Engine as _;
use md5::{Digest as _, Md5};
use salesforce::schema::{
    self, FieldType, ObjectDef, content_document, content_document_link, content_version,
};
use serde_json::Value;

use super::{Record, Sequences, Store};
use crate::LATEST_API_VERSION;
use crate::error::ApiError;

/// The bytes of every stored file version, by `ContentVersion` id (a
/// persistent map, like the records: cloning the store stays O(1)).
#[derive(Debug, Clone, Default)]
pub struct Blobs(imbl::HashMap<String, Arc<[u8]>>);

impl Blobs {
    /// The bytes of version `id`.
    pub fn get(&self, id: &str) -> Option<Arc<[u8]>> {
        self.0.get(id).cloned()
    }

    pub(super) fn insert(&mut self, id: String, bytes: Arc<[u8]>) {
        self.0.insert(id, bytes);
    }
}

/// The URL a read of a version's `VersionData` returns.
pub fn version_data_url(version: &str, id: &str) -> String {
    format!(
        "/services/data/v{version}/sobjects/{}/{id}/{}",
        content_version::OBJECT,
        content_version::VERSION_DATA
    )
}

/// Salesforce's `FileType` for a file extension.
fn file_type(extension: &str) -> &'static str {
    match extension {
        "jpg" | "jpeg" => "JPG",
        "png" => "PNG",
        "pdf" => "PDF",
        "txt" => "TEXT",
        "csv" => "CSV",
        "gif" => "GIF",
        _ => "UNKNOWN",
    }
}

/// A new record of `object` with every field at its default (system fields set).
fn blank(object: &ObjectDef, id: &str, stamp: &Value, user: &Value) -> Record {
    let mut record = Record::new();
    for f in object.all_fields() {
        let initial = match (f.default, f.kind) {
            (Some(schema::DefaultValue::Text(t)), _) => Value::String(t.to_owned()),
            (Some(schema::DefaultValue::Bool(b)), _) => Value::Bool(b),
            (None, FieldType::Boolean) => Value::Bool(false),
            _ => Value::Null,
        };
        record.insert(f.name.to_owned(), initial);
    }
    record.insert("Id".to_owned(), Value::String(id.to_owned()));
    record.insert("CreatedDate".to_owned(), stamp.clone());
    record.insert("LastModifiedDate".to_owned(), stamp.clone());
    record.insert("CreatedById".to_owned(), user.clone());
    record.insert("LastModifiedById".to_owned(), user.clone());
    record
}

fn object(name: &str) -> &'static ObjectDef {
    schema::object(name).unwrap_or_else(|| panic!("{name} is in salesforce::schema"))
}

/// Stores the file of the new version `id` (whose `record` is complete but
/// not yet inserted) and creates its document and link in `data`.
pub(super) fn publish_version(
    data: &mut Store,
    sequences: &Sequences,
    id: &str,
    record: &mut Record,
) -> Result<(), ApiError> {
    let Some(encoded) = record
        .get(content_version::VERSION_DATA)
        .and_then(Value::as_str)
    else {
        return Ok(());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| {
            ApiError::new(
                400,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of base64 from VALUE_STRING value (not valid base64)",
            )
        })?;
    let path = record
        .get(content_version::PATH_ON_CLIENT)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let file = path.rsplit(['/', '\\']).next().unwrap_or_default();
    let (stem, extension) = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 40 => {
            (stem.to_owned(), ext.to_ascii_lowercase())
        }
        _ => (file.to_owned(), String::new()),
    };
    if record
        .get(content_version::TITLE)
        .is_none_or(Value::is_null)
    {
        record.insert(content_version::TITLE.to_owned(), Value::String(stem));
    }
    let size = Value::from(bytes.len());
    let kind = Value::String(file_type(&extension).to_owned());
    let extension = Value::String(extension);
    let checksum: String = Md5::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    record.insert(content_version::CONTENT_SIZE.to_owned(), size.clone());
    record.insert(content_version::FILE_TYPE.to_owned(), kind.clone());
    record.insert(
        content_version::FILE_EXTENSION.to_owned(),
        extension.clone(),
    );
    record.insert(
        content_version::CHECKSUM.to_owned(),
        Value::String(checksum),
    );
    record.insert(
        content_version::VERSION_NUMBER.to_owned(),
        Value::String("1".to_owned()),
    );
    record.insert(content_version::IS_LATEST.to_owned(), Value::Bool(true));
    record.insert(
        content_version::VERSION_DATA.to_owned(),
        Value::String(version_data_url(LATEST_API_VERSION, id)),
    );

    let stamp = record.get("CreatedDate").cloned().unwrap_or(Value::Null);
    let user = record.get("CreatedById").cloned().unwrap_or(Value::Null);
    let document_def = object(content_document::OBJECT);
    let document_id = sequences.ids.next(document_def.key_prefix);
    let mut document = blank(document_def, &document_id, &stamp, &user);
    for (field, value) in [
        (
            content_document::TITLE,
            record[content_version::TITLE].clone(),
        ),
        (
            content_document::LATEST_PUBLISHED_VERSION_ID,
            Value::String(id.to_owned()),
        ),
        (content_document::FILE_TYPE, kind),
        (content_document::FILE_EXTENSION, extension),
        (content_document::CONTENT_SIZE, size),
    ] {
        document.insert(field.to_owned(), value);
    }
    record.insert(
        content_version::CONTENT_DOCUMENT_ID.to_owned(),
        Value::String(document_id.clone()),
    );
    data.insert(document_def, document_id.clone(), document);

    if let Some(location) = record
        .get(content_version::FIRST_PUBLISH_LOCATION_ID)
        .and_then(Value::as_str)
    {
        let link_def = object(content_document_link::OBJECT);
        let link_id = sequences.ids.next(link_def.key_prefix);
        let mut link = blank(link_def, &link_id, &stamp, &user);
        link.insert(
            content_document_link::CONTENT_DOCUMENT_ID.to_owned(),
            Value::String(document_id),
        );
        link.insert(
            content_document_link::LINKED_ENTITY_ID.to_owned(),
            Value::String(location.to_owned()),
        );
        link.insert(
            content_document_link::SHARE_TYPE.to_owned(),
            Value::String("I".to_owned()),
        );
        data.insert(link_def, link_id, link);
    }
    data.blobs.insert(id.to_owned(), Arc::from(bytes));
    Ok(())
}
