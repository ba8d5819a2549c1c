"""Cost-model benchmark: solve time against the full catalog, our choice against SkyPilot's, and the
portfolio saving over per-workload greedy choices under tight quotas.

    python benchmarks/cost_model_bench.py [--quick | --compare-only]

Prints a table and writes build/cost_model_bench.json. SkyPilot runs from build/skypilot-venv when it is
there (`python -m venv build/skypilot-venv && build/skypilot-venv/bin/pip install 'skypilot[aws,gcp]==0.14.1'`);
without it the comparison falls back to an exhaustive cheapest-single-offer search over the same usable
offers, and the JSON says which one ran. The comparison is made under the same rules: SkyPilot reads its own
reference CSVs filtered to the offers our model may use for the request (host floor, opt-in capacity, rows
our catalog leaves out; benchmarks/sky_catalog.py), in a HOME of its own per rule set; rows where the rules
cannot be the same (GCP N1 hosts: SkyPilot picks its own host per GPU count) are a rule set apart.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newinfra.cost_model.candidates import CandidateBuilder  # noqa: E402
from newinfra.cost_model.catalog import load_catalog  # noqa: E402
from newinfra.cost_model.milp import MILP_OPTIONS  # noqa: E402
from newinfra.cost_model.model import Infeasible, SolverLimit, offer_index, solve  # noqa: E402
from newinfra.cost_model.request import PlacementRequest  # noqa: E402

OUT = ROOT / "build" / "cost_model_bench.json"
SKY_VENV = ROOT / "build" / "skypilot-venv" / "bin" / "python"
REFERENCE = ROOT.parent / "shared" / "reference" / "catalog"
# (accelerator, per-node shapes that exist on AWS or GCP)
MIX = [("H100", (8,)), ("A100", (1, 2, 4, 8)), ("A100-80GB", (1, 2, 4, 8)), ("L4", (1, 2, 4, 8)),
       ("T4", (1, 2, 4)), ("A10G", (1, 4, 8)), ("L40S", (1, 4, 8)), ("V100", (1, 4, 8)),
       ("tpu-v5litepod", (1, 4, 8))]


def random_workload(rnd: random.Random, name: str, *, with_priority: bool) -> dict:
    """One workload drawn from MIX: whole nodes or (30 %) any split, half on spot (half of those capped)."""
    accel, shapes = rnd.choice(MIX)
    per = rnd.choice(shapes)
    w = {"name": name, "kind": rnd.choice(["training", "inference", "batch"]), "accelerator": accel,
         "count": per * rnd.choice([1, 1, 2, 4]), "perNode": per}
    if with_priority:
        w["priority"] = rnd.randint(0, 3)
    w["hoursPerMonth"] = rnd.choice([200, 730])
    if rnd.random() < 0.3:  # any split across node shapes
        del w["perNode"]
        w["count"] += rnd.choice([0, 1, 3])
    if rnd.random() < 0.5:
        w["spot"] = True
        if rnd.random() < 0.5:
            w["maxSpotShare"] = 0.5
    return w


def portfolio(n: int, seed: int) -> PlacementRequest:
    """n workloads drawn from MIX: whole nodes or any split, spot mixes, datasets with residency, quotas."""
    rnd = random.Random(seed)
    workloads = []
    for i in range(n):
        w = random_workload(rnd, f"w{i:04d}", with_priority=True)
        if rnd.random() < 0.3:
            w["dataset"] = rnd.choice(["eu-data", "us-data"])
        workloads.append(w)
    return PlacementRequest.model_validate({
        "allowedClouds": ["aws", "gcp", "alicloud"],
        "workloads": workloads,
        "datasets": [
            {"name": "eu-data", "sizeGb": 800, "classification": "eu", "homeCloud": "gcp",
             "homeRegion": "europe-west4", "monthlyReadGb": 4000},
            {"name": "us-data", "sizeGb": 2000, "classification": "any", "homeCloud": "aws",
             "homeRegion": "us-east-1", "monthlyReadGb": 10000},
        ],
        "dataResidency": {"eu": ["europe-*", "eu-*"], "any": ["*"]},
        "quotas": [
            {"cloud": "aws", "region": "us-east-1", "family": "P", "market": "on-demand", "limit": 96 * n},
            {"cloud": "gcp", "region": "us-central1", "family": "H100", "limit": 4 * n},
        ],
    })


def time_solves(catalog, sizes: list[int], repeats: int) -> list[dict]:
    rows = []
    for n in sizes:
        req = portfolio(n, seed=n)
        times, result = [], None
        for _ in range(repeats):
            start = time.perf_counter()
            result = solve(req, catalog)
            times.append(time.perf_counter() - start)
        rows.append({"workloads": n, "medianSeconds": round(statistics.median(times), 4),
                     "runs": [round(t, 4) for t in times], "monthlyUsd": result.monthly_usd,
                     "workloadsInMilp": sum(1 for c in result.context.cands if c.fixed is None),
                     "leftOut": len(result.left_out)})
    return rows


def coupled(catalog, n: int, seed: int) -> PlacementRequest:
    """n workloads from MIX whose quotas bind: every (cloud, region, quota family) that offers a MIX accelerator
    on AWS or GCP gets a quota of a seeded 10, 25 or 50 % of what all workloads of that family could ask there (a
    quarter of them none), so the cheap regions fill up and workloads spill into dearer ones, coupling hundreds of them; half may take spot
    (a quarter capped at maxSpotShare 0.5) and a monthly budget sits 40 % above a lower bound of the bill."""
    from newinfra.cost_model.catalog.quota import quota_family, quota_units

    rnd = random.Random(seed)
    accels = {a: catalog.normalise_accelerator(a) for a, _ in MIX}
    workloads = []
    for i in range(n):
        workloads.append(random_workload(rnd, f"c{i:04d}", with_priority=False))
    # units one accelerator of each family uses per (cloud, region, family, accelerator); demand per quota row
    per_accel: dict[tuple[str, str, str], dict[str, float]] = {}
    cheapest: dict[str, float] = {}
    for a, norm in sorted(accels.items()):
        for o in catalog.offers_for(norm):
            if o.cloud not in ("aws", "gcp"):
                continue
            if o.on_demand_usd is not None:
                cheapest[a] = min(cheapest.get(a, math.inf), o.on_demand_usd / o.accelerators_per_node)
            try:
                fam = quota_family(o, "on-demand")
                units = quota_units(o) / o.accelerators_per_node
            except ValueError:
                continue
            row = per_accel.setdefault((o.cloud, o.region, fam), {})
            row[a] = max(row.get(a, 0.0), units)
    quotas = []
    for (cloud, region, fam), units in sorted(per_accel.items()):
        demand = sum(w["count"] * units[w["accelerator"]] for w in workloads if w["accelerator"] in units)
        share = rnd.choice([0.1, 0.25, 0.5, None])  # a quarter of the rows unlimited: always feasible
        if demand and share:
            quotas.append({"cloud": cloud, "region": region, "family": fam, "limit": math.ceil(share * demand)})
    floor = sum(w["count"] * w["hoursPerMonth"] * cheapest[w["accelerator"]] for w in workloads)
    return PlacementRequest.model_validate({"allowedClouds": ["aws", "gcp"], "workloads": workloads,
                                            "quotas": quotas, "monthlyBudgetUsd": round(1.4 * floor, 2)})


def time_coupled(catalog, sizes: list[int], repeats: int) -> list[dict]:
    """Median solve of `coupled` requests; the quotas that end up full are counted from the solution."""
    rows = []
    for n in sizes:
        req = coupled(catalog, n, seed=n)
        times, result = [], None
        for _ in range(repeats):
            start = time.perf_counter()
            try:
                result = solve(req, catalog, diagnose=False)
            except (Infeasible, SolverLimit):  # feasible by construction: HiGHS stopped at its time limit
                result = None
            times.append(time.perf_counter() - start)
        if result is None:
            rows.append({"workloads": n, "medianSeconds": round(statistics.median(times), 4),
                         "runs": [round(t, 4) for t in times], "quotas": len(req.quotas),
                         "timedOut": f"no plan within HiGHS time_limit {MILP_OPTIONS['time_limit']:g} s"})
            continue
        full = sum(1 for q, used in result.quota_use if used > q.limit - 1e-6 * max(1.0, q.limit) and used > 0)
        rows.append({"workloads": n, "medianSeconds": round(statistics.median(times), 4),
                     "runs": [round(t, 4) for t in times], "monthlyUsd": result.monthly_usd,
                     "budgetUsd": req.monthly_budget_usd, "quotas": len(req.quotas), "quotasFull": full,
                     "workloadsInMilp": sum(1 for c in result.context.cands if c.fixed is None),
                     "leftOut": len(result.left_out),
                     **(result.context.stats.as_json() if result.context.stats else {})})
    return rows


def single_requests() -> list[dict]:
    reqs = []
    for accel, shapes in [("H100", (8,)), ("A100", (1, 8)), ("A100-80GB", (1, 8)), ("L4", (1, 4, 8)),
                          ("T4", (1, 4)), ("A10G", (1, 4)), ("L40S", (1, 8)), ("V100", (1, 8))]:
        for per in shapes:
            for nodes in (1, 2):
                for spot in (False, True):
                    reqs.append({"accelerator": accel, "perNode": per, "nodes": nodes, "spot": spot})
    return reqs


def fresh_requests(n: int = 25, seed: int = 14) -> list[dict]:
    """Requests the benchmark was not tuned on: seeded draws from MIX, 1 to 4 nodes, spot or not."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        accel, shapes = rnd.choice(MIX[:-1])  # GPUs: SkyPilot's TPU requests take another API
        out.append({"accelerator": accel, "perNode": rnd.choice(shapes), "nodes": rnd.choice([1, 2, 3, 4]),
                    "spot": rnd.random() < 0.5})
    return out


def ours(catalog, r: dict, *, exclusions=(), allow_local_zones: bool = False) -> dict | None:
    """Our cheapest plan for one request, with the offer behind it."""
    w = {"name": "w", "kind": "training", "accelerator": r["accelerator"], "count": r["perNode"] * r["nodes"],
         "perNode": r["perNode"], "spot": r["spot"]}
    req = PlacementRequest.model_validate({"workloads": [w], "allowedClouds": ["aws", "gcp"],
                                           "allowLocalZones": allow_local_zones})
    try:
        sol = solve(req, catalog, exclusions=tuple(exclusions))
    except Infeasible:
        return None
    p = sol.plans[0].placements[0]
    return {"hourlyUsd": sum(x.hourly_usd for x in sol.plans), "cloud": p.cloud, "region": p.region,
            "zone": p.zones[0] if p.zones else "", "instanceType": p.instance_type}


def exhaustive(catalog, r: dict, usable: dict) -> float | None:
    """Cheapest single offer by brute force over the same usable offers (SkyPilot's own rule, spot or not)."""
    accel = catalog.normalise_accelerator(r["accelerator"])
    best = math.inf
    for o in usable.values():
        price = o.spot_usd if r["spot"] else o.on_demand_usd
        if o.accelerator == accel and o.accelerators_per_node == r["perNode"] and price is not None:
            best = min(best, price * r["nodes"])
    return None if best == math.inf else best


# Rule sets: the same catalog rows and rules on both sides. "rules differ" is reported apart (README of the
# benchmark): GCP's N1 hosts for attached GPUs are chosen by SkyPilot's own host rule, not the floor.
RULE_SETS = {
    "same rules": {"allow_local_zones": False, "attached_gpus": False},
    "same rules, Local Zones allowed on both sides": {"allow_local_zones": True, "attached_gpus": False},
    "rules differ: GCP N1 hosts (SkyPilot's host choice vs our floor)": {"allow_local_zones": False,
                                                                          "attached_gpus": True},
}


def skypilot(reqs: list[dict], catalog, home: Path, rules: dict) -> tuple[list[dict] | None, dict]:
    """SkyPilot 0.14.1 in its own venv, on its reference CSVs filtered to our usable offers (sky_catalog.py),
    with HOME pointed at a folder of its own so each rule set reads its own catalog."""
    from sky_catalog import write_catalog

    kept = write_catalog(catalog, REFERENCE, home, **rules)
    if not SKY_VENV.exists():
        return None, kept
    offers = [[o.cloud, o.region, o.zone, o.instance_type, o.accelerator, o.accelerators_per_node, spot, price]
              for o in catalog.offers if o.cloud in ("aws", "gcp")
              for spot, price in ((False, o.on_demand_usd), (True, o.spot_usd)) if price is not None]
    env = {**os.environ, "HOME": str(home)}
    proc = subprocess.run([str(SKY_VENV), str(ROOT / "benchmarks" / "sky_optimize.py")],
                          input=json.dumps({"requests": reqs, "offers": offers}),
                          capture_output=True, text=True, timeout=1800, env=env)
    if proc.returncode != 0:
        print(f"skypilot run failed: {proc.stderr[-500:]}", file=sys.stderr)
        return None, kept
    return json.loads(proc.stdout.strip().splitlines()[-1]), kept


def compare(catalog, requests: list[dict] | None = None) -> dict:
    import tempfile

    from sky_catalog import attached_accelerators, gcp_attached_offers, usable_offers

    reqs = requests or single_requests() + fresh_requests()
    attached = attached_accelerators(catalog)
    out = {}
    for label, rules in RULE_SETS.items():
        # the N1 rule set only matters for GPUs GCP attaches to N1 hosts; the others compare every request
        subset = [r for r in reqs if not rules["attached_gpus"]
                  or catalog.normalise_accelerator(r["accelerator"]) in attached]
        with tempfile.TemporaryDirectory(prefix="newinfra-sky-") as home:
            sky, kept = skypilot(subset, catalog, Path(home), rules)
        usable = usable_offers(catalog, allow_local_zones=rules["allow_local_zones"])
        if not rules["attached_gpus"]:
            usable = {k: o for k, o in usable.items() if not (k[0] == "gcp" and k[3].startswith("n1-"))}
        exclusions = () if rules["attached_gpus"] else gcp_attached_offers(catalog)
        rows = []
        for i, r in enumerate(subset):
            mine = ours(catalog, r, exclusions=exclusions, allow_local_zones=rules["allow_local_zones"])
            ref = dict(sky[i]) if sky else {"hourlyUsd": exhaustive(catalog, r, usable)}
            ref["exhaustiveHourlyUsd"] = exhaustive(catalog, r, usable)
            ref_cost = ref.get("hourlyUsd")
            ratio = round(mine["hourlyUsd"] / ref_cost, 4) if mine is not None and ref_cost else None
            rows.append({**r, "oursHourlyUsd": None if mine is None else mine["hourlyUsd"],
                         "ours": mine, "referenceHourlyUsd": ref_cost, "ratio": ratio,
                         # neither finds an offer (e.g. 2 x T4 per node without GCP's N1): they agree
                         "bothWithoutOffer": mine is None and ref_cost is None,
                         "reference": {k: v for k, v in ref.items() if k != "hourlyUsd"}})
        ratios = [x["ratio"] for x in rows if x["ratio"] is not None]
        out[label] = {"against": "skypilot 0.14.1 Optimizer.optimize" if sky else "exhaustive cheapest single offer",
                      "skypilotCatalogRows": kept, "requests": len(rows), "compared": len(ratios),
                      "minRatio": min(ratios) if ratios else None, "maxRatio": max(ratios) if ratios else None,
                      "meanRatio": round(statistics.mean(ratios), 4) if ratios else None,
                      "bothWithoutOffer": sum(x["bothWithoutOffer"] for x in rows),
                      "blockedPicks": sum(x["reference"].get("blocked", 0) for x in rows), "rows": rows}
    return out


def greedy(req: PlacementRequest, catalog) -> tuple[float, int]:
    """Each workload in turn (priority, then config order) takes its cheapest option within the quota left."""
    left = {i: q.limit for i, q in enumerate(req.quotas)}
    total, unplaced = 0.0, 0
    for w in sorted(req.workloads, key=lambda w: -w.priority):
        quotas = [q.model_copy(update={"limit": max(0.0, left[i])}) for i, q in enumerate(req.quotas)]
        one = req.model_copy(update={"workloads": (w,), "quotas": tuple(quotas)})
        try:
            sol = solve(one, catalog, diagnose=False)
        except Infeasible:
            unplaced += 1
            continue
        if sol.left_out:
            unplaced += 1
            continue
        total += sol.monthly_usd
        for i, (_, used) in enumerate(sol.quota_use):
            left[i] -= used
    return round(total, 2), unplaced


def tight_quotas(catalog, per_group: int = 6) -> dict:
    """One node of 8 x H100 on-demand per workload. The cheapest region's quota holds only `per_group`
    nodes. Flexible workloads (listed first) may use it or the next-dearer region; resident ones only it or
    the dearest region. Greedy, in config order, gives the cheap quota to the flexible workloads and sends the
    resident ones to the dear region; the portfolio gives it to the resident ones."""
    from newinfra.cost_model.catalog.quota import quota_family, quota_units

    offers = [o for o in catalog.offers_for("H100") if o.cloud in ("aws", "gcp")
              and o.accelerators_per_node == 8 and o.on_demand_usd is not None]
    by_region: dict[tuple[str, str], object] = {}
    for o in sorted(offers, key=lambda o: (o.on_demand_usd, o.cloud, o.region, o.zone, o.instance_type)):
        by_region.setdefault((o.cloud, o.region), o)
    ranked = sorted(by_region.values(), key=lambda o: (o.on_demand_usd, o.cloud, o.region))
    dear = ranked[-1]
    w = {"kind": "training", "accelerator": "H100", "count": 8, "perNode": 8, "hoursPerMonth": 730}
    # the cheap region is where one flexible workload lands on its own (its quota is what greedy spends)
    alone = solve(PlacementRequest.model_validate({"allowedClouds": ["aws", "gcp"],
                                                   "workloads": [{**w, "name": "probe"}]}), catalog)
    p0 = alone.plans[0].placements[0]
    cheap = by_region[(p0.cloud, p0.region)]
    # every quota family H100 nodes count against in that region (GCP: A3 High and A3 Mega apart)
    families = sorted({quota_family(o, "on-demand") for o in offers if (o.cloud, o.region) == (p0.cloud, p0.region)})
    near = next(o for o in ranked if o.on_demand_usd > cheap.on_demand_usd)  # next price step up
    workloads = [{**w, "name": f"a{i:02d}", "dataset": "flexible"} for i in range(per_group)]
    workloads += [{**w, "name": f"b{i:02d}", "dataset": "resident"} for i in range(per_group)]
    req = PlacementRequest.model_validate({
        "allowedClouds": ["aws", "gcp"], "workloads": workloads,
        "datasets": [{"name": "resident", "sizeGb": 100, "classification": "resident", "homeCloud": cheap.cloud,
                      "homeRegion": cheap.region, "monthlyReadGb": 0},
                     {"name": "flexible", "sizeGb": 100, "classification": "flexible", "homeCloud": cheap.cloud,
                      "homeRegion": cheap.region, "monthlyReadGb": 0}],
        "dataResidency": {"resident": [cheap.region, dear.region], "flexible": [cheap.region, near.region]},
        "quotas": [{"cloud": cheap.cloud, "region": cheap.region, "family": f, "market": "on-demand",
                    "limit": per_group // len(families) * quota_units(cheap)} for f in families],
    })
    start = time.perf_counter()
    sol = solve(req, catalog)
    seconds = time.perf_counter() - start
    g_total, g_unplaced = greedy(req, catalog)
    return {"workloads": len(workloads), "quota": f"{cheap.cloud}/{cheap.region} {'+'.join(families)}"
            f" on-demand {per_group // len(families) * quota_units(cheap):g} each", "nearRegion": f"{near.cloud}/{near.region}",
            "dearRegion": f"{dear.cloud}/{dear.region}",
            "portfolioMonthlyUsd": sol.monthly_usd, "portfolioLeftOut": len(sol.left_out),
            "greedyMonthlyUsd": g_total, "greedyUnplaced": g_unplaced,
            "savingUsdPerMonth": round(g_total - sol.monthly_usd, 2) if not g_unplaced else None,
            "savingPct": round(100 * (g_total - sol.monthly_usd) / g_total, 2) if g_total and not g_unplaced
            else None, "solveSeconds": round(seconds, 4)}


def print_comparison(by_rules: dict) -> None:
    for label, s in by_rules.items():
        print(f"single-workload requests, {label}, vs {s['against']}: {s['compared']}/{s['requests']} compared, "
              f"ratio min {s['minRatio']} max {s['maxRatio']} mean {s['meanRatio']}, {s['bothWithoutOffer']} without an "
              f"offer on both sides; SkyPilot catalog rows "
              f"{s['skypilotCatalogRows']}, picks outside our offers {s['blockedPicks']}")
        for r in s["rows"]:
            if r["ratio"] != 1.0 and not r["bothWithoutOffer"]:
                ref = r["reference"]
                print(f"  {r['accelerator']} x{r['perNode']} x{r['nodes']} {'spot' if r['spot'] else 'on-demand'}: "
                      f"ours {r['ours']} vs {ref.get('cloud')}/{ref.get('region')}/{ref.get('zone')} "
                      f"{ref.get('instanceType')} ${r['referenceHourlyUsd']}/h (ratio {r['ratio']})")


# Any-of rows: relative speeds as a request would state them (illustrative, not measured here).
ANY_OF = [
    ("train 8 GPUs 200 h/month", {"kind": "training", "count": 8, "perNode": 8, "hoursPerMonth": 200},
     {"H100": 1.0, "A100-80GB": 0.55, "A100": 0.45}),
    ("train 8 GPUs 500 h/month (slow cards capped at 744 h: more GPUs)",
     {"kind": "training", "count": 8, "perNode": 8, "hoursPerMonth": 500}, {"H100": 1.0, "A100-80GB": 0.55}),
    ("serve 4 replicas", {"kind": "inference", "count": 4}, {"H100": 1.0, "L40S": 0.35, "L4": 0.2}),
    ("batch 8 GPUs spot 300 h/month", {"kind": "batch", "count": 8, "hoursPerMonth": 300, "spot": True},
     {"A100-80GB": 1.0, "L40S": 0.6, "L4": 0.3}),
]
# Spot rows: an interruption rate per family (illustrative: no sourced rate exists, cost_model/markets.py) and
# the hours each restart costs; the baseline prices spot as if it were never interrupted.
SPOT = [
    ("train 16 H100 spot 400 h/month, p5 2/day and a3-highgpu 0.2/day, 4 h lost each",
     {"kind": "training", "accelerator": "H100", "count": 16, "perNode": 8, "hoursPerMonth": 400, "spot": True},
     {"p5": 2.0, "a3-highgpu": 0.2}, 4.0),
    ("batch 8 L4 spot 600 h/month, g2-standard 3/day and g6 0.2/day, 2 h each",
     {"kind": "batch", "accelerator": "L4", "count": 8, "hoursPerMonth": 600, "spot": True},
     {"g2-standard": 3.0, "g6": 0.2}, 2.0),
]


# Owned and scheduled capacity rows: the prices are as a user's config states them (illustrative: no Capacity
# Block or DWS price is in the reference data); the baseline is the same request without them (on-demand/spot).
OWNED = [
    ("train 16 H100 730 h/month, 2 x p5.48xlarge reserved in us-east-1",
     {"kind": "training", "accelerator": "H100", "count": 16, "perNode": 8},
     {"reservations": [{"cloud": "aws", "region": "us-east-1", "instanceType": "p5.48xlarge", "count": 2}]}),
    ("train 16 H100 300 h/month on-demand, a Capacity Block of 2 x p5.48xlarge for 336 h at $31.50/h",
     {"kind": "training", "accelerator": "H100", "count": 16, "perNode": 8, "hoursPerMonth": 300},
     {"capacityBlocks": [{"region": "us-east-1", "instanceType": "p5.48xlarge", "count": 2, "hourlyPriceUsd": 31.5,
                          "durationHours": 336, "start": "2026-12-07T11:30:00Z"}]}),
    ("batch 8 L4 120 h/month on-demand, DWS flex-start at 0.5 x on-demand, 4 h wait, 168 h runs",
     {"kind": "batch", "accelerator": "L4", "count": 8, "hoursPerMonth": 120},
     {"markets": {"flexStart": {"priceFactor": 0.5, "maxRunHours": 168, "startDelayHours": 4}}}),
]


def _offers(plan) -> list[str]:
    return [f"{p.nodes} x {p.instance_type} ({p.accelerators_per_node} x {p.accelerator}) {p.market} in "
            f"{p.cloud}/{p.zones[0]} at ${p.node_hourly_usd:,.4f}/node-h" for p in plan.placements]


def _solve_one(catalog, w: dict, **extra):
    req = PlacementRequest.model_validate({"workloads": [{"name": "w", **w}], "allowedClouds": ["aws", "gcp"],
                                           **extra})
    return req, solve(req, catalog).plan("w")


def any_of_and_markets(catalog) -> dict:
    """Savings a single-accelerator tool (or one that takes the cheapest hourly card of a set, as SkyPilot does
    with a set of accelerators) and a tool that prices spot as never interrupted cannot reach: each baseline is
    our own model restricted to that rule, on the same catalog, and every row names the offers behind it."""
    from newinfra.cost_model.markets import committed_usd, pools_monthly_usd

    rows = []
    for label, w, speeds in ANY_OF:
        _, ours_ = _solve_one(catalog, {**w, "accelerators": speeds})
        reference = max(speeds, key=lambda a: (speeds[a], a))
        _, single = _solve_one(catalog, {**w, "accelerator": reference})
        # cheapest per hour at the reference count and hours, then charged for the work on that card
        hourly = {a: _solve_one(catalog, {**w, "accelerator": a})[1] for a in speeds}
        cheapest = min(sorted(hourly), key=lambda a: hourly[a].hourly_usd)
        _, cheapest_work = _solve_one(catalog, {**w, "accelerators": {cheapest: speeds[cheapest]}})
        rows.append({"case": label, "accelerators": speeds, "oursMonthlyUsd": round(ours_.monthly_usd, 2),
                     "oursOffers": _offers(ours_),
                     "singleAccelerator": reference, "singleMonthlyUsd": round(single.monthly_usd, 2),
                     "singleOffers": _offers(single),
                     "cheapestHourly": cheapest, "cheapestHourlyMonthlyUsd": round(cheapest_work.monthly_usd, 2),
                     "cheapestHourlyOffers": _offers(cheapest_work),
                     "savingVsSinglePct": round(100 * (1 - ours_.monthly_usd / single.monthly_usd), 1),
                     "savingVsCheapestHourlyPct": round(100 * (1 - ours_.monthly_usd / cheapest_work.monthly_usd), 1)})
    spot_rows = []
    for label, w, rates, restart in SPOT:
        markets = {"markets": {"spot": {"interruptionsPerDay": rates, "restartHours": restart}}}
        req, ours_ = _solve_one(catalog, w, **markets)
        _, naive = _solve_one(catalog, w)  # spot priced as never interrupted
        naive_expected = pools_monthly_usd(req, req.workloads[0].hours_per_month,
                                           naive.placements) + naive.egress_usd
        spot_rows.append({"case": label, "oursExpectedMonthlyUsd": round(ours_.monthly_usd, 2),
                          "oursOffers": _offers(ours_), "naiveListMonthlyUsd": round(naive.monthly_usd, 2),
                          "naiveExpectedMonthlyUsd": round(naive_expected, 2), "naiveOffers": _offers(naive),
                          "savingPct": round(100 * (1 - ours_.monthly_usd / naive_expected), 1)})
    owned_rows = []
    for label, w, extra in OWNED:
        req, ours_ = _solve_one(catalog, w, **extra)
        _, plain = _solve_one(catalog, w)
        owned_rows.append({"case": label, "oursMonthlyUsd": round(ours_.monthly_usd, 2), "oursOffers": _offers(ours_),
                           "baselineMonthlyUsd": round(plain.monthly_usd, 2), "baselineOffers": _offers(plain),
                           "committedUsdPerMonth": (fixed := committed_usd(req, catalog)),
                           # the reservation is paid either way: compared on the whole (placements + committed)
                           "savingPct": round(100 * (1 - (ours_.monthly_usd + fixed) / (plain.monthly_usd + fixed)),
                                              1)})
    return {"anyOf": rows, "spot": spot_rows, "owned": owned_rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one repeat, no SkyPilot (CI smoke)")
    ap.add_argument("--coupled", type=int, default=1000, help="workloads of the large coupled case (default 1000)")
    ap.add_argument("--compare-only", action="store_true", help="only the comparison with SkyPilot")
    args = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        catalog = load_catalog()
    if args.compare_only:
        result = compare(catalog)
        out = OUT.with_name("cost_model_compare.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
        print_comparison(result)
        print(f"wrote {out.relative_to(ROOT)}")
        return
    start = time.perf_counter()
    index = offer_index(catalog)
    CandidateBuilder(index, portfolio(1, 0))
    _ = index.families, index.units
    index_seconds = time.perf_counter() - start
    result = {"catalogVersion": catalog.version, "offers": len(catalog.offers),
              "indexBuildSeconds": round(index_seconds, 4),
              "solve": time_solves(catalog, [10, 100, 1000], 1 if args.quick else 5),
              "coupled": time_coupled(catalog, [10, args.coupled], 1 if args.quick else 3)}
    if not args.quick:
        result["singleWorkload"] = compare(catalog)
    result["tightQuotas"] = tight_quotas(catalog)
    result["anyOfAndMarkets"] = any_of_and_markets(catalog)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"catalog {catalog.version}: {len(catalog.offers)} offers; offer index built once in "
          f"{index_seconds:.3f} s")
    print(f"{'workloads':>10} {'median s':>9} {'in MILP':>8} {'monthly USD':>14} {'left out':>9}")
    for r in result["solve"]:
        print(f"{r['workloads']:>10} {r['medianSeconds']:>9.3f} {r['workloadsInMilp']:>8} {r['monthlyUsd']:>14,.2f} "
              f"{r['leftOut']:>9}")
    for r in result["coupled"]:
        head = (f"coupled (binding quotas, spot caps, budget) {r['workloads']:>5} workloads: median "
                f"{r['medianSeconds']:.3f} s (ratio to {result['coupled'][0]['workloads']} workloads "
                f"{r['medianSeconds'] / max(result['coupled'][0]['medianSeconds'], 1e-9):.0f}x)")
        if "timedOut" in r:
            print(f"{head}; {r['timedOut']}")
            continue
        print(f"{head}; {r['quotasFull']}/{r['quotas']} quotas full, {r['workloadsInMilp']} in the MILP, "
              f"{r.get('groups')} group(s) (largest {r.get('largestGroupColumns')} columns), MIP gap "
              f"{r.get('mipGap')}, ${r['monthlyUsd']:,.2f} of ${r['budgetUsd']:,.2f} budget, {r['leftOut']} left out")
    if "singleWorkload" in result:
        print_comparison(result["singleWorkload"])
    t = result["tightQuotas"]
    print(f"tight quotas ({t['workloads']} workloads, quota {t['quota']}): portfolio ${t['portfolioMonthlyUsd']:,.2f}"
          f" vs greedy ${t['greedyMonthlyUsd']:,.2f} ({t['greedyUnplaced']} unplaced by greedy); "
          f"saving ${t['savingUsdPerMonth']}/month ({t['savingPct']}%)")
    for r in result["anyOfAndMarkets"]["anyOf"]:
        print(f"any-of {r['case']} {r['accelerators']}: ${r['oursMonthlyUsd']:,.2f} vs {r['singleAccelerator']} only "
              f"${r['singleMonthlyUsd']:,.2f} ({r['savingVsSinglePct']}% saved) vs cheapest hourly card "
              f"({r['cheapestHourly']}) ${r['cheapestHourlyMonthlyUsd']:,.2f} ({r['savingVsCheapestHourlyPct']}% saved)")
        for who in ("ours", "single", "cheapestHourly"):
            print(f"    {who}: {'; '.join(r[who + 'Offers'])}")
    for r in result["anyOfAndMarkets"]["spot"]:
        print(f"spot {r['case']}: ${r['oursExpectedMonthlyUsd']:,.2f} expected vs never-interrupted pick "
              f"${r['naiveListMonthlyUsd']:,.2f} listed = ${r['naiveExpectedMonthlyUsd']:,.2f} expected "
              f"({r['savingPct']}% saved)")
        for who in ("ours", "naive"):
            print(f"    {who}: {'; '.join(r[who + 'Offers'])}")
    for r in result["anyOfAndMarkets"]["owned"]:
        committed = f" (reservations committed ${r['committedUsdPerMonth']:,.2f}/month either way)" \
            if r["committedUsdPerMonth"] else ""
        print(f"market {r['case']}: ${r['oursMonthlyUsd']:,.2f} vs on-demand/spot only ${r['baselineMonthlyUsd']:,.2f} "
              f"({r['savingPct']}% saved){committed}")
        for who in ("ours", "baseline"):
            print(f"    {who}: {'; '.join(r[who + 'Offers'])}")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
