"""Pure Alibaba Cloud planning: which ECS GPU families a node pool may use."""

from __future__ import annotations

import ipaddress

from newinfra.errors import ComponentInputError, from_keyed
from newinfra.facts import FAMILIES, FamilyNameError, family_of

# Whole-GPU ECS families (gn*: virtualised, ebmgn*: bare metal) -> our normalised accelerator name, and the
# families sold only after a sales ticket: both derived from the one family table, newinfra/facts.py.
GPU_FAMILIES: dict[str, str] = {
    family: facts.accelerator for (cloud, family), facts in sorted(FAMILIES.items())
    if cloud == "alicloud" and facts.accelerator
}
GPU_FAMILY_PREFIXES = ("gn", "ebmgn")
SALES_TICKET_FAMILIES = frozenset(f for (c, f), v in FAMILIES.items() if c == "alicloud" and v.sales_ticket)


def instance_family(instance_type: str) -> str:
    """ecs.gn7i-c8g1.2xlarge -> gn7i; ecs.ebmgn7e.32xlarge -> ebmgn7e (newinfra/facts.py ``family_of``)."""
    try:
        return family_of("alicloud", instance_type)
    except FamilyNameError as exc:
        raise from_keyed(exc) from None


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
