"""newinfra:alicloud:GpuVmPool — an ECS GPU fleet outside Kubernetes (Slurm or bare training hosts).

An ESS scaling group over the placement's vSwitches and its scaling configuration: no public IP
(outbound bandwidth 0), system disk encrypted with the customer KMS key, metadata server on, security
hardening on, spot strategy from the market; a security group where only pool members reach each other.
The scaling configuration is ESS's own launch template (it carries every instance setting), so no separate
ECS launch template is created.
Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
from newinfra.components.physical import physical
from newinfra.components.plain import require_plain
from newinfra.components.planning.vm_pool import (
    VmPoolSpec,
    check_spec,
    host_facts,
    inventory,
    require_cost_tags,
)
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError, input_path

# Market -> (ECS spot strategy, ESS group capacity settings).
MARKET_SETTINGS: dict[str, tuple[str, dict[str, Any]]] = {
    "on-demand": ("NoSpot", {"multi_az_policy": "BALANCE"}),
    "spot": ("SpotAsPriceGo", {
        "multi_az_policy": "COST_OPTIMIZED", "on_demand_base_capacity": 0,
        "on_demand_percentage_above_base_capacity": 0,
        "spot_instance_remedy": True}),  # replace a spot host before it is reclaimed
}
SYSTEM_DISK_CATEGORIES = ("cloud_essd", "cloud_auto")


class AlicloudGpuVmPoolArgs(TypedDict):
    pool: VmPoolSpec
    region: str
    vpc_id: pulumi.Input[str]
    # vSwitches in the pool's zones (one per zone)
    vswitch_ids: pulumi.Input[list[pulumi.Input[str]]]
    # KMS key for the system disks; without one the pool creates a rotating key
    kms_key_id: NotRequired[pulumi.Input[str]]
    # a GPU-ready image in the region, and the OS it runs (the inventory tells Ansible)
    image_id: str
    os: str
    tags: dict[str, str]
    classification: NotRequired[str]
    system_disk_gb: NotRequired[int]
    system_disk_category: NotRequired[str]


class GpuVmPool(pulumi.ComponentResource):
    """An ECS GPU fleet (ESS scaling group + configuration) with its Ansible inventory."""

    TYPE = python_token("AlicloudGpuVmPool")

    group_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    inventory: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: AlicloudGpuVmPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        spec: VmPoolSpec = require_plain(args, "pool")
        region = require_plain(args, "region")
        check_spec(spec)
        with input_path("pool"):
            facts = host_facts("alicloud", spec["instance_type"], spec["accelerator"], spec["accelerators_per_node"])
        image_id, os_name = require_plain(args, "image_id"), require_plain(args, "os")
        if not image_id or not os_name:
            raise ComponentInputError("image_id" if not image_id else "os",
                                      "image_id and os: both are required (a GPU-ready image and the OS it runs)")
        disk_gb = args.get("system_disk_gb", 200)
        if not isinstance(disk_gb, int) or not 20 <= disk_gb <= 2048:
            raise ComponentInputError("system_disk_gb", f"{disk_gb!r} must be an integer in [20, 2048]")
        category = args.get("system_disk_category", "cloud_essd")
        if category not in SYSTEM_DISK_CATEGORIES:
            raise ComponentInputError("system_disk_category", f"{category!r} is not valid; valid: {list(SYSTEM_DISK_CATEGORIES)}")
        tags = require_cost_tags(dict(require_plain(args, "tags")), args.get("classification"))
        tags = {**tags, "newinfra.io/workload": spec["workload"], "newinfra.io/pool": spec["name"],
                **({"newinfra.io/kind": spec["kind"]} if spec.get("kind") else {})}
        spot_strategy, capacity = MARKET_SETTINGS[spec["market"]]
        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)

        kms_key_id = args.get("kms_key_id") or alicloud.kms.Key(
            f"{name}-disks", description=f"GPU VM pool {name}: system disks", key_usage="ENCRYPT/DECRYPT",
            automatic_rotation="Enabled", rotation_interval="365d", pending_window_in_days=30,
            tags=tags, opts=child).id
        # No ingress rules: pool members reach each other (NCCL), nothing else gets in.
        sg = alicloud.ecs.SecurityGroup(
            f"{name}-hosts", vpc_id=args["vpc_id"],
            security_group_name=physical("alicloud:ecs:security-group", f"{name}-hosts"),
            security_group_type="normal", inner_access_policy="Accept",
            description=f"GPU VM pool {name}: only pool members talk", tags=tags, opts=child)
        group_name = physical("alicloud:ess:scaling-group", name)
        group = alicloud.ess.ScalingGroup(
            f"{name}-group", scaling_group_name=group_name, vswitch_ids=args["vswitch_ids"],
            min_size=spec["min_size"], max_size=spec["max_size"], desired_capacity=spec["desired_size"],
            # Scale in the newest hosts first: the oldest ones hold the long-running job.
            removal_policies=["NewestInstance", "OldestScalingConfiguration"],
            tags=tags, **capacity, opts=child)
        alicloud.ess.ScalingConfiguration(
            f"{name}-config", scaling_group_id=group.id,
            scaling_configuration_name=physical("alicloud:ess:scaling-configuration", name),
            instance_type=spec["instance_type"], image_id=image_id, security_group_id=sg.id,
            internet_max_bandwidth_out=0,  # no public IP
            system_disk_category=category, system_disk_size=disk_gb,
            system_disk_encrypted=True, system_disk_kms_key_id=kms_key_id,
            spot_strategy=spot_strategy, http_endpoint="enabled",
            security_enhancement_strategy="Active",
            instance_name=physical("alicloud:ecs:instance", name), tags=tags,
            active=True, enable=True, force_delete=True, opts=child)

        self.group_id = group.id
        self.security_group_id = sg.id
        self.inventory = pulumi.Output.from_input(
            inventory(cloud="alicloud", region=region, spec=spec, facts=facts, os=os_name,
                      group_name=group_name))
        self.register_outputs({"groupId": self.group_id, "inventory": self.inventory})
