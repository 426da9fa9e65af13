//! The org's data: records kept in wire form, write validation, and the
//! transaction every write runs in.
//!
//! A write never touches the committed [`Store`]: it runs on a [`Txn`], its own
//! version of the data, which replaces the committed one only when the whole
//! request succeeds. The store is a persistent (copy-on-write) structure: a
//! version costs the same whatever the number of records, and a write copies
//! only the few nodes on its path, so neither a request nor a savepoint grows
//! with the org (`BENCHMARKS.md`, "org emulator").
//!
//! Besides the records, the store keeps each object's ids in insertion order and
//! an index of every field [`soql::is_indexed`] says Salesforce indexes (lookups,
//! external ids, unique fields), which queries, upserts and uniqueness checks use.

mod transaction;
mod validation;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use salesforce::schema::{self, FieldDef, FieldType, ObjectDef};
use serde_json::{Map, Value, json};

use crate::ids::{self, IdGenerator};
use crate::soql::{self, RecordSource};

pub use transaction::{Savepoint, Txn, UpsertOutcome};
pub(crate) use validation::format_datetime;

/// A stored record: canonical field API name → value in wire form (the SOQL contract's type).
pub use crate::soql::Record;

/// One record and where it stands in insertion order.
#[derive(Debug, Clone)]
struct Stored {
    seq: u64,
    object: &'static str,
    record: Arc<Record>,
}

/// Where an index files a value: object, field, [`soql::index_key`].
type Slot = (&'static str, &'static str, String);

/// The committed data of one org: every record by id, each object's ids in insertion
/// order, and the indexes. Cloning it is O(1).
#[derive(Debug, Clone, Default)]
pub struct Store {
    records: imbl::HashMap<String, Stored>,
    by_object: imbl::HashMap<&'static str, imbl::OrdMap<u64, String>>,
    index: imbl::HashMap<Slot, imbl::OrdMap<u64, String>>,
    next_seq: u64,
}

impl Store {
    /// The record with this 18-character id.
    pub fn get(&self, id: &str) -> Option<&Record> {
        self.records.get(id).map(|s| &*s.record)
    }

    /// The records of `object`, in insertion order.
    pub fn of(&self, object: &ObjectDef) -> impl Iterator<Item = &Record> {
        self.by_object
            .get(object.name)
            .into_iter()
            .flat_map(imbl::OrdMap::values)
            .filter_map(|id| self.get(id))
    }

    /// How many records `object` has.
    pub fn count(&self, object: &ObjectDef) -> usize {
        self.by_object.get(object.name).map_or(0, imbl::OrdMap::len)
    }

    /// The records of `object` whose indexed `field` holds a value with the same
    /// [`soql::index_key`] as `value`, in insertion order (empty for a value with no
    /// key). `None` when `field` is not indexed.
    pub fn find(
        &self,
        object: &'static ObjectDef,
        field: &'static FieldDef,
        value: &Value,
    ) -> Option<Vec<&Record>> {
        if !soql::is_indexed(field) {
            return None;
        }
        let keys: Vec<String> = soql::index_key(field, value).into_iter().collect();
        self.lookup(object, field, &keys)
    }

    /// Stores a record the platform made with its own id (the `Organization`),
    /// bypassing every check.
    pub(crate) fn insert_platform_record(
        &mut self,
        object: &'static ObjectDef,
        id: String,
        record: Record,
    ) {
        self.insert(object, id, record);
    }

    fn insert(&mut self, object: &'static ObjectDef, id: String, record: Record) {
        let seq = self.next_seq;
        self.next_seq += 1;
        for (field, key) in index_keys(object, &record) {
            self.index
                .entry((object.name, field, key))
                .or_default()
                .insert(seq, id.clone());
        }
        self.by_object
            .entry(object.name)
            .or_default()
            .insert(seq, id.clone());
        self.records.insert(
            id,
            Stored {
                seq,
                object: object.name,
                record: Arc::new(record),
            },
        );
    }

    fn replace(&mut self, id: &str, record: Record) {
        let Some(old) = self.records.get(id).cloned() else {
            return;
        };
        if let Some(object) = crate::platform::object(old.object) {
            let before = index_keys(object, &old.record);
            let after = index_keys(object, &record);
            for (field, key) in before.iter().filter(|k| !after.contains(k)) {
                let slot = (object.name, *field, key.clone());
                let emptied = self.index.get_mut(&slot).is_some_and(|ids| {
                    ids.remove(&old.seq);
                    ids.is_empty()
                });
                if emptied {
                    self.index.remove(&slot);
                }
            }
            for (field, key) in after.into_iter().filter(|k| !before.contains(k)) {
                self.index
                    .entry((object.name, field, key))
                    .or_default()
                    .insert(old.seq, id.to_owned());
            }
        }
        self.records.insert(
            id.to_owned(),
            Stored {
                record: Arc::new(record),
                ..old
            },
        );
    }
}

/// The index entries of a record: (field, key) for every indexed field holding a value.
fn index_keys(object: &ObjectDef, record: &Record) -> Vec<(&'static str, String)> {
    object
        .all_fields()
        .filter(|f| f.kind != FieldType::Id && soql::is_indexed(f))
        .filter_map(|f| {
            let key = soql::index_key(f, record.get(f.name)?)?;
            Some((f.name, key))
        })
        .collect()
}

impl RecordSource for Store {
    fn records(&self, object: &'static ObjectDef) -> Vec<&Record> {
        self.of(object).collect()
    }

    fn get(&self, id: &str) -> Option<&Record> {
        Store::get(self, id)
    }

    fn lookup(
        &self,
        object: &'static ObjectDef,
        field: &'static FieldDef,
        keys: &[String],
    ) -> Option<Vec<&Record>> {
        let mut found: BTreeMap<u64, &Record> = BTreeMap::new();
        if field.kind == FieldType::Id {
            for key in keys {
                let stored = ids::normalize(key).and_then(|id| self.records.get(&id));
                if let Some(stored) = stored.filter(|s| s.object == object.name) {
                    found.insert(stored.seq, &stored.record);
                }
            }
        } else if soql::is_indexed(field) {
            for key in keys {
                let slot = (object.name, field.name, key.clone());
                for (seq, id) in self.index.get(&slot).into_iter().flatten() {
                    if let Some(record) = self.get(id) {
                        found.insert(*seq, record);
                    }
                }
            }
        } else {
            return None;
        }
        Some(found.into_values().collect())
    }
}

/// The object a record id belongs to, from its key prefix.
pub fn object_of_id(id: &str) -> Option<&'static ObjectDef> {
    crate::platform::object_by_key_prefix(ids::key_prefix(id))
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
];

impl Role {
    /// May this role create records of `object`?
    pub fn can_create(self, object: &ObjectDef) -> bool {
        match self {
            Role::Integration => INTEGRATION_WRITABLE.contains(&object.name),
            Role::Staff => {
                object.name != schema::user::OBJECT
                    && !crate::platform::PLATFORM_OBJECTS
                        .iter()
                        .any(|o| o.name == object.name)
            }
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
    only: Option<&[&'static FieldDef]>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Faults;
    use chrono::Utc;

    /// The same data without its indexes: every query reads every record.
    struct Scan<'a>(&'a Store);

    impl RecordSource for Scan<'_> {
        fn records(&self, object: &'static ObjectDef) -> Vec<&Record> {
            self.0.of(object).collect()
        }
        fn get(&self, id: &str) -> Option<&Record> {
            Store::get(self.0, id)
        }
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn indexed_queries_find_what_a_full_scan_finds_after_every_kind_of_write() {
        let (seq, faults) = (Sequences::default(), Faults::default());
        let actor = Actor {
            user_id: "005Em0000000001AAA".to_owned(),
            role: Role::System,
        };
        let mut txn = Txn::new(Store::default(), &seq, &faults, actor, Utc::now());
        let account = schema::object("Account").unwrap();
        let case = schema::object("Case").unwrap();
        let mut accounts = Vec::new();
        for i in 0..6 {
            let id = txn
                .create(
                    account,
                    &body(
                        json!({"Name": format!("A{i}"), "SF_Account_No__c": format!("Cust-{i}")}),
                    ),
                )
                .unwrap();
            for c in 0..3 {
                txn.create(
                    case,
                    &body(json!({"AccountId": id, "Subject": format!("S{c}")})),
                )
                .unwrap();
            }
            accounts.push(id);
        }
        // Move one case to another account, renumber a customer, roll a write back.
        let moved = txn.data().of(case).nth(1).unwrap()["Id"]
            .as_str()
            .unwrap()
            .to_owned();
        txn.update(case, &moved, &body(json!({"AccountId": accounts[5]})))
            .unwrap();
        txn.update(
            account,
            &accounts[2],
            &body(json!({"SF_Account_No__c": "Renumbered"})),
        )
        .unwrap();
        let before = txn.savepoint();
        txn.update(
            account,
            &accounts[3],
            &body(json!({"SF_Account_No__c": "Gone"})),
        )
        .unwrap();
        txn.rollback_to(before);
        let store = txn.into_parts().0;
        let id15 = |id: &str| id[..15].to_owned();
        let queries = [
            format!(
                "SELECT Id, Subject FROM Case WHERE AccountId = '{}'",
                accounts[0]
            ),
            format!(
                "SELECT Id FROM Case WHERE AccountId = '{}'",
                id15(&accounts[5])
            ),
            format!(
                "SELECT Id FROM Case WHERE AccountId IN ('{}', '{}') AND Subject != 'S0'",
                accounts[1], accounts[5]
            ),
            format!(
                "SELECT Id, Name FROM Account WHERE Id = '{}'",
                id15(&accounts[4])
            ),
            format!(
                "SELECT Id FROM Account WHERE Id IN ('{}', '{}')",
                accounts[3], accounts[0]
            ),
            format!("SELECT Id FROM Case WHERE Id = '{}'", accounts[0]),
            "SELECT Id FROM Account WHERE SF_Account_No__c = 'CUST-1'".to_owned(),
            "SELECT Id FROM Account WHERE SF_Account_No__c = 'Cust-2'".to_owned(),
            "SELECT Id FROM Account WHERE SF_Account_No__c = 'renumbered'".to_owned(),
            "SELECT Id FROM Account WHERE SF_Account_No__c = 'Cust-3'".to_owned(),
            "SELECT Id FROM Account WHERE SF_Account_No__c = 'Gone'".to_owned(),
            "SELECT COUNT() FROM Case WHERE Subject = 'S1' OR Subject = 'S2'".to_owned(),
        ];
        let mut found = 0;
        for q in &queries {
            let query = soql::parse(q).unwrap();
            let indexed = soql::execute(&query, &store, Utc::now(), "62.0").unwrap();
            let scanned = soql::execute(&query, &Scan(&store), Utc::now(), "62.0").unwrap();
            assert_eq!(indexed, scanned, "{q}");
            found += indexed.total_size;
        }
        assert_eq!(found, 3 + 4 + 4 + 1 + 2 + 1 + 1 + 1 + 12);
    }
}
