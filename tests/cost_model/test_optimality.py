"""The MILP (with its pruning) against brute force: on random small requests both find the same cost (host
floors, Local Zones and opt-in regions included), region charges (control plane, NAT per the profile) paid once
per region or zone included, any-of accelerators (L4 or L40S at a relative speed: hours or count scale) and
spot with an interruption penalty (restart overhead per family) included, and a single workload never costs
more than the cheapest feasible single offer."""

from __future__ import annotations

import itertools
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from newinfra.cost_model.candidates import CandidateBuilder
from newinfra.cost_model.catalog.opt_in import allowed
from newinfra.cost_model.catalog.quota import quota_family, quota_units
from newinfra.cost_model.explain import single_offer_costs
from newinfra.cost_model.hosts import floor_for, meets_floor
from newinfra.cost_model.model import Infeasible, offer_index, solve
from newinfra.cost_model.open_costs import OpenCosts
from newinfra.cost_model.request import PlacementRequest

# (cloud, instance type) -> accelerators per node, as in the conftest's L4 offers
L4_SHAPES = {("aws", "g6.xlarge"): 1, ("aws", "g6.12xlarge"): 4, ("aws", "g6.48xlarge"): 8,
             ("gcp", "g2-standard-4"): 1, ("gcp", "g2-standard-24"): 2, ("gcp", "g2-standard-48"): 4}
ZONES = [("aws", "us-east-1", "use1-az1"), ("aws", "us-east-1", "use1-az2"), ("aws", "eu-west-1", "euw1-az1"),
         ("gcp", "us-central1", "us-central1-a"),
         ("aws", "us-east-1", "use1-atl2-az1"), ("aws", "me-south-1", "mes1-az1")]  # a Local Zone, an opt-in region
PRICE = st.sampled_from([0.5, 0.8, 1.0, 1.3, 2.0, 3.1, 4.0, 6.5])
# A second accelerator for any-of sets: real g6e (L40S) shapes on AWS, (accelerators per node, vCPUs)
L40S_SHAPES = {"g6e.xlarge": (1, 4), "g6e.12xlarge": (4, 48)}
# Spot interruption penalties drawn: (interruptionsPerDay per family, restartHours); the family of each offer
# is written out here (g6.* -> g6, g6e.* -> g6e, g2-standard-* -> g2-standard), not taken from the product
PENALTIES = [None, ({"g6": 1.2}, 2.0), ({"*": 0.5, "g6e": 2.0}, 3.0), ({"g2-standard": 4.0}, 6.0)]
TEST_FAMILY = {"g6": "g6", "g6e": "g6e", "g2": "g2-standard"}


def l40s_offer(region, zone, itype, od, spot):
    from newinfra.cost_model.catalog.schema import Offer

    apn, vcpus = L40S_SHAPES[itype]
    return Offer("aws", region, zone, itype, "L40S", apn, 44.7, float(vcpus), 8.0 * vcpus, False, False, None,
                 od, spot, "aws", "2025-06-01")


def spot_factor(req: PlacementRequest, offer) -> float:
    spot = req.markets.spot
    family = TEST_FAMILY[offer.instance_type.split(".")[0].split("-")[0]]
    rate = spot.interruptions_per_day.get(family, spot.interruptions_per_day.get("*", 0.0))
    return 1.0 + rate / 24.0 * spot.restart_hours


@st.composite
def offers(draw, l4_offer):
    out = []
    for cloud, region, zone in draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True)):
        types = [t for (c, t) in L4_SHAPES if c == cloud]
        for t in draw(st.lists(st.sampled_from(types), min_size=1, max_size=2, unique=True)):
            apn = L4_SHAPES[(cloud, t)]
            od = draw(PRICE) * apn
            spot = draw(st.one_of(st.none(), st.sampled_from([0.3, 0.5, 0.9]))) 
            out.append(l4_offer(cloud, region, zone, t, od, None if spot is None else round(od * spot, 4)))
        if cloud == "aws" and draw(st.booleans()):  # L40S beside the L4 now and then
            for t in draw(st.lists(st.sampled_from(sorted(L40S_SHAPES)), min_size=1, max_size=2, unique=True)):
                od = draw(PRICE) * 1.5 * L40S_SHAPES[t][0]
                spot = draw(st.one_of(st.none(), st.sampled_from([0.3, 0.5, 0.9])))
                out.append(l40s_offer(region, zone, t, od, None if spot is None else round(od * spot, 4)))
    return out


@st.composite
def requests(draw):
    n = draw(st.integers(1, 2))
    workloads = []
    for i in range(n):
        count = draw(st.integers(1, 4))
        per_node = draw(st.sampled_from([None] + [d for d in (1, 2, 4) if count % d == 0]))
        spot = draw(st.booleans())
        share = draw(st.sampled_from([None, 0.5])) if spot else None
        kind = draw(st.sampled_from(["batch", "batch", "inference"]))
        w = {"name": f"w{i}", "kind": kind, "accelerator": "L4", "count": count, "spot": spot,
             "hoursPerMonth": draw(st.sampled_from([100, 730]))}
        if draw(st.booleans()):  # any-of: L4 and L40S at relative speeds (hours past 744 grow the count)
            del w["accelerator"]
            w["accelerators"] = draw(st.sampled_from([{"L4": 1.0, "L40S": 2.5}, {"L4": 0.4, "L40S": 1.0},
                                                      {"L4": 1.0, "L40S": 0.9}, {"L40S": 0.7}]))
        if per_node:
            w["perNode"] = per_node
        if share is not None:
            w["maxSpotShare"] = share
        if draw(st.integers(0, 3)) == 0:  # a node range now and then
            lo = draw(st.integers(0, 3))
            w["nodes"] = {"min": lo, "max": lo + draw(st.integers(0, 2)) or 1}
        if draw(st.booleans()):
            w["dataset"] = "d"
        if draw(st.integers(0, 3)) == 0:  # a VM workload needs no control plane, only the network
            w["runsOn"] = "vm"
        if draw(st.integers(0, 2)) == 0:  # a host floor of its own (L4 hosts here: 4, 12 or 24 vCPUs per GPU)
            w["cpusPerAccelerator"] = draw(st.sampled_from([2, 8, 13]))
            w["memoryGbPerAccelerator"] = draw(st.sampled_from([16, 100, 250]))
        workloads.append(w)
    quotas = []
    if draw(st.booleans()):
        quotas.append({"cloud": "aws", "region": "us-east-1", "family": "G",
                       "market": draw(st.sampled_from(["on-demand", "spot", "any"])),
                       "limit": draw(st.sampled_from([4, 8, 12, 48]))})
    if draw(st.booleans()):
        quotas.append({"cloud": "gcp", "region": "us-central1", "family": "L4", "limit": draw(st.integers(1, 4))})
    req = {"workloads": workloads, "quotas": quotas,
           "datasets": [{"name": "d", "sizeGb": 100, "classification": "internal", "homeCloud": "aws",
                         "homeRegion": "eu-west-1", "monthlyReadGb": draw(st.sampled_from([0, 1000, 20000]))}]}
    if draw(st.booleans()):
        req["dataResidency"] = {"internal": draw(st.sampled_from([["us-*"], ["eu-*", "us-east-1"], ["*"]]))}
    market = draw(st.sampled_from([None, "reserved", "capacity-block", "flex-start"]))
    if market == "reserved":  # capacity the user owns in us-east-1 (one zone or the region)
        req["reservations"] = [{"cloud": "aws", "region": "us-east-1", "zone": draw(st.sampled_from([None, "use1-az1"])),
                                "instanceType": draw(st.sampled_from(["g6.xlarge", "g6.12xlarge", "g6e.xlarge"])),
                                "count": draw(st.integers(1, 2))}]
    elif market == "capacity-block":
        req["capacityBlocks"] = [{"region": "us-east-1",
                                  "instanceType": draw(st.sampled_from(["g6.12xlarge", "g6e.12xlarge", "g6.xlarge", "g6.xlarge"])),
                                  "count": draw(st.integers(1, 2)), "hourlyPriceUsd": draw(st.sampled_from([0.3, 2.0])),
                                  "durationHours": draw(st.sampled_from([150, 744])), "start": "2026-12-01T11:30Z"}]
    elif market == "flex-start":
        req["markets"] = {"flexStart": {"priceFactor": draw(st.sampled_from([0.5, 0.9])),
                                        "maxRunHours": draw(st.sampled_from([168, 744])),
                                        "startDelayHours": draw(st.sampled_from([0, 6]))}}
        for w in workloads:
            if draw(st.booleans()):
                w["maxStartDelayHours"] = draw(st.sampled_from([1, 24]))
    penalty = draw(st.sampled_from(PENALTIES))
    if penalty is not None:
        req.setdefault("markets", {})["spot"] = {"interruptionsPerDay": penalty[0], "restartHours": penalty[1]}
    req["allowLocalZones"] = draw(st.booleans())
    req["optInRegions"] = draw(st.sampled_from([[], ["me-south-1"]]))
    profile = draw(st.sampled_from([None, "development", "production"]))
    if profile is not None:
        req["profile"] = profile
    if profile == "production":
        # production serving spreads over two zones (cost_model/spread.py): its own brute force over zone pairs
        # is tests/cost_model/test_spread.py; this enumeration is zonal, so its inference stays out of production
        for w in req["workloads"]:
            if w["kind"] == "inference":
                w["kind"] = "batch"
    return PlacementRequest.model_validate(req)


def charges_of(req: PlacementRequest, combo) -> float:
    """Each region charge the chosen configurations need, paid once (priced by the solver's OpenCosts)."""
    costs = OpenCosts(req)
    keys = {}
    for w, (_, pools) in zip(req.workloads, combo, strict=True):
        if pools:
            o = pools[0][0]
            keys.update({ch.key: ch.monthly_usd for ch in costs.charges(w, o.cloud, o.region, o.zone)})
    return sum(keys.values())


def variant(w, speed: float):
    """The test's own reading of the any-of rules: training and batch run hours / speed, capped at 744 with the
    count grown instead; inference serves ceil(count / speed); both rounded up to whole perNode nodes."""
    count, hours = w.count, w.hours_per_month
    if w.kind == "inference":
        count = math.ceil(count / speed - 1e-9)
    elif hours / speed <= 744:
        hours = hours / speed
    else:
        count, hours = math.ceil(count * hours / (speed * 744) - 1e-9), 744.0
    if w.per_node:
        count = -(-count // w.per_node) * w.per_node
    return w.model_copy(update={"count": count, "hours_per_month": hours})


def workload_configs(req: PlacementRequest, w, catalog):
    """Every configuration of one workload: an accelerator it accepts, a zone, at most one offer per market,
    node counts; of those alike in zone and in every shared limit they use, only the cheapest (exact: the
    others can only do worse in every combination)."""
    if w.accelerators is None:
        configs = accelerator_configs(req, w, catalog, "L4")
    else:
        configs = [c for name, speed in w.accelerators.items()
                   for c in accelerator_configs(req, variant(w, speed), catalog, name)]
    best: dict = {}
    for cost, pools in configs:
        o = pools[0][0]
        key = ((o.cloud, o.region, o.zone), usage(req, pools))
        if key not in best or cost < best[key][0]:
            best[key] = (cost, pools)
    return sorted(best.values(), key=lambda c: c[0])


def usage(req: PlacementRequest, pools) -> tuple[float, ...]:
    """What a configuration takes of each quota, reservation and Capacity Block (in their units)."""
    use = [0.0] * (len(req.quotas) + len(req.reservations) + len(req.capacity_blocks))
    for o, m, n in pools:
        for qi, q in enumerate(req.quotas):
            if m in ("on-demand", "spot") and (q.cloud, q.region, q.family) == (o.cloud, o.region, quota_family(o, m)) \
                    and q.market in ("any", m):
                use[qi] += n * quota_units(o)
        for ri, r in enumerate(req.reservations):
            if m == "reserved" and (r.cloud, r.region, r.instance_type) == (o.cloud, o.region, o.instance_type) and \
                    r.zone in (None, o.zone):
                use[len(req.quotas) + ri] += n
        for bi, b in enumerate(req.capacity_blocks):
            if m == "capacity-block" and (b.region, b.instance_type) == (o.region, o.instance_type):
                use[len(req.quotas) + len(req.reservations) + bi] += n
    return tuple(use)


def limits(req: PlacementRequest) -> list[float]:
    return [q.limit for q in req.quotas] + [r.count for r in req.reservations] + \
        [b.count for b in req.capacity_blocks]


def market_choices(req: PlacementRequest, w, here, cap):
    """Per market: the offers of the zone w may use in it, with the monthly cost of one node."""
    h = w.hours_per_month
    fs = req.markets.flex_start
    out = {"on-demand": [(o, h * o.on_demand_usd) for o in here if o.on_demand_usd is not None],
           "spot": [(o, h * o.spot_usd * spot_factor(req, o)) for o in here if o.spot_usd is not None] if cap > 0
           else [],
           "reserved": [(o, 0.0) for o in here for r in req.reservations[:1]
                        if (r.cloud, r.region, r.instance_type) == (o.cloud, o.region, o.instance_type)
                        and r.zone in (None, o.zone)],
           "capacity-block": [(o, b.hourly_price_usd * b.duration_hours) for o in here for b in req.capacity_blocks[:1]
                              if o.cloud == "aws" and (b.region, b.instance_type) == (o.region, o.instance_type)
                              and h <= b.duration_hours],
           "flex-start": [(o, h * o.on_demand_usd * fs.price_factor) for o in here
                          if fs.price_factor is not None and o.cloud == "gcp" and o.on_demand_usd is not None
                          and h <= fs.max_run_hours and (w.max_start_delay_hours is None or
                                                         fs.start_delay_hours <= w.max_start_delay_hours)]}
    return {m: c for m, c in out.items() if c}


def accelerator_configs(req: PlacementRequest, w, catalog, accel: str):
    cap = w.spot_share_cap
    ds = req.dataset(w.dataset)
    out = []
    floor = floor_for(w, accel)  # the same rules, applied offer by offer
    offers_ = [o for o in catalog.offers if o.accelerator == accel and req.region_allowed(w, o.region)
               and meets_floor(o, floor)
               and allowed(o.cloud, o.region, o.zone, req.allow_local_zones, req.opt_in_regions)]
    most = max(w.count, w.nodes.min if w.nodes else 0)  # nodes one pool can need
    for zone in sorted({(o.cloud, o.region, o.zone) for o in offers_}):
        here = [o for o in offers_ if (o.cloud, o.region, o.zone) == zone]
        egress = catalog.egress_usd_per_gb(ds.home_cloud, ds.home_region, zone[0], zone[1]) * ds.read_gb \
            if ds else 0.0
        markets = market_choices(req, w, here, cap)
        names = sorted(markets)
        for picks in itertools.product(*[[None, *markets[m]] for m in names]):
            used = [(m, pick) for m, pick in zip(names, picks, strict=True) if pick is not None]
            if not used:
                continue
            for counts in itertools.product(range(1, most + 1), repeat=len(used)):
                total = sum(counts)
                spot = sum(n for (m, _), n in zip(used, counts, strict=True) if m == "spot")
                if spot > cap * total + 1e-9:
                    continue
                if w.nodes is not None and not w.nodes.min <= total <= w.nodes.max:
                    continue
                pools = [(o, m, n) for (m, (o, _)), n in zip(used, counts, strict=True)]
                if w.per_node:
                    if any(o.accelerators_per_node != w.per_node for o, _, _ in pools) or \
                            total != w.count // w.per_node:
                        continue
                elif sum(o.accelerators_per_node * n for o, _, n in pools) < w.count:
                    continue
                cost = egress + sum(n * node for (_, (_, node)), n in zip(used, counts, strict=True))
                out.append((cost, pools))
    return out


def brute_force(req: PlacementRequest, catalog) -> float:
    per = [workload_configs(req, w, catalog) for w in req.workloads]
    best = math.inf
    top = limits(req)
    for combo in itertools.product(*per):
        cost = sum(c for c, _ in combo) + charges_of(req, combo)
        if cost >= best:
            continue
        use = [sum(u) for u in zip(*(usage(req, pools) for _, pools in combo), strict=True)] if top else []
        if all(u <= t + 1e-9 for u, t in zip(use, top, strict=True)):
            best = cost
    return best


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), req=requests())
def test_milp_cost_equals_exhaustive_enumeration(catalog_of, l4, data, req):
    catalog = catalog_of(data.draw(offers(l4)))
    expected = brute_force(req, catalog)
    try:
        got = solve(req, catalog, diagnose=False)
    except Infeasible:
        assert expected == math.inf
        return
    # every workload served (left-out only happens when the all-served problem is infeasible)
    if got.left_out:
        assert expected == math.inf
        return
    assert math.isclose(got.workloads_usd + sum(ch.monthly_usd for ch in got.opened), expected, rel_tol=1e-6,
                        abs_tol=0.02)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["H100", "A100", "L4", "T4", "A10G", "L40S", "V100", "tpu-v5litepod", "A100-80GB"]),
       st.sampled_from([1, 2, 4, 8, 16]), st.booleans(), st.sampled_from([None, 1, 2, 4, 8]),
       st.sampled_from([("aws",), ("gcp",), ("aws", "gcp", "alicloud")]))
def test_never_pricier_than_the_cheapest_feasible_single_offer(full_catalog, accel, count, spot, per_node, clouds):
    if per_node is not None and count % per_node:
        per_node = None
    w = {"name": "w", "kind": "training", "accelerator": accel, "count": count, "spot": spot}
    if per_node:
        w["perNode"] = per_node
    req = PlacementRequest.model_validate({"workloads": [w], "allowedClouds": list(clouds)})
    builder = CandidateBuilder(offer_index(full_catalog), req)
    rows, costs = single_offer_costs(builder, req.workloads[0], full_catalog.normalise_accelerator(accel))
    single = float(costs.min()) if len(costs) else math.inf
    try:
        got = solve(req, full_catalog).monthly_usd
    except Infeasible:
        assert single == math.inf
        return
    assert got <= single + 0.01


def brute_force_priorities(req: PlacementRequest, catalog) -> tuple[tuple[int, ...], float]:
    """Best (served count per priority level, highest first; then least cost) over every subset."""
    levels = sorted({w.priority for w in req.workloads}, reverse=True)
    per = [[(0.0, None)] + workload_configs(req, w, catalog) for w in req.workloads]
    best_key, best_cost = None, math.inf
    top = limits(req)
    for combo in itertools.product(*per):
        use = [sum(u) for u in zip(*(usage(req, pools or ()) for _, pools in combo), strict=True)] if top else []
        cost = sum(c for c, _ in combo) + charges_of(req, combo)
        if any(u > t + 1e-9 for u, t in zip(use, top, strict=True)) or \
                (req.monthly_budget_usd is not None and cost > req.monthly_budget_usd + 1e-9):
            continue
        key = tuple(sum(1 for w, (_, p) in zip(req.workloads, combo, strict=True) if p and w.priority == lv)
                    for lv in levels)
        if best_key is None or key > best_key or (key == best_key and cost < best_cost):
            best_key, best_cost = key, cost
    return best_key, best_cost


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), req=requests(), budget=st.sampled_from([None, 150.0, 400.0, 1500.0]),
       priorities=st.lists(st.integers(0, 2), min_size=2, max_size=2))
def test_priorities_and_budget_match_exhaustive_enumeration(catalog_of, l4, data, req, budget, priorities):
    workloads = [w.model_copy(update={"priority": p}) for w, p in zip(req.workloads, priorities, strict=False)]
    req = req.model_copy(update={"workloads": tuple(workloads), "monthly_budget_usd": budget})
    catalog = catalog_of(data.draw(offers(l4)))
    key, cost = brute_force_priorities(req, catalog)
    levels = sorted({w.priority for w in req.workloads}, reverse=True)
    everyone = tuple(sum(1 for w in req.workloads if w.priority == lv) for lv in levels)
    try:
        got = solve(req, catalog)
    except Infeasible:
        # infeasible means not everyone fits; workloads are left out only for budget or quotas
        assert key != everyone
        return
    served = {p.workload for p in got.plans}
    got_key = tuple(sum(1 for w in req.workloads if w.name in served and w.priority == lv) for lv in levels)
    assert got_key == key
    assert math.isclose(got.monthly_usd, cost, rel_tol=1e-6, abs_tol=0.01)
    assert {lo.workload for lo in got.left_out} == {w.name for w in req.workloads} - served
