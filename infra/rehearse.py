"""A deploy rehearsal against moto server (`infra/build rehearse`).

What ops run, against moto instead of AWS (AWS_ENDPOINT_URL = MOTO_ENDPOINT):

1. `sam package` of what `sam build` made (target/sam/build): the bootstraps
   are zipped and uploaded to an S3 bucket, CodeUri rewritten;
2. the SAM transform (aws-sam-translator, the library CloudFormation's
   AWS::Serverless-2016-10-31 transform runs): moto has no transforms;
3. the resource types moto's CloudFormation cannot create are taken out and
   every reference to them replaced by a placeholder (UNSUPPORTED, printed);
4. `sam deploy` of the result, as a change set, with every parameter;
5. the created resources are checked against the template's promises: the
   provisioning queue (FIFO, visibility 360 s, 5 receives to its FIFO DLQ,
   retention), the state table (pk/sk, gsi1, TTL on `ttl`, on demand), the
   reconciler's schedule and target, the functions (arm64, provided.al2023,
   memory, timeout, handler, environment), the SQS event source mapping
   (batch 5, partial batch responses, at most 5 concurrent), the subscriber's
   task definition (ARM64, stop timeout, secrets), the log groups' retention
   and the dashboard.

Exit 0 when every check passes; every check prints one line.
"""

import json
import os
import re
import subprocess
import sys

import boto3
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

# moto 5.2's CloudFormation has no model for these (moto/…/models.py
# `cloudformation_type`); they are left out of the rehearsal.
UNSUPPORTED = [
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::CloudWatch::Alarm",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::SecretsManager::Secret",
]
STACK = "portal-rehearsal"
BUCKET = "portal-rehearsal-artifacts"
PARAMETERS = {
    "SalesforceClientId": "3MVG9Rehearsal",
    "SalesforceUsername": "integration@portal.rehearsal",
    "WhmcsApiUrl": "https://billing.rehearsal.example/includes/api.php",
    "PortalJwtIssuer": "https://id.rehearsal.example/",
    "PortalJwtAudience": "portal-api",
    "PortalJwksUrl": "https://id.rehearsal.example/.well-known/jwks.json",
    "PortalAllowedOrigins": "https://portal.rehearsal.example",
    "SubscriberImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/portal-subscriber:rehearsal",
    "SubnetIds": "subnet-0123456789abcdef0",
    "SecurityGroupId": "sg-0123456789abcdef0",
    "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:portal-alarms",
}

failures = []
gaps = []


def moto_gap(what, deployed_ok, template_ok, detail=""):
    """A property moto's CloudFormation drops: checked as deployed when moto
    keeps it, else in the template that was deployed (and reported)."""
    if deployed_ok:
        check(what, True)
        return
    gaps.append(what)
    print(f"{'GAP ' if template_ok else 'FAIL'} {what}: moto does not keep it ({detail}); "
          f"the deployed template {'sets it' if template_ok else 'does NOT set it'}")
    if not template_ok:
        failures.append(what)


def check(what, ok, detail=""):
    print(f"{'PASS' if ok else 'FAIL'} {what}{': ' + str(detail) if detail and not ok else ''}")
    if not ok:
        failures.append(what)


def sam(*args):
    subprocess.run(["sam", *args], check=True)


def strip_unsupported(template):
    """Removes the unsupported resources; replaces references to them."""
    removed = {
        name: res["Type"]
        for name, res in template["Resources"].items()
        if res["Type"] in UNSUPPORTED
    }
    for name in removed:
        del template["Resources"][name]

    def placeholder(name):
        return f"rehearsal-placeholder-{name}"

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in removed:
                return placeholder(node["Ref"])
            if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in removed:
                return placeholder(node["Fn::GetAtt"][0])
            if "Fn::Sub" in node:
                sub = node["Fn::Sub"]
                text = sub if isinstance(sub, str) else sub[0]
                text = re.sub(
                    r"\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}",
                    lambda m: placeholder(m.group(1)) if m.group(1) in removed else m.group(0),
                    text,
                )
                node["Fn::Sub"] = text if isinstance(sub, str) else [text, walk(sub[1])]
                return node
            if "DependsOn" in node:
                deps = node["DependsOn"]
                deps = [deps] if isinstance(deps, str) else deps
                deps = [d for d in deps if d not in removed]
                if deps:
                    node["DependsOn"] = deps
                else:
                    del node["DependsOn"]
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(template), removed


def main():
    endpoint = os.environ.get("MOTO_ENDPOINT")
    if not endpoint:
        sys.exit("MOTO_ENDPOINT is not set (the moto server to rehearse against)")
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "SAM_CLI_TELEMETRY": "0",
        }
    )
    out = "target/rehearsal"
    os.makedirs(out, exist_ok=True)
    built = "target/sam/build/template.yaml"
    if not os.path.exists(built):
        sys.exit(f"no {built}: run infra/build functions first")

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    sam("package", "--template-file", built, "--s3-bucket", BUCKET,
        "--output-template-file", f"{out}/packaged.yaml", "--region", "us-east-1")

    packaged = yaml_parse(open(f"{out}/packaged.yaml").read())

    class NoManagedPolicies:
        def load(self):
            return {}

    values = dict(PARAMETERS)
    transformed = transform(packaged, values, NoManagedPolicies())
    rehearsed, removed = strip_unsupported(transformed)
    # Real CloudFormation names a FIFO queue without QueueName "<stack>-<id>-<random>.fifo";
    # moto leaves the suffix out and then refuses its own name. Name them here.
    for name, res in rehearsed["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::SQS::Queue" and props.get("FifoQueue") and "QueueName" not in props:
            props["QueueName"] = f"{STACK}-{name}.fifo"
            print(f"NAMED for moto: {name} -> {props['QueueName']}")
    for name, kind in sorted(removed.items()):
        print(f"UNSUPPORTED by moto's CloudFormation, left out: {name} ({kind})")
    with open(f"{out}/transformed.json", "w") as f:
        # Compact: under 51,200 bytes sam sends it inline (TemplateBody), not by S3 URL.
        json.dump(rehearsed, f, separators=(",", ":"), default=str)

    overrides = [f"{k}={v}" for k, v in PARAMETERS.items()]
    # Not samconfig.toml's deploy settings (resolve_s3 would upload the template
    # and hand moto an S3 URL it cannot resolve); the code is in S3 already.
    with open(f"{out}/samconfig.toml", "w") as f:
        f.write("version = 0.1\n")
    sam("deploy", "--config-file", os.path.abspath(f"{out}/samconfig.toml"),
        "--template-file", f"{out}/transformed.json", "--stack-name", STACK,
        "--capabilities", "CAPABILITY_IAM", "--region", "us-east-1",
        "--no-confirm-changeset", "--no-fail-on-empty-changeset", "--no-progressbar",
        "--parameter-overrides", *overrides)

    cfn = boto3.client("cloudformation")
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    check("stack created", stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), stack["StackStatus"])
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    }
    expected = set(rehearsed["Resources"])
    check("every rehearsed resource created", expected <= set(physical), sorted(expected - set(physical)))

    # The provisioning queue and its DLQ.
    sqs = boto3.client("sqs")
    def queue_attributes(logical):
        url = physical[logical]
        if not url.startswith("http"):
            url = sqs.get_queue_url(QueueName=url)["QueueUrl"]
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    q = queue_attributes("ProvisioningQueue")
    dlq = queue_attributes("ProvisioningDeadLetterQueue")
    redrive = json.loads(q.get("RedrivePolicy", "{}"))
    check("provisioning queue is FIFO", q.get("FifoQueue") == "true", q.get("FifoQueue"))
    check("provisioning queue visibility 360 s", q.get("VisibilityTimeout") == "360", q.get("VisibilityTimeout"))
    check("provisioning queue retention 4 days", q.get("MessageRetentionPeriod") == "345600", q.get("MessageRetentionPeriod"))
    check("provisioning queue: 5 receives, then its DLQ",
          str(redrive.get("maxReceiveCount")) == "5" and redrive.get("deadLetterTargetArn") == dlq.get("QueueArn"), redrive)
    check("provisioning DLQ is FIFO, 14 days", dlq.get("FifoQueue") == "true" and dlq.get("MessageRetentionPeriod") == "1209600", dlq)
    edlq = queue_attributes("EventDeadLetterQueue")
    check("event DLQ is FIFO", edlq.get("FifoQueue") == "true", edlq)

    # The state table.
    ddb = boto3.client("dynamodb")
    table = ddb.describe_table(TableName=physical["StateTable"])["Table"]
    keys = {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]}
    check("state table keys pk (HASH), sk (RANGE)", keys == {"pk": "HASH", "sk": "RANGE"}, keys)
    gsis = {g["IndexName"]: {k["AttributeName"]: k["KeyType"] for k in g["KeySchema"]} for g in table.get("GlobalSecondaryIndexes", [])}
    check("state table index gsi1 (gsi1pk, gsi1sk)", gsis.get("gsi1") == {"gsi1pk": "HASH", "gsi1sk": "RANGE"}, gsis)
    check("state table on demand", table.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST", table.get("BillingModeSummary"))
    ttl = ddb.describe_time_to_live(TableName=physical["StateTable"])["TimeToLiveDescription"]
    props = rehearsed["Resources"]["StateTable"]["Properties"]
    moto_gap("state table TTL on ttl",
             ttl.get("AttributeName") == "ttl" and ttl.get("TimeToLiveStatus") == "ENABLED",
             props.get("TimeToLiveSpecification") == {"AttributeName": "ttl", "Enabled": True}, ttl)

    # The functions.
    lam = boto3.client("lambda")
    memory = {"PortalApiFunction": 256, "ProvisionerFunction": 512, "ReconcilerFunction": 256}
    timeout = {"PortalApiFunction": 15, "ProvisionerFunction": 60, "ReconcilerFunction": 120}
    for logical in memory:
        config = lam.get_function_configuration(FunctionName=physical[logical])
        check(f"{logical}: provided.al2023, handler bootstrap",
              config["Runtime"] == "provided.al2023" and config["Handler"] == "bootstrap",
              (config["Runtime"], config["Handler"]))
        moto_gap(f"{logical}: arm64", config.get("Architectures") == ["arm64"],
                 rehearsed["Resources"][logical]["Properties"].get("Architectures") == ["arm64"],
                 config.get("Architectures"))
        check(f"{logical}: {memory[logical]} MB, {timeout[logical]} s",
              config["MemorySize"] == memory[logical] and config["Timeout"] == timeout[logical],
              (config["MemorySize"], config["Timeout"]))
        env = config.get("Environment", {}).get("Variables", {})
        check(f"{logical}: RUST_LOG and SF_LOGIN_URL set", "RUST_LOG" in env and env.get("SF_LOGIN_URL", "").startswith("https://"), sorted(env))

    mappings = lam.list_event_source_mappings(FunctionName=physical["ProvisionerFunction"])["EventSourceMappings"]
    check("provisioner reads the provisioning queue", len(mappings) == 1 and mappings[0]["EventSourceArn"] == q["QueueArn"], mappings)
    if mappings:
        m = mappings[0]
        check("provisioner batches of 5 with partial batch responses",
              m.get("BatchSize") == 5 and m.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], m)
        check("provisioner at most 5 concurrent", m.get("ScalingConfig", {}).get("MaximumConcurrency") == 5, m.get("ScalingConfig"))

    # The reconciler's schedule.
    events = boto3.client("events")
    rules = [r for r in events.list_rules()["Rules"] if r.get("ScheduleExpression")]
    check("one scheduled rule, rate(5 minutes), enabled",
          len(rules) == 1 and rules[0]["ScheduleExpression"] == "rate(5 minutes)" and rules[0]["State"] == "ENABLED", rules)
    if rules:
        targets = events.list_targets_by_rule(Rule=rules[0]["Name"])["Targets"]
        reconciler_arn = lam.get_function_configuration(FunctionName=physical["ReconcilerFunction"])["FunctionArn"]
        check("the schedule invokes the reconciler", [t["Arn"] for t in targets] == [reconciler_arn], targets)

    # The subscriber.
    ecs = boto3.client("ecs")
    task = ecs.describe_task_definition(taskDefinition=physical["SubscriberTaskDefinition"])["taskDefinition"]
    container = task["containerDefinitions"][0]
    moto_gap("subscriber task: Fargate", task.get("requiresCompatibilities") == ["FARGATE"],
             rehearsed["Resources"]["SubscriberTaskDefinition"]["Properties"].get("RequiresCompatibilities") == ["FARGATE"],
             task.get("requiresCompatibilities"))
    moto_gap("subscriber task: ARM64", task.get("runtimePlatform", {}).get("cpuArchitecture") == "ARM64",
             rehearsed["Resources"]["SubscriberTaskDefinition"]["Properties"].get("RuntimePlatform", {}).get("CpuArchitecture") == "ARM64",
             task.get("runtimePlatform"))
    check("subscriber container: stop timeout 30 s, read-only root, key from a secret",
          container.get("stopTimeout") == 30 and container.get("readonlyRootFilesystem") is True
          and [s["name"] for s in container.get("secrets", [])] == ["SF_PRIVATE_KEY_BASE64"], container)

    # Logs and the dashboard.
    logs = boto3.client("logs")
    groups = logs.describe_log_groups()["logGroups"]
    ours = [g for g in groups if g["logGroupName"] in set(physical.values())]
    check("log groups kept 30 days", len(ours) >= 5 and all(g.get("retentionInDays") == 30 for g in ours),
          [(g["logGroupName"], g.get("retentionInDays")) for g in ours])
    cw = boto3.client("cloudwatch")
    dashboard = cw.get_dashboard(DashboardName=physical["PipelineDashboard"])
    body = json.loads(dashboard["DashboardBody"])
    check("dashboard created with its widgets", len(body.get("widgets", [])) >= 20, len(body.get("widgets", [])))

    if failures:
        sys.exit(f"{len(failures)} rehearsal checks failed: {failures}")
    print(f"rehearsal: every check passed ({len(gaps)} properties moto drops checked in the template: {gaps})")


if __name__ == "__main__":
    main()
