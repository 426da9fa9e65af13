//! `template.yaml` against the workspace: every deployable binary is deployed,
//! every variable it reads is set for it (secrets from Secrets Manager), nothing
//! it does not read is set, and the template keeps the operational invariants
//! the README promises (runtime, queue timings, one subscriber, alarms).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use deploy_tests::reads::{self, Reads};
use deploy_tests::template::{self, Deployable, Runs, Source};
use deploy_tests::workspace::{self, Binary};
use deploy_tests::workspace_root;
use serde_json::Value;

/// Binaries under `functions/` that are not deployed, and why.
const NOT_DEPLOYED: &[(&str, &str)] = &[
    (
        "portal-local",
        "the local runner: everything in one process on emulators",
    ),
    (
        "portal-doctor",
        "the setup doctor, run by an operator from a workstation",
    ),
];

/// Variables a binary reads that the template leaves unset on purpose.
const UNSET_ON_PURPOSE: &[(&str, &str)] = &[
    (
        "SF_PRIVATE_KEY_PATH",
        "the key comes as SF_PRIVATE_KEY_BASE64 from Secrets Manager; only one may be set",
    ),
    (
        "PORTAL_JWT_PUBLIC_KEY_PEM",
        "the keys come from PORTAL_JWKS_URL; only one may be set",
    ),
    (
        "SUBSCRIBER_WATCHDOG_SECS",
        "an override of SF_PUBSUB_WATCHDOG_SECS, which the template sets",
    ),
    (
        "SUBSCRIBER_INSTANCE_ID",
        "must differ per task: the default (host name and process id) does",
    ),
    ("HOSTNAME", "set by the container runtime"),
];

/// Variables that carry a secret: never a value in a function's environment
/// (Lambda reads them through `…_SECRET_ARN`, see [`secrets_of`]; ECS gets them
/// as `Secrets`).
const SECRET_VARIABLES: &[&str] = &[
    "SF_PRIVATE_KEY_BASE64",
    "WHMCS_API_IDENTIFIER",
    "WHMCS_API_SECRET",
    "WHMCS_ACCESS_KEY",
];

/// What a binary reads from Secrets Manager at cold start, as
/// `(variable, variable holding the secret's ARN)`: its config module's
/// `SECRETS`, read by `SecretOverlay::from_env`.
fn secrets_of(binary: &str) -> Vec<(&'static str, &'static str)> {
    let secrets = match binary {
        "portal-api" => portal_http::config::SECRETS,
        "provisioner" => provisioner::config::SECRETS,
        "reconciler" => reconciler::config::SECRETS,
        _ => &[],
    };
    secrets
        .iter()
        .map(|s| (s.variable, s.arn_variable))
        .collect()
}

/// The loader that reads a binary's [`secrets_of`] (their ARN variables).
const SECRETS_LOADER: &str = "SecretOverlay::from_env";

/// The variables behind each configuration loader a deployable may call.
fn loader_variables(loader: &str) -> Option<Vec<&'static str>> {
    let flat = |lists: &[&[&'static str]]| lists.iter().flat_map(|l| l.iter().copied()).collect();
    Some(match loader {
        // AuthConfig is part of ApiConfig (its unit test covers both).
        "ApiConfig::from_env" | "ApiConfig::from_lookup" | "AuthConfig::from_lookup" => {
            portal_http::config::VARIABLES.to_vec()
        }
        "ProvisionerConfig::from_env" | "ProvisionerConfig::from_lookup" => {
            flat(provisioner::config::ALL_VARIABLES)
        }
        "ReconcilerConfig::from_env" | "ReconcilerConfig::from_lookup" => {
            flat(reconciler::config::ALL_VARIABLES)
        }
        "SubscriberConfig::from_env" | "SubscriberConfig::from_lookup" => {
            flat(subscriber::config::ALL_VARIABLES)
        }
        "SalesforceConfig::from_env" | "SalesforceConfig::from_lookup" => {
            salesforce::config::VARIABLES.to_vec()
        }
        "PubSubConfig::from_env" | "PubSubConfig::from_lookup" => {
            salesforce::pubsub::config::VARIABLES.to_vec()
        }
        "WhmcsConfig::from_env" | "WhmcsConfig::from_lookup" | "WhmcsClient::from_env" => {
            whmcs::config::VARIABLES.to_vec()
        }
        // Region and credentials: set by Lambda and ECS themselves.
        "AwsClients::from_env" => Vec::new(),
        // Per binary: variables_read_by() adds the ARN variables of secrets_of().
        SECRETS_LOADER => Vec::new(),
        "EnvFilter::try_from_default_env"
        | "EnvFilter::from_default_env"
        | "portal_aws::init_json_logs" => vec!["RUST_LOG"],
        _ => return None,
    })
}

struct World {
    template: Value,
    deployables: Vec<Deployable>,
    binaries: Vec<Binary>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let root = workspace_root();
        let template = template::load(&root.join("template.yaml")).expect("template.yaml parses");
        let deployables = template::deployables(&template).expect("deployables are well formed");
        let binaries = workspace::binaries_under(&root, "functions").expect("cargo metadata works");
        World {
            template,
            deployables,
            binaries,
        }
    })
}

fn deployed_binaries() -> Vec<&'static Binary> {
    world()
        .binaries
        .iter()
        .filter(|b| !NOT_DEPLOYED.iter().any(|(name, _)| *name == b.name))
        .collect()
}

/// The variables `binary` reads, from its crate's sources; an unknown loader
/// or an unresolved constant is an error naming it.
fn variables_read_by(binary: &Binary) -> Result<BTreeSet<String>, String> {
    let Reads {
        loaders,
        variables,
        unresolved,
    } = reads::scan_dir(&binary.package_dir.join("src")).map_err(|e| e.to_string())?;
    if !unresolved.is_empty() {
        return Err(format!(
            "{}: env::var with constants not defined in the crate: {unresolved:?}",
            binary.name
        ));
    }
    let mut all = variables;
    for loader in &loaders {
        let vars = loader_variables(loader).ok_or_else(|| {
            format!(
                "{}: unknown configuration loader {loader}: give its config module a \
                 `VARIABLES` list and add it to loader_variables()",
                binary.name
            )
        })?;
        all.extend(vars.into_iter().map(str::to_owned));
    }
    let secrets = secrets_of(&binary.name);
    match (loaders.contains(SECRETS_LOADER), secrets.is_empty()) {
        (true, true) => {
            return Err(format!(
                "{}: calls {SECRETS_LOADER} but secrets_of() lists none for it",
                binary.name
            ));
        }
        (false, false) => {
            return Err(format!(
                "{}: has secrets ({secrets:?}) but never calls {SECRETS_LOADER}",
                binary.name
            ));
        }
        _ => all.extend(secrets.iter().map(|(_, arn)| (*arn).to_owned())),
    }
    Ok(all)
}

#[test]
fn every_deployable_binary_is_in_the_template() {
    let world = world();
    assert!(
        world.binaries.iter().any(|b| b.name == "portal-api"),
        "the scan must see the workspace's binaries: {:?}",
        world.binaries
    );
    for (name, _) in NOT_DEPLOYED {
        assert!(
            world.binaries.iter().any(|b| b.name == *name),
            "{name} is on the not-deployed list but is no longer a binary: remove it"
        );
    }
    let missing: Vec<&str> = deployed_binaries()
        .into_iter()
        .filter(|b| !world.deployables.iter().any(|d| d.binary == b.name))
        .map(|b| b.name.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "binaries under functions/ that template.yaml does not deploy: {missing:?} \
         (add a function with Metadata.BuildProperties.Binary, or a task definition with \
         Metadata.Binary; or, if it is not deployed, add it to NOT_DEPLOYED with the reason)"
    );
    for deployable in &world.deployables {
        assert!(
            deployed_binaries()
                .iter()
                .any(|b| b.name == deployable.binary),
            "{} deploys {}, which is not a binary of the workspace",
            deployable.resource,
            deployable.binary
        );
    }
}

#[test]
fn every_variable_a_binary_reads_is_set_for_it_and_nothing_else() {
    let mut problems = Vec::new();
    let mut read_by_any = BTreeSet::new();
    for binary in deployed_binaries() {
        let read = match variables_read_by(binary) {
            Ok(read) => {
                read_by_any.extend(read.iter().cloned());
                read
            }
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        for deployable in world()
            .deployables
            .iter()
            .filter(|d| d.binary == binary.name)
        {
            let set: BTreeSet<&str> = deployable.environment.keys().map(String::as_str).collect();
            let secrets = secrets_of(&binary.name);
            let from_secret = |var: &str| {
                secrets
                    .iter()
                    .any(|(v, arn)| *v == var && set.contains(arn))
            };
            for var in &read {
                let on_purpose = UNSET_ON_PURPOSE.iter().any(|(v, _)| v == var);
                if !set.contains(var.as_str()) && !on_purpose && !from_secret(var) {
                    problems.push(format!(
                        "{} ({}) reads {var}, which the template does not set",
                        deployable.resource, binary.name
                    ));
                }
                if set.contains(var.as_str()) && on_purpose {
                    problems.push(format!(
                        "{} sets {var}, which UNSET_ON_PURPOSE says stays unset",
                        deployable.resource
                    ));
                }
            }
            for var in set {
                if !read.contains(var) {
                    problems.push(format!(
                        "{} sets {var}, which {} never reads (a typo or a leftover?)",
                        deployable.resource, binary.name
                    ));
                }
            }
        }
    }
    for (var, _) in UNSET_ON_PURPOSE {
        if !read_by_any.contains(*var) {
            problems.push(format!(
                "UNSET_ON_PURPOSE lists {var}, which no binary reads any more"
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn secrets_come_from_secrets_manager_and_never_as_plain_values() {
    let template = &world().template;
    let secrets: BTreeSet<&str> = template::resources_of_type(template, template::SECRET)
        .map(|(id, _)| id)
        .collect();
    let mut problems = Vec::new();
    let mut provided = 0;
    for deployable in &world().deployables {
        let arn_variables: BTreeSet<&str> = secrets_of(&deployable.binary)
            .into_iter()
            .map(|(_, arn)| arn)
            .collect();
        let mut referenced = BTreeSet::new();
        for (var, source) in &deployable.environment {
            let is_secret = SECRET_VARIABLES.contains(&var.as_str());
            let is_arn = arn_variables.contains(var.as_str());
            let secret_id = match source {
                Source::EcsSecret(value) | Source::Plain(value) => {
                    template::referenced_id(value).filter(|id| secrets.contains(id))
                }
            };
            let ok = match (deployable.runs, source) {
                // ECS injects the value when the task starts.
                (Runs::Container, Source::EcsSecret(_)) => is_secret && secret_id.is_some(),
                // Lambda gets the secret's ARN only, never its value.
                (Runs::Lambda, Source::Plain(value)) if is_arn => {
                    value.get("Ref").is_some() && secret_id.is_some()
                }
                (_, Source::Plain(value)) => {
                    !is_secret && secret_id.is_none() && !value.to_string().contains("{{resolve:")
                }
                _ => false,
            };
            if !ok {
                problems.push(format!(
                    "{} {var}: a secret must come from a secret of the template (Lambda: \
                     `!Ref` in its …_SECRET_ARN variable, ECS: `Secrets`), and only a secret may",
                    deployable.resource
                ));
            }
            if let Some(id) = secret_id.filter(|_| ok && is_arn) {
                referenced.insert(id.to_owned());
                provided += secrets_of(&deployable.binary)
                    .iter()
                    .filter(|(_, arn)| arn == var)
                    .count();
            }
            provided += usize::from(ok && is_secret);
        }
        if deployable.runs == Runs::Lambda {
            let readable = secrets_readable_by(&deployable.resource);
            if readable != referenced {
                problems.push(format!(
                    "{}: its role may read the secrets {readable:?}; it must read exactly {referenced:?}",
                    deployable.resource
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        provided >= 7,
        "the API, provisioner, reconciler and subscriber keys and the three WHMCS credentials: {provided}"
    );
}

/// The secrets a function's role allows `secretsmanager:GetSecretValue` on,
/// by logical id (a resource that is not a `!Ref` to a secret shows as itself).
fn secrets_readable_by(function: &str) -> BTreeSet<String> {
    let role = resource(function)
        .pointer("/Properties/Role/Fn::GetAtt/0")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{function} has no Role: !GetAtt <role>.Arn"));
    let as_list = |v: &Value| match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    let mut readable = BTreeSet::new();
    let policies = resource(role)["Properties"]["Policies"].as_array().cloned();
    for policy in policies.into_iter().flatten() {
        let statements = as_list(&policy["PolicyDocument"]["Statement"]);
        for statement in statements {
            let actions = as_list(&statement["Action"]);
            if !actions
                .iter()
                .any(|a| a.as_str().is_some_and(|a| a.starts_with("secretsmanager:")))
            {
                continue;
            }
            for target in as_list(&statement["Resource"]) {
                readable.insert(
                    target
                        .get("Ref")
                        .and_then(Value::as_str)
                        .map_or_else(|| target.to_string(), str::to_owned),
                );
            }
        }
    }
    readable
}

#[test]
fn functions_are_arm64_cargo_lambda_builds_with_explicit_memory_and_timeout() {
    let template = &world().template;
    for (id, function) in template::resources_of_type(template, template::FUNCTION) {
        let prop = |name| template::function_property(template, function, name);
        assert_eq!(
            prop("Runtime"),
            Some(&Value::from("provided.al2023")),
            "{id}"
        );
        assert_eq!(
            prop("Architectures"),
            Some(&serde_json::json!(["arm64"])),
            "{id}"
        );
        assert_eq!(prop("Handler"), Some(&Value::from("bootstrap")), "{id}");
        assert_eq!(
            function.pointer("/Metadata/BuildMethod"),
            Some(&Value::from("rust-cargolambda")),
            "{id}"
        );
        for own in ["MemorySize", "Timeout", "Role"] {
            assert!(
                function.pointer(&format!("/Properties/{own}")).is_some(),
                "{id} must choose its own {own}"
            );
        }
    }
}

fn resource(id: &str) -> &'static Value {
    template::resources(&world().template)
        .find(|(name, _)| *name == id)
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("no resource {id}"))
}

fn number(value: Option<&Value>) -> i64 {
    match value {
        Some(Value::Number(n)) => n.as_i64().expect("an integer"),
        Some(Value::String(s)) => s.parse().expect("a number"),
        other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn sqs_event_sources_report_partial_failures_and_respect_the_visibility_rule() {
    let template = &world().template;
    let mut sources = 0;
    for (id, function) in template::resources_of_type(template, template::FUNCTION) {
        let timeout = number(template::function_property(template, function, "Timeout"));
        let events = function
            .pointer("/Properties/Events")
            .and_then(Value::as_object);
        for event in events.into_iter().flat_map(|e| e.values()) {
            if event.get("Type").and_then(Value::as_str) != Some("SQS") {
                continue;
            }
            sources += 1;
            let props = &event["Properties"];
            assert_eq!(
                props["FunctionResponseTypes"],
                serde_json::json!(["ReportBatchItemFailures"]),
                "{id}"
            );
            let queue_id = props["Queue"]["Fn::GetAtt"][0]
                .as_str()
                .expect("a queue in the template");
            let queue = resource(queue_id);
            let visibility = number(queue.pointer("/Properties/VisibilityTimeout"));
            assert!(
                visibility >= 6 * timeout,
                "{queue_id}: visibility {visibility} < 6 x {timeout}"
            );
            let redrive = &queue["Properties"]["RedrivePolicy"];
            assert!(number(redrive.get("maxReceiveCount")) >= 5, "{queue_id}");
            let fifo = queue.pointer("/Properties/FifoQueue") == Some(&Value::Bool(true));
            let batch = number(props.get("BatchSize"));
            assert!(
                (1..=10).contains(&batch) || !fifo,
                "{id}: FIFO batches are 1 to 10"
            );
            let dlq = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
                .as_str()
                .expect("a DLQ");
            assert_eq!(
                resource(dlq).pointer("/Properties/FifoQueue"),
                queue.pointer("/Properties/FifoQueue"),
                "{dlq} must be FIFO like {queue_id}"
            );
        }
    }
    assert!(sources >= 1, "the provisioner's queue");
}

#[test]
fn the_subscriber_runs_once_on_arm64_and_stops_within_its_timeout() {
    let world = world();
    for deployable in world
        .deployables
        .iter()
        .filter(|d| d.runs == Runs::Container)
    {
        let task = resource(&deployable.resource);
        assert_eq!(
            task.pointer("/Properties/RuntimePlatform/CpuArchitecture"),
            Some(&Value::from("ARM64"))
        );
        let dockerfile = task
            .pointer("/Metadata/Dockerfile")
            .and_then(Value::as_str)
            .expect("Metadata.Dockerfile");
        let dockerfile_text = std::fs::read_to_string(workspace_root().join(dockerfile))
            .unwrap_or_else(|e| panic!("{dockerfile}: {e}"));
        assert!(
            dockerfile_text.contains(&deployable.binary),
            "{dockerfile} must build {}",
            deployable.binary
        );
        let container = task["Properties"]["ContainerDefinitions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["Name"] == deployable.binary.as_str()))
            .expect("the container");
        let stop = number(container.get("StopTimeout"));
        if let Some(Source::Plain(own)) = deployable.environment.get("SUBSCRIBER_STOP_TIMEOUT_SECS")
        {
            assert!(
                number(Some(own)) < stop,
                "the subscriber must finish before SIGKILL"
            );
        }
        let services: Vec<&Value> =
            template::resources_of_type(&world.template, "AWS::ECS::Service")
                .filter(|(_, s)| {
                    template::referenced_id(&s["Properties"]["TaskDefinition"])
                        == Some(&deployable.resource)
                })
                .map(|(_, s)| s)
                .collect();
        assert_eq!(
            services.len(),
            1,
            "{} runs in one service",
            deployable.resource
        );
        let props = &services[0]["Properties"];
        assert_eq!(number(props.get("DesiredCount")), 1);
        assert_eq!(
            number(props.pointer("/DeploymentConfiguration/MaximumPercent")),
            100
        );
        assert_eq!(
            number(props.pointer("/DeploymentConfiguration/MinimumHealthyPercent")),
            0
        );
    }
}

#[test]
fn every_function_and_dead_letter_queue_has_an_alarm_to_the_topic() {
    let template = &world().template;
    let alarms: Vec<&Value> = template::resources_of_type(template, "AWS::CloudWatch::Alarm")
        .map(|(_, a)| &a["Properties"])
        .collect();
    for alarm in &alarms {
        assert_eq!(
            alarm["AlarmActions"],
            serde_json::json!([{"Ref": "AlarmTopicArn"}])
        );
    }
    let watched = |namespace: &str, metric: &str, dimension: &Value| {
        alarms.iter().any(|a| {
            a["Namespace"] == namespace
                && a["MetricName"] == metric
                && a["Dimensions"]
                    .as_array()
                    .is_some_and(|ds| ds.iter().any(|d| &d["Value"] == dimension))
        })
    };
    for (id, _) in template::resources_of_type(template, template::FUNCTION) {
        assert!(
            watched("AWS/Lambda", "Errors", &serde_json::json!({"Ref": id})),
            "{id} has no Errors alarm"
        );
    }
    // Queues without a redrive policy are where messages end up: the DLQs.
    let dead_letter_queues: BTreeSet<&str> =
        template::resources_of_type(template, "AWS::SQS::Queue")
            .filter(|(_, q)| q.pointer("/Properties/RedrivePolicy").is_none())
            .map(|(id, _)| id)
            .collect();
    assert!(
        dead_letter_queues.len() >= 2,
        "the provisioning and the event DLQ"
    );
    for id in &dead_letter_queues {
        assert!(
            watched(
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                &serde_json::json!({"Fn::GetAtt": [id, "QueueName"]})
            ),
            "{id} has no depth alarm"
        );
    }
    for metric in ["Heartbeat", "LagMs"] {
        assert!(
            watched(
                subscriber::metrics::NAMESPACE,
                metric,
                &Value::from(subscriber::metrics::SERVICE)
            ),
            "the subscriber's {metric} has no alarm"
        );
    }
    assert!(
        watched(
            reconciler::metrics::NAMESPACE,
            reconciler::metrics::ATTEMPTS_EXHAUSTED,
            &Value::from(reconciler::metrics::SERVICE)
        ),
        "the reconciler's exhausted attempts have no alarm"
    );
}

#[test]
fn the_state_table_keeps_its_keys_ttl_and_index() {
    let table = &resource("StateTable")["Properties"];
    assert_eq!(
        table["KeySchema"],
        serde_json::json!([
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"}
        ])
    );
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"], "ttl");
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(table["GlobalSecondaryIndexes"][0]["IndexName"], "gsi1");
}
