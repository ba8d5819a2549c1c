"""Pure GCP planning: accelerator names, labels, subnetwork ranges for GKE. No resources here."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from newinfra.components.planning.network import private_network
from newinfra.components.planning.tags import with_cost_tags

from newinfra.errors import ComponentInputError
from newinfra.facts import FamilyNameError, family_of

# Our normalised accelerator names (cost_model/catalog/names.py) -> GCP's acceleratorType.
GCP_ACCELERATOR_TYPES: dict[str, str] = {
    "A100": "nvidia-tesla-a100",
    "A100-80GB": "nvidia-a100-80gb",
    "B200": "nvidia-b200",
    "H100": "nvidia-h100-80gb",
    "H200": "nvidia-h200-141gb",
    "L4": "nvidia-l4",
    "P100": "nvidia-tesla-p100",
    "P4": "nvidia-tesla-p4",
    "T4": "nvidia-tesla-t4",
    "V100": "nvidia-tesla-v100",
}
# Machine families whose GPUs GCP names differently from the chip alone (a3-mega: H100 with GPUDirect-TCPXO).
GCP_ACCELERATOR_BY_FAMILY: dict[str, str] = {
    "a3-megagpu": "nvidia-h100-mega-80gb",
}
GPU_DRIVER_VERSIONS = ("DEFAULT", "LATEST", "INSTALLATION_DISABLED")

# Kubernetes taint effects -> GKE's enum.
GKE_TAINT_EFFECTS: dict[str, str] = {
    "NoSchedule": "NO_SCHEDULE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
}

# Identity-Aware Proxy's TCP forwarding range: the only source allowed to reach SSH.
IAP_RANGE = "35.235.240.0/20"




def gcp_accelerator_type(accelerator: str, machine_type: str = "") -> str:
    """GCP's acceleratorType for a normalised name (GCP's own names pass through)."""
    try:
        family = family_of("gcp", machine_type) if machine_type else None
    except FamilyNameError:
        family = None
    by_family = GCP_ACCELERATOR_BY_FAMILY.get(family) if family else None
    if by_family:
        return by_family
    if accelerator in GCP_ACCELERATOR_TYPES:
        return GCP_ACCELERATOR_TYPES[accelerator]
    if accelerator in GCP_ACCELERATOR_TYPES.values() or accelerator in GCP_ACCELERATOR_BY_FAMILY.values():
        return accelerator
    raise ComponentInputError(
        "accelerator", f"{accelerator!r} is not offered on GCP; valid: {sorted(GCP_ACCELERATOR_TYPES)}"
    )


def gke_taint_effect(effect: str) -> str:
    if effect not in GKE_TAINT_EFFECTS:
        raise ComponentInputError("taints[].effect", f"{effect!r} is not valid; valid: {sorted(GKE_TAINT_EFFECTS)}")
    return GKE_TAINT_EFFECTS[effect]


def gcp_labels(tags: dict[str, str], classification: str | None = None) -> dict[str, str]:
    """GCP labels from our tags: lowercase, [a-z0-9_-], <= 63 characters, keys start with a letter."""
    labels: dict[str, str] = {}
    for key, value in with_cost_tags(tags, classification).items():
        clean_key = _label_part(key)
        if not clean_key or not clean_key[0].isalpha():
            raise ComponentInputError("tags", f"key {key!r} cannot be a GCP label key (must start with a letter)")
        labels[clean_key] = _label_part(value)
    return labels


def gcp_label(key: str, value: str) -> dict[str, str]:
    """One tag as the GCP label ``gcp_labels`` gives it (what a budget filter on that label must name)."""
    return {_label_part(key): _label_part(value)}


def _label_part(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", str(text).lower())[:63]


@dataclass(frozen=True)
class SubnetworkPlan:
    region: str
    nodes: str  # primary range
    pods: str  # secondary range "pods"
    services: str  # secondary range "services"
    proxy_only: str | None = None  # the region's proxy-only subnet, where an internal L7 load balancer serves


# Google's recommended size for a proxy-only subnet (an Envoy proxy per address; /26 is the least it takes).
PROXY_ONLY_PREFIX = 23


def plan_subnetworks(cidr: str, regions: list[str], proxy_regions: list[str] | tuple[str, ...] = ()
                     ) -> list[SubnetworkPlan]:
    """One subnetwork per region with GKE's secondary ranges.

    The block is split evenly over the sorted regions; each region's share is halved: the first half
    for pods (a /24 per node by default, so they need the most), the third quarter for nodes, the last
    for services. A region in ``proxy_regions`` (it serves through an internal Gateway, gke-l7-rilb, which
    runs its Envoy proxies in a REGIONAL_MANAGED_PROXY subnet) gives the second half of its services quarter
    to that subnet, at most a /23; the services range keeps the first half.
    """
    network = private_network(cidr)
    if not regions:
        raise ComponentInputError("regions", "at least one region is needed")
    ordered = sorted(set(regions))
    region_prefix = network.prefixlen + max(0, (len(ordered) - 1).bit_length())
    if region_prefix + 2 > 22:
        raise ComponentInputError(
            "cidr", f"{cidr!r} is too small for {len(ordered)} region(s) with GKE pod ranges; "
            f"use a /{max(8, 20 - region_prefix + network.prefixlen)} or larger"
        )
    unknown = sorted(set(proxy_regions) - set(ordered))
    if unknown:
        raise ComponentInputError("proxy_only_regions", f"{unknown} are not among the network's regions {ordered}")
    plans = []
    for region, block in zip(ordered, network.subnets(new_prefix=region_prefix), strict=False):
        pods, rest = block.subnets(prefixlen_diff=1)
        nodes, services = rest.subnets(prefixlen_diff=1)
        proxy = None
        if region in proxy_regions:
            services, spare = services.subnets(prefixlen_diff=1)
            proxy = str(next(spare.subnets(new_prefix=max(spare.prefixlen, PROXY_ONLY_PREFIX))))
        plans.append(SubnetworkPlan(region, str(nodes), str(pods), str(services), proxy))
    return plans


def private_block(cidr: str, prefix: int, key: str, outside: str) -> str:
    """A private IPv4 block of an exact size outside the network's range (GKE's control plane: a /28)."""
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise ComponentInputError(key, f"{cidr!r} is not a network address ({exc})") from exc
    if network.version != 4 or not network.is_private or network.prefixlen != prefix:
        raise ComponentInputError(key, f"{cidr!r} must be a private IPv4 /{prefix}")
    if network.overlaps(ipaddress.ip_network(outside)):
        raise ComponentInputError(key, f"{cidr!r} overlaps the network's range {outside}; pick a block outside it")
    return str(network)
