"""Both policy packs over 10,000 recorded resources, through the offline runner (goal: under 2 s).

The record is real: newinfra's dev, staging and prod stacks and another team's AWS+GCP program
(tests/policies/fixtures), each run offline once, then copied until there are 10,000 resources. Each copy renames its resources and
every input that names them (physical names, auto-names, parents, providers), so copies do not link to
one another and the joins (bucket <-> companions, VPC <-> flow log) stay one-to-one as in a real stack.

    python benchmarks/policy_bench.py [--resources 10000] [--repeat 3] [--workers N] [--naive] [--no-engine]

The runner deserialises each resource once and hands it to every policy; pulumi-policy's own servicer
(Analyze / AnalyzeStack) does it again for every policy. Unless ``--no-engine``, the benchmark also runs
the record once through the servicer's own path, checks the findings are identical and prints the ratio of
the two times, measured in the same run on the same machine. ``--naive`` also times the CLI's way (every
resource to every resource policy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GOAL_S = 2.0


def base_records() -> list[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """newinfra's own stacks (AWS, GCP, Alibaba Cloud, Kubernetes) and another team's AWS+GCP program."""
    from newinfra.cli.check import environments
    from newinfra.offline import run_program

    records = [run_program(ROOT, env) for env in environments()]
    records.append(run_program(ROOT / "tests/policies/fixtures/other_team", "ml"))
    return [(r.resources, r.config) for r in records]


PHYSICAL_NAME_INPUTS = ("bucket", "name", "nodeGroupName", "clusterName")


def _renamer(names: list[str], suffix: str):
    ordered = sorted(set(names), key=len, reverse=True)

    def rename(value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith("urn:pulumi:"):
                return value + suffix if "::" in value else value
            for n in ordered:
                if value.startswith(n):
                    return n + suffix + value[len(n):]
            return value
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value

    return rename


def copy(resources: list[dict[str, Any]], i: int) -> list[dict[str, Any]]:
    suffix = f"-c{i}"
    physical = [v for r in resources for k in PHYSICAL_NAME_INPUTS
                if isinstance(v := (r.get("inputs") or {}).get(k), str) and v]
    rename = _renamer([r["name"] for r in resources] + physical, suffix)
    out = []
    for r in resources:
        provider = r.get("provider")
        if provider:
            urn, _, pid = provider.rpartition("::")
            provider = f"{urn}{suffix}::{pid}"
        out.append({**r, "urn": r["urn"] + suffix, "name": r["name"] + suffix,
                    "parent": r["parent"] + suffix if r.get("parent") else None, "provider": provider,
                    "inputs": rename(r.get("inputs") or {})})
    return out


def scaled(target: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    records = base_records()
    config = records[0][1]
    out: list[dict[str, Any]] = []
    i = 0
    while len(out) < target:
        for resources, _ in records:
            out.extend(copy(resources, i))
        i += 1
    return out[:target], config


def time_evaluate(resources, config, repeat: int, workers: int | None = None, engine_path: bool = False):
    from newinfra.policies.runner import evaluate

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        ev = evaluate(resources, config, project="newinfra", stack="dev", workers=workers, engine_path=engine_path)
        times.append(time.perf_counter() - start)
    print(f"  violations: {len(ev.violations)} ({len(ev.mandatory)} mandatory) over {ev.resource_count} resources")
    return times, ev


def findings(ev) -> tuple:
    return ev.violations, ev.not_applicable, ev.exemptions, ev.remediations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="analysis processes (default: the CPUs)")
    parser.add_argument("--naive", action="store_true", help="also time every resource against every policy")
    parser.add_argument("--no-engine", action="store_true",
                        help="skip the comparison run through pulumi-policy's own Analyze / AnalyzeStack")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    start = time.perf_counter()
    resources, config = scaled(args.resources)
    print(f"record: {len(resources)} resources, {len({r['type'] for r in resources})} types "
          f"(built in {time.perf_counter() - start:.1f} s)")
    from newinfra.cost_model.catalog import prices
    from newinfra.cost_model.pricebook.loader import load_pricebook

    prices.book()  # load the catalog and the price book once, as a long-lived check would
    load_pricebook()
    times, ev = time_evaluate(resources, config, args.repeat, args.workers)
    best, median = min(times), statistics.median(times)
    verdict = "meets" if median < GOAL_S else "misses"
    workers = args.workers or os.cpu_count()
    print(f"both packs, type-dispatched, {workers} worker(s) on {os.cpu_count()} CPUs (load {os.getloadavg()[0]:.1f}): "
          f"best {best:.2f} s, median {median:.2f} s over {args.repeat} runs ({verdict} the {GOAL_S:.0f} s goal)")
    status = 0
    if not args.no_engine:
        engine, reference = time_evaluate(resources, config, 1, args.workers, engine_path=True)
        same = findings(ev) == findings(reference)
        print(f"pulumi-policy's own Analyze / AnalyzeStack on the same record: {engine[0]:.2f} s; shared path / "
              f"engine path = {best / engine[0]:.2f} (best run), findings {'identical' if same else 'DIFFER'}")
        status = 0 if same else 1
    if args.naive:
        from newinfra.policies import runner

        runner._wants = lambda policy, resource_type: True  # the CLI's way: every policy sees everything
        naive, _ = time_evaluate(resources, config, 1)
        print(f"every resource to every policy: {naive[0]:.2f} s")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
