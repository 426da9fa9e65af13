//! The emulated org describes exactly the schema: every object and field, with
//! the schema's types, lengths, precision, picklist values and flags.

use salesforce::schema::{self, DefaultValue, FieldDef, FieldType, OBJECTS, PLATFORM_EVENTS};
use salesforce_emulator::SchemaGaps;
use serde_json::Value;

use crate::helpers::world;

async fn describe(base: &str, name: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!(
            "{base}/services/data/v62.0/sobjects/{name}/describe"
        ))
        .bearer_auth(salesforce_emulator::config::DEFAULT_ADMIN_TOKEN)
        .send()
        .await
        .expect("describe answers");
    assert_eq!(response.status().as_u16(), 200, "{name}");
    response.json().await.expect("describe is JSON")
}

/// Every difference between `field`'s describe and its definition.
fn differences(object: &str, def: &FieldDef, found: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut expect = |what: &str, got: &Value, want: Value| {
        if *got != want {
            out.push(format!("{object}.{} {what}: {got} != {want}", def.name));
        }
    };
    expect(
        "type",
        &found["type"],
        Value::from(def.kind.describe_name()),
    );
    expect(
        "createable",
        &found["createable"],
        Value::from(def.createable),
    );
    expect(
        "updateable",
        &found["updateable"],
        Value::from(def.updateable),
    );
    expect("custom", &found["custom"], Value::from(def.custom));
    expect(
        "externalId",
        &found["externalId"],
        Value::from(def.external_id),
    );
    expect("unique", &found["unique"], Value::from(def.unique));
    match def.kind {
        FieldType::Text { length } | FieldType::TextArea { length } => {
            expect("length", &found["length"], Value::from(length));
        }
        FieldType::Number { precision, scale } => {
            expect("precision", &found["precision"], Value::from(precision));
            expect("scale", &found["scale"], Value::from(scale));
        }
        FieldType::Picklist { values, restricted } => {
            expect(
                "restrictedPicklist",
                &found["restrictedPicklist"],
                Value::from(restricted),
            );
            let listed: Vec<Value> = found["picklistValues"]
                .as_array()
                .map(|v| v.iter().map(|p| p["value"].clone()).collect())
                .unwrap_or_default();
            expect(
                "picklistValues",
                &Value::from(listed),
                Value::from(values.to_vec()),
            );
        }
        FieldType::Reference { to, relationship } => {
            expect("referenceTo", &found["referenceTo"], Value::from(vec![to]));
            expect(
                "relationshipName",
                &found["relationshipName"],
                Value::from(relationship),
            );
        }
        _ => {}
    }
    if let Some(DefaultValue::Text(text)) = def.default {
        expect("defaultValue", &found["defaultValue"], Value::from(text));
    }
    out
}

#[tokio::test]
async fn the_emulators_describe_agrees_with_the_schema_for_every_object_and_field() {
    let world = world(SchemaGaps::default()).await;
    let base = world.org.base_url();
    let mut problems = Vec::new();
    for object in OBJECTS {
        let d = describe(&base, object.name).await;
        assert_eq!(d["keyPrefix"], object.key_prefix, "{}", object.name);
        let fields = d["fields"].as_array().cloned().unwrap_or_default();
        let described: Vec<&str> = fields.iter().filter_map(|f| f["name"].as_str()).collect();
        let defined: Vec<&str> = object.all_fields().map(|f| f.name).collect();
        let mut a = described.clone();
        let mut b = defined.clone();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "{}: described fields", object.name);
        for def in object.all_fields() {
            let found = fields
                .iter()
                .find(|f| f["name"] == def.name)
                .cloned()
                .unwrap_or_default();
            problems.extend(differences(object.name, def, &found));
        }
    }
    for event in PLATFORM_EVENTS {
        let d = describe(&base, event.name).await;
        let fields = d["fields"].as_array().cloned().unwrap_or_default();
        for def in event.fields {
            let found = fields
                .iter()
                .find(|f| f["name"] == def.name)
                .cloned()
                .unwrap_or_default();
            problems.extend(differences(event.name, def, &found));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(schema::object("Order").is_some());
}
