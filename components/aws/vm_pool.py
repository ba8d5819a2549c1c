"""newinfra:aws:GpuVmPool — an EC2 GPU fleet outside Kubernetes (Slurm or bare training hosts).

Launch template (IMDSv2, encrypted gp3 root with the customer key, no public IP, EFA interfaces where the
family has them, the Deep Learning AMI from SSM, an SSM-managed instance profile) + an auto scaling group
in the placement's subnets; a cluster placement group for multi-node training.
Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

from typing import Any, NotRequired, TypedDict, cast

import pulumi
import pulumi_aws as aws
from newinfra.components.aws.iam import service_role
from newinfra.components.aws.kms import KeyArgs, create_key
from newinfra.components.physical import physical
from newinfra.components.plain import require_plain
from newinfra.components.planning.vm_pool import (
    VmPoolSpec,
    aws_image,
    check_spec,
    efa_network_interfaces,
    host_facts,
    inventory,
    require_cost_tags,
    spec_kind,
    subnets_for_zones,
)
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError, input_path

HOP_LIMITS = (1, 2)  # 1: only the host reads IMDS; 2: containers on the host may too
SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"  # shell access through SSM, no SSH ingress
ALL_TRAFFIC = {"protocol": "-1", "from_port": 0, "to_port": 0}


class AwsGpuVmPoolArgs(TypedDict):
    pool: VmPoolSpec
    vpc_id: pulumi.Input[str]
    # The pool's subnets: either AZ ID -> private subnet (the pool takes its zones') or a list of
    # private subnets. A compact (multi-node training) pool uses the first only.
    subnet_by_zone: NotRequired[pulumi.Input[dict[str, pulumi.Input[str]]]]
    subnet_ids: NotRequired[pulumi.Input[list[pulumi.Input[str]]]]
    # Customer key for the root volumes. Its policy must let the AWSServiceRoleForAutoScaling role use it
    # and create grants; without one the pool creates such a key.
    kms_key_arn: NotRequired[pulumi.Input[str]]
    # for the inventory; default: the provider's region
    region: NotRequired[str]
    tags: dict[str, str]
    classification: NotRequired[str]
    security_group_ids: NotRequired[pulumi.Input[list[pulumi.Input[str]]]]
    image_parameter: NotRequired[str]
    root_volume_gb: NotRequired[int]
    metadata_hop_limit: NotRequired[int]


class GpuVmPool(pulumi.ComponentResource):
    """An EC2 GPU fleet (launch template + auto scaling group) with its Ansible inventory."""

    TYPE = python_token("AwsGpuVmPool")

    group_name: pulumi.Output[str]
    launch_template_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    # the hosts' IAM role: attach dataset read policies to it
    role_name: pulumi.Output[str]
    inventory: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: AwsGpuVmPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        spec: VmPoolSpec = require_plain(args, "pool")
        check_spec(spec)
        if ("subnet_ids" in args) == ("subnet_by_zone" in args):
            raise ComponentInputError("subnet_ids", "give exactly one of subnet_ids and subnet_by_zone "
                                      "(the pool's private subnets)")
        by_zone = args.get("subnet_by_zone")
        if isinstance(by_zone, dict) and not any(isinstance(v, pulumi.Output) for v in by_zone.values()):
            subnets_for_zones(cast(dict[str, str], by_zone), list(spec["zones"]))  # known now: checked now
        with input_path("pool"):
            facts = host_facts("aws", spec["instance_type"], spec["accelerator"], spec["accelerators_per_node"])
            parameter, os_name = aws_image(spec["instance_type"])
        parameter = args.get("image_parameter") or parameter
        hop_limit = args.get("metadata_hop_limit", 1)
        if hop_limit not in HOP_LIMITS:
            raise ComponentInputError("metadata_hop_limit", f"{hop_limit!r} is not valid; valid: {list(HOP_LIMITS)}")
        root_gb = args.get("root_volume_gb", 200)
        if not isinstance(root_gb, int) or root_gb < 100:
            raise ComponentInputError("root_volume_gb", f"{root_gb!r} must be an integer >= 100 (the DLAMI needs it)")
        tags = require_cost_tags(dict(require_plain(args, "tags")), args.get("classification"))
        tags = {**tags, "newinfra.io/workload": spec["workload"], "newinfra.io/pool": spec["name"],
                **({"newinfra.io/kind": kind} if (kind := spec_kind(spec)) else {})}
        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)
        region = args.get("region") or aws.get_region(opts=pulumi.InvokeOptions(parent=self)).region
        kms_key_arn = args.get("kms_key_arn") or self._disk_key(name, tags).arn

        sg = aws.ec2.SecurityGroup(
            f"{name}-hosts", vpc_id=args["vpc_id"], description=f"GPU VM pool {name}: only pool members talk",
            # EFA and NCCL need all traffic between the pool's hosts; nothing else may come in.
            ingress=[{**ALL_TRAFFIC, "self": True, "description": "pool members"}],
            egress=[{**ALL_TRAFFIC, "self": True, "description": "pool members"},
                    {**ALL_TRAFFIC, "cidr_blocks": ["0.0.0.0/0"], "description": "out through NAT"}],
            tags={**tags, "Name": f"{name}-hosts"}, opts=child)
        group_ids = pulumi.Output.all(sg.id, args.get("security_group_ids") or []).apply(
            lambda v: [v[0], *v[1]])

        profile, role = self._instance_profile(name, tags)
        ami = aws.ssm.get_parameter_output(name=parameter, opts=pulumi.InvokeOutputOptions(parent=self))
        interfaces = [
            {**nic, "security_groups": group_ids, "associate_public_ip_address": "false",
             "delete_on_termination": "true"}
            for nic in (efa_network_interfaces(facts.efa_interfaces) if facts.efa
                        else [{"device_index": 0, "network_card_index": 0}])
        ]
        template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            image_id=ami.value,
            instance_type=spec["instance_type"],
            update_default_version=True,
            ebs_optimized="true",
            metadata_options={"http_endpoint": "enabled", "http_tokens": "required",
                              "http_put_response_hop_limit": hop_limit, "instance_metadata_tags": "disabled"},
            block_device_mappings=[{"device_name": "/dev/sda1", "ebs": {
                "volume_size": root_gb, "volume_type": "gp3", "encrypted": "true",
                "kms_key_id": kms_key_arn, "delete_on_termination": "true"}}],
            network_interfaces=interfaces,
            iam_instance_profile={"arn": profile.arn},
            monitoring={"enabled": True},
            tag_specifications=[{"resource_type": resource, "tags": tags}
                                for resource in ("instance", "network-interface", "volume")],
            tags=tags, opts=child)

        placement_group = None
        if "subnet_by_zone" in args:
            # from_input resolves the nested inputs: the lambdas see plain strings.
            subnets = pulumi.Output.from_input(args["subnet_by_zone"]).apply(
                lambda by_zone: subnets_for_zones(cast(dict[str, str], by_zone), list(spec["zones"])))
        else:
            subnets = cast(pulumi.Output[list[str]], pulumi.Output.from_input(args["subnet_ids"]))
        if spec["compact"]:
            # One AZ, one network spine: what NCCL over EFA needs for multi-node training.
            placement_group = aws.ec2.PlacementGroup(f"{name}-pg", strategy="cluster",
                                                     name=physical("aws:ec2:placement-group", f"{name}-pg"),
                                                     tags=tags, opts=child)
            subnets = subnets.apply(lambda ids: list(ids)[:1])

        lt_ref = {"id": template.id, "version": template.latest_version.apply(str)}
        capacity: dict[str, Any] = {"launch_template": lt_ref}
        if spec["market"] == "spot":
            capacity = {"mixed_instances_policy": {
                "instances_distribution": {"on_demand_base_capacity": 0,
                                           "on_demand_percentage_above_base_capacity": 0,
                                           "spot_allocation_strategy": "capacity-optimized"},
                "launch_template": {"launch_template_specification": {
                    "launch_template_id": template.id, "version": lt_ref["version"]}},
            }, "capacity_rebalance": True}
        group_name = physical("aws:autoscaling:group", name)
        group = aws.autoscaling.Group(
            f"{name}-asg", name=group_name, vpc_zone_identifiers=subnets,
            min_size=spec["min_size"], max_size=spec["max_size"], desired_capacity=spec["desired_size"],
            placement_group=placement_group.name if placement_group else None,
            health_check_type="EC2",
            # A training job holds its hosts; scale-in must not pick them at random.
            protect_from_scale_in=spec_kind(spec) == "training",
            tags=[{"key": k, "value": v, "propagate_at_launch": True}
                  for k, v in sorted({**tags, "Name": name}.items())],
            **capacity, opts=child)

        self.group_name = group.name
        self.launch_template_id = template.id
        self.security_group_id = sg.id
        self.role_name = role.name
        self.inventory = pulumi.Output.from_input(
            inventory(cloud="aws", region=region, spec=spec, facts=facts, os=os_name, group_name=group_name))
        self.register_outputs({"groupName": self.group_name, "inventory": self.inventory})

    def _disk_key(self, name: str, tags: dict[str, str]) -> aws.kms.Key:
        """A customer key for the pool's volumes. Auto Scaling launches the hosts through its service-linked
        role, which needs the key and grants on it, or encrypted launches fail."""
        return create_key(self, f"{name}-disks", KeyArgs(
            description=f"GPU VM pool {name}: host volumes", tags=tags,
            service_linked_roles=("aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",)))

    def _instance_profile(self, name: str, tags: dict[str, str]) -> tuple[aws.iam.InstanceProfile, aws.iam.Role]:
        child = pulumi.ResourceOptions(parent=self)
        role = service_role(self, f"{name}-host", "ec2.amazonaws.com", tags, (SSM_CORE_POLICY,))
        return aws.iam.InstanceProfile(f"{name}-host", role=role.name, tags=tags, opts=child), role
