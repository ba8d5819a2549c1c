"""Run inside SkyPilot's own venv (build/skypilot-venv): SkyPilot 0.14.1's Optimizer.optimize, offline, on
the reference CSVs placed in ~/.sky/catalogs/v8. Reads {"requests": [...], "offers": [...]} as JSON on
stdin, prints one choice per request as JSON.

Same catalog: cost_model_bench.py writes the reference CSVs filtered to the offers our model may use
(benchmarks/sky_catalog.py), so SkyPilot's first pick is already one of ours. `offers` lists our per-node
prices as a check: a pick that is not in our catalog at that price is passed back as blocked (its own
`blocked_resources` argument) and counted; under the same rules the count is 0 (reported as blockedPicks).

Offline means no cloud credentials, so the enabled-cloud check is replaced by "AWS and GCP are enabled";
nothing else in SkyPilot is changed.
"""

import json
import os
import sys
import time

os.environ.setdefault("SKYPILOT_DISABLE_USAGE_COLLECTION", "1")

import sky  # noqa: E402
from sky import check, optimizer  # noqa: E402
from sky.utils import registry  # noqa: E402

ENABLED = [registry.CLOUD_REGISTRY.from_str("aws"), registry.CLOUD_REGISTRY.from_str("gcp")]
check.get_cached_enabled_clouds_or_refresh = lambda *a, **k: ENABLED


def _key(cloud, region, zone, itype, accel, count, spot):
    return f"{cloud}|{region}|{zone}|{itype}|{accel}|{count}|{int(spot)}"


def choose(req: dict, prices: dict) -> dict:
    blocked = []
    start = time.perf_counter()
    for _ in range(400):
        with sky.Dag() as dag:
            task = sky.Task(run="true", num_nodes=req["nodes"])
            task.set_resources(sky.Resources(accelerators={req["accelerator"]: req["perNode"]},
                                             use_spot=req["spot"]))
        try:
            optimizer.Optimizer.optimize(dag, quiet=True, blocked_resources=blocked)
        except Exception as err:  # SkyPilot raises ResourcesUnavailableError and others
            return {"error": f"{type(err).__name__}: {err}".splitlines()[0], "blocked": len(blocked)}
        r = task.best_resources
        cloud = str(r.cloud).lower()
        node = r.get_cost(3600)
        # SkyPilot leaves the zone open for on-demand (one price per region): any zone of ours may match
        ours = prices.get(_key(cloud, r.region, r.zone or "*", r.instance_type, req["accelerator"],
                               req["perNode"], req["spot"]), ())
        if any(abs(p - node) <= 1e-6 * max(1.0, node) for p in ours):
            return {"cloud": cloud, "region": r.region, "zone": r.zone, "instanceType": r.instance_type,
                    "hourlyUsd": node * req["nodes"], "blocked": len(blocked),
                    "seconds": time.perf_counter() - start}
        blocked.append(sky.Resources(cloud=r.cloud, region=r.region, zone=r.zone, instance_type=r.instance_type,
                                     accelerators={req["accelerator"]: req["perNode"]}, use_spot=req["spot"]))
    return {"error": "still outside our catalog after 400 blocked resources", "blocked": len(blocked)}


if __name__ == "__main__":
    data = json.load(sys.stdin)
    prices: dict[str, list[float]] = {}
    for o in data["offers"]:
        for zone in (o[2], "*"):
            prices.setdefault(_key(o[0], o[1], zone, *o[3:7]), []).append(o[7])
    print(json.dumps([choose(r, prices) for r in data["requests"]]))
