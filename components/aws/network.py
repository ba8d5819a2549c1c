"""newinfra:aws:Network — a VPC for GPU nodes: private subnets for nodes, public ones only for NAT."""


from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
from newinfra.components.aws.iam import service_role
from newinfra.components.plain import require_plain
from newinfra.components.planning.network import choose_zones, nat_gateway_zones, private_network, split_cidr
from newinfra.components.tokens import python_token, with_other_form

from newinfra.placement import is_local_zone


class NetworkArgs(TypedDict):
    cidr: str
    # AZ IDs (use1-az1) the placements need; topped up to two zones from the region's list.
    zone_ids: list[str]
    # One NAT gateway per zone (prod) or one for the VPC.
    nat_per_zone: NotRequired[bool]
    tags: NotRequired[dict[str, str]]
    flow_log_retention_days: NotRequired[int]


class Network(pulumi.ComponentResource):
    TYPE = python_token("AwsNetwork")
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    # AZ ID -> private subnet id, for node groups pinned to one zone
    private_subnet_by_zone: pulumi.Output[dict[str, str]]
    zone_names: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        cidr = require_plain(args, "cidr")
        private_network(cidr)
        wanted = require_plain(args, "zone_ids")
        retention = int(args.get("flow_log_retention_days", 365))
        tags = dict(args.get("tags") or {})
        # Everything above only checks arguments. The zone and CIDR plan below needs the region's zones,
        # which only the component's provider can look up: it is checked before any child exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)

        # One invoke per network: the account's AZ ID -> name mapping (names differ per account).
        azs = aws.get_availability_zones(state="available", opts=pulumi.InvokeOptions(parent=self))
        name_of = dict(zip(azs.zone_ids, azs.names, strict=True))
        # Local Zones (placed only when the config allows them) get private subnets of their own, routed out
        # through the region's NAT; the cluster's own subnets stay in the region's zones (EKS places no
        # network interface in a Local Zone subnet), at least two of them as ever. That the account opted in to
        # a zone's group is for EC2 to say when the subnet is created.
        local = sorted({z for z in wanted if is_local_zone("aws", z)})
        zones = choose_zones(sorted(azs.zone_ids), [z for z in wanted if z not in local], key="zone_ids")
        plans = split_cidr(cidr, zones + local)

        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=cidr, enable_dns_hostnames=True, enable_dns_support=True,
                          tags={**tags, "Name": name}, opts=child)
        # Lock down the default security group: no rules at all (D11).
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[],
                                     tags=tags, opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags, opts=child)

        subnets: dict[tuple[str, str], aws.ec2.Subnet] = {}
        for plan in plans:
            if plan.zone in local and plan.tier == "public":
                continue  # nothing public in a Local Zone: its nodes leave through the region's NAT
            role_tag = {"kubernetes.io/role/internal-elb": "1"} if plan.tier == "private" \
                else {"kubernetes.io/role/elb": "1"}
            subnets[(plan.zone, plan.tier)] = aws.ec2.Subnet(
                f"{name}-{plan.tier}-{plan.zone}", vpc_id=vpc.id, cidr_block=plan.cidr,
                availability_zone_id=plan.zone, map_public_ip_on_launch=False,
                tags={**tags, **role_tag, "Name": f"{name}-{plan.tier}-{plan.zone}", "newinfra.io/tier": plan.tier},
                opts=child)

        public_rt = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=vpc.id, tags=tags, opts=child)
        aws.ec2.Route(f"{name}-public-default", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0",
                      gateway_id=igw.id, opts=child)
        nat_zones = nat_gateway_zones(zones, per_zone=bool(args.get("nat_per_zone", False)))
        nats = {}
        for zone in nat_zones:
            aws.ec2.RouteTableAssociation(f"{name}-public-{zone}", route_table_id=public_rt.id,
                                          subnet_id=subnets[(zone, "public")].id, opts=child)
            eip = aws.ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags=tags, opts=child)
            nats[zone] = aws.ec2.NatGateway(f"{name}-nat-{zone}", allocation_id=eip.id,
                                            subnet_id=subnets[(zone, "public")].id, tags=tags,
                                            opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]))

        private_rts = []
        for zone in zones + local:
            nat = nats.get(zone) or nats[nat_zones[0]]
            rt = aws.ec2.RouteTable(f"{name}-private-rt-{zone}", vpc_id=vpc.id, tags=tags, opts=child)
            aws.ec2.Route(f"{name}-private-default-{zone}", route_table_id=rt.id,
                          destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-private-{zone}", route_table_id=rt.id,
                                          subnet_id=subnets[(zone, "private")].id, opts=child)
            private_rts.append(rt)

        # Datasets stream from S3 through a gateway endpoint: no NAT charges, no internet path.
        region = aws.get_region(opts=pulumi.InvokeOptions(parent=self)).region
        aws.ec2.VpcEndpoint(f"{name}-s3", vpc_id=vpc.id, service_name=f"com.amazonaws.{region}.s3",
                            vpc_endpoint_type="Gateway", route_table_ids=[rt.id for rt in private_rts],
                            tags=tags, opts=child)
        self._flow_logs(name, vpc, tags, retention)

        self.vpc_id = vpc.id
        self.private_subnet_ids = pulumi.Output.all(*[subnets[(z, "private")].id for z in zones])
        self.private_subnet_by_zone = pulumi.Output.all(
            **{z: subnets[(z, "private")].id for z in zones + local})
        self.zone_names = pulumi.Output.from_input({z: name_of[z] for z in zones})
        self.register_outputs({"vpcId": self.vpc_id, "privateSubnetIds": self.private_subnet_ids})

    def _flow_logs(self, name: str, vpc: aws.ec2.Vpc, tags: dict[str, str], retention: int) -> None:
        child = pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(f"{name}-flow-logs", retention_in_days=retention, tags=tags,
                                            opts=child)
        role = service_role(self, f"{name}-flow-logs", "vpc-flow-logs.amazonaws.com", tags)
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=pulumi.Output.json_dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow",
                               "Action": ["logs:CreateLogStream", "logs:PutLogEvents",
                                          "logs:DescribeLogStreams"],
                               "Resource": [log_group.arn, log_group.arn.apply(lambda arn: f"{arn}:*")]}],
            }),
            opts=child)
        aws.ec2.FlowLog(f"{name}-flow-log", vpc_id=vpc.id, traffic_type="ALL", log_destination=log_group.arn,
                        log_destination_type="cloud-watch-logs", iam_role_arn=role.arn,
                        max_aggregation_interval=60, tags=tags, opts=child)
