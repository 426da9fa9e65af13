//! The org's data: records kept in wire form, write validation, and the
//! transaction every write runs in.
//!
//! A write never touches the committed [`Store`]: it runs on a [`Txn`], a copy
//! of the data, which is swapped in only when the whole request succeeds.

mod files;
mod transaction;
mod validation;

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use salesforce::schema::{self, FieldType, ObjectDef};
use serde_json::{Map, Value, json};

use crate::ids::{self, IdGenerator};
use crate::soql::RecordSource;

pub use files::{Blobs, version_data_url};
pub use transaction::{Savepoint, Txn, UpsertOutcome};

/// A stored record: canonical field API name → value in wire form (the SOQL contract's type).
pub use crate::soql::Record;

/// The committed data of one org: every record by id, and each object's ids in insertion order.
#[derive(Debug, Clone, Default)]
pub struct Store {
    records: HashMap<String, Record>,
    by_object: HashMap<&'static str, Vec<String>>,
    /// The bytes of Salesforce Files (`files.rs`).
    blobs: Blobs,
}

impl Store {
    /// The bytes of the file version `id` (`ContentVersion`).
    pub fn blob(&self, id: &str) -> Option<std::sync::Arc<[u8]>> {
        self.blobs.get(id)
    }

    /// The record with this 18-character id.
    pub fn get(&self, id: &str) -> Option<&Record> {
        self.records.get(id)
    }

    /// The records of `object`, in insertion order.
    pub fn of(&self, object: &ObjectDef) -> impl Iterator<Item = &Record> {
        self.by_object
            .get(object.name)
            .into_iter()
            .flatten()
            .filter_map(|id| self.records.get(id))
    }

    /// How many records `object` has.
    pub fn count(&self, object: &ObjectDef) -> usize {
        self.by_object.get(object.name).map_or(0, Vec::len)
    }

    fn insert(&mut self, object: &'static ObjectDef, id: String, record: Record) {
        self.by_object
            .entry(object.name)
            .or_default()
            .push(id.clone());
        self.records.insert(id, record);
    }

    fn replace(&mut self, id: &str, record: Record) {
        if let Some(slot) = self.records.get_mut(id) {
            *slot = record;
        }
    }
}

impl RecordSource for Store {
    fn records(&self, object: &'static ObjectDef) -> Vec<&Record> {
        self.of(object).collect()
    }

    fn get(&self, id: &str) -> Option<&Record> {
        self.records.get(id)
    }
}

/// The object a record id belongs to, from its key prefix.
pub fn object_of_id(id: &str) -> Option<&'static ObjectDef> {
    schema::object_by_key_prefix(ids::key_prefix(id))
}

/// Counters that live outside transactions, as in Salesforce: record ids and
/// auto-numbers advance even when the transaction that took them rolls back.
#[derive(Debug, Default)]
pub struct Sequences {
    /// Record ids.
    pub ids: IdGenerator,
    autonumbers: Mutex<HashMap<(&'static str, &'static str), u64>>,
}

/// The first value of every auto-number field.
const AUTONUMBER_START: u64 = 100;

impl Sequences {
    /// The next value of an auto-number field, zero-padded to `digits`.
    pub fn next_autonumber(&self, object: &'static str, field: &'static str, digits: u8) -> String {
        let mut counters = self
            .autonumbers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let counter = counters.entry((object, field)).or_insert(AUTONUMBER_START);
        let n = *counter;
        *counter += 1;
        format!("{n:0width$}", width = usize::from(digits))
    }
}

/// Who performs a write, and with which object permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The integration user: create/read/update on the portal's objects, read-only on the catalog.
    Integration,
    /// A staff user (behind the admin token): create/read/update on everything but users.
    Staff,
    /// The platform itself (seed data): no permission checks, read-only fields writable.
    System,
}

/// Objects the integration user may create and update (the setup guide's permission table).
const INTEGRATION_WRITABLE: &[&str] = &[
    "Account",
    "Contact",
    "Order",
    "OrderItem",
    "Opportunity",
    "Case",
    // Files: the ID documents (issue 13). Salesforce grants this with the
    // user's license, not an object permission.
    "ContentVersion",
];

impl Role {
    /// May this role create records of `object`?
    pub fn can_create(self, object: &ObjectDef) -> bool {
        match self {
            Role::Integration => INTEGRATION_WRITABLE.contains(&object.name),
            Role::Staff => object.name != schema::user::OBJECT,
            Role::System => true,
        }
    }

    /// May this role update records of `object`?
    pub fn can_update(self, object: &ObjectDef) -> bool {
        self.can_create(object)
    }
}

/// The user behind a write and their role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The 18-character `005` id of the user.
    pub user_id: String,
    pub role: Role,
}

/// The REST path of a record: `/services/data/v{version}/sobjects/{Object}/{id}`.
pub fn record_url(version: &str, object: &ObjectDef, id: &str) -> String {
    format!("/services/data/v{version}/sobjects/{}/{id}", object.name)
}

/// A record as the REST API returns it: `attributes` then the fields (all, or only `only`).
pub fn render(
    object: &ObjectDef,
    record: &Record,
    version: &str,
    only: Option<&[&'static schema::FieldDef]>,
) -> Value {
    let id = record.get("Id").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::new();
    out.insert(
        "attributes".to_owned(),
        json!({"type": object.name, "url": record_url(version, object, id)}),
    );
    let mut put = |name: &str| {
        out.insert(
            name.to_owned(),
            record.get(name).cloned().unwrap_or(Value::Null),
        );
    };
    match only {
        Some(fields) => fields.iter().for_each(|f| put(f.name)),
        None => {
            put("Id");
            object
                .all_fields()
                .filter(|f| f.kind != FieldType::Id)
                .for_each(|f| put(f.name));
        }
    }
    Value::Object(out)
}
