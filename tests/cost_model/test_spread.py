"""Serving spread: an inference workload in a production profile is placed over two zones of one region, at
the dearer zone's price, with a NAT gateway in each (cost_model/spread.py); checked against brute force over
every pair of zones. Other workloads and profiles keep one zone."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from newinfra.cost_model.exclusions import parse_exclusions
from newinfra.cost_model.lock import still_valid
from newinfra.cost_model.model import Infeasible, solve
from newinfra.cost_model.request import PlacementRequest
from newinfra.cost_model.spread import spread_offers

HOURS = 730.0
# EKS control plane $0.10/h and, per zone under production, a NAT gateway $0.045/h with its IP $0.005/h
# (cost_model/pricebook/data/services.csv; test_open_costs.py prices the same).
TWO_ZONE_REGION_USD = round(HOURS * (0.10 + 2 * (0.045 + 0.005)), 2)


def _request(profile="production", kind="inference", spot=False, **extra) -> PlacementRequest:
    w = {"name": "serve", "kind": kind, "accelerator": "L4", "count": 2, "perNode": 1, "spot": spot, **extra}
    if spot:
        w["maxSpotShare"] = 0.5
    return PlacementRequest.model_validate({"workloads": [w], "allowedClouds": ["aws"], "profile": profile})


def test_the_cheapest_pair_of_zones_priced_at_its_dearer_zone(catalog_of, l4):
    cat = catalog_of([l4("aws", "us-east-1", z, "g6.xlarge", usd, None)
                      for z, usd in (("use1-az1", 1.00), ("use1-az2", 0.90), ("use1-az4", 0.95))])
    (plan,) = solve(_request(), cat).plans
    (p,) = plan.placements
    assert p.zones == ("use1-az2", "use1-az4") and p.node_hourly_usd == 0.95 and p.nodes == 2


def test_outside_production_or_for_training_one_zone_as_before(catalog_of, l4):
    cat = catalog_of([l4("aws", "us-east-1", z, "g6.xlarge", usd, None)
                      for z, usd in (("use1-az1", 1.00), ("use1-az2", 0.90))])
    for request in (_request("development"), _request(kind="training"), _request(None)):
        (plan,) = solve(request, cat).plans
        assert plan.placements[0].zones == ("use1-az2",)


@pytest.mark.parametrize("seed", range(25))
def test_matches_brute_force_over_every_pair_of_zones(catalog_of, l4, seed):
    rng = random.Random(seed)
    zones = {"us-east-1": ("use1-az1", "use1-az2", "use1-az4"), "us-east-2": ("use2-az1", "use2-az2", "use2-az3")}
    offers, price = [], {}
    for region, names in zones.items():
        for z in rng.sample(names, rng.randint(1, 3)):  # some regions offer the type in one zone only
            od = round(rng.uniform(0.5, 1.5), 3)
            spot = round(rng.uniform(0.1, od), 3)  # the catalog never sells spot above on-demand
            offers.append(l4("aws", region, z, "g6.xlarge", od, spot))
            price[(region, z)] = (od, spot)
    spot = bool(seed % 2)
    pairs = [(r, a, b) for r in zones for a, b in itertools.combinations(sorted(z for rr, z in price if rr == r), 2)]
    if not pairs:
        with pytest.raises(Infeasible, match="no region it may use offers L4"):
            solve(_request(spot=spot), catalog_of(offers))
        return
    def nodes_usd(r, a, b):
        od = max(price[(r, a)][0], price[(r, b)][0])
        sp = max(price[(r, a)][1], price[(r, b)][1])
        return HOURS * (od + (min(od, sp) if spot else od))
    best = min(nodes_usd(*pair) for pair in pairs)
    sol = solve(_request(spot=spot), catalog_of(offers))
    assert math.isclose(sol.monthly_usd - sol.open_usd, best, abs_tol=0.01)
    assert sol.open_usd == TWO_ZONE_REGION_USD
    (plan,) = sol.plans
    assert {len(p.zones) for p in plan.placements} == {2}
    assert len({p.zones for p in plan.placements}) == 1  # both markets in the same two zones


def test_a_single_zone_region_is_infeasible_with_the_reason(catalog_of, l4):
    cat = catalog_of([l4("aws", "us-east-1", "use1-az1", "g6.xlarge", 1.0, None)])
    with pytest.raises(Infeasible, match="runs in at least 2 zones of one region"):
        solve(_request(), cat)


def test_an_excluded_zone_takes_its_pairs_with_it(catalog_of, l4):
    cat = catalog_of([l4("aws", "us-east-1", z, "g6.xlarge", usd, None)
                      for z, usd in (("use1-az1", 1.00), ("use1-az2", 0.90), ("use1-az4", 0.95))])
    (plan,) = solve(_request(), cat, exclusions=parse_exclusions(["aws/us-east-1/use1-az2"])).plans
    assert plan.placements[0].zones == ("use1-az1", "use1-az4")


def test_region_level_offers_are_every_pair_at_the_dearer_price(l4):
    offers = [l4("aws", "us-east-1", z, "g6.xlarge", usd, spot)
              for z, usd, spot in (("use1-az1", 1.0, 0.3), ("use1-az2", 0.9, None), ("use1-az4", 0.8, 0.4))]
    got = {(o.zone, o.on_demand_usd, o.spot_usd) for o in spread_offers(offers)}
    assert got == {("use1-az1+use1-az2", 1.0, None), ("use1-az1+use1-az4", 1.0, 0.4),
                   ("use1-az2+use1-az4", 0.9, None)}


def test_a_locked_single_zone_pool_of_a_production_inference_workload_is_moved(catalog_of, l4):
    cat = catalog_of([l4("aws", "us-east-1", z, "g6.xlarge", 1.0, None) for z in ("use1-az1", "use1-az2")])
    request = _request()
    (plan,) = solve(_request("development"), cat).plans
    assert still_valid(request.workloads[0], plan.placements, request, cat, ()) is None
    (spread,) = solve(request, cat).plans
    assert still_valid(request.workloads[0], spread.placements, request, cat, ()) is not None
