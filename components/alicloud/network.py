"""newinfra:alicloud:Network — a VPC with vSwitches in at least two zones, an enhanced NAT gateway with an
EIP and SNAT entries for egress, VPC flow logs, and a security group open only inside the VPC."""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
from newinfra.components.physical import physical
from newinfra.components.plain import require_plain
from newinfra.components.planning.network import split_cidr
from newinfra.components.planning.tags import with_cost_tags
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError


class NetworkArgs(TypedDict):
    cidr: str
    zones: list[str]  # zone ids (cn-beijing-i, ...), at least two
    tags: dict[str, str]
    nat_bandwidth_mbps: NotRequired[int]  # EIP bandwidth cap
    flow_log_retention_days: NotRequired[int]


class Network(pulumi.ComponentResource):
    TYPE = python_token("AlicloudNetwork")
    vpc_id: pulumi.Output[str]
    vswitch_ids: pulumi.Output[list[str]]
    security_group_id: pulumi.Output[str]
    nat_ip: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        cidr = require_plain(args, "cidr")
        wanted = sorted(set(require_plain(args, "zones")))
        if len(wanted) < 2:
            raise ComponentInputError("zones", f"{wanted} — a network needs vSwitches in at least 2 zones")
        zones = wanted
        tags = with_cost_tags(dict(require_plain(args, "tags")))
        bandwidth = int(args.get("nat_bandwidth_mbps", 200))
        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)

        vpc = alicloud.vpc.Network(f"{name}-vpc", vpc_name=physical("alicloud:vpc:vpc", name), cidr_block=cidr,
                                   tags=tags, opts=child)
        # Nodes only: no public tier, the enhanced NAT gateway lives in a private vSwitch.
        self.vswitches: dict[str, pulumi.Output[str]] = {}
        for plan in split_cidr(cidr, zones, tiers=("private",)):
            vswitch = alicloud.vpc.Switch(f"{name}-{plan.zone}", vpc_id=vpc.id, zone_id=plan.zone,
                                          cidr_block=plan.cidr, tags=tags,
                                          vswitch_name=physical("alicloud:vpc:vswitch", f"{name}-{plan.zone}"),
                                          opts=child)
            self.vswitches[plan.zone] = vswitch.id

        nat = alicloud.vpc.NatGateway(
            f"{name}-nat", vpc_id=vpc.id, vswitch_id=self.vswitches[zones[0]], nat_type="Enhanced",
            network_type="internet", payment_type="PayAsYouGo", internet_charge_type="PayByLcu",
            nat_gateway_name=physical("alicloud:vpc:nat-gateway", f"{name}-nat"), tags=tags, opts=child)
        eip = alicloud.ecs.EipAddress(
            f"{name}-nat-eip", address_name=physical("alicloud:vpc:eip", f"{name}-nat"),
            bandwidth=str(bandwidth),
            internet_charge_type="PayByTraffic", payment_type="PayAsYouGo", tags=tags, opts=child)
        association = alicloud.ecs.EipAssociation(f"{name}-nat-eip", allocation_id=eip.id, instance_id=nat.id,
                                                  instance_type="Nat", opts=child)
        for zone in zones:
            alicloud.vpc.SnatEntry(
                f"{name}-snat-{zone}", snat_table_id=nat.snat_table_ids, source_vswitch_id=self.vswitches[zone],
                snat_ip=eip.ip_address, snat_entry_name=physical("alicloud:vpc:snat-entry", f"{name}-{zone}"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[association]))

        # Intra-VPC traffic only; egress goes out through NAT. No rule admits 0.0.0.0/0.
        group = alicloud.ecs.SecurityGroup(
            f"{name}-nodes", vpc_id=vpc.id, security_group_type="normal",
            security_group_name=physical("alicloud:ecs:security-group", f"{name}-nodes"),
            inner_access_policy="Accept", description="GPU nodes: ingress from the VPC only", tags=tags,
            opts=child)
        alicloud.ecs.SecurityGroupRule(
            f"{name}-nodes-vpc-ingress", security_group_id=group.id, type="ingress", ip_protocol="all",
            port_range="-1/-1", cidr_ip=cidr, policy="accept", priority=1, nic_type="intranet",
            description="from inside the VPC", opts=child)
        self._flow_logs(name, vpc, tags, int(args.get("flow_log_retention_days", 180)))

        self.vpc_id = vpc.id
        self.vswitch_ids = pulumi.Output.all(*[self.vswitches[z] for z in zones])
        self.security_group_id = group.id
        self.nat_ip = eip.ip_address
        self.register_outputs({"vpcId": self.vpc_id, "vswitchIds": self.vswitch_ids,
                               "securityGroupId": self.security_group_id})

    def _flow_logs(self, name: str, vpc: alicloud.vpc.Network, tags: dict[str, str], retention: int) -> None:
        child = pulumi.ResourceOptions(parent=self)
        project = alicloud.log.Project(f"{name}-flow-logs",
                                       project_name=physical("alicloud:log:project", f"{name}-flow-logs"),
                                       description=f"VPC flow logs of {name}", tags=tags, opts=child)
        store = alicloud.log.Store(f"{name}-flow-logs", project_name=project.project_name,
                                   logstore_name=physical("alicloud:log:store", f"{name}-vpc-flow-logs"),
                                   retention_period=retention, opts=child)
        alicloud.vpc.FlowLog(
            f"{name}-flow-log", resource_type="VPC", resource_id=vpc.id, traffic_type="All",
            project_name=project.project_name, log_store_name=store.logstore_name,
            flow_log_name=physical("alicloud:vpc:flow-log", f"{name}-vpc"),
            tags=tags, opts=child)
