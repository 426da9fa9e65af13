//! The dashboard and the alarms watch metrics that exist: every metric in a
//! `CustomerPortal/*` namespace is one the code emits (the subscriber's,
//! provisioner's and reconciler's EMF lines, produced here by their own
//! code), with the same dimensions; every `AWS/*` metric is one AWS publishes
//! for that namespace, with its dimension naming a resource of this template
//! of the right type. The dashboard shows each stage of the pipeline and its
//! URL is a stack output.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use deploy_tests::template::{self, resources_of_type};
use deploy_tests::workspace_root;
use portal_core::ports::{EVENT_DLQ, PROVISIONING_DLQ, QueueDepth};
use portal_core::reconcile::ReconcileReport;
use serde_json::Value;

/// A metric: namespace, name and dimensions (name → value).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct MetricId {
    namespace: String,
    name: String,
    dimensions: BTreeMap<String, String>,
}

impl std::fmt::Display for MetricId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} {:?}", self.namespace, self.name, self.dimensions)
    }
}

/// The metrics AWS publishes that this template may watch, by namespace,
/// with the one dimension used and the resource type it names (AWS docs:
/// "Monitoring your HTTP API" / "Available CloudWatch metrics for Amazon SQS" /
/// "Types of metrics for Lambda functions").
const AWS_METRICS: &[(&str, &str, &[&str])] = &[
    (
        "AWS/ApiGateway",
        "ApiId",
        &[
            "Count",
            "4xx",
            "5xx",
            "Latency",
            "IntegrationLatency",
            "DataProcessed",
        ],
    ),
    (
        "AWS/SQS",
        "QueueName",
        &[
            "ApproximateNumberOfMessagesVisible",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
            "ApproximateAgeOfOldestMessage",
            "NumberOfMessagesSent",
            "NumberOfMessagesReceived",
            "NumberOfMessagesDeleted",
            "NumberOfEmptyReceives",
            "SentMessageSize",
        ],
    ),
    (
        "AWS/Lambda",
        "FunctionName",
        &[
            "Invocations",
            "Errors",
            "Throttles",
            "Duration",
            "ConcurrentExecutions",
            "DeadLetterErrors",
            "AsyncEventsDropped",
        ],
    ),
];

/// The resource type a dimension of an `AWS/*` metric must name, and how
/// (`${Id}` or `${Id.Attribute}` in the dashboard, `!Ref` / `!GetAtt` in an alarm).
const DIMENSION_TARGETS: &[(&str, &str, Option<&str>)] = &[
    ("ApiId", "AWS::Serverless::HttpApi", None),
    ("QueueName", "AWS::SQS::Queue", Some("QueueName")),
    ("FunctionName", "AWS::Serverless::Function", None),
];

fn template() -> Value {
    template::load(&workspace_root().join("template.yaml")).expect("template.yaml parses")
}

/// Every metric the code emits, read from EMF lines its own code makes.
fn emitted() -> BTreeSet<MetricId> {
    let now: DateTime<Utc> = DateTime::from_timestamp(1_714_557_600, 0).unwrap_or_default();
    let mut lines = Vec::new();
    // The subscriber, with a lag sample (LagMs is only present then).
    let (sink, printed) = subscriber::EmfMetrics::in_memory();
    let metrics = portal_core::workers::subscriber::Metrics::new(sink);
    metrics.received(Some(40));
    metrics.flush(now);
    lines.extend(printed.lock().expect("not poisoned").clone());
    // The provisioner's batch line.
    lines.push(provisioner::metrics::emf_line(
        &provisioner::metrics::BatchCounts::default(),
        now,
    ));
    // The reconciler's run report, with both dead-letter queues.
    let report = ReconcileReport {
        dead_letters: [PROVISIONING_DLQ, EVENT_DLQ]
            .into_iter()
            .map(|queue| QueueDepth {
                queue: queue.to_owned(),
                visible: 0,
                in_flight: 0,
            })
            .collect(),
        ..ReconcileReport::default()
    };
    lines.extend(reconciler::metrics::emf_lines(&report, now));

    let mut out = BTreeSet::new();
    for line in lines {
        let line: Value = serde_json::from_str(&line).expect("an EMF line is JSON");
        for directive in line["_aws"]["CloudWatchMetrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let namespace = directive["Namespace"].as_str().expect("a namespace");
            for set in directive["Dimensions"].as_array().into_iter().flatten() {
                let dimensions: BTreeMap<String, String> = set
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|d| {
                        (
                            d.to_owned(),
                            line[d].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect();
                for metric in directive["Metrics"].as_array().into_iter().flatten() {
                    let name = metric["Name"].as_str().expect("a metric name");
                    assert!(line.get(name).is_some(), "{name} has a value in its line");
                    out.insert(MetricId {
                        namespace: namespace.to_owned(),
                        name: name.to_owned(),
                        dimensions: dimensions.clone(),
                    });
                }
            }
        }
    }
    out
}

/// The dashboard's body with every `${…}` left as written.
fn dashboard(template: &Value) -> (String, Value) {
    let mut dashboards: Vec<_> =
        resources_of_type(template, "AWS::CloudWatch::Dashboard").collect();
    assert_eq!(dashboards.len(), 1, "one dashboard");
    let (id, dashboard) = dashboards.remove(0);
    let body = dashboard
        .pointer("/Properties/DashboardBody/Fn::Sub")
        .and_then(Value::as_str)
        .expect("DashboardBody is one !Sub string");
    (
        id.to_owned(),
        serde_json::from_str(body).expect("DashboardBody is JSON"),
    )
}

/// The metrics of every widget, with the widget's title.
fn dashboard_metrics(body: &Value) -> Vec<(String, MetricId)> {
    let mut out = Vec::new();
    for widget in body["widgets"].as_array().expect("widgets") {
        let title = widget["properties"]["title"].as_str().unwrap_or_default();
        for metric in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let parts: Vec<&str> = metric
                .as_array()
                .expect("a metric is an array")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(
                parts.len() >= 2 && parts.len().is_multiple_of(2),
                "{title}: {metric} is [namespace, name, dimension, value, …, {{options}}] (no \"...\" shorthand)"
            );
            let dimensions = parts[2..]
                .chunks(2)
                .map(|pair| (pair[0].to_owned(), pair[1].to_owned()))
                .collect();
            out.push((
                title.to_owned(),
                MetricId {
                    namespace: parts[0].to_owned(),
                    name: parts[1].to_owned(),
                    dimensions,
                },
            ));
        }
    }
    out
}

/// `${Id}` or `${Id.Attribute}` → (Id, Attribute).
fn sub_reference(value: &str) -> Option<(&str, Option<&str>)> {
    let inner = value.strip_prefix("${")?.strip_suffix('}')?;
    Some(match inner.split_once('.') {
        Some((id, attribute)) => (id, Some(attribute)),
        None => (inner, None),
    })
}

/// Why an `AWS/*` metric is not one AWS publishes for a resource of this template.
fn aws_metric_problem(
    template: &Value,
    metric: &MetricId,
    reference: Option<(&str, Option<&str>)>,
) -> Option<String> {
    let Some((_, dimension, names)) = AWS_METRICS.iter().find(|(ns, ..)| *ns == metric.namespace)
    else {
        return Some(format!(
            "namespace {} is not watched here",
            metric.namespace
        ));
    };
    if !names.contains(&metric.name.as_str()) {
        return Some(format!(
            "{} does not publish {}",
            metric.namespace, metric.name
        ));
    }
    if metric.dimensions.keys().collect::<Vec<_>>() != [dimension] {
        return Some(format!(
            "dimensions {:?}, expected [{dimension}]",
            metric.dimensions
        ));
    }
    let Some((id, attribute)) = reference else {
        return Some(format!("{dimension} names no resource of the template"));
    };
    let (_, kind, wanted_attribute) = DIMENSION_TARGETS
        .iter()
        .find(|(d, ..)| d == dimension)
        .expect("every watched dimension has a target");
    let actual = template
        .pointer(&format!("/Resources/{id}/Type"))
        .and_then(Value::as_str);
    if actual != Some(kind) {
        return Some(format!(
            "{dimension} names {id} ({actual:?}), expected a {kind}"
        ));
    }
    if attribute != *wanted_attribute {
        return Some(format!(
            "{dimension} must be {id}'s {wanted_attribute:?}, not {attribute:?}"
        ));
    }
    None
}

#[test]
fn every_dashboard_metric_is_emitted_by_the_code_or_published_by_aws() {
    let template = template();
    let emitted = emitted();
    let (_, body) = dashboard(&template);
    let metrics = dashboard_metrics(&body);
    assert!(metrics.len() >= 20, "the dashboard shows the pipeline");
    let mut problems = Vec::new();
    for (title, metric) in &metrics {
        if metric.namespace.starts_with("CustomerPortal/") {
            if !emitted.contains(metric) {
                problems.push(format!("{title}: {metric} is emitted by no code"));
            }
        } else {
            let reference = metric
                .dimensions
                .values()
                .next()
                .and_then(|v| sub_reference(v));
            if let Some(problem) = aws_metric_problem(&template, metric, reference) {
                problems.push(format!("{title}: {metric}: {problem}"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_dashboard_shows_each_stage_left_to_right() {
    let (_, body) = dashboard(&template());
    let widgets = body["widgets"].as_array().expect("widgets");
    // Widget titles start with their stage's number; stages go left to right.
    let mut columns: BTreeMap<u64, BTreeSet<char>> = BTreeMap::new();
    for widget in widgets {
        let x = widget["x"].as_u64().expect("x");
        let stage = widget["properties"]["title"]
            .as_str()
            .and_then(|t| t.chars().next())
            .expect("a title");
        columns.entry(x).or_default().insert(stage);
        let right = x + widget["width"].as_u64().expect("width");
        assert!(right <= 24, "inside the 24-column grid");
    }
    let stages: Vec<Vec<char>> = columns
        .values()
        .map(|s| s.iter().copied().collect())
        .collect();
    assert_eq!(
        stages,
        [['1'], ['2'], ['3'], ['4'], ['5']],
        "one column per stage, in order"
    );

    // Each stage shows what issue 14 asks for.
    let shown: BTreeSet<(String, String)> = dashboard_metrics(&body)
        .into_iter()
        .map(|(_, m)| (m.namespace, m.name))
        .collect();
    let expected = [
        ("AWS/ApiGateway", "Count"),
        ("AWS/ApiGateway", "4xx"),
        ("AWS/ApiGateway", "5xx"),
        ("AWS/ApiGateway", "Latency"),
        ("CustomerPortal/Subscriber", "Heartbeat"),
        ("CustomerPortal/Subscriber", "EventsForwarded"),
        ("CustomerPortal/Subscriber", "LagMs"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("CustomerPortal/Reconciler", "Reenqueued"),
    ];
    for (namespace, name) in expected
        .into_iter()
        .chain(provisioner::metrics::METRICS.map(|m| ("CustomerPortal/Provisioner", m)))
    {
        assert!(
            shown.contains(&(namespace.to_owned(), name.to_owned())),
            "the dashboard shows {namespace} {name}"
        );
    }
}

#[test]
fn the_dashboard_url_is_a_stack_output() {
    let template = template();
    let (id, _) = dashboard(&template);
    let url = template
        .pointer("/Outputs/DashboardUrl/Value/Fn::Sub")
        .and_then(Value::as_str)
        .expect("an output DashboardUrl");
    assert!(url.starts_with("https://"), "{url}");
    assert!(
        url.contains(&format!("#dashboards:name=${{{id}}}")),
        "{url}"
    );
}

/// An alarm's dimension value: `!Ref Id` or `!GetAtt Id.Attribute` → (Id,
/// Attribute), or a literal.
fn alarm_dimension(value: &Value) -> Result<(String, Option<String>), String> {
    if let Some(id) = value.get("Ref").and_then(Value::as_str) {
        return Ok((id.to_owned(), None));
    }
    if let Some([id, attribute]) = value
        .get("Fn::GetAtt")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        return Ok((
            id.as_str().unwrap_or_default().to_owned(),
            attribute.as_str().map(str::to_owned),
        ));
    }
    Err(value.as_str().unwrap_or_default().to_owned())
}

#[test]
fn every_alarm_watches_a_metric_that_exists() {
    let template = template();
    let emitted = emitted();
    let mut problems = Vec::new();
    let mut alarms = 0;
    for (id, alarm) in resources_of_type(&template, "AWS::CloudWatch::Alarm") {
        alarms += 1;
        let p = &alarm["Properties"];
        let text = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
        let mut dimensions = BTreeMap::new();
        let mut reference = None;
        for d in p["Dimensions"].as_array().into_iter().flatten() {
            let name = d["Name"].as_str().unwrap_or_default().to_owned();
            match alarm_dimension(&d["Value"]) {
                Ok((rid, attribute)) => {
                    reference = Some((rid.clone(), attribute.clone()));
                    let shown = match &attribute {
                        Some(a) => format!("${{{rid}.{a}}}"),
                        None => format!("${{{rid}}}"),
                    };
                    dimensions.insert(name, shown);
                }
                Err(literal) => {
                    dimensions.insert(name, literal);
                }
            }
        }
        let metric = MetricId {
            namespace: text("Namespace"),
            name: text("MetricName"),
            dimensions,
        };
        if metric.namespace.starts_with("CustomerPortal/") {
            if !emitted.contains(&metric) {
                problems.push(format!("{id}: {metric} is emitted by no code"));
            }
        } else if let Some(problem) = aws_metric_problem(
            &template,
            &metric,
            reference.as_ref().map(|(r, a)| (r.as_str(), a.as_deref())),
        ) {
            problems.push(format!("{id}: {metric}: {problem}"));
        }
    }
    assert!(alarms >= 10, "the alarms are read ({alarms})");
    assert!(problems.is_empty(), "{problems:#?}");
}
