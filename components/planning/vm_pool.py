"""Pure planning for GPU VM pools (Slurm or bare fleets): host facts, EFA interfaces, the inventory.

No resources here. The facts (driver branch, Fabric Manager, EFA) come from the one instance-family table,
newinfra/facts.py, so the pools, the Ansible inventory and the policies agree.

No ``from __future__ import annotations`` in this module: ``VmPoolSpec`` is part of the components'
cross-language schema, which the Pulumi analyzer reads from real (not string) annotations.
"""

import re
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict, cast

from newinfra.components.planning.pools import accelerator_vendor, plan_node_pool
from newinfra.components.planning.tags import with_cost_tags

from newinfra.errors import ComponentInputError, from_keyed
from newinfra.facts import (
    ACCELERATOR_ARCHITECTURE,
    ARCHITECTURES,
    FAMILIES,
    FamilyNameError,
    efa_interfaces,
    family_facts,
    family_of,
)
from newinfra.placement import Placement

MARKETS = ("on-demand", "spot")
# The scaling group behind a pool, as the Ansible inventory names it.
GROUP_KINDS = {"aws": "aws-asg", "gcp": "gcp-mig", "alicloud": "alicloud-ess"}
# Vendors a VM pool can host: the host image and Ansible roles exist for these.
VM_POOL_VENDORS = ("neuron", "nvidia")

# AWS host images by the family's accelerated image class (newinfra/facts.py ``eks_ami_type``): the SSM
# parameter of the matching Deep Learning AMI, and its OS for the inventory.
AWS_IMAGES: dict[str, tuple[str, str]] = {
    "AL2023_x86_64_NVIDIA": (
        "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id", "ubuntu-22.04"),
    "AL2023_ARM_64_NVIDIA": (
        "/aws/service/deeplearning/ami/arm64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id", "ubuntu-22.04"),
    "AL2023_x86_64_NEURON": (
        "/aws/service/neuron/dlami/multi-framework/ubuntu-22.04/latest/image_id", "ubuntu-22.04"),
}


class VmPoolSpec(TypedDict):
    """One GPU VM pool: the placement's shape as plain values (what the component plans from)."""

    name: str
    workload: str
    instance_type: str
    accelerator: str
    accelerators_per_node: int
    zones: list[str]
    min_size: int
    max_size: int
    desired_size: int
    market: str
    # multi-node training: cluster placement group (AWS) / compact placement policy (GCP)
    compact: bool
    kind: NotRequired[str]


@dataclass(frozen=True)
class HostFacts:
    family: str
    accelerator: str
    driver_branch: str
    fabric_manager: bool
    efa_interfaces: int  # 0: no EFA

    @property
    def efa(self) -> bool:
        return self.efa_interfaces > 0


def instance_family(cloud: str, instance_type: str) -> str:
    """The family key of newinfra/facts.py (``family_of``), as a ComponentInputError."""
    try:
        return family_of(cloud, instance_type)
    except FamilyNameError as exc:
        raise from_keyed(exc) from None


def host_facts(cloud: str, instance_type: str, accelerator: str, accelerators_per_node: int) -> HostFacts:
    """What a host of this type needs: driver branch, Fabric Manager, EFA interfaces. Fails clearly on
    families the table does not know, on TPUs (TpuSlice's job) and on Alibaba types that need a ticket."""
    vendor = accelerator_vendor(accelerator)
    if vendor not in VM_POOL_VENDORS:
        raise ComponentInputError("accelerator", f"{accelerator!r} cannot run in a GPU VM pool; valid vendors: {list(VM_POOL_VENDORS)} "
            "(TPU slices are TpuSlice components)")
    family = instance_family(cloud, instance_type)
    facts = family_facts(cloud, family)
    if facts is None:
        known = sorted(f for c, f in FAMILIES if c == cloud)
        raise ComponentInputError("instance_type", f"{instance_type!r} (family {family!r}) is not in the {cloud} instance-family table "
            f"newinfra/facts.py; known families: {known}")
    if facts.sales_ticket:
        raise ComponentInputError("instance_type", f"{instance_type!r} (family {family!r}) is sold only after an Alibaba Cloud sales "
            "ticket; choose a family that is generally available or open the ticket and add it to the table")
    if facts.accelerator and facts.accelerator != accelerator:
        raise ComponentInputError("accelerator", f"{accelerator!r} does not match instance_type {instance_type!r}, whose family "
            f"{family!r} carries {facts.accelerator!r}")
    # Hosts that take several GPU models (GCP n1) get theirs from the placement.
    architecture = facts.architecture or ACCELERATOR_ARCHITECTURE.get(accelerator)
    if architecture is None:
        raise ComponentInputError("accelerator", f"{accelerator!r} has no architecture in newinfra/facts.py")
    branch = ARCHITECTURES[architecture].driver_branch
    if branch is None:
        raise ComponentInputError("accelerator", f"{accelerator!r} ({architecture}) has no driver branch in the table")
    efa_count = efa_interfaces(cloud, instance_type)
    return HostFacts(
        family=family,
        accelerator=accelerator,
        driver_branch=branch,
        fabric_manager=facts.fabric_manager(accelerators_per_node),
        efa_interfaces=efa_count,
    )


def require_cost_tags(tags: dict[str, str], classification: str | None = None) -> dict[str, str]:
    """Every pool is paid for by someone (owner and cost-center), and says what data it holds."""
    return with_cost_tags(tags, classification)


def aws_image(instance_type: str) -> tuple[str, str]:
    """(SSM parameter of the AMI, OS) for an EC2 GPU/Neuron type."""
    family = instance_family("aws", instance_type)
    facts = family_facts("aws", family)
    image = AWS_IMAGES.get(facts.eks_ami_type or "") if facts else None
    if image is None:
        raise ComponentInputError("instance_type", f"{instance_type!r} has no GPU host image; families with one: "
            f"{sorted(f for (c, f), v in FAMILIES.items() if c == 'aws' and v.eks_ami_type in AWS_IMAGES)}")
    return image


def efa_network_interfaces(count: int) -> list[dict[str, int | str]]:
    """EC2 launch-template interfaces for an EFA host: one EFA per network card. The primary interface
    is device 0 on card 0; the others are device 1 on their own card (AWS's layout for p4d/p5)."""
    return [
        {"network_card_index": card, "device_index": 0 if card == 0 else 1, "interface_type": "efa"}
        for card in range(count)
    ]


def vm_pool_spec(placement: Placement, *, kind: str, profile: str) -> VmPoolSpec:
    """A placement with runs_on "vm" as a pool spec (same sizes and names as a node pool)."""
    if placement.runs_on != "vm":
        raise ComponentInputError(
            "runs_on", f"{placement.runs_on!r} for placement {placement.workload!r}; a GPU VM pool needs 'vm'")
    pool = plan_node_pool(placement, kind=kind, profile=profile)
    # The node pool's plan minus what only Kubernetes reads (labels, taints), plus the workload's kind.
    plan: dict[str, Any] = dict(pool)  # read by key name: the TypedDicts share their keys, not their types
    spec = {key: plan[key] for key in VmPoolSpec.__annotations__ if key in plan}
    return {**spec, "zones": list(pool["zones"]), "kind": kind}  # type: ignore[typeddict-item]


def spec_kind(spec: VmPoolSpec) -> str | None:
    """The workload kind: the spec's own, else the node-pool label (a NodePoolArgs passed as a spec)."""
    labels = cast(dict[str, Any], spec).get("labels") or {}  # NodePoolArgs' key, not VmPoolSpec's
    return spec.get("kind") or labels.get("newinfra.io/kind")


def subnets_for_zones(by_zone: dict[str, str], zones: list[str]) -> list[str]:
    """The subnets of the pool's zones, in the pool's zone order."""
    missing = [z for z in zones if z not in by_zone]
    if missing:
        raise ComponentInputError("subnet_by_zone", f"no subnet for the pool's zones {missing}; it has {sorted(by_zone)}")
    return [by_zone[z] for z in zones]


def check_spec(spec: VmPoolSpec, markets: tuple[str, ...] = MARKETS) -> None:
    """Shape checks the providers would make only at deploy time (``markets``: what the cloud's pool builds)."""
    missing = sorted(k for k in VmPoolSpec.__required_keys__ if k not in spec)
    if missing:
        raise ComponentInputError("pool", f"missing keys {missing}")
    if spec["market"] not in markets:
        raise ComponentInputError("pool.market", f"{spec['market']!r} is not valid for a VM pool; valid: {list(markets)}")
    if not spec["zones"]:
        raise ComponentInputError("pool.zones", "at least one zone is needed")
    if not 0 <= spec["min_size"] <= spec["desired_size"] <= spec["max_size"] or spec["max_size"] < 1:
        raise ComponentInputError(
            "pool", "sizes must satisfy 0 <= min_size <= desired_size <= max_size and max_size >= 1, got "
            f"{spec['min_size']} <= {spec['desired_size']} <= {spec['max_size']}")
    if spec["accelerators_per_node"] < 1:
        raise ComponentInputError("pool.accelerators_per_node", f"{spec['accelerators_per_node']} must be >= 1")
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,39}", spec["name"]):
        raise ComponentInputError("pool.name", f"{spec['name']!r} must be lowercase letters, digits and dashes, <= 40")


def inventory(*, cloud: str, region: str, spec: VmPoolSpec, facts: HostFacts, os: str, group_name: str) -> dict:
    """The pool as the Ansible inventory reads it (stack output list "gpuVmPools").

    Hosts of a scaling group are not known to the program; Ansible discovers them from the group.
    """
    return {
        "name": spec["name"],
        "cloud": cloud,
        "region": region,
        "instanceType": spec["instance_type"],
        "accelerator": spec["accelerator"],
        "expectedAccelerators": spec["accelerators_per_node"],
        "driverBranch": facts.driver_branch,
        "fabricManager": facts.fabric_manager,
        "efa": facts.efa,
        "os": os,
        "hosts": [],
        "group": {"kind": GROUP_KINDS[cloud], "name": group_name, "region": region},
    }
