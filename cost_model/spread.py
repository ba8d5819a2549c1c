"""Serving spread over zones: a production inference workload runs in a region, over at least two zones.

The cost model keeps its one-zone-per-workload shape (and its exactness) by giving a spread workload
*region-level offers* instead of zonal ones: one per instance type and pair of zones of a region that both
offer it, in the pseudo-zone ``"<zone a>+<zone b>"``, priced at the dearer of the two zones in each market (the
node group's autoscaler puts nodes in either zone, so the dearer price is what the plan must hold).

Why pairs are exact for "at least two zones": a pool over zones Z costs, per node, the dearest price in Z, and
any Z with three or more zones contains a pair whose dearest price is no higher, whose NAT gateways are a
subset, and that still meets the two-zone rule; so some optimal plan uses a pair, and the solver sees every
pair. The pruning rules of candidates.py apply unchanged: a pseudo-zone is just another zone key.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from itertools import combinations

from newinfra.cost_model.catalog.schema import Offer

SEP = "+"
SPREAD_ZONES = 2


def spreads(workload, profile: str | None) -> bool:
    """Whether a workload must be spread over zones: inference in a production profile."""
    return profile == "production" and workload.kind == "inference"


def spread_ok(zones: tuple[str, ...]) -> bool:
    """Whether a pool's zones meet the spread rule: two or more, or none named (an offer whose source lists no
    zone: the pool spans the zones the program gives the region, two or more for Alibaba's networks)."""
    return len(zones) >= SPREAD_ZONES or zones == ("",)


def zone_key(zones: Iterable[str]) -> str:
    """The catalog zone (or pseudo-zone) of a pool's zones: ``use1-az1`` or ``use1-az1+use1-az2``."""
    return SEP.join(sorted(zones))


def zones_of(zone: str) -> tuple[str, ...]:
    return tuple(zone.split(SEP))


def combine(members: list[Offer]) -> Offer:
    """One region-level offer over the members' zones, at the dearest zone's price in each market (None in a
    market where any member has none)."""
    od = [m.on_demand_usd for m in members]
    spot = [m.spot_usd for m in members]
    return dataclasses.replace(
        members[0], zone=zone_key(m.zone for m in members),
        on_demand_usd=None if None in od else max(od),  # type: ignore[type-var]
        spot_usd=None if None in spot else max(spot))  # type: ignore[type-var]


def spread_offers(offers: Iterable[Offer]) -> list[Offer]:
    """Every region-level offer: per (cloud, region, instance type, shape), each pair of its zones."""
    groups: dict[tuple, list[Offer]] = defaultdict(list)
    for o in offers:
        if o.zone and SEP not in o.zone:  # an offer without a zone (some Alibaba rows) cannot be spread
            groups[(o.cloud, o.region, o.instance_type, o.accelerator, o.accelerators_per_node)].append(o)
    out = []
    for _, members in sorted(groups.items()):
        by_zone = {m.zone: m for m in sorted(members)}
        for pair in combinations(sorted(by_zone), SPREAD_ZONES):
            out.append(combine([by_zone[z] for z in pair]))
    return sorted(out)


def find_offer(offers: Iterable[Offer], cloud: str, region: str, zones: tuple[str, ...], instance_type: str,
               accelerators_per_node: int, accelerator: str | None = None) -> Offer | None:
    """The offer a placement stands for: the zonal offer for one zone, the combined one for several (None when
    any of its zones lacks the type)."""
    found = {o.zone: o for o in offers
             if (o.cloud, o.region, o.instance_type, o.accelerators_per_node) ==
             (cloud, region, instance_type, accelerators_per_node)
             and (accelerator is None or o.accelerator == accelerator) and o.zone in zones}
    if set(found) != set(zones):
        return None
    return found[zones[0]] if len(zones) == 1 else combine([found[z] for z in sorted(zones)])
