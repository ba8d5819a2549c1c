"""Alibaba Cloud ACK: the Pro cluster management fee (Basic and dedicated clusters have none), node pools,
scaling groups."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.pricing._compute import node_lines

from newinfra.props import get


def _cluster(props, ctx) -> list[Line]:
    if not str(get(props, "clusterSpec", "ack.standard")).startswith("ack.pro"):
        return []
    return [Line("ACK Pro cluster management fee", ctx.hours, "cluster-hour",
                 ctx.service("alicloud.ack.pro-cluster", "the ACK Pro fee"))]


PRICERS = {
    "alicloud:cs/managedKubernetes:ManagedKubernetes": Pricer(
        _cluster, free_when_empty="ACK managed Basic cluster: no management fee"),
    "alicloud:cs/nodePool:NodePool": Pricer(node_lines),
    "alicloud:ess/scalingGroup:ScalingGroup": Pricer(node_lines),
}
