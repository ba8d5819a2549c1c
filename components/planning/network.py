"""Pure network planning: which zones, which CIDR blocks. No resources here; tested on its own."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from newinfra.errors import ComponentInputError


@dataclass(frozen=True)
class SubnetPlan:
    zone: str
    tier: str  # "private" (nodes) or "public" (NAT only)
    cidr: str


def choose_zones(available: list[str], wanted: list[str], minimum: int = 2, key: str = "zones") -> list[str]:
    """Zones for a network: the placements' zones first, topped up from the region's list to ``minimum``.

    Keeps the region's order so the result does not depend on the order placements came in.
    """
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        raise ComponentInputError(key, f"{unknown} are not in the region; available: {available}")
    if len(available) < minimum:
        raise ComponentInputError(key, f"the region has {len(available)} zones; a network needs at least {minimum}")
    chosen = [z for z in available if z in set(wanted)]
    for zone in available:
        if len(chosen) >= minimum:
            break
        if zone not in chosen:
            chosen.append(zone)
    return [z for z in available if z in set(chosen)]


def private_network(cidr: str, key: str = "cidr") -> ipaddress.IPv4Network:
    """A private IPv4 block, or a ComponentInputError naming the argument."""
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise ComponentInputError(key, f"{cidr!r} is not a network address ({exc})") from exc
    if network.version != 4 or not network.is_private:
        raise ComponentInputError(key, f"{cidr!r} must be a private IPv4 range (10/8, 172.16/12, 192.168/16)")
    return network


def split_cidr(cidr: str, zones: list[str], tiers: tuple[str, ...] = ("private", "public"),
               public_prefix_extra: int = 4) -> list[SubnetPlan]:
    """Carve one block per (zone, tier): large private subnets for nodes (pods get VPC IPs on EKS),
    small public ones that hold only NAT gateways.

    The VPC is halved per tier-kind: the first half is split evenly over zones for private subnets; public
    subnets are ``public_prefix_extra`` bits smaller and taken from the second half.
    """
    network = private_network(cidr)
    if not zones:
        raise ComponentInputError("zones", "at least one zone is needed")
    zone_bits = max(1, (len(zones) - 1).bit_length())
    halves = list(network.subnets(prefixlen_diff=1))
    private_prefix = halves[0].prefixlen + zone_bits
    public_prefix = private_prefix + public_prefix_extra
    if public_prefix > 28:
        raise ComponentInputError(
            "cidr", f"{cidr!r} is too small for {len(zones)} zones; use a "
            f"/{max(8, network.prefixlen - (public_prefix - 28))} or larger"
        )
    private_blocks = list(halves[0].subnets(new_prefix=private_prefix))
    public_blocks = list(halves[1].subnets(new_prefix=public_prefix))
    plans: list[SubnetPlan] = []
    for i, zone in enumerate(zones):
        if "private" in tiers:
            plans.append(SubnetPlan(zone, "private", str(private_blocks[i])))
        if "public" in tiers:
            plans.append(SubnetPlan(zone, "public", str(public_blocks[i])))
    return plans


def nat_gateway_zones(zones: list[str], per_zone: bool) -> list[str]:
    """One NAT per zone (prod: a zone outage does not cut the others off) or one for all (cheaper)."""
    return list(zones) if per_zone else list(zones[:1])


def allocate_cidrs(supernet: str, keys: list[str], prefix: int = 16) -> dict[str, str]:
    """One non-overlapping block per key (sorted), so networks in several regions can be peered later."""
    try:
        network = ipaddress.ip_network(supernet, strict=True)
    except ValueError as exc:
        raise ComponentInputError("networkSupernet", f"{supernet!r} is not a network address ({exc})") from exc
    if prefix < network.prefixlen:
        raise ComponentInputError("networkSupernet", f"{supernet!r} is smaller than one /{prefix} network")
    blocks = network.subnets(new_prefix=prefix)
    ordered = sorted(set(keys))
    capacity = 2 ** (prefix - network.prefixlen)
    if len(ordered) > capacity:
        raise ComponentInputError("networkSupernet", f"{supernet!r} holds {capacity} /{prefix} networks; "
                                  f"{len(ordered)} are needed")
    return {key: str(next(blocks)) for key in ordered}
