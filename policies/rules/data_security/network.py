"""D11-D12: no ingress from the whole internet, default security groups closed, VPC flow logs."""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get, items, stack_rule
from newinfra.policies.rules.data_security.tables import table_rule
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

from newinfra.cidrs import LIMIT_SCHEMA, judge
from newinfra.links import Index

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
        },
        "publicCidrLimit": LIMIT_SCHEMA,
    }
)


FIX = "restrict the source to your networks (VPN / office ranges) or to security groups"


def _ports(from_port: Any, to_port: Any) -> set[int]:
    lo, hi = int(from_port or 0), int(to_port if to_port is not None else from_port or 65535)
    return set(range(lo, min(hi, 65535) + 1)) if hi - lo < 1024 else {-1}


def _port_text(from_port: Any, to_port: Any, protocol: Any = None) -> str:
    proto = str(protocol).lower() if protocol not in (None, "") else ""
    if proto in ("-1", "all"):
        return "all traffic"
    lo, hi = int(from_port or 0), int(to_port if to_port is not None else from_port or 65535)
    suffix = f"/{proto}" if proto and not proto.isdigit() else ""
    if lo == hi:
        return f"port {lo}{suffix}"
    return f"all ports{suffix}" if (lo, hi) == (0, 65535) else f"ports {lo}-{hi}{suffix}"


def _exposure(cidrs: list[Any], from_port: Any, to_port: Any, c, protocol: Any = None) -> str | None:
    """'port 22/tcp from 0.0.0.0/0 (all of public IPv4)' when the rule admits more of the internet than
    the limit on a port not in allowedPorts; None when it does not."""
    j = judge(cidrs, c.get("publicCidrLimit"))
    if j.invalid:
        return f"{_port_text(from_port, to_port, protocol)} from {list(j.invalid)}, which are not CIDRs"
    if not j.open:
        return None
    ports = _ports(from_port, to_port)
    if -1 not in ports and ports <= set(c["allowedPorts"]):
        return None
    return f"{_port_text(from_port, to_port, protocol)} from {j.describe()}"


def _sg(p: Any, c) -> list[str]:
    out = []
    for r in items(get(p, "ingress")):
        found = _exposure(items(get(r, "cidrBlocks")) + items(get(r, "ipv6CidrBlocks")), get(r, "fromPort"),
                          get(r, "toPort"), c, get(r, "protocol"))
        if found:
            out.append(f"ingress {found}")
    return [f"{'; '.join(out)}; {FIX}"] if out else []


def _sg_rule(p: Any, c) -> list[str]:
    if get(p, "type") != "ingress":
        return []
    found = _exposure(items(get(p, "cidrBlocks")) + items(get(p, "ipv6CidrBlocks")), get(p, "fromPort"),
                      get(p, "toPort"), c, get(p, "protocol"))
    return [f"ingress {found}; {FIX}"] if found else []


def _sg_ingress(p: Any, c) -> list[str]:
    found = _exposure([get(p, "cidrIpv4"), get(p, "cidrIpv6")], get(p, "fromPort"), get(p, "toPort"), c,
                      get(p, "ipProtocol"))
    return [f"ingress {found}; {FIX}"] if found else []


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
    j = judge(sources, c.get("publicCidrLimit"))
    if j.invalid:
        return [f"sourceRanges {list(j.invalid)} are not CIDRs"]
    if not j.open:
        return []
    allowed = {str(x) for x in c["allowedPorts"]}
    bad = []
    for a in items(get(p, "allows")):
        ports = [str(x) for x in items(get(a, "ports"))]
        if not ports or not set(ports) <= allowed:
            proto = get(a, "protocol", "all")
            bad.append(f"{proto} ports {', '.join(ports)}" if ports else f"all {proto} ports")
    return [f"allows {'; '.join(bad)} from {j.describe()}; {FIX}"] if bad else []


def _ali_rule(p: Any, c) -> list[str]:
    if get(p, "type") != "ingress" or get(p, "policy", "accept") != "accept":
        return []
    port_range = str(get(p, "portRange", "-1/-1"))
    lo, _, hi = port_range.partition("/")
    lo_i, hi_i = (0, 65535) if lo == "-1" else (int(lo), int(hi or lo))
    found = _exposure([get(p, "cidrIp"), get(p, "ipv6CidrIp")], lo_i, hi_i, c, get(p, "ipProtocol"))
    return [f"ingress {found}; {FIX}"] if found else []


no_open_ingress = table_rule(
    "no-internet-ingress",
    "D11: no ingress from the internet (any CIDR list whose public space is wider than publicCidrLimit, "
    "IPv4 or IPv6, in any spelling) and the default security group has no rules. Fix: restrict "
    "cidrBlocks/sourceRanges/cidrIp to your networks, give remoteAccess sourceSecurityGroupIds, empty the "
    "DefaultSecurityGroup; list deliberately public ports in this policy's allowedPorts.",
    {SG: _sg, SG_RULE: _sg_rule, SG_INGRESS: _sg_ingress, DEFAULT_SG: _default_sg,
     EKS_NODE_GROUP: _node_group_ssh, GCP_FIREWALL: _gcp_firewall, ALI_SG_RULE: _ali_rule},
    INGRESS_SCHEMA,
)

AWS_VPC = "aws:ec2/vpc:Vpc"
AWS_FLOW_LOG = "aws:ec2/flowLog:FlowLog"
GCP_SUBNET = "gcp:compute/subnetwork:Subnetwork"
GCP_NETWORK = "gcp:compute/network:Network"
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
    for net in (r for r in resources if r.resource_type == GCP_NETWORK):
        # autoCreateSubnetworks defaults to true: GCP makes a subnet per region, with no flow logs.
        if get(net.props, "autoCreateSubnetworks", True) is not False:
            report(f"Network '{net.name}' is an auto-mode network: its auto-created subnetworks record no flow "
                   "logs. Fix: autoCreateSubnetworks false and Subnetworks with logConfig.", net.urn)
    for subnet in (r for r in resources if r.resource_type == GCP_SUBNET):
        # GCP records no flow logs for the proxy-only subnets of its managed (Envoy) load balancers
        if get(subnet.props, "purpose") in ("REGIONAL_MANAGED_PROXY", "GLOBAL_MANAGED_PROXY",
                                             "INTERNAL_HTTPS_LOAD_BALANCER"):
            continue
        if get(subnet.props, "logConfig") is None:
            report(f"Subnetwork '{subnet.name}' has no logConfig (VPC flow logs).", subnet.urn)


vpc_flow_logs = stack_rule(
    "vpc-flow-logs",
    "D12: every network records flow logs. Fix: AWS: an aws.ec2.FlowLog per VPC (vpcId); GCP: logConfig on "
    "each Subnetwork, and no auto-mode Network (autoCreateSubnetworks false: auto-created subnetworks log "
    "nothing); Alibaba: an alicloud.vpc.FlowLog with resourceType 'VPC' per VPC.",
    (AWS_VPC, AWS_FLOW_LOG, GCP_SUBNET, GCP_NETWORK, ALI_VPC, ALI_FLOW_LOG),
    _flow_logs,
)

POLICIES = [no_open_ingress, vpc_flow_logs]
