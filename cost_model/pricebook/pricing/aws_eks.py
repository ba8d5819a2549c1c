"""AWS EKS: the cluster fee (standard or extended support), managed node groups at desired and max size,
Fargate profiles (pod vCPU and memory hours from the usage file)."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.pricing._compute import node_lines
from newinfra.cost_model.pricebook.usage import Spec

from newinfra.props import get


def _cluster(props, ctx) -> list[Line]:
    extended = get(props, "upgradePolicy.supportType") == "EXTENDED"
    key, what = ("aws.eks.cluster-extended", "extended support") if extended else ("aws.eks.cluster", "standard")
    return [Line(f"EKS cluster fee ({what})", ctx.hours, "cluster-hour", ctx.service(key, "the EKS cluster fee"))]


def _fargate(props, ctx) -> list[Line]:
    vcpu, gb = ctx.usage["vcpuHours"], ctx.usage["gbHours"]
    return [Line("Fargate vCPU", vcpu, "vCPU-hour", ctx.service("aws.fargate.vcpu", "Fargate vCPU"), usage=True),
            Line("Fargate memory", gb, "GB-hour", ctx.service("aws.fargate.gb", "Fargate memory"), usage=True)]


PRICERS = {
    "aws:eks/cluster:Cluster": Pricer(_cluster),
    "aws:eks/nodeGroup:NodeGroup": Pricer(node_lines),
    "aws:eks/fargateProfile:FargateProfile": Pricer(_fargate, {
        "vcpuHours": Spec(0, "pod vCPU-hours per month run on the profile"),
        "gbHours": Spec(0, "pod memory GB-hours per month run on the profile")}),
}
