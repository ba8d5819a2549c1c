"""Pure Alibaba Cloud planning: which ECS GPU families a node pool may use."""

from __future__ import annotations

import ipaddress
import re

from newinfra.errors import ComponentInputError

# Whole-GPU ECS families (gn*: virtualised, ebmgn*: bare metal) -> our normalised accelerator name.
# From Alibaba's "GPU-accelerated compute-optimized instance families" (GPU model and memory per GPU);
# vgn*/sgn* are vGPU slices, not whole GPUs, and are not node-pool material.
GPU_FAMILIES: dict[str, str] = {
    "ebmgn6e": "V100-32GB",
    "ebmgn6i": "T4",
    "ebmgn6ia": "T4",
    "ebmgn6v": "V100",
    "ebmgn7": "A100",
    "ebmgn7e": "A100-80GB",
    "ebmgn7ex": "A100-80GB",
    "ebmgn7i": "A10",
    "ebmgn7ix": "A10",
    "ebmgn8is": "L20",
    "ebmgn8v": "H20",
    "gn5": "P100",
    "gn5i": "P4",
    "gn6e": "V100-32GB",
    "gn6i": "T4",
    "gn6v": "V100",
    "gn7": "A100",
    "gn7e": "A100-80GB",
    "gn7i": "A10",
    "gn7r": "GA107",
    "gn7s": "A30",
    "gn8is": "L20",
    "gn8v": "H20",
}
GPU_FAMILY_PREFIXES = ("gn", "ebmgn")
# Families Alibaba sells only after a sales ticket: treated as unavailable unless the user says otherwise.
SALES_TICKET_FAMILIES = frozenset({"ebmgn8v", "gn7s", "gn8is", "gn8v"})


def instance_family(instance_type: str) -> str:
    """ecs.gn7i-c8g1.2xlarge -> gn7i; ecs.ebmgn7e.32xlarge -> ebmgn7e."""
    match = re.fullmatch(r"ecs\.([a-z0-9]+)(?:-[a-z0-9]+)*\.[a-z0-9-]+", instance_type or "")
    if not match:
        raise ComponentInputError(
            "instance_type", f"{instance_type!r} is not an ECS instance type (ecs.<family>[-<spec>].<size>, "
            "e.g. ecs.gn7i-c8g1.2xlarge)"
        )
    return match.group(1)


def check_gpu_instance_type(instance_type: str, accelerator: str, *, allow_sales_ticket_types: bool = False) -> str:
    """The family of a GPU node pool's instance type, refusing what an ACK GPU pool cannot run on."""
    family = instance_family(instance_type)
    if not family.startswith(GPU_FAMILY_PREFIXES):
        raise ComponentInputError(
            "instance_type", f"{instance_type!r} is family {family!r}, not a GPU family; GPU node pools need "
            f"a family starting with {list(GPU_FAMILY_PREFIXES)} (e.g. {sorted(GPU_FAMILIES)[:4]}...)"
        )
    if family not in GPU_FAMILIES:
        raise ComponentInputError(
            "instance_type", f"{instance_type!r}: family {family!r} is not a known whole-GPU family; "
            f"valid: {sorted(GPU_FAMILIES)}"
        )
    if family in SALES_TICKET_FAMILIES and not allow_sales_ticket_types:
        raise ComponentInputError(
            "instance_type", f"{instance_type!r}: family {family!r} is sold only after a sales ticket; "
            f"set allow_sales_ticket_types true once the ticket is granted, or pick one of "
            f"{sorted(set(GPU_FAMILIES) - SALES_TICKET_FAMILIES)}"
        )
    offered = sorted(set(GPU_FAMILIES.values()))
    if accelerator not in offered:
        raise ComponentInputError(
            "accelerator", f"{accelerator!r} is not offered on Alibaba Cloud; valid: {offered}"
        )
    if GPU_FAMILIES[family] != accelerator:
        raise ComponentInputError(
            "accelerator", f"{accelerator!r} does not match instance_type {instance_type!r}, whose family "
            f"{family!r} carries {GPU_FAMILIES[family]!r}"
        )
    return family


def check_cluster_cidrs(pod_cidr: str, service_cidr: str, vpc_cidr: str | None) -> tuple[str, str]:
    """Flannel pod and service ranges: private, and apart from each other and from the VPC."""
    blocks = {"pod_cidr": pod_cidr, "service_cidr": service_cidr}
    networks = {}
    for key, cidr in blocks.items():
        try:
            networks[key] = ipaddress.ip_network(cidr, strict=True)
        except ValueError as exc:
            raise ComponentInputError(key, f"{cidr!r} is not a network address ({exc})") from exc
        if networks[key].version != 4 or not networks[key].is_private:
            raise ComponentInputError(key, f"{cidr!r} must be a private IPv4 range")
    if networks["pod_cidr"].overlaps(networks["service_cidr"]):
        raise ComponentInputError("pod_cidr", f"{pod_cidr!r} overlaps service_cidr {service_cidr!r}")
    if vpc_cidr:
        vpc = ipaddress.ip_network(vpc_cidr, strict=False)
        for key, network in networks.items():
            if network.overlaps(vpc):
                raise ComponentInputError(key, f"{blocks[key]!r} overlaps the VPC's {vpc_cidr}; pick a block outside it")
    return pod_cidr, service_cidr
