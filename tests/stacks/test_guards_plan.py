"""Issue 15, parts 1 and 3, in the reference stacks' offline plans: budget guards on AWS and GCP (Alibaba has no
budget resource in pulumi-alicloud: README), the interruption plumbing on AWS, graceful shutdown on GKE spot pools;
and newinfra:budgetAlerts' bad input is one line naming the key, exit 2, nothing written."""

from __future__ import annotations

import json

import pytest
import yaml

from newinfra.offline import run_program
from tests.paths import REPO_ROOT
from tests.stacks.test_bad_inputs import DEV_TEXT, assert_one_line, cli, cli_error, make_project


@pytest.fixture(scope="module")
def prod():
    return run_program(REPO_ROOT, "prod")


@pytest.fixture(scope="module")
def dev():
    return run_program(REPO_ROOT, "dev")


def _inputs(record, type_token):
    return [r["inputs"] for r in record.of_type(type_token)]


def test_prod_plans_budget_guards_on_aws_and_gcp(prod):
    (budget,) = _inputs(prod, "aws:budgets/budget:Budget")
    assert budget["limitAmount"] == "250000.00" and budget["timeUnit"] == "MONTHLY"
    assert budget["costFilters"] == [{"name": "TagKeyValue", "values": ["user:environment$prod"]}]
    (topic,) = prod.of_type("aws:sns/topic:Topic")
    topic_arn = f"arn:aws:sns:us-east-1:123456789012:{topic['inputs']['name']}"
    assert topic["inputs"]["kmsMasterKeyId"].startswith("arn:aws:kms:")
    assert sorted((n["notificationType"], n["threshold"]) for n in budget["notifications"]) == [
        ("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)]
    assert all(n["subscriberSnsTopicArns"] == [topic_arn] and n["subscriberEmailAddresses"] ==
               ["finops@example.com", "ml-platform-oncall@example.com"] for n in budget["notifications"])
    (policy,) = _inputs(prod, "aws:sns/topicPolicy:TopicPolicy")
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "budgets.amazonaws.com"} and statement["Resource"] == topic_arn
    # production is told, never stopped
    assert not prod.of_type("aws:budgets/budgetAction:BudgetAction")

    (gcp,) = _inputs(prod, "gcp:billing/budget:Budget")
    assert gcp["billingAccount"] == "01A2B3-C4D5E6-F7A8B9"
    assert gcp["budgetFilter"]["labels"] == {"environment": "prod"}
    assert gcp["budgetFilter"]["projects"] == ["projects/271828182845"]
    assert sorted((r["spendBasis"], r["thresholdPercent"]) for r in gcp["thresholdRules"]) == [
        ("CURRENT_SPEND", 0.5), ("CURRENT_SPEND", 0.8), ("CURRENT_SPEND", 1), ("FORECASTED_SPEND", 1)]
    (pubsub,) = _inputs(prod, "gcp:pubsub/topic:Topic")
    assert gcp["allUpdatesRule"]["pubsubTopic"].endswith(pubsub["name"]) and pubsub["kmsKeyName"]
    assert len(gcp["allUpdatesRule"]["monitoringNotificationChannels"]) == 2
    (publisher,) = _inputs(prod, "gcp:pubsub/topicIAMMember:TopicIAMMember")
    assert publisher["member"] == "serviceAccount:billing-budget-alert@system.gserviceaccount.com"
    assert not [r for r in prod.resources if r["type"].startswith("alicloud:") and "budget" in r["type"].lower()]


def test_prod_plans_the_interruption_plumbing_on_aws(prod):
    (queue,) = prod.of_type("aws:sqs/queue:Queue")
    assert queue["inputs"]["kmsMasterKeyId"].startswith("arn:aws:kms:")
    (output,) = prod.outputs["interruptionQueues"]
    region = output["region"]  # the region of the EKS cluster
    queue_arn = f"arn:aws:sqs:{region}:123456789012:{queue['inputs']['name']}"
    rules = prod.of_type("aws:cloudwatch/eventRule:EventRule")
    patterns = sorted(json.loads(r["inputs"]["eventPattern"])["detail-type"][0] for r in rules)
    assert patterns == ["AWS Health Event", "Capacity Block Expiration Warning", "EC2 Instance Rebalance Recommendation",
                        "EC2 Spot Instance Interruption Warning"]
    targets = _inputs(prod, "aws:cloudwatch/eventTarget:EventTarget")
    assert sorted(t["rule"] for t in targets) == sorted(r["inputs"]["name"] for r in rules)
    assert {t["arn"] for t in targets} == {queue_arn}
    (policy,) = _inputs(prod, "aws:sqs/queuePolicy:QueuePolicy")
    allow = json.loads(policy["policy"])["Statement"][0]
    assert sorted(allow["Condition"]["ArnEquals"]["aws:SourceArn"]) == sorted(
        f"arn:aws:events:{region}:123456789012:rule/{r['inputs']['name']}" for r in rules)
    assert output["queueUrl"] == f"https://sqs.{region}.amazonaws.com/123456789012/{queue['inputs']['name']}"


def test_prod_installs_a_termination_handler_that_reads_the_queue(prod):
    """The queue has a reader: the handler's Helm release in queue processor mode points at this queue and region,
    runs as the service account the Pod Identity association names, with a role only Pod Identity may assume
    that may read and decrypt this queue; it drains only instances carrying its tag, and our GPU nodes carry it."""
    (queue,) = prod.of_type("aws:sqs/queue:Queue")
    (output,) = prod.outputs["interruptionQueues"]
    (release,) = [r["inputs"] for r in prod.of_type("kubernetes:helm.sh/v3:Release")
                  if r["inputs"]["chart"].endswith("/aws-node-termination-handler")]
    values = release["values"]
    assert release["namespace"] == "kube-system" and release["version"]
    assert values["enableSqsTerminationDraining"] is True
    assert values["queueURL"] == output["queueUrl"] and values["awsRegion"] == output["region"]
    assert values["checkTagBeforeDraining"] is True
    # the handler's (the AWS Load Balancer Controller of a serving cluster has its own)
    (association,) = [r["inputs"] for r in prod.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                      if r["name"].endswith("interruptions-handler")]
    assert (association["namespace"], association["serviceAccount"]) == (
        release["namespace"], values["serviceAccount"]["name"])
    (cluster,) = _inputs(prod, "aws:eks/cluster:Cluster")
    assert association["clusterName"] == cluster["name"]
    addons = {a["addonName"]: a for a in _inputs(prod, "aws:eks/addon:Addon")}
    assert addons["eks-pod-identity-agent"]["clusterName"] == cluster["name"]

    roles = {r["name"]: r["inputs"] for r in prod.of_type("aws:iam/role:Role")}
    trust = json.loads(roles[next(n for n in roles if n.endswith("interruptions-handler"))]["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "pods.eks.amazonaws.com"}]
    policies = {r["name"]: json.loads(r["inputs"]["policy"]) for r in prod.of_type("aws:iam/policy:Policy")}
    handler = policies[next(n for n in policies if n.endswith("interruptions-handler"))]
    by_sid = {s["Sid"]: s for s in handler["Statement"]}
    region = output["region"]
    assert by_sid["ReadInterruptionQueue"]["Resource"] == f"arn:aws:sqs:{region}:123456789012:{queue['inputs']['name']}"
    # an SSE-KMS queue hands messages only to a reader that may decrypt with its key
    assert by_sid["DecryptInterruptionQueue"]["Resource"] == queue["inputs"]["kmsMasterKeyId"]

    templates = _inputs(prod, "aws:ec2/launchTemplate:LaunchTemplate")
    assert templates and all(
        spec["tags"].get(values["managedTag"]) == "true"
        for t in templates for spec in t["tagSpecifications"] if spec["resourceType"] == "instance")


def test_the_termination_handler_is_aws_only():
    from newinfra.components.planning.guards import termination_handler_values

    from newinfra.errors import ComponentInputError

    with pytest.raises(ComponentInputError, match="interruption_queue.region"):
        termination_handler_values("https://sqs.us-east-1.amazonaws.com/1/q", "")


def test_dev_stops_new_gpu_capacity_at_its_threshold(dev):
    (action,) = _inputs(dev, "aws:budgets/budgetAction:BudgetAction")
    assert action["actionType"] == "APPLY_IAM_POLICY" and action["approvalModel"] == "AUTOMATIC"
    assert action["actionThreshold"] == {"actionThresholdType": "PERCENTAGE", "actionThresholdValue": 100}
    (node_role,) = [r for r in dev.of_type("aws:iam/role:Role") if r["name"].endswith("-gpu-node")]
    (role,) = action["definition"]["iamActionDefinition"]["roles"]
    assert role.startswith(f"{node_role['name']}-")  # its auto-name: the nodes' instance role
    (deny,) = [r for r in dev.of_type("aws:iam/policy:Policy") if r["name"].endswith("stop-gpu")]
    assert action["definition"]["iamActionDefinition"]["policyArn"].split("/")[-1].startswith(f"{deny['name']}-")
    statements = json.loads(deny["inputs"]["policy"])["Statement"]
    groups = {r["inputs"]["nodeGroupName"] for r in dev.of_type("aws:eks/nodeGroup:NodeGroup")}
    assert {arn.rsplit("/", 1)[1] for arn in statements[1]["Resource"]} == groups
    (execution,) = [r["inputs"] for r in dev.of_type("aws:iam/rolePolicy:RolePolicy")
                    if r["name"].endswith("budget-action")]
    assert json.loads(execution["policy"])["Statement"][0]["Condition"] == {
        "ArnEquals": {"iam:PolicyARN": action["definition"]["iamActionDefinition"]["policyArn"]}}


BUDGET = DEV_TEXT.split("  newinfra:budgetAlerts:\n", 1)[1].split("  newinfra:tags:", 1)[0]


@pytest.mark.parametrize(("old", "new", "key", "fragment"), [
    ("{percent: 80}", "{percent: 250}", "newinfra:budgetAlerts.thresholds[0].percent", "(0, 200]"),
    ("{percent: 80}", "{percent: 0}", "newinfra:budgetAlerts.thresholds[0].percent", "(0, 200]"),
    ("recipients: [ml-platform-oncall@example.com]", "recipients: []", "newinfra:budgetAlerts.recipients",
     "empty"),
    ("recipients: [ml-platform-oncall@example.com]", "recipients: [oncall]", "newinfra:budgetAlerts.recipients",
     "oncall"),
    ("scopeTag: environment", "scopeTag: team", "newinfra:budgetAlerts.scopeTag", "'team'"),
    ("stopGpuAtPercent: 100", "stopGpuAtPercent: 300", "newinfra:budgetAlerts.stopGpuAtPercent", "(0, 200]"),
])
def test_bad_budget_alerts_exit_2_naming_the_key(tmp_path, monkeypatch, old, new, key, fragment):
    assert old in BUDGET
    make_project(tmp_path, DEV_TEXT.replace(BUDGET, BUDGET.replace(old, new, 1), 1))
    out = tmp_path / "out"
    result = cli(tmp_path, monkeypatch, "plan", "dev", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert_one_line(cli_error(result.output), "Pulumi.dev.yaml", key, fragment)
    assert not out.exists()


def test_production_is_never_stopped_and_gcp_needs_a_billing_account(tmp_path, monkeypatch):
    doc = yaml.safe_load(DEV_TEXT)
    doc["config"]["newinfra:profile"] = "production"
    make_project(tmp_path, yaml.safe_dump(doc))
    result = cli(tmp_path, monkeypatch, "plan", "dev", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert_one_line(cli_error(result.output), "newinfra:budgetAlerts.stopGpuAtPercent", "production")

    doc = yaml.safe_load(DEV_TEXT)
    doc["config"]["newinfra:allowedClouds"] = ["aws", "gcp"]
    make_project(tmp_path, yaml.safe_dump(doc))
    result = cli(tmp_path, monkeypatch, "plan", "dev", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert_one_line(cli_error(result.output), "newinfra:budgetAlerts.gcpBillingAccount", "required")
