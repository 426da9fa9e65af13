//! Least privilege between functions, proved from `template.yaml`: every
//! DynamoDB permission on the state table is bound to key prefixes
//! (`dynamodb:LeadingKeys`), each role has exactly the prefixes and actions
//! its code needs (the prefixes are the adapters' own constants,
//! `portal_aws::dynamo::prefix`), each prefix is written by one role, and the
//! reconciler can no longer write provisioning records.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use deploy_tests::template;
use deploy_tests::workspace_root;
use portal_aws::dynamo::prefix;
use serde_json::Value;

/// The state table's logical id.
const TABLE: &str = "StateTable";

/// What each role may do to which items, as the code does it
/// (functions/aws/README.md lists the calls of each adapter).
const EXPECTED: &[(&str, &str, &[&str])] = &[
    // The API: its idempotency records and locks, login links, counters; it
    // reads the deactivations the reconciler writes.
    (
        "PortalApiRole",
        prefix::IDEMPOTENCY,
        &["DeleteItem", "PutItem", "UpdateItem"],
    ),
    ("PortalApiRole", prefix::LOGIN_LINK, &["GetItem", "PutItem"]),
    ("PortalApiRole", prefix::LOGIN_LIMIT, &["UpdateItem"]),
    ("PortalApiRole", prefix::ACCOUNT_STATUS, &["GetItem"]),
    // The provisioner: its records, claimed and moved by UpdateItem.
    (
        "ProvisionerRole",
        prefix::PROVISIONING,
        &["DeleteItem", "UpdateItem"],
    ),
    // The reconciler: reads provisioning records, writes its own attempts
    // and the deactivations, marks replay gaps swept.
    ("ReconcilerRole", prefix::PROVISIONING, &["GetItem"]),
    ("ReconcilerRole", prefix::RECONCILE, &["GetItem", "PutItem"]),
    (
        "ReconcilerRole",
        prefix::ACCOUNT_STATUS,
        &["DeleteItem", "GetItem", "PutItem"],
    ),
    ("ReconcilerRole", prefix::REPLAY, &["Query", "UpdateItem"]),
    // The subscriber: its replay position and gaps, its lease.
    (
        "SubscriberTaskRole",
        prefix::REPLAY,
        &["DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"],
    ),
    (
        "SubscriberTaskRole",
        prefix::LEASE,
        &["DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"],
    ),
];

/// Prefixes more than one role writes, and why.
const SHARED_WRITES: &[(&str, &str)] = &[(
    prefix::REPLAY,
    "the subscriber records replay gaps; the reconciler only marks them swept (UpdateItem)",
)];

/// Actions that change items.
const WRITES: &[&str] = &[
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "PartiQLInsert",
    "PartiQLUpdate",
    "PartiQLDelete",
];

/// One DynamoDB statement of a role's inline policies.
struct Statement {
    role: String,
    actions: Vec<String>,
    resource: Value,
    condition: Option<Value>,
}

fn template() -> &'static Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        template::load(&workspace_root().join("template.yaml")).expect("template.yaml parses")
    })
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// Every `Allow` statement with a `dynamodb:` action, in every IAM role.
fn dynamodb_statements() -> Vec<Statement> {
    let mut found = Vec::new();
    for (role, resource) in template::resources_of_type(template(), "AWS::IAM::Role") {
        let policies = resource
            .pointer("/Properties/Policies")
            .map(as_list)
            .unwrap_or_default();
        for policy in policies {
            let statements = policy
                .pointer("/PolicyDocument/Statement")
                .map(as_list)
                .unwrap_or_default();
            for statement in statements {
                let actions: Vec<String> = statement
                    .get("Action")
                    .map(as_list)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|a| a.starts_with("dynamodb:"))
                    .map(str::to_owned)
                    .collect();
                if actions.is_empty() {
                    continue;
                }
                assert_eq!(
                    statement.get("Effect").and_then(Value::as_str),
                    Some("Allow"),
                    "{role}: only Allow statements are expected"
                );
                found.push(Statement {
                    role: role.to_owned(),
                    actions,
                    resource: statement.get("Resource").cloned().unwrap_or(Value::Null),
                    condition: statement.get("Condition").cloned(),
                });
            }
        }
    }
    found
}

/// Whether `resource` is the state table itself (not an index).
fn is_table(resource: &Value) -> bool {
    resource.get("Fn::GetAtt") == Some(&serde_json::json!([TABLE, "Arn"]))
}

/// The key prefixes a statement's `ForAllValues:StringLike` /
/// `dynamodb:LeadingKeys` condition allows (`IDEMP#*` → `IDEMP#`).
fn leading_key_prefixes(statement: &Statement) -> Result<Vec<String>, String> {
    let condition = statement
        .condition
        .as_ref()
        .ok_or("no Condition: every item of the table would be allowed")?;
    let object = condition.as_object().ok_or("the Condition is not a map")?;
    if object.len() != 1 {
        return Err(format!("unexpected condition operators: {condition}"));
    }
    let keys = condition
        .pointer("/ForAllValues:StringLike/dynamodb:LeadingKeys")
        .ok_or("the Condition is not ForAllValues:StringLike on dynamodb:LeadingKeys")?;
    as_list(keys)
        .iter()
        .map(|k| {
            let pattern = k.as_str().ok_or("a LeadingKeys pattern is not a string")?;
            let prefix = pattern
                .strip_suffix('*')
                .ok_or_else(|| format!("{pattern} is not a prefix pattern (<prefix>*)"))?;
            if prefix.is_empty() || prefix.contains(['*', '?']) || !prefix.ends_with('#') {
                return Err(format!("{pattern} is not one key prefix (<KIND>#*)"));
            }
            Ok(prefix.to_owned())
        })
        .collect()
}

/// role → prefix → actions, as the template grants them on the table.
fn granted() -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut grants: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for statement in dynamodb_statements()
        .iter()
        .filter(|s| is_table(&s.resource))
    {
        let prefixes =
            leading_key_prefixes(statement).unwrap_or_else(|e| panic!("{}: {e}", statement.role));
        for prefix in prefixes {
            let actions = grants.entry((statement.role.clone(), prefix)).or_default();
            for action in &statement.actions {
                actions.insert(action.trim_start_matches("dynamodb:").to_owned());
            }
        }
    }
    grants
}

fn expected() -> BTreeMap<(String, String), BTreeSet<String>> {
    EXPECTED
        .iter()
        .map(|(role, prefix, actions)| {
            (
                ((*role).to_owned(), (*prefix).to_owned()),
                actions.iter().map(|a| (*a).to_owned()).collect(),
            )
        })
        .collect()
}

#[test]
fn every_dynamodb_permission_is_on_the_state_table_or_its_index_and_names_its_actions() {
    for statement in dynamodb_statements() {
        for action in &statement.actions {
            assert!(
                !action.contains('*'),
                "{}: {action} is a wildcard",
                statement.role
            );
        }
        for resource in as_list(&statement.resource) {
            if is_table(&resource) {
                continue;
            }
            let index = resource.get("Fn::Sub").and_then(Value::as_str);
            assert!(
                index.is_some_and(|s| s.starts_with(&format!("${{{TABLE}.Arn}}/index/"))),
                "{}: DynamoDB on {resource}, which is neither the state table nor its index",
                statement.role
            );
            assert_eq!(
                statement.actions,
                ["dynamodb:Query"],
                "{}: an index is only queried",
                statement.role
            );
        }
    }
}

#[test]
fn every_permission_on_the_table_is_bound_to_key_prefixes() {
    let mut problems = Vec::new();
    for statement in dynamodb_statements()
        .iter()
        .filter(|s| is_table(&s.resource))
    {
        if let Err(e) = leading_key_prefixes(statement) {
            problems.push(format!("{}: {e}", statement.role));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn each_role_touches_only_its_own_key_prefixes_with_only_the_actions_its_code_calls() {
    let granted = granted();
    let expected = expected();
    let extra: Vec<_> = granted
        .iter()
        .filter(|(k, v)| expected.get(*k) != Some(*v))
        .collect();
    let missing: Vec<_> = expected
        .iter()
        .filter(|(k, v)| granted.get(*k) != Some(*v))
        .collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "the template grants {extra:#?}\nthe code needs {missing:#?}"
    );
}

#[test]
fn each_key_prefix_is_written_by_one_role() {
    let mut writers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for ((role, prefix), actions) in granted() {
        if actions.iter().any(|a| WRITES.contains(&a.as_str())) {
            writers.entry(prefix).or_default().insert(role);
        }
    }
    for (prefix, roles) in &writers {
        let shared = SHARED_WRITES.iter().any(|(p, _)| p == prefix);
        assert!(
            roles.len() == 1 || shared,
            "{prefix} is written by {roles:?}: one owner per prefix"
        );
    }
}

#[test]
fn the_reconciler_cannot_write_provisioning_records() {
    let granted = granted();
    let on_orders = granted
        .get(&("ReconcilerRole".to_owned(), prefix::PROVISIONING.to_owned()))
        .cloned()
        .unwrap_or_default();
    assert!(
        on_orders.iter().all(|a| !WRITES.contains(&a.as_str())),
        "the reconciler may {on_orders:?} provisioning records"
    );
    assert!(
        prefix::RECONCILE != prefix::PROVISIONING,
        "its attempts have their own prefix"
    );
}

#[test]
fn no_function_gets_dynamodb_through_sam_policies() {
    for (id, function) in template::resources_of_type(template(), template::FUNCTION) {
        let text = function
            .pointer("/Properties/Policies")
            .map(Value::to_string)
            .unwrap_or_default();
        assert!(
            !text.contains("DynamoDB") && !text.contains("dynamodb"),
            "{id}: DynamoDB through SAM Policies escapes the role checks"
        );
    }
}
