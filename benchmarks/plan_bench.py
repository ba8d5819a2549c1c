"""Offline plan time of newinfra's stacks against the bare mock runtime registering the same resources.

For each environment, in one run:
  plan      `newinfra plan ENV` in a fresh process (imports, config validation, catalog, lock, program,
            record writing: everything a pull-request check pays);
  bare      a fresh process that, under plain `pulumi.runtime.set_mocks` with a do-nothing Mocks,
            registers the same number of resources with the same types, names, parents and inputs (replayed
            from the plan's record) — the bare mock runtime;
  bare+SDK  the same, after importing the provider modules the program uses (pulumi_gcp.compute, ...):
            the part of the plan's time that any program using those SDKs pays.
The figures are plan / bare and plan / bare+SDK (median of --repeat runs each).
A last row, `venv`: `newinfra plan --cwd tests/offline/programs/random-pet` (a program needing pulumi-random,
which newinfra does not ship) once to build its virtualenv in the cache, then --repeat times with it
cached; the figure is that second plan / the dev plan of the same run (target: within 1.3x).
Anyone can run it:
    .venv/bin/python benchmarks/plan_bench.py [--env dev --env prod] [--repeat 3]
It writes build/bench/plan_bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"

BASELINE = r'''
import json, sys, pulumi
from pulumi.runtime import mocks

record = json.load(open(sys.argv[1]))
PACKAGES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "alicloud": "pulumi_alicloud", "kubernetes": "pulumi_kubernetes"}
for package in sorted({r["type"].split(":")[0] for r in record if r["custom"]} - {"pulumi"}):
    __import__(PACKAGES[package])
if sys.argv[2] == "sdk":  # also pay for the provider modules the program uses (pulumi_aws.ec2, ...)
    import importlib
    for typ in sorted({r["type"] for r in record if r["custom"] and not r["type"].startswith("pulumi:")}):
        package, module = typ.split(":")[:2]
        class_name = typ.split(":")[2]
        if package == "kubernetes":  # core/v1 -> core.v1, helm.sh/v3 -> helm.v3, CRDs -> apiextensions
            group, version = module.split("/")
            name = f"{group.split('.')[0]}.{version}" if group.count(".") <= 1 else "apiextensions"
            class_name = class_name if name != "apiextensions" else "CustomResource"
        else:
            name = module.split("/")[0]
        # the SDKs load a resource's module lazily, on first access to its class
        getattr(importlib.import_module(PACKAGES[package] + ("" if name == "index" else f".{name}")), class_name)

class Nothing(mocks.Mocks):
    def new_resource(self, args):
        return args.name + "-id", args.inputs
    def call(self, args):
        return {}

mocks.set_mocks(Nothing(), project="bench", stack="bench", preview=False)

class Replayed(pulumi.CustomResource):
    def __init__(self, typ, name, props, parent):
        super().__init__(typ, name, props, pulumi.ResourceOptions(parent=parent))

class Group(pulumi.ComponentResource):
    def __init__(self, typ, name, parent):
        super().__init__(typ, name, None, pulumi.ResourceOptions(parent=parent))

@mocks.test
def replay():
    made = {}
    for r in sorted(record, key=lambda r: r["urn"].count("$")):  # parents before children
        parent = made.get(r["parent"])
        if r["type"].startswith("pulumi:providers:"):
            made[r["urn"]] = Replayed(r["type"], r["name"], r["inputs"], parent)
        elif r["custom"]:
            made[r["urn"]] = Replayed(r["type"], r["name"], r["inputs"], parent)
        else:
            made[r["urn"]] = Group(r["type"], r["name"], parent)
    return pulumi.Output.all(*[m.urn for m in made.values()])

replay()
print(len(record))
'''


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return time.perf_counter() - start


def bench(env: str, repeat: int) -> dict:
    out = OUT / env
    plan_cmd = [sys.executable, "-m", "newinfra", "plan", env, "--out", str(out), "--json"]
    plan_times = [timed(plan_cmd) for _ in range(repeat)]
    record_path = out / "resources.json"
    resources = len(json.loads(record_path.read_text()))
    script = OUT / "baseline.py"
    script.write_text(BASELINE)
    bare = [timed([sys.executable, str(script), str(record_path), "bare"]) for _ in range(repeat)]
    sdk = [timed([sys.executable, str(script), str(record_path), "sdk"]) for _ in range(repeat)]
    plan_s, bare_s, sdk_s = (statistics.median(t) for t in (plan_times, bare, sdk))
    return {"env": env, "resources": resources, "plan_s": round(plan_s, 3), "baseline_s": round(bare_s, 3),
            "ratio": round(plan_s / bare_s, 3), "sdk_baseline_s": round(sdk_s, 3),
            "ratio_vs_sdk_baseline": round(plan_s / sdk_s, 3), "plan_runs": [round(t, 3) for t in plan_times],
            "baseline_runs": [round(t, 3) for t in bare], "sdk_baseline_runs": [round(t, 3) for t in sdk]}


def bench_venv(repeat: int, dev_plan_s: float | None) -> dict:
    """A program in its own (cached) virtualenv against the reference dev plan."""
    program = ROOT / "tests" / "offline" / "programs" / "random-pet"
    cmd = [sys.executable, "-m", "newinfra", "plan", "--cwd", str(program), "--stack", "dev",
           "--out", str(OUT / "random-pet"), "--json"]
    first = timed(cmd)  # builds the virtualenv when the cache lacks it
    runs = [timed(cmd) for _ in range(repeat)]
    cached = statistics.median(runs)
    return {"env": "venv", "first_s": round(first, 3), "cached_s": round(cached, 3),
            "cached_runs": [round(t, 3) for t in runs],
            "ratio_vs_dev_plan": round(cached / dev_plan_s, 3) if dev_plan_s else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", action="append", help="environments (default: dev, staging, prod)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    envs = args.env or [e for e in ("dev", "staging", "prod") if (ROOT / "stacks" / f"Pulumi.{e}.yaml").exists()]
    rows = [bench(env, args.repeat) for env in envs]
    print(f"{'env':8} {'resources':>9} {'plan s':>8} {'bare s':>8} {'ratio':>6} {'bare+SDK s':>10} {'ratio':>6}")
    for r in rows:
        print(f"{r['env']:8} {r['resources']:>9} {r['plan_s']:>8.2f} {r['baseline_s']:>8.2f} {r['ratio']:>6.2f} "
              f"{r['sdk_baseline_s']:>10.2f} {r['ratio_vs_sdk_baseline']:>6.2f}")
    dev = next((r["plan_s"] for r in rows if r["env"] == "dev"), None)
    if dev is None:
        dev = bench("dev", args.repeat)["plan_s"]
    venv = bench_venv(args.repeat, dev)
    print(f"venv: a program's plan with its virtualenv cached {venv['cached_s']:.2f} s (first, building it: "
          f"{venv['first_s']:.2f} s) = {venv['ratio_vs_dev_plan']:.2f}x the dev plan ({dev:.2f} s; target 1.3x)")
    (OUT / "plan_bench.json").write_text(json.dumps([*rows, venv], indent=2) + "\n")


if __name__ == "__main__":
    main()
