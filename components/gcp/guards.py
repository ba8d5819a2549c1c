"""newinfra:gcp:BudgetGuard — a Cloud Billing budget for the stack's project and scope label, with a threshold
rule per threshold, email channels for the recipients and every update published to a CMEK Pub/Sub topic.

GCP budgets alert; they do not act (spend data can lag a day), so there is no stop action here.
"""


from typing import NotRequired, TypedDict

import pulumi
import pulumi_gcp as gcp
from newinfra.components.gcp.identity import grant_key_to_agents
from newinfra.components.gcp.keys import rotating_key
from newinfra.components.physical import physical
from newinfra.components.plain import require_plain
from newinfra.components.planning.guards import (
    GCP_BILLING_ACCOUNT,
    GCP_MAX_CHANNELS,
    ThresholdArgs,
    checked_recipients,
    gcp_threshold_rules,
)
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError

# Cloud Billing publishes budget updates as this account; it must be a publisher on the topic.
BUDGET_PUBLISHER = "serviceAccount:billing-budget-alert@system.gserviceaccount.com"


class BudgetGuardArgs(TypedDict):
    billing_account: str  # XXXXXX-XXXXXX-XXXXXX
    budget_usd: float
    thresholds: list[ThresholdArgs]
    recipients: list[str]  # email addresses (at most five: a budget takes five channels)
    scope: dict[str, str]  # one label (key -> value): a budget filter takes a single label
    region: str  # where the topic's messages are stored and its key lives
    labels: NotRequired[dict[str, str]]


class BudgetGuard(pulumi.ComponentResource):
    TYPE = python_token("GcpBudgetGuard")
    budget_name: pulumi.Output[str]
    topic_id: pulumi.Output[str]

    def __init__(self, name: str, args: BudgetGuardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        account = require_plain(args, "billing_account")
        if not isinstance(account, str) or not GCP_BILLING_ACCOUNT.fullmatch(account):
            raise ComponentInputError("billing_account", f"{account!r} is not a billing account id; e.g. "
                                      "012345-6789AB-CDEF01")
        budget_usd = require_plain(args, "budget_usd")
        if isinstance(budget_usd, bool) or not isinstance(budget_usd, int | float) or budget_usd <= 0:
            raise ComponentInputError("budget_usd", f"{budget_usd!r} is not a positive amount of USD")
        rules = gcp_threshold_rules(list(require_plain(args, "thresholds")))
        emails = checked_recipients(list(require_plain(args, "recipients")), limit=GCP_MAX_CHANNELS)
        scope = dict(require_plain(args, "scope"))
        if len(scope) != 1:
            raise ComponentInputError("scope", f"{scope!r} must be one label: a budget filter takes a single label")
        region = require_plain(args, "region")
        labels = dict(args.get("labels") or {})
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)

        project = gcp.organizations.get_project_output(opts=pulumi.InvokeOutputOptions(parent=self))
        key = rotating_key(f"{name}-alerts", region, labels, self)
        grants = grant_key_to_agents(f"{name}-alerts", key.id, project.number, ["pubsub"], self)
        topic = gcp.pubsub.Topic(f"{name}-alerts", name=physical("gcp:pubsub:topic", f"{name}-alerts"),
                                 kms_key_name=key.id, message_storage_policy={"allowed_persistence_regions": [region]},
                                 labels=labels, opts=pulumi.ResourceOptions(parent=self, depends_on=grants))
        publisher = gcp.pubsub.TopicIAMMember(f"{name}-alerts-budget-publisher", topic=topic.id,
                                              role="roles/pubsub.publisher", member=BUDGET_PUBLISHER, opts=child)
        channels = [gcp.monitoring.NotificationChannel(
            f"{name}-email-{i}", type="email", display_name=f"newinfra budget: {email}",
            labels={"email_address": email}, user_labels=labels, opts=child) for i, email in enumerate(emails)]
        (label_key, label_value), = scope.items()
        budget = gcp.billing.Budget(
            f"{name}-budget", billing_account=account, display_name=physical("gcp:billing:budget", name),
            amount={"specified_amount": {"currency_code": "USD", "units": str(int(round(budget_usd)))}},
            budget_filter={"projects": [pulumi.Output.concat("projects/", project.number)],
                           "labels": {label_key: label_value}, "calendar_period": "MONTH"},
            threshold_rules=rules,
            all_updates_rule={"pubsub_topic": topic.id, "schema_version": "1.0",
                              "monitoring_notification_channels": [c.id for c in channels]},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[publisher]))

        self.budget_name = budget.name
        self.topic_id = topic.id
        self.register_outputs({"budgetName": self.budget_name, "topicId": self.topic_id})
