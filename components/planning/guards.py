"""Pure planning for the budget guards and the interruption plumbing: plain data in, plain data out.

The components (components/aws/guards.py, components/gcp/guards.py) only turn these plans into resources, so
what a budget notifies, what the stop action denies and which events reach the interruption queue are tested
here without Pulumi.
"""


import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NotRequired, TypedDict

from newinfra.errors import ComponentInputError
from newinfra.facts import FAMILIES

# A threshold is a percent of the monthly budget: above 0, at most twice the budget (AWS and GCP both accept
# more, but a guard past 200% is a guard that comes too late).
MAX_THRESHOLD_PERCENT = 200.0
BASES = ("actual", "forecast")
# AWS Budgets: a budget holds up to ten notifications, each with up to ten email subscribers and one SNS topic
# (API reference, NotificationWithSubscribers / Notification).
AWS_MAX_NOTIFICATIONS = 10
AWS_MAX_EMAILS = 10
# GCP billing budgets: up to five monitoring notification channels per budget (NotificationsRule).
GCP_MAX_CHANNELS = 5
AWS_NOTIFICATION_TYPE = {"actual": "ACTUAL", "forecast": "FORECASTED"}
GCP_SPEND_BASIS = {"actual": "CURRENT_SPEND", "forecast": "FORECASTED_SPEND"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
GCP_BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")


class ThresholdArgs(TypedDict):
    percent: float  # of the monthly budget, in (0, 200]
    basis: NotRequired[str]  # actual (default) | forecast


def threshold_problem(percent: object) -> str | None:
    """Why ``percent`` is not a usable threshold, or None."""
    if isinstance(percent, bool) or not isinstance(percent, int | float):
        return f"{percent!r} is not a number; a threshold is a percent of monthlyBudgetUsd in (0, 200]"
    if not 0 < percent <= MAX_THRESHOLD_PERCENT:
        return f"{percent!r} is outside (0, {MAX_THRESHOLD_PERCENT:g}]; a threshold is a percent of monthlyBudgetUsd"
    return None


def checked_thresholds(thresholds: Sequence[Mapping[str, Any]], key: str = "thresholds") -> list[dict[str, Any]]:
    """Thresholds as sorted (basis, percent) rows; every problem raises with the threshold's path."""
    if not thresholds:
        raise ComponentInputError(key, "[] is empty; give at least one threshold, e.g. {percent: 80, basis: actual}")
    rows = []
    for i, t in enumerate(thresholds):
        problem = threshold_problem(t.get("percent"))
        if problem:
            raise ComponentInputError(f"{key}[{i}].percent", problem)
        basis = t.get("basis", "actual")
        if basis not in BASES:
            raise ComponentInputError(f"{key}[{i}].basis", f"{basis!r} is not valid; valid: {list(BASES)}")
        rows.append({"basis": basis, "percent": float(t["percent"])})
    seen = [(r["basis"], r["percent"]) for r in rows]
    dupes = sorted({s for s in seen if seen.count(s) > 1})
    if dupes:
        raise ComponentInputError(key, f"repeated thresholds {[f'{b} {p:g}%' for b, p in dupes]}; give each once")
    return sorted(rows, key=lambda r: (r["basis"], r["percent"]))


def checked_recipients(recipients: Sequence[str], key: str = "recipients", limit: int = AWS_MAX_EMAILS) -> list[str]:
    if not recipients:
        raise ComponentInputError(key, "[] is empty; name at least one email address that is told")
    bad = [r for r in recipients if not isinstance(r, str) or not EMAIL.fullmatch(r)]
    if bad:
        raise ComponentInputError(key, f"{bad} are not email addresses (e.g. ml-platform@example.com)")
    if len(set(recipients)) > limit:
        raise ComponentInputError(key, f"{len(set(recipients))} addresses; a budget notification takes at most {limit}")
    return sorted(set(recipients))


def aws_notifications(thresholds: Sequence[Mapping[str, Any]], recipients: Sequence[str],
                      topic_arn: Any) -> list[dict[str, Any]]:
    """aws.budgets.Budget notifications: one per threshold, each to the recipients and the SNS topic."""
    rows = checked_thresholds(thresholds)
    emails = checked_recipients(recipients)
    if len(rows) > AWS_MAX_NOTIFICATIONS:
        raise ComponentInputError("thresholds", f"{len(rows)} thresholds; an AWS budget takes at most "
                                  f"{AWS_MAX_NOTIFICATIONS} notifications")
    return [{"comparison_operator": "GREATER_THAN", "notification_type": AWS_NOTIFICATION_TYPE[r["basis"]],
             "threshold": r["percent"], "threshold_type": "PERCENTAGE",
             "subscriber_email_addresses": emails, "subscriber_sns_topic_arns": [topic_arn]} for r in rows]


def gcp_threshold_rules(thresholds: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """gcp.billing.Budget threshold rules: GCP takes a fraction of the budget (0.8 is 80%)."""
    return [{"threshold_percent": round(r["percent"] / 100, 6), "spend_basis": GCP_SPEND_BASIS[r["basis"]]}
            for r in checked_thresholds(thresholds)]


def aws_cost_filter(scope: Mapping[str, str]) -> list[dict[str, Any]]:
    """The budget counts only the cost the stack's scope tag carries (a user cost allocation tag:
    ``user:<key>$<value>``, the Cost Explorer form AWS Budgets filters on)."""
    return [{"name": "TagKeyValue", "values": [f"user:{k}${v}" for k, v in sorted(scope.items())]}]


def accelerator_instance_patterns(cloud: str = "aws") -> list[str]:
    """ec2:InstanceType patterns of every accelerator family the facts table knows (p5.*, g6e.*, trn2.*, ...)."""
    return sorted(f"{family}.*" for c, family in FAMILIES if c == cloud)


def gpu_stop_policy(node_group_arns: Sequence[Any], cluster_names: Sequence[str]) -> dict[str, Any]:
    """The IAM policy the budget action attaches: no new accelerator instances, no larger GPU node groups.

    ``node_group_arns`` / ``cluster_names`` scope the scaling denies to this stack's groups; the launch deny
    covers every accelerator family, since an instance launched outside the stack spends the same budget.
    """
    statements: list[dict[str, Any]] = [{
        "Sid": "DenyNewAcceleratorInstances", "Effect": "Deny",
        "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:RequestSpotInstances"],
        "Resource": "*",
        "Condition": {"StringLike": {"ec2:InstanceType": accelerator_instance_patterns()}},
    }]
    if node_group_arns:
        statements.append({"Sid": "DenyGrowingGpuNodeGroups", "Effect": "Deny",
                           "Action": ["eks:UpdateNodegroupConfig"], "Resource": list(node_group_arns)})
    if cluster_names:
        # Managed node groups' Auto Scaling groups carry eks:cluster-name; a cluster autoscaler scales those.
        statements.append({"Sid": "DenyScalingGpuAutoScalingGroups", "Effect": "Deny",
                           "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:UpdateAutoScalingGroup"],
                           "Resource": "*",
                           "Condition": {"StringEquals": {
                               "aws:ResourceTag/eks:cluster-name": sorted(cluster_names)}}})
    return {"Version": "2012-10-17", "Statement": statements}


# --- interruptions --------------------------------------------------------------------------------------------
# EventBridge patterns of the events that end an instance early, as the aws-node-termination-handler's queue
# processor mode documents them (README, "Queue Processor": spot interruption, rebalance recommendation,
# scheduled change) and as EC2 documents the Capacity Block end ("Monitor Capacity Blocks using EventBridge":
# the expiration warning comes 40 minutes before the end; the AWS and China-region pages spell the detail type
# with and without "Reservation", so both are matched).
INTERRUPTION_EVENTS: dict[str, dict[str, Any]] = {
    "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "scheduled-change": {"source": ["aws.health"], "detail-type": ["AWS Health Event"],
                         "detail": {"service": ["EC2"], "eventTypeCategory": ["scheduledChange"]}},
    "capacity-block-ending": {"source": ["aws.ec2"],
                              "detail-type": ["Capacity Block Expiration Warning",
                                              "Capacity Block Reservation Expiration Warning"]},
}
# NTH reads a message within seconds; an event older than the two-minute spot warning is of no use.
QUEUE_RETENTION_S = 300


def _matches(pattern: Any, value: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and _matches(p, value[k]) for k, p in pattern.items())
    return value in pattern


def matching_rules(event: Mapping[str, Any]) -> list[str]:
    """The interruption rules an EventBridge event (``source``, ``detail-type``, ``detail``) matches: the
    exact-value subset of EventBridge's pattern language that INTERRUPTION_EVENTS uses."""
    return sorted(name for name, pattern in INTERRUPTION_EVENTS.items() if _matches(pattern, event))


def queue_policy(queue_arn: Any, rule_arns: Iterable[Any]) -> dict[str, Any]:
    """Only EventBridge, and only from the interruption rules, may send to the queue; TLS only."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "InterruptionRulesSend", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
         "Action": "sqs:SendMessage", "Resource": queue_arn,
         "Condition": {"ArnEquals": {"aws:SourceArn": list(rule_arns)}}},
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
         "Resource": queue_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}


def handler_policy(queue_arn: Any, key_arn: Any) -> dict[str, Any]:
    """What the node termination handler (queue processor mode) needs: read the queue (and decrypt it: a
    KMS-encrypted queue hands its messages only to a reader the key lets decrypt), look up instances."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadInterruptionQueue", "Effect": "Allow",
         "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], "Resource": queue_arn},
        {"Sid": "DecryptInterruptionQueue", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn},
        {"Sid": "DescribeInstances", "Effect": "Allow",
         "Action": ["ec2:DescribeInstances", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeTags"],
         "Resource": "*"},
    ]}


# The handler itself: aws-node-termination-handler's chart (Apache-2.0, github.com/aws/aws-node-termination-handler,
# config/helm/aws-node-termination-handler, chart 0.27.6 = NTH 1.25.6, July 2026), pinned like the GPU operator.
NTH_CHART = "oci://public.ecr.aws/aws-ec2/helm/aws-node-termination-handler"
NTH_VERSION = "0.27.6"
NTH_NAMESPACE = "kube-system"
NTH_SERVICE_ACCOUNT = "aws-node-termination-handler"
# The queue hears every instance of the account and region; the handler drains only instances that carry this
# tag (its checkTagBeforeDraining), so a second cluster's nodes, or plain VMs, are never drained by this one.
NTH_MANAGED_TAG = "aws-node-termination-handler/managed"
# EKS Pod Identity: the agent add-on exchanges the service account's token for the role's credentials.
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def pod_identity_trust() -> dict[str, Any]:
    """Only EKS Pod Identity may assume the handler's role (it needs both actions: EKS user guide, "Pod Identity")."""
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
         "Action": ["sts:AssumeRole", "sts:TagSession"]}]}


def termination_handler_values(queue_url: Any, region: str) -> dict[str, Any]:
    """Helm values for queue processor mode (the chart's values.yaml names): drain on every event the queue
    carries, only nodes tagged NTH_MANAGED_TAG, as the service account the Pod Identity association names."""
    if not region:
        raise ComponentInputError("interruption_queue.region", f"{region!r} is empty; name the queue's AWS region")
    return {
        "enableSqsTerminationDraining": True,
        "queueURL": queue_url,
        "awsRegion": region,
        "checkTagBeforeDraining": True,
        "managedTag": NTH_MANAGED_TAG,
        # a message about another cluster's node stays for that cluster's handler
        "deleteSqsMsgIfNodeNotFound": False,
        "emitKubernetesEvents": True,
        "serviceAccount": {"create": True, "name": NTH_SERVICE_ACCOUNT},
        "rbac": {"create": True, "pspEnabled": False},  # PodSecurityPolicy is gone since Kubernetes 1.25
    }


# --- GKE ---------------------------------------------------------------------------------------------------
# Spot VMs get 30 s from the preemption notice to shutdown: GKE gives pods 15 s, then critical pods 15 s
# (GKE "Spot VMs", graceful termination). Written on each spot pool so the record shows it and a default
# change in GKE does not change the pools silently; kubelet_config takes it only on spot/preemptible pools.
SPOT_SHUTDOWN_GRACE_S = 30
SPOT_SHUTDOWN_GRACE_CRITICAL_S = 15


def spot_kubelet_config() -> dict[str, int]:
    return {"shutdown_grace_period_seconds": SPOT_SHUTDOWN_GRACE_S,
            "shutdown_grace_period_critical_pods_seconds": SPOT_SHUTDOWN_GRACE_CRITICAL_S}
