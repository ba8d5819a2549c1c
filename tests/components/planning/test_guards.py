"""Budget guard and interruption planning: thresholds, notifications, the stop policy, the event patterns."""

from __future__ import annotations

import json

import pytest
from newinfra.components.planning.guards import (
    INTERRUPTION_EVENTS,
    accelerator_instance_patterns,
    aws_cost_filter,
    aws_notifications,
    checked_recipients,
    checked_thresholds,
    gcp_threshold_rules,
    gpu_stop_policy,
    matching_rules,
    queue_policy,
    spot_kubelet_config,
)

from newinfra.errors import ComponentInputError
from newinfra.facts import FAMILIES

THRESHOLDS = [{"percent": 100, "basis": "forecast"}, {"percent": 80}, {"percent": 50, "basis": "actual"}]

# One event per rule, shaped as AWS documents it (the EC2 and Health user guides' examples).
EVENTS = {
    "spot-interruption": {"source": "aws.ec2", "detail-type": "EC2 Spot Instance Interruption Warning",
                          "detail": {"instance-id": "i-0123456789abcdef0", "instance-action": "terminate"}},
    "rebalance": {"source": "aws.ec2", "detail-type": "EC2 Instance Rebalance Recommendation",
                  "detail": {"instance-id": "i-0123456789abcdef0"}},
    "scheduled-change": {"source": "aws.health", "detail-type": "AWS Health Event",
                         "detail": {"service": "EC2", "eventTypeCategory": "scheduledChange",
                                    "eventTypeCode": "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED"}},
    "capacity-block-ending": {"source": "aws.ec2", "detail-type": "Capacity Block Reservation Expiration Warning",
                              "detail": {"capacity-reservation-id": "cr-0123456789abcdef0"}},
}
# Look alike, must not match: a state change, a Health issue (not a scheduled change), RDS maintenance.
NON_MATCHING = [
    {"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {"state": "running"}},
    {"source": "aws.health", "detail-type": "AWS Health Event",
     "detail": {"service": "EC2", "eventTypeCategory": "issue"}},
    {"source": "aws.health", "detail-type": "AWS Health Event",
     "detail": {"service": "RDS", "eventTypeCategory": "scheduledChange"}},
    {"source": "aws.ec2", "detail-type": "Capacity Block Delivered", "detail": {}},
]


def test_thresholds_are_sorted_by_basis_then_percent():
    assert checked_thresholds(THRESHOLDS) == [
        {"basis": "actual", "percent": 50.0}, {"basis": "actual", "percent": 80.0},
        {"basis": "forecast", "percent": 100.0}]


@pytest.mark.parametrize("percent", [0, -5, 200.5, 1000, True, "80"])
def test_a_threshold_outside_0_200_names_its_path(percent):
    with pytest.raises(ComponentInputError) as err:
        checked_thresholds([{"percent": 80}, {"percent": percent}])
    assert err.value.property_path == "thresholds[1].percent"
    assert repr(percent) in err.value.reason and "200" in err.value.reason


def test_200_percent_is_the_last_valid_threshold():
    assert checked_thresholds([{"percent": 200}]) == [{"basis": "actual", "percent": 200.0}]


@pytest.mark.parametrize(("thresholds", "path", "fragment"), [
    ([], "thresholds", "empty"),
    ([{"percent": 80, "basis": "predicted"}], "thresholds[0].basis", "'predicted'"),
    ([{"percent": 80}, {"percent": 80.0, "basis": "actual"}], "thresholds", "actual 80%"),
])
def test_bad_threshold_lists(thresholds, path, fragment):
    with pytest.raises(ComponentInputError) as err:
        checked_thresholds(thresholds)
    assert err.value.property_path == path and fragment in err.value.reason


@pytest.mark.parametrize(("recipients", "fragment"), [
    ([], "empty"), (["ops"], "['ops']"), ([f"u{i}@example.com" for i in range(11)], "at most 10")])
def test_bad_recipients(recipients, fragment):
    with pytest.raises(ComponentInputError) as err:
        checked_recipients(recipients)
    assert err.value.property_path == "recipients" and fragment in err.value.reason


def test_aws_notifications_go_to_the_recipients_and_the_topic():
    rows = aws_notifications(THRESHOLDS, ["b@example.com", "a@example.com", "a@example.com"], "arn:topic")
    assert [(n["notification_type"], n["threshold"]) for n in rows] == [
        ("ACTUAL", 50.0), ("ACTUAL", 80.0), ("FORECASTED", 100.0)]
    assert all(n["subscriber_email_addresses"] == ["a@example.com", "b@example.com"] for n in rows)
    assert all(n["subscriber_sns_topic_arns"] == ["arn:topic"] and n["threshold_type"] == "PERCENTAGE"
               and n["comparison_operator"] == "GREATER_THAN" for n in rows)


def test_gcp_rules_are_fractions_of_the_budget():
    assert gcp_threshold_rules(THRESHOLDS) == [
        {"threshold_percent": 0.5, "spend_basis": "CURRENT_SPEND"},
        {"threshold_percent": 0.8, "spend_basis": "CURRENT_SPEND"},
        {"threshold_percent": 1.0, "spend_basis": "FORECASTED_SPEND"}]


def test_the_aws_budget_counts_the_scope_tag_only():
    assert aws_cost_filter({"environment": "prod"}) == [{"name": "TagKeyValue", "values": ["user:environment$prod"]}]


def test_the_stop_policy_denies_every_accelerator_family_of_the_facts_table():
    patterns = accelerator_instance_patterns()
    assert patterns == sorted(f"{f}.*" for c, f in FAMILIES if c == "aws")
    assert {"p5.*", "g6e.*", "trn2.*", "inf2.*"} <= set(patterns)
    policy = gpu_stop_policy(["arn:aws:eks:us-east-1:1:nodegroup/c/g/x"], ["c"])
    launch, groups, asgs = policy["Statement"]
    assert launch["Effect"] == groups["Effect"] == asgs["Effect"] == "Deny"
    assert {"ec2:RunInstances", "ec2:CreateFleet"} <= set(launch["Action"])
    assert launch["Condition"] == {"StringLike": {"ec2:InstanceType": patterns}}
    assert groups["Resource"] == ["arn:aws:eks:us-east-1:1:nodegroup/c/g/x"]
    assert asgs["Condition"] == {"StringEquals": {"aws:ResourceTag/eks:cluster-name": ["c"]}}
    # Without clusters only the launch deny remains (never an empty statement).
    assert [s["Sid"] for s in gpu_stop_policy([], [])["Statement"]] == ["DenyNewAcceleratorInstances"]


@pytest.mark.parametrize("rule", sorted(INTERRUPTION_EVENTS))
def test_each_documented_event_matches_its_rule_only(rule):
    assert matching_rules(EVENTS[rule]) == [rule]


def test_both_spellings_of_the_capacity_block_warning_match():
    for detail_type in ("Capacity Block Expiration Warning", "Capacity Block Reservation Expiration Warning"):
        assert matching_rules({**EVENTS["capacity-block-ending"], "detail-type": detail_type}) == [
            "capacity-block-ending"]


@pytest.mark.parametrize("event", NON_MATCHING, ids=lambda e: e["detail-type"])
def test_look_alike_events_match_no_rule(event):
    assert matching_rules(event) == []


def test_the_queue_takes_messages_from_the_rules_only():
    policy = queue_policy("arn:queue", ["arn:rule/b", "arn:rule/a"])
    allow, deny = policy["Statement"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": ["arn:rule/b", "arn:rule/a"]}}
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    json.dumps(policy)  # plain JSON once the ARNs are known


def test_spot_pools_shut_down_within_the_preemption_notice():
    config = spot_kubelet_config()
    assert config["shutdown_grace_period_critical_pods_seconds"] < config["shutdown_grace_period_seconds"] <= 30
