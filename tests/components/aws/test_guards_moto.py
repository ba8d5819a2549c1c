"""The planned budget guard and interruption plumbing against moto (in-process ``mock_aws``): the budget takes
the planned notifications with the SNS topic, and each documented interruption event reaches the queue through
its rule while look-alike events do not."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from newinfra.components.planning.guards import INTERRUPTION_EVENTS, aws_cost_filter, aws_notifications

from tests.components.planning.test_guards import EVENTS, NON_MATCHING, THRESHOLDS

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


def test_the_planned_budget_and_its_notifications_are_accepted(aws):
    account = boto3.client("sts").get_caller_identity()["Account"]
    topic = boto3.client("sns").create_topic(Name="newinfra-dev-aws-budget-alerts")["TopicArn"]
    budgets = boto3.client("budgets")
    planned = aws_notifications(THRESHOLDS, ["oncall@example.com", "finops@example.com"], topic)
    (cost_filter,) = aws_cost_filter({"environment": "dev"})
    budgets.create_budget(
        AccountId=account,
        Budget={"BudgetName": "newinfra-dev-aws-budget", "BudgetLimit": {"Amount": "12000.00", "Unit": "USD"},
                "TimeUnit": "MONTHLY", "BudgetType": "COST",
                "CostFilters": {cost_filter["name"]: cost_filter["values"]}},
        NotificationsWithSubscribers=[{
            "Notification": {"NotificationType": n["notification_type"], "ComparisonOperator": n["comparison_operator"],
                             "Threshold": n["threshold"], "ThresholdType": n["threshold_type"]},
            "Subscribers": [{"SubscriptionType": "SNS", "Address": arn} for arn in n["subscriber_sns_topic_arns"]]
                           + [{"SubscriptionType": "EMAIL", "Address": a} for a in n["subscriber_email_addresses"]],
        } for n in planned])

    budget = budgets.describe_budget(AccountId=account, BudgetName="newinfra-dev-aws-budget")["Budget"]
    assert budget["BudgetLimit"] == {"Amount": "12000.00", "Unit": "USD"} and budget["TimeUnit"] == "MONTHLY"
    notes = budgets.describe_notifications_for_budget(AccountId=account,
                                                      BudgetName="newinfra-dev-aws-budget")["Notifications"]
    assert sorted((n["NotificationType"], n["Threshold"]) for n in notes) == [
        ("ACTUAL", 50.0), ("ACTUAL", 80.0), ("FORECASTED", 100.0)]
    # moto 5.2 does not implement describe_subscribers_for_notification: the subscribers are checked in the plan.


@pytest.fixture
def queue(aws):
    """The planned rules and their targets on the default bus, into one queue."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="newinfra-dev-aws-us-east-1-interruptions")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events")
    for name, pattern in sorted(INTERRUPTION_EVENTS.items()):
        events.put_rule(Name=f"interruptions-{name}", EventPattern=json.dumps(pattern, sort_keys=True))
        events.put_targets(Rule=f"interruptions-{name}", Targets=[{"Id": "interruption-queue", "Arn": arn}])
    return url


def _put(event: dict) -> None:
    result = boto3.client("events").put_events(Entries=[{
        "Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"])}])
    assert result["FailedEntryCount"] == 0


def _received(url: str) -> list[dict]:
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


@pytest.mark.parametrize("rule", sorted(INTERRUPTION_EVENTS))
def test_each_interruption_event_reaches_the_queue(queue, rule):
    _put(EVENTS[rule])
    (body,) = _received(queue)
    assert body["source"] == EVENTS[rule]["source"] and body["detail-type"] == EVENTS[rule]["detail-type"]
    assert body["detail"] == EVENTS[rule]["detail"]


def test_look_alike_events_never_reach_the_queue(queue):
    for event in NON_MATCHING:
        _put(event)
    assert _received(queue) == []
