//! `GET tooling/query?q=<soql>`: the Tooling API's view of the org's one
//! flow, the Order Approval Flow (`crate::flow`), as Salesforce answers it.
//!
//! Two Tooling objects (Salesforce's "Tooling API Objects" reference):
//! - `FlowDefinition` (key prefix `300`): `Id`, `DeveloperName`, `MasterLabel`,
//!   `Description`, `ActiveVersionId` (null when no version is active),
//!   `LatestVersionId`, `NamespacePrefix`;
//! - `Flow` (one version, key prefix `301`): `Id`, `DefinitionId`,
//!   `MasterLabel`, `VersionNumber`, `Status` (`Active`, `Draft`, `Obsolete`),
//!   `ProcessType`, `Metadata` (the flow's metadata as JSON; a query selecting
//!   it must match at most one row).
//!
//! What they show follows [`OrderFlowSetup`]. The query language is the small
//! part the Tooling API is used with here: `SELECT <fields> FROM <object>
//! [WHERE <field> = '<text>' [AND …]] [LIMIT n]`; anything else is refused
//! as Salesforce refuses it (`MALFORMED_QUERY`, `INVALID_TYPE`, `INVALID_FIELD`).
//! The answer has the Tooling shape: `size`, `totalSize`, `done`,
//! `queryLocator`, `entityTypeName`, `records` (each with `attributes`).

use serde_json::{Map, Value, json};

use super::{RestRequest, RestResponse};
use crate::error::ApiError;
use crate::flow::OrderFlowSetup;
use crate::ids;
use crate::server::Shared;

/// The flow's API name (`infra/salesforce/force-app/main/default/flows/Order_Approval.flow-meta.xml`).
pub const FLOW_API_NAME: &str = "Order_Approval";

const DEFINITION_FIELDS: &[&str] = &[
    "Id",
    "DeveloperName",
    "MasterLabel",
    "Description",
    "ActiveVersionId",
    "LatestVersionId",
    "NamespacePrefix",
];
const FLOW_FIELDS: &[&str] = &[
    "Id",
    "DefinitionId",
    "MasterLabel",
    "VersionNumber",
    "Status",
    "ProcessType",
    "Metadata",
];

fn id(prefix: &str) -> String {
    let id15 = format!("{prefix}Em0000000001");
    let suffix = ids::checksum_suffix(&id15);
    format!("{id15}{suffix}")
}

/// The flow's metadata as the Tooling API returns it in `Flow.Metadata`
/// (the parts a reader checks: start, updates, creates, status).
fn metadata(setup: OrderFlowSetup, status: &str) -> Value {
    let mut creates = Vec::new();
    if setup != OrderFlowSetup::WithoutEvent {
        creates.push(json!({
            "name": "Publish_OrderProvisionRequested",
            "label": "Publish OrderProvisionRequested",
            "object": "OrderProvisionRequested__e",
            "inputAssignments": [
                {"field": "OrderId__c", "value": {"elementReference": "$Record.Id"}},
                {"field": "IdemKey__c", "value": {"elementReference": "IdemKey"}},
            ],
        }));
    }
    json!({
        "label": "Order Approval",
        "processType": "AutoLaunchedFlow",
        "status": status,
        "start": {
            "object": "Order",
            "recordTriggerType": "CreateAndUpdate",
            "triggerType": "RecordAfterSave",
        },
        "recordUpdates": [{
            "name": "Mark_Order_Activating",
            "label": "Mark Order Activating",
            "object": null,
            "inputReference": "$Record",
        }],
        "recordCreates": creates,
    })
}

/// Every record of `object` the org has, with every field.
fn records(setup: OrderFlowSetup, object: &str) -> Vec<Map<String, Value>> {
    if setup == OrderFlowSetup::Missing {
        return Vec::new();
    }
    let definition_id = id("300");
    let version_id = id("301");
    let active = setup != OrderFlowSetup::Inactive;
    let status = if active { "Active" } else { "Draft" };
    let record = match object {
        "FlowDefinition" => json!({
            "Id": definition_id,
            "DeveloperName": FLOW_API_NAME,
            "MasterLabel": "Order Approval",
            "Description": "Publishes OrderProvisionRequested__e when an Order is approved.",
            "ActiveVersionId": if active { Value::String(version_id.clone()) } else { Value::Null },
            "LatestVersionId": version_id,
            "NamespacePrefix": null,
        }),
        _ => json!({
            "Id": version_id,
            "DefinitionId": definition_id,
            "MasterLabel": "Order Approval",
            "VersionNumber": 1,
            "Status": status,
            "ProcessType": "AutoLaunchedFlow",
            "Metadata": metadata(setup, status),
        }),
    };
    match record {
        Value::Object(map) => vec![map],
        _ => Vec::new(),
    }
}

/// A parsed Tooling query.
#[derive(Debug, PartialEq, Eq)]
struct ToolingQuery {
    fields: Vec<String>,
    object: &'static str,
    conditions: Vec<(String, String)>,
    limit: Option<usize>,
}

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "MALFORMED_QUERY", message)
}

/// Splits `SELECT … FROM … WHERE … LIMIT …` into tokens: words, commas,
/// `=`, and quoted strings (kept with their quotes).
fn tokens(soql: &str) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    let mut chars = soql.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == ',' || c == '=' {
            out.push(c.to_string());
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut text = String::from("'");
            loop {
                match chars.next() {
                    Some('\\') => match chars.next() {
                        Some(escaped) => text.push(escaped),
                        None => return Err(malformed("unexpected end of query")),
                    },
                    Some('\'') => break,
                    Some(other) => text.push(other),
                    None => return Err(malformed("unterminated string literal")),
                }
            }
            out.push(text);
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == ',' || c == '=' || c == '\'' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            out.push(word);
        }
    }
    Ok(out)
}

fn keyword(token: Option<&String>, word: &str) -> bool {
    token.is_some_and(|t| t.eq_ignore_ascii_case(word))
}

fn parse(soql: &str) -> Result<ToolingQuery, ApiError> {
    let tokens = tokens(soql)?;
    let mut at = 0;
    if !keyword(tokens.first(), "SELECT") {
        return Err(malformed("unexpected token: expected SELECT"));
    }
    at += 1;
    let mut fields = Vec::new();
    loop {
        let Some(field) = tokens.get(at) else {
            return Err(malformed("unexpected end of query"));
        };
        fields.push(field.clone());
        at += 1;
        if tokens.get(at).map(String::as_str) == Some(",") {
            at += 1;
            continue;
        }
        break;
    }
    if !keyword(tokens.get(at), "FROM") {
        return Err(malformed(format!(
            "unexpected token: '{}'",
            tokens.get(at).map_or("", String::as_str)
        )));
    }
    at += 1;
    let entity = tokens
        .get(at)
        .ok_or_else(|| malformed("unexpected end of query"))?;
    let object = match entity.to_ascii_lowercase().as_str() {
        "flowdefinition" => "FlowDefinition",
        "flow" => "Flow",
        _ => {
            return Err(ApiError::new(
                400,
                "INVALID_TYPE",
                format!(
                    "sObject type '{entity}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
                ),
            ));
        }
    };
    at += 1;
    let known = if object == "Flow" {
        FLOW_FIELDS
    } else {
        DEFINITION_FIELDS
    };
    let canonical = |name: &str| -> Result<String, ApiError> {
        known
            .iter()
            .find(|f| f.eq_ignore_ascii_case(name))
            .map(|f| (*f).to_owned())
            .ok_or_else(|| {
                ApiError::new(
                    400,
                    "INVALID_FIELD",
                    format!(
                        "No such column '{name}' on entity '{object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
                    ),
                )
            })
    };
    let fields = fields
        .iter()
        .map(|f| canonical(f))
        .collect::<Result<Vec<_>, _>>()?;
    let mut conditions = Vec::new();
    if keyword(tokens.get(at), "WHERE") {
        at += 1;
        loop {
            let (Some(field), Some(eq), Some(value)) =
                (tokens.get(at), tokens.get(at + 1), tokens.get(at + 2))
            else {
                return Err(malformed("unexpected end of query"));
            };
            let Some(text) = value.strip_prefix('\'').filter(|_| eq == "=") else {
                return Err(malformed(format!(
                    "unexpected token: '{value}' (only <field> = '<text>' conditions)"
                )));
            };
            conditions.push((canonical(field)?, text.to_owned()));
            at += 3;
            if keyword(tokens.get(at), "AND") {
                at += 1;
                continue;
            }
            break;
        }
    }
    let mut limit = None;
    if keyword(tokens.get(at), "LIMIT") {
        let n = tokens
            .get(at + 1)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| malformed("LIMIT needs a number"))?;
        limit = Some(n);
        at += 2;
    }
    if let Some(extra) = tokens.get(at) {
        return Err(malformed(format!("unexpected token: '{extra}'")));
    }
    Ok(ToolingQuery {
        fields,
        object,
        conditions,
        limit,
    })
}

/// `GET tooling/query?q=…`.
pub fn query(shared: &Shared, req: &RestRequest) -> RestResponse {
    if req.method.as_str() != "GET" {
        return super::errors::method_not_allowed(req.method.as_str(), "GET,HEAD");
    }
    let Some(q) = req.param("q").filter(|q| !q.trim().is_empty()) else {
        return ApiError::new(400, "MALFORMED_QUERY", "A query string has to be specified").into();
    };
    let query = match parse(&q) {
        Ok(query) => query,
        Err(e) => return e.into(),
    };
    let mut rows: Vec<Map<String, Value>> = records(shared.config.order_flow, query.object)
        .into_iter()
        .filter(|r| {
            query
                .conditions
                .iter()
                .all(|(field, value)| match &r[field.as_str()] {
                    Value::String(s) => s == value,
                    Value::Number(n) => n.to_string() == *value,
                    _ => false,
                })
        })
        .collect();
    if let Some(limit) = query.limit {
        rows.truncate(limit);
    }
    if query.fields.iter().any(|f| f == "Metadata") && rows.len() > 1 {
        return malformed(format!(
            "When retrieving results with Metadata or FullName fields, the query qualifications must specify no more than one row for retrieval. Result size: {}",
            rows.len()
        ))
        .into();
    }
    let records: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut out = Map::new();
            out.insert(
                "attributes".to_owned(),
                json!({
                    "type": query.object,
                    "url": format!(
                        "/services/data/v{}/tooling/sobjects/{}/{}",
                        req.version,
                        query.object,
                        row["Id"].as_str().unwrap_or_default()
                    ),
                }),
            );
            for field in &query.fields {
                out.insert(field.clone(), row[field.as_str()].clone());
            }
            Value::Object(out)
        })
        .collect();
    RestResponse::json(
        200,
        json!({
            "size": records.len(),
            "totalSize": records.len(),
            "done": true,
            "queryLocator": null,
            "entityTypeName": query.object,
            "records": records,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tooling_query_parses_fields_object_conditions_and_limit() {
        let q = parse("select id, ActiveVersionId from FLOWDEFINITION where DeveloperName = 'Order_Approval' limit 1")
            .unwrap();
        assert_eq!(q.fields, ["Id", "ActiveVersionId"]);
        assert_eq!(q.object, "FlowDefinition");
        assert_eq!(
            q.conditions,
            [("DeveloperName".to_owned(), "Order_Approval".to_owned())]
        );
        assert_eq!(q.limit, Some(1));
    }

    #[test]
    fn what_the_tooling_api_refuses_is_refused_with_its_error_code() {
        let code = |soql: &str| parse(soql).unwrap_err().error_code;
        assert_eq!(code("SELECT Id FROM Account"), "INVALID_TYPE");
        assert_eq!(code("SELECT Id, Nope FROM Flow"), "INVALID_FIELD");
        assert_eq!(
            code("SELECT Id FROM Flow WHERE Status != 'Active'"),
            "MALFORMED_QUERY"
        );
        assert_eq!(code("SELECT Id FROM Flow ORDER BY Id"), "MALFORMED_QUERY");
        assert_eq!(code("SELECT FROM Flow"), "MALFORMED_QUERY");
    }

    #[test]
    fn an_inactive_flow_has_no_active_version_and_a_missing_one_no_record() {
        let definition = &records(OrderFlowSetup::Inactive, "FlowDefinition")[0];
        assert_eq!(definition["ActiveVersionId"], Value::Null);
        assert_eq!(
            records(OrderFlowSetup::Inactive, "Flow")[0]["Status"],
            "Draft"
        );
        assert!(records(OrderFlowSetup::Missing, "FlowDefinition").is_empty());
        let active = &records(OrderFlowSetup::Active, "FlowDefinition")[0];
        assert_eq!(active["ActiveVersionId"], active["LatestVersionId"]);
        let without = &records(OrderFlowSetup::WithoutEvent, "Flow")[0];
        assert_eq!(without["Metadata"]["recordCreates"], json!([]));
    }
}
