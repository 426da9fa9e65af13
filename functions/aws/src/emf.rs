//! CloudWatch Embedded Metric Format: one JSON object per log line, which
//! CloudWatch Logs turns into metrics (the workers print these on stdout).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// One metric of a line: its name, its CloudWatch unit and its value (a
/// number, or an array of numbers for several samples).
#[derive(Debug, Clone)]
pub struct Metric<'a> {
    /// The metric's name.
    pub name: &'a str,
    /// Its unit, e.g. `Count` or `Milliseconds`.
    pub unit: &'a str,
    /// Its value or values.
    pub value: Value,
}

impl<'a> Metric<'a> {
    /// A `Count` metric.
    pub fn count(name: &'a str, value: u64) -> Self {
        Self {
            name,
            unit: "Count",
            value: value.into(),
        }
    }
}

/// One EMF line in `namespace` with the `dimensions` (name, value; one
/// dimension set holding all of them) and the `metrics`, stamped `now`.
pub fn line(
    namespace: &str,
    dimensions: &[(&str, &str)],
    metrics: &[Metric<'_>],
    now: DateTime<Utc>,
) -> String {
    let mut root = Map::new();
    for (name, value) in dimensions {
        root.insert((*name).into(), (*value).into());
    }
    for metric in metrics {
        root.insert(metric.name.into(), metric.value.clone());
    }
    let names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|m| json!({"Name": m.name, "Unit": m.unit}))
        .collect();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [names],
                "Metrics": definitions,
            }],
        }),
    );
    Value::Object(root).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_declares_every_dimension_and_metric_it_carries() {
        let now = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap_or_default();
        let text = line(
            "Space/Name",
            &[("Service", "svc"), ("Queue", "q")],
            &[
                Metric::count("Things", 3),
                Metric {
                    name: "LagMs",
                    unit: "Milliseconds",
                    value: json!([5, 7]),
                },
            ],
            now,
        );
        let v: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(v["Service"], "svc");
        assert_eq!(v["Queue"], "q");
        assert_eq!(v["Things"], 3);
        assert_eq!(v["LagMs"], json!([5, 7]));
        let aws = &v["_aws"];
        assert_eq!(aws["Timestamp"], 1_700_000_000_123_i64);
        let cw = &aws["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "Space/Name");
        assert_eq!(cw["Dimensions"], json!([["Service", "Queue"]]));
        assert_eq!(
            cw["Metrics"],
            json!([{"Name": "Things", "Unit": "Count"}, {"Name": "LagMs", "Unit": "Milliseconds"}])
        );
    }
}
