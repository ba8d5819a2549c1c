"""D11-D12: no ingress from the whole internet, default security groups closed, VPC flow logs."""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get, items, stack_rule
from newinfra.policies.rules.data_security.tables import table_rule
from newinfra.policies.rules.links import Index
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

OPEN = ("0.0.0.0/0", "::/0")
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
GCP_FIREWALL = "gcp:compute/firewall:Firewall"
ALI_SG_RULE = "alicloud:ecs/securityGroupRule:SecurityGroupRule"

INGRESS_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedPorts": {
            "type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 65535}, "default": [],
            "description": "ports that may be open to the internet (e.g. 443 on a public load balancer)",
        }
    }
)


def _ports(from_port: Any, to_port: Any) -> set[int]:
    lo, hi = int(from_port or 0), int(to_port if to_port is not None else from_port or 65535)
    return set(range(lo, min(hi, 65535) + 1)) if hi - lo < 1024 else {-1}


def _open(cidrs: list[Any], from_port: Any, to_port: Any, allowed: list[int]) -> bool:
    if not any(c in OPEN for c in cidrs):
        return False
    ports = _ports(from_port, to_port)
    return -1 in ports or not ports <= set(allowed)


def _sg(p: Any, c) -> list[str]:
    bad = [i for i, r in enumerate(items(get(p, "ingress")))
           if _open(items(get(r, "cidrBlocks")) + items(get(r, "ipv6CidrBlocks")),
                    get(r, "fromPort"), get(r, "toPort"), c["allowedPorts"])]
    return [f"ingress {bad} open to 0.0.0.0/0 or ::/0"] if bad else []


def _sg_rule(p: Any, c) -> list[str]:
    if get(p, "type") != "ingress":
        return []
    cidrs = items(get(p, "cidrBlocks")) + items(get(p, "ipv6CidrBlocks"))
    return ["ingress open to 0.0.0.0/0"] if _open(cidrs, get(p, "fromPort"), get(p, "toPort"),
                                                  c["allowedPorts"]) else []


def _sg_ingress(p: Any, c) -> list[str]:
    cidrs = [get(p, "cidrIpv4"), get(p, "cidrIpv6")]
    return ["ingress open to the internet"] if _open(cidrs, get(p, "fromPort"), get(p, "toPort"),
                                                     c["allowedPorts"]) else []


def _default_sg(p: Any, _c) -> list[str]:
    rules = items(get(p, "ingress")) + items(get(p, "egress"))
    return [f"the default security group keeps {len(rules)} rule(s); it must have none"] if rules else []


def _node_group_ssh(p: Any, _c) -> list[str]:
    if get(p, "remoteAccess") is None:
        return []
    return [] if items(get(p, "remoteAccess.sourceSecurityGroupIds")) else [
        "remoteAccess without sourceSecurityGroupIds opens SSH to the internet"]


def _gcp_firewall(p: Any, c) -> list[str]:
    if get(p, "direction", "INGRESS") != "INGRESS" or get(p, "disabled") is True or not items(get(p, "allows")):
        return []
    sources = items(get(p, "sourceRanges"))
    if not sources and not items(get(p, "sourceTags")) and not items(get(p, "sourceServiceAccounts")):
        sources = ["0.0.0.0/0"]  # GCP's default source for an ingress rule that names none
    if not any(r in OPEN for r in sources):
        return []
    allowed = {str(x) for x in c["allowedPorts"]}
    bad = [a for a in items(get(p, "allows"))
           if not items(get(a, "ports")) or not {str(x) for x in items(get(a, "ports"))} <= allowed]
    return ["allows ingress from 0.0.0.0/0"] if bad else []


def _ali_rule(p: Any, c) -> list[str]:
    if get(p, "type") != "ingress" or get(p, "policy", "accept") != "accept":
        return []
    port_range = str(get(p, "portRange", "-1/-1"))
    lo, _, hi = port_range.partition("/")
    lo_i, hi_i = (0, 65535) if lo == "-1" else (int(lo), int(hi or lo))
    return ["ingress open to 0.0.0.0/0"] if _open([get(p, "cidrIp"), get(p, "ipv6CidrIp")], lo_i, hi_i,
                                                  c["allowedPorts"]) else []


no_open_ingress = table_rule(
    "no-internet-ingress",
    "D11: no ingress from 0.0.0.0/0 or ::/0 and the default security group has no rules. Fix: restrict "
    "cidrBlocks/sourceRanges/cidrIp to your networks, give remoteAccess sourceSecurityGroupIds, empty the "
    "DefaultSecurityGroup; list deliberately public ports in this policy's allowedPorts.",
    {SG: _sg, SG_RULE: _sg_rule, SG_INGRESS: _sg_ingress, DEFAULT_SG: _default_sg,
     EKS_NODE_GROUP: _node_group_ssh, GCP_FIREWALL: _gcp_firewall, ALI_SG_RULE: _ali_rule},
    INGRESS_SCHEMA,
)

AWS_VPC = "aws:ec2/vpc:Vpc"
AWS_FLOW_LOG = "aws:ec2/flowLog:FlowLog"
GCP_SUBNET = "gcp:compute/subnetwork:Subnetwork"
ALI_VPC = "alicloud:vpc/network:Network"
ALI_FLOW_LOG = "alicloud:vpc/flowLog:FlowLog"


def _flow_logs(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    aws_vpcs = Index(r for r in resources if r.resource_type == AWS_VPC)
    logged = aws_vpcs.referrers([r for r in resources if r.resource_type == AWS_FLOW_LOG], "vpcId")
    for vpc in aws_vpcs.targets:
        if vpc.urn not in logged:
            report(f"VPC '{vpc.name}' has no aws.ec2.FlowLog with vpcId naming it.", vpc.urn)
    ali_vpcs = Index(r for r in resources if r.resource_type == ALI_VPC)
    ali_logs = [r for r in resources if r.resource_type == ALI_FLOW_LOG and get(r.props, "resourceType") == "VPC"]
    ali_logged = ali_vpcs.referrers(ali_logs, "resourceId")
    for vpc in ali_vpcs.targets:
        if vpc.urn not in ali_logged:
            report(f"VPC '{vpc.name}' has no alicloud.vpc.FlowLog (resourceType VPC) naming it.", vpc.urn)
    for subnet in (r for r in resources if r.resource_type == GCP_SUBNET):
        if get(subnet.props, "logConfig") is None:
            report(f"Subnetwork '{subnet.name}' has no logConfig (VPC flow logs).", subnet.urn)


vpc_flow_logs = stack_rule(
    "vpc-flow-logs",
    "D12: every network records flow logs. Fix: AWS: an aws.ec2.FlowLog per VPC (vpcId); GCP: logConfig on "
    "each Subnetwork; Alibaba: an alicloud.vpc.FlowLog with resourceType 'VPC' per VPC.",
    (AWS_VPC, AWS_FLOW_LOG, GCP_SUBNET, ALI_VPC, ALI_FLOW_LOG),
    _flow_logs,
)

POLICIES = [no_open_ingress, vpc_flow_logs]
