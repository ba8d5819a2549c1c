"""Run inside SkyPilot's own venv (build/skypilot-venv): SkyPilot 0.14.1's Optimizer.optimize, offline, on
the reference CSVs placed in ~/.sky/catalogs/v8. Reads requests as JSON on stdin, prints choices as JSON.

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


def choose(req: dict) -> dict:
    with sky.Dag() as dag:
        task = sky.Task(run="true", num_nodes=req["nodes"])
        task.set_resources(sky.Resources(accelerators={req["accelerator"]: req["perNode"]},
                                         use_spot=req["spot"]))
    start = time.perf_counter()
    try:
        optimizer.Optimizer.optimize(dag, quiet=True)
    except Exception as err:  # SkyPilot raises ResourcesUnavailableError and others
        return {"error": f"{type(err).__name__}: {err}".splitlines()[0]}
    r = task.best_resources
    return {"cloud": str(r.cloud).lower(), "region": r.region, "zone": r.zone, "instanceType": r.instance_type,
            "hourlyUsd": r.get_cost(3600) * req["nodes"], "seconds": time.perf_counter() - start}


if __name__ == "__main__":
    print(json.dumps([choose(r) for r in json.load(sys.stdin)]))
