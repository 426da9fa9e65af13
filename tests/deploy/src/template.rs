//! The SAM template as JSON, and the deployables it declares.
//!
//! YAML is parsed with `saphyr`, which keeps user-defined tags; each
//! CloudFormation short form becomes its long form, as CloudFormation itself
//! reads it: `!Ref X` → `{"Ref": "X"}`, `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`,
//! `!Sub s` → `{"Fn::Sub": s}`, and so on. An unknown tag is an error.

use std::collections::BTreeMap;
use std::path::Path;

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::{Map, Value};

/// The SAM resource type of a Lambda function.
pub const FUNCTION: &str = "AWS::Serverless::Function";
/// The resource type of an ECS task definition.
pub const TASK_DEFINITION: &str = "AWS::ECS::TaskDefinition";
/// The resource type of a Secrets Manager secret.
pub const SECRET: &str = "AWS::SecretsManager::Secret";

/// The template cannot be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not YAML.
    #[error("not valid YAML: {0}")]
    Yaml(#[from] saphyr::ScanError),
    /// No document in the file.
    #[error("the template is empty")]
    Empty,
    /// A tag that is not a CloudFormation intrinsic function.
    #[error("unknown tag !{0}")]
    UnknownTag(String),
    /// A YAML feature CloudFormation templates do not use.
    #[error("unsupported YAML: {0}")]
    Unsupported(&'static str),
    /// A node that does not have the shape a deployable needs.
    #[error("resource {resource}: {what}")]
    Shape {
        /// The resource's logical id.
        resource: String,
        /// What is wrong.
        what: String,
    },
}

/// The short forms CloudFormation accepts, with their long names.
const INTRINSICS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("GetAtt", "Fn::GetAtt"),
    ("Sub", "Fn::Sub"),
    ("Join", "Fn::Join"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("If", "Fn::If"),
    ("Equals", "Fn::Equals"),
    ("Not", "Fn::Not"),
    ("And", "Fn::And"),
    ("Or", "Fn::Or"),
    ("FindInMap", "Fn::FindInMap"),
    ("Base64", "Fn::Base64"),
    ("Cidr", "Fn::Cidr"),
    ("GetAZs", "Fn::GetAZs"),
    ("ImportValue", "Fn::ImportValue"),
    ("Transform", "Fn::Transform"),
    ("Length", "Fn::Length"),
    ("ToJsonString", "Fn::ToJsonString"),
];

/// Reads and parses the template at `path`.
pub fn load(path: &Path) -> Result<Value, TemplateError> {
    let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text)
}

/// Parses a CloudFormation YAML template into its JSON form.
pub fn parse(text: &str) -> Result<Value, TemplateError> {
    let docs = Yaml::load_from_str(text)?;
    let doc = docs.first().ok_or(TemplateError::Empty)?;
    to_json(doc)
}

fn to_json(node: &Yaml<'_>) -> Result<Value, TemplateError> {
    Ok(match node {
        Yaml::Value(scalar) => scalar_to_json(scalar),
        Yaml::Representation(text, _, _) => Value::String(text.to_string()),
        Yaml::Sequence(items) => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Yaml::Mapping(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let key = match to_json(key)? {
                    Value::String(s) => s,
                    Value::Null => return Err(TemplateError::Unsupported("a null mapping key")),
                    other => other.to_string(),
                };
                map.insert(key, to_json(value)?);
            }
            Value::Object(map)
        }
        Yaml::Tagged(tag, inner) => intrinsic(&tag.suffix, to_json(inner)?)?,
        Yaml::Alias(_) => return Err(TemplateError::Unsupported("aliases")),
        Yaml::BadValue => return Err(TemplateError::Unsupported("a malformed scalar")),
    })
}

fn scalar_to_json(scalar: &Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::from(*i),
        Scalar::FloatingPoint(f) => Value::from(f.into_inner()),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

fn intrinsic(tag: &str, value: Value) -> Result<Value, TemplateError> {
    let (_, long) = INTRINSICS
        .iter()
        .find(|(short, _)| *short == tag)
        .ok_or_else(|| TemplateError::UnknownTag(tag.to_owned()))?;
    let value = match (tag, value) {
        // `!GetAtt Resource.Attribute` is the dotted short form of a pair.
        ("GetAtt", Value::String(dotted)) => match dotted.split_once('.') {
            Some((resource, attribute)) => Value::Array(vec![resource.into(), attribute.into()]),
            None => Value::String(dotted),
        },
        (_, value) => value,
    };
    let mut map = Map::new();
    map.insert((*long).to_owned(), value);
    Ok(Value::Object(map))
}

/// How a deployable runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// An `AWS::Serverless::Function` built by cargo-lambda.
    Lambda,
    /// A container of an ECS task definition.
    Container,
}

/// Where a variable's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A plain value in the environment (a literal, a `!Ref`, a `!Sub`…).
    Plain(Value),
    /// An ECS `Secrets` entry: `ValueFrom`, read by the execution role at task start.
    EcsSecret(Value),
}

/// A binary the template deploys, with the environment it gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployable {
    /// The resource's logical id.
    pub resource: String,
    /// The workspace binary it runs.
    pub binary: String,
    /// Lambda or container.
    pub runs: Runs,
    /// Every variable set for it (Lambda: `Globals` merged under the function's own).
    pub environment: BTreeMap<String, Source>,
}

/// The `Resources` of `template`, by logical id.
pub fn resources(template: &Value) -> impl Iterator<Item = (&str, &Value)> {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.iter().map(|(k, v)| (k.as_str(), v)))
}

/// The resources of one type.
pub fn resources_of_type<'a>(
    template: &'a Value,
    kind: &'a str,
) -> impl Iterator<Item = (&'a str, &'a Value)> {
    resources(template).filter(move |(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
}

/// A function's property, falling back to `Globals.Function`.
pub fn function_property<'a>(
    template: &'a Value,
    function: &'a Value,
    name: &str,
) -> Option<&'a Value> {
    function
        .pointer(&format!("/Properties/{name}"))
        .or_else(|| template.pointer(&format!("/Globals/Function/{name}")))
}

/// Every deployable of the template: functions with
/// `Metadata.BuildProperties.Binary`, and task definitions with
/// `Metadata.Binary` (whose container of the same name runs it).
pub fn deployables(template: &Value) -> Result<Vec<Deployable>, TemplateError> {
    let mut found = Vec::new();
    for (id, function) in resources_of_type(template, FUNCTION) {
        let shape = |what: &str| TemplateError::Shape {
            resource: id.to_owned(),
            what: what.to_owned(),
        };
        let binary = function
            .pointer("/Metadata/BuildProperties/Binary")
            .and_then(Value::as_str)
            .ok_or_else(|| shape("no Metadata.BuildProperties.Binary"))?;
        let mut environment = BTreeMap::new();
        for vars in [
            template.pointer("/Globals/Function/Environment/Variables"),
            function.pointer("/Properties/Environment/Variables"),
        ]
        .into_iter()
        .flatten()
        {
            let vars = vars
                .as_object()
                .ok_or_else(|| shape("Environment.Variables is not a mapping"))?;
            for (name, value) in vars {
                environment.insert(name.clone(), Source::Plain(value.clone()));
            }
        }
        found.push(Deployable {
            resource: id.to_owned(),
            binary: binary.to_owned(),
            runs: Runs::Lambda,
            environment,
        });
    }
    for (id, task) in resources_of_type(template, TASK_DEFINITION) {
        let Some(binary) = task.pointer("/Metadata/Binary").and_then(Value::as_str) else {
            continue;
        };
        let shape = |what: String| TemplateError::Shape {
            resource: id.to_owned(),
            what,
        };
        let container = task
            .pointer("/Properties/ContainerDefinitions")
            .and_then(Value::as_array)
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.get("Name").and_then(Value::as_str) == Some(binary))
            })
            .ok_or_else(|| shape(format!("no container named {binary}")))?;
        let mut environment = BTreeMap::new();
        for (list, key, wrap) in [
            ("Environment", "Value", Source::Plain as fn(Value) -> Source),
            ("Secrets", "ValueFrom", Source::EcsSecret),
        ] {
            for entry in container
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = entry
                    .get("Name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| shape(format!("an entry of {list} without Name")))?;
                let value = entry
                    .get(key)
                    .cloned()
                    .ok_or_else(|| shape(format!("{list} entry {name} without {key}")))?;
                if environment.insert(name.to_owned(), wrap(value)).is_some() {
                    return Err(shape(format!("{name} is set twice")));
                }
            }
        }
        found.push(Deployable {
            resource: id.to_owned(),
            binary: binary.to_owned(),
            runs: Runs::Container,
            environment,
        });
    }
    Ok(found)
}

/// The logical id a value refers to: `{"Ref": id}`, or a
/// `{"Fn::Sub": "…${id}…"}` whose only reference is one resource.
pub fn referenced_id(value: &Value) -> Option<&str> {
    if let Some(id) = value.get("Ref").and_then(Value::as_str) {
        return Some(id);
    }
    let sub = value.get("Fn::Sub").and_then(Value::as_str)?;
    let start = sub.find("${")? + 2;
    let end = start + sub[start..].find('}')?;
    let id = &sub[start..end];
    (!id.contains('.') && !id.starts_with("AWS::")).then_some(id)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn when_short_tags_are_used_should_give_the_long_forms() {
        let value = parse(
            "a: !Ref Table\n\
             b: !GetAtt Queue.Arn\n\
             c: !Sub '${AWS::StackName}-x'\n\
             d: !Join [',', [!Ref A, !GetAtt [B, Arn]]]\n\
             e: !If [Cond, 1, !Ref AWS::NoValue]\n",
        )
        .unwrap();
        assert_eq!(
            value,
            json!({
                "a": {"Ref": "Table"},
                "b": {"Fn::GetAtt": ["Queue", "Arn"]},
                "c": {"Fn::Sub": "${AWS::StackName}-x"},
                "d": {"Fn::Join": [",", [{"Ref": "A"}, {"Fn::GetAtt": ["B", "Arn"]}]]},
                "e": {"Fn::If": ["Cond", 1, {"Ref": "AWS::NoValue"}]},
            })
        );
    }

    #[test]
    fn when_a_tag_is_not_an_intrinsic_should_refuse_it() {
        let err = parse("a: !Reff Table\n").unwrap_err();
        assert!(matches!(err, TemplateError::UnknownTag(t) if t == "Reff"));
    }

    #[test]
    fn when_quoted_numbers_and_versions_should_stay_strings() {
        let value = parse("v: \"62.0\"\nn: 62.0\nt: 30\ns: '30'\n").unwrap();
        assert_eq!(value, json!({"v": "62.0", "n": 62.0, "t": 30, "s": "30"}));
    }

    #[test]
    fn should_merge_globals_under_a_function_and_read_ecs_secrets() {
        let template = parse(
            "Globals:\n  Function:\n    Environment:\n      Variables:\n        RUST_LOG: info\n        A: global\n\
             Resources:\n\
             \x20 Fn:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildProperties:\n        Binary: api\n\
             \x20   Properties:\n      Environment:\n        Variables:\n          A: own\n\
             \x20 Task:\n    Type: AWS::ECS::TaskDefinition\n    Metadata:\n      Binary: sub\n\
             \x20   Properties:\n      ContainerDefinitions:\n        - Name: sub\n\
             \x20         Environment:\n            - {Name: B, Value: !Ref P}\n\
             \x20         Secrets:\n            - {Name: KEY, ValueFrom: !Ref Secret}\n",
        )
        .unwrap();
        let found = deployables(&template).unwrap();
        assert_eq!(found.len(), 2);
        let api = &found[0];
        assert_eq!((api.binary.as_str(), api.runs), ("api", Runs::Lambda));
        assert_eq!(api.environment["A"], Source::Plain(json!("own")));
        assert_eq!(api.environment["RUST_LOG"], Source::Plain(json!("info")));
        let sub = &found[1];
        assert_eq!((sub.binary.as_str(), sub.runs), ("sub", Runs::Container));
        assert_eq!(sub.environment["B"], Source::Plain(json!({"Ref": "P"})));
        assert_eq!(
            sub.environment["KEY"],
            Source::EcsSecret(json!({"Ref": "Secret"}))
        );
    }

    #[test]
    fn should_find_the_resource_a_ref_or_sub_points_at() {
        assert_eq!(referenced_id(&json!({"Ref": "S"})), Some("S"));
        assert_eq!(
            referenced_id(&json!({"Fn::Sub": "{{resolve:secretsmanager:${S}:SecretString:k}}"})),
            Some("S")
        );
        assert_eq!(referenced_id(&json!({"Fn::Sub": "${AWS::Region}"})), None);
        assert_eq!(referenced_id(&json!("plain")), None);
    }
}
