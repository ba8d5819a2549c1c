"""newinfra:aws:BudgetGuard and newinfra:aws:InterruptionQueue.

BudgetGuard: an AWS Budgets cost budget for the stack (filtered on its scope tag) that notifies the recipients
and a KMS-encrypted SNS topic at each threshold; in development profiles, optionally, a budget action that
attaches a deny on new accelerator capacity to the roles that launch or scale it.

InterruptionQueue: EventBridge rules for the events that end an instance early (spot interruption warning,
rebalance recommendation, scheduled change, Capacity Block ending) into a KMS-encrypted SQS queue only those
rules may send to, which the node termination handler (queue processor mode) reads, through a role only EKS Pod
Identity may assume for the handler's service account (the handler itself is installed by GpuPlatform).
What each sends, denies and matches is planned in components/planning/guards.py.
"""


import json
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
from newinfra.components.aws.kms import KeyArgs, create_key
from newinfra.components.physical import physical
from newinfra.components.plain import require_plain
from newinfra.components.planning.guards import (
    INTERRUPTION_EVENTS,
    NTH_NAMESPACE,
    NTH_SERVICE_ACCOUNT,
    QUEUE_RETENTION_S,
    ThresholdArgs,
    aws_cost_filter,
    aws_notifications,
    checked_recipients,
    gpu_stop_policy,
    handler_policy,
    pod_identity_trust,
    queue_policy,
    threshold_problem,
)
from newinfra.components.planning.profile import PROFILES, behaviour
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError


class StopGpuArgs(TypedDict):
    percent: float  # of the budget, actual spend
    roles: list[pulumi.Input[str]]  # IAM role names the deny is attached to
    node_group_arns: NotRequired[pulumi.Input[list[str]]]  # the stack's GPU node groups (no scale-up)
    cluster_names: NotRequired[list[pulumi.Input[str]]]  # their Auto Scaling groups carry eks:cluster-name


class BudgetGuardArgs(TypedDict):
    budget_usd: float  # the month's budget (newinfra:monthlyBudgetUsd)
    thresholds: list[ThresholdArgs]
    recipients: list[str]  # email addresses
    scope: dict[str, str]  # one cost allocation tag (key -> value) that marks the stack's spend
    profile: str  # production | development: only development may stop capacity
    stop_gpu: NotRequired[StopGpuArgs]
    tags: NotRequired[dict[str, str]]


class BudgetGuard(pulumi.ComponentResource):
    TYPE = python_token("AwsBudgetGuard")
    budget_name: pulumi.Output[str]
    topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: BudgetGuardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        budget_usd = require_plain(args, "budget_usd")
        if isinstance(budget_usd, bool) or not isinstance(budget_usd, int | float) or budget_usd <= 0:
            raise ComponentInputError("budget_usd", f"{budget_usd!r} is not a positive amount of USD")
        thresholds = list(require_plain(args, "thresholds"))
        recipients = list(require_plain(args, "recipients"))
        scope = dict(require_plain(args, "scope"))
        if len(scope) != 1:
            raise ComponentInputError("scope", f"{scope!r} must be one tag (key -> value): AWS ORs several")
        profile = require_plain(args, "profile")
        if profile not in PROFILES:
            raise ComponentInputError("profile", f"{profile!r} is not valid; valid: {sorted(PROFILES)}")
        stop = args.get("stop_gpu")
        if stop is not None:
            _check_stop(stop, profile)
        # A dry run of the notifications checks thresholds and recipients before anything exists.
        aws_notifications(thresholds, recipients, "topic")
        tags = dict(args.get("tags") or {})
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)

        # Budgets publishes to an encrypted topic only when the key lets budgets.amazonaws.com use it.
        key = create_key(self, f"{name}-alerts", KeyArgs(description=f"newinfra {name} budget alerts", tags=tags,
                                                         service_principals=("budgets.amazonaws.com",)))
        topic = aws.sns.Topic(f"{name}-alerts", name=physical("aws:sns:topic", f"{name}-alerts"),
                              kms_master_key_id=key.arn, tags=tags, opts=child)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        aws.sns.TopicPolicy(f"{name}-alerts", arn=topic.arn, policy=pulumi.Output.json_dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "BudgetsPublish", "Effect": "Allow", "Principal": {"Service": "budgets.amazonaws.com"},
                "Action": "SNS:Publish", "Resource": topic.arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": identity.account_id},
                              "ArnLike": {"aws:SourceArn": pulumi.Output.concat(
                                  "arn:", partition.partition, ":budgets::", identity.account_id, ":*")}},
            }]}), opts=child)
        budget_name = physical("aws:budgets:budget", name)
        budget = aws.budgets.Budget(
            f"{name}-budget", name=budget_name, budget_type="COST", limit_amount=f"{float(budget_usd):.2f}",
            limit_unit="USD", time_unit="MONTHLY", cost_filters=aws_cost_filter(scope),
            notifications=aws_notifications(thresholds, recipients, topic.arn), tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[topic]))
        if stop is not None:
            self._stop_action(name, stop, budget, topic, checked_recipients(recipients), tags, partition)

        self.budget_name = budget.name
        self.topic_arn = topic.arn
        self.register_outputs({"budgetName": self.budget_name, "topicArn": self.topic_arn})

    def _stop_action(self, name: str, stop: StopGpuArgs, budget: aws.budgets.Budget, topic: aws.sns.Topic,
                     emails: list[str], tags: dict[str, str], partition) -> None:
        child = pulumi.ResourceOptions(parent=self)
        deny = aws.iam.Policy(f"{name}-stop-gpu", description="newinfra budget action: no new GPU capacity",
                              policy=pulumi.Output.all(
                                  pulumi.Output.from_input(stop.get("node_group_arns") or []),
                                  *(stop.get("cluster_names") or [])).apply(
                                  lambda a: json.dumps(gpu_stop_policy(a[0], a[1:]), sort_keys=True)),
                              tags=tags, opts=child)
        # The role Budgets assumes to attach (and on reset detach) exactly that policy to exactly those roles.
        role_arns = [pulumi.Output.concat("arn:", partition.partition, ":iam::", aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)).account_id, ":role/", r) for r in stop["roles"]]
        execution = aws.iam.Role(f"{name}-budget-action", assume_role_policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"Service": "budgets.amazonaws.com"}}]}), tags=tags, opts=child)
        aws.iam.RolePolicy(f"{name}-budget-action", role=execution.id, policy=pulumi.Output.json_dumps({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "AttachTheDenyToTheNodeRoles", "Effect": "Allow",
                           "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"], "Resource": role_arns,
                           "Condition": {"ArnEquals": {"iam:PolicyARN": deny.arn}}}]}), opts=child)
        aws.budgets.BudgetAction(
            f"{name}-stop-gpu", budget_name=budget.name, action_type="APPLY_IAM_POLICY",
            approval_model="AUTOMATIC", notification_type="ACTUAL",
            action_threshold={"action_threshold_type": "PERCENTAGE",
                              "action_threshold_value": float(stop["percent"])},
            definition={"iam_action_definition": {"policy_arn": deny.arn, "roles": list(stop["roles"])}},
            execution_role_arn=execution.arn,
            subscribers=[{"subscription_type": "SNS", "address": topic.arn},
                         *({"subscription_type": "EMAIL", "address": e} for e in emails)],
            tags=tags, opts=child)


def _check_stop(stop: StopGpuArgs, profile: str) -> None:
    if not behaviour(profile).budget_may_stop_capacity:
        raise ComponentInputError("stop_gpu", f"profile {profile!r} is never stopped by a budget; give stop_gpu only "
                                  "in development profiles")
    problem = threshold_problem(stop.get("percent"))
    if problem:
        raise ComponentInputError("stop_gpu.percent", problem)
    if not stop.get("roles"):
        raise ComponentInputError("stop_gpu.roles", "[] is empty; name the IAM roles that launch or scale GPU "
                                  "capacity (the deny is attached to them)")


class InterruptionQueueArgs(TypedDict):
    cluster_name: pulumi.Input[str]  # the EKS cluster whose handler reads the queue (tag and description)
    tags: NotRequired[dict[str, str]]


class InterruptionQueue(pulumi.ComponentResource):
    TYPE = python_token("AwsInterruptionQueue")
    queue_url: pulumi.Output[str]
    queue_arn: pulumi.Output[str]
    handler_policy_arn: pulumi.Output[str]
    handler_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: InterruptionQueueArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        cluster = args.get("cluster_name")
        if not cluster:
            raise ComponentInputError("cluster_name", f"{cluster!r} is empty; name the EKS cluster whose node "
                                      "termination handler reads the queue")
        tags = dict(args.get("tags") or {})
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)

        # EventBridge delivers to an encrypted queue only when the key lets events.amazonaws.com use it.
        key = create_key(self, f"{name}-queue", KeyArgs(description=f"newinfra {name} interruption queue",
                                                        tags=tags, service_principals=("events.amazonaws.com",)))
        queue = aws.sqs.Queue(f"{name}-queue", name=physical("aws:sqs:queue", name),
                              message_retention_seconds=QUEUE_RETENTION_S, kms_master_key_id=key.arn,
                              kms_data_key_reuse_period_seconds=300, tags=tags, opts=child)
        rules = []
        for event, pattern in sorted(INTERRUPTION_EVENTS.items()):
            rule = aws.cloudwatch.EventRule(
                f"{name}-{event}", name=physical("aws:events:rule", f"{name}-{event}"),
                description=pulumi.Output.concat(event, " events for the node termination handler of ",
                                                  args["cluster_name"]),
                event_pattern=json.dumps(pattern, sort_keys=True), tags=tags, opts=child)
            aws.cloudwatch.EventTarget(f"{name}-{event}", rule=rule.name, arn=queue.arn, target_id="interruption-queue",
                                       opts=child)
            rules.append(rule)
        aws.sqs.QueuePolicy(f"{name}-queue", queue_url=queue.id,
                            policy=pulumi.Output.json_dumps(queue_policy(queue.arn, [r.arn for r in rules])),
                            opts=child)
        handler = aws.iam.Policy(f"{name}-handler", description="node termination handler: read the interruption queue",
                                 policy=pulumi.Output.json_dumps(handler_policy(queue.arn, key.arn)), tags=tags,
                                 opts=child)
        role = aws.iam.Role(f"{name}-handler", assume_role_policy=json.dumps(pod_identity_trust(), sort_keys=True),
                            description="aws-node-termination-handler (EKS Pod Identity)", tags=tags, opts=child)
        aws.iam.RolePolicyAttachment(f"{name}-handler", role=role.name, policy_arn=handler.arn, opts=child)
        aws.eks.PodIdentityAssociation(f"{name}-handler", cluster_name=args["cluster_name"],
                                       namespace=NTH_NAMESPACE, service_account=NTH_SERVICE_ACCOUNT,
                                       role_arn=role.arn, tags=tags, opts=child)

        self.queue_url = queue.url
        self.queue_arn = queue.arn
        self.handler_policy_arn = handler.arn
        self.handler_role_arn = role.arn
        self.register_outputs({"queueUrl": self.queue_url, "queueArn": self.queue_arn,
                               "handlerPolicyArn": self.handler_policy_arn, "handlerRoleArn": self.handler_role_arn})
