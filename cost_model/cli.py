"""`newinfra place ENV` and `python -m cost_model solve REQUEST.yaml`: solve, explain, write the lock.

Exit codes: 0 solved, 2 bad input (config, request, catalog, --exclude), 3 infeasible. Every check runs
before anything is written.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3


class Failure(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def load_catalog_checked(path: str | Path | None = None):
    """The catalog, its staleness warning printed once on stderr; CatalogError becomes exit 2."""
    from cost_model.catalog import CatalogError, StaleCatalogWarning, load_catalog

    logging.getLogger("cost_model.catalog.loader").propagate = False
    logging.getLogger("cost_model.catalog.loader").addHandler(logging.NullHandler())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StaleCatalogWarning)
        try:
            cat = load_catalog(path)
        except CatalogError as err:
            raise Failure(f"catalog: {err}", EXIT_BAD_INPUT) from None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return cat


def checked(request, catalog):
    from cost_model.validate import RequestError, check_request

    try:
        check_request(request, catalog)
    except RequestError as err:
        raise Failure(str(err), EXIT_BAD_INPUT) from None


def pools_json(solution) -> dict:
    """The `--json` shape of the issue: one entry per (workload, market) pool, then the total."""
    rows = [{"name": p.workload, "cloud": p.cloud, "region": p.region, "zone": p.zones[0],
             "instanceType": p.instance_type, "nodes": p.nodes, "market": p.market,
             "hourlyUsd": p.hourly_usd, "accelerator": p.accelerator,
             "acceleratorsPerNode": p.accelerators_per_node}
            for plan in solution.plans for p in plan.placements]
    return {
        "workloads": rows,
        "monthlyUsd": solution.monthly_usd,
        "leftOut": [{"name": lo.workload, "priority": lo.priority, "reason": lo.reason}
                    for lo in solution.left_out],
    }


def read_request_file(path: Path):
    import yaml

    from cost_model.validate import RequestError, parse_request

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Failure(f"{path}: no such request file", EXIT_BAD_INPUT) from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise Failure(f"{path}: not valid YAML: {err}", EXIT_BAD_INPUT) from None
    if isinstance(data, dict):  # the stack config's namespaced keys work too
        data = {k.removeprefix("newinfra:"): v for k, v in data.items()}
    try:
        return parse_request(data, where=str(path))
    except RequestError as err:
        raise Failure(str(err), EXIT_BAD_INPUT) from None


def solve_request(path: Path, as_json: bool, catalog_path: Path | None = None) -> int:
    """`python -m cost_model solve`: nothing is written; prints the choice (and the report without --json)."""
    from cost_model.explain import baselines, binding_constraints, report
    from cost_model.model import Infeasible, solve

    try:
        request = read_request_file(path)
        cat = load_catalog_checked(catalog_path)
        checked(request, cat)
        try:
            solution = solve(request, cat)
        except Infeasible as err:
            raise Failure(f"infeasible: {err}", EXIT_INFEASIBLE) from None
    except Failure as f:
        print(f"error: {f}", file=sys.stderr)
        return f.code
    if as_json:
        print(json.dumps({**pools_json(solution), "catalogVersion": cat.version}, indent=2, sort_keys=True))
    else:
        lines = report(Path(path).name, solution, baselines(request, cat, solution),
                       binding_constraints(solution))
        print("\n".join(lines).replace("newinfra place", "solve", 1))
    return 0


def place(
    env: Annotated[str, typer.Argument(help="environment (stack): dev, staging or prod")],
    accept: Annotated[bool, typer.Option("--accept", help="prod: let workloads move to a cheaper placement")] = False,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", help="CLOUD/REGION[/ZONE][:TYPE] to leave out after a capacity error (repeatable)")] = None,
    reset_exclusions: Annotated[bool, typer.Option(
        "--reset-exclusions", help="forget the exclusions recorded in the lock")] = False,
    live: Annotated[bool, typer.Option("--live", help="AWS offerings, spot prices and quotas via boto3")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Choose cloud, region, zone, instance type, nodes and market per workload; write the lock."""
    try:
        code = _place(env, accept, exclude or [], reset_exclusions, live, as_json)
    except Failure as f:
        typer.echo(f"error: {f}", err=True)
        raise typer.Exit(f.code) from None
    raise typer.Exit(code)


def _place(env: str, accept: bool, exclude: list[str], reset: bool, live: bool, as_json: bool) -> int:
    from cost_model.exclusions import parse_exclusions
    from cost_model.explain import alternatives, baselines, binding_constraints, report
    from cost_model.lock import StaleLock, lock_document, plan, read_lock, write_if_changed
    from cost_model.model import Infeasible
    from stacks.config import ConfigError, load_env_config, lock_path

    try:
        cfg = load_env_config(env)
    except ConfigError as err:
        raise Failure(str(err), EXIT_BAD_INPUT) from None
    try:
        new_exclusions = parse_exclusions(exclude)
    except ValueError as err:
        raise Failure(str(err), EXIT_BAD_INPUT) from None
    base = load_catalog_checked()
    request = cfg.request
    checked(request, base)
    path = lock_path(env)
    try:
        previous = read_lock(path)
    except StaleLock as err:
        print(f"warning: {err}; planning from scratch", file=sys.stderr)
        previous = None
    old = () if reset or not previous else parse_exclusions(previous.get("exclusions", []))
    exclusions = tuple(sorted(set(old) | set(new_exclusions)))
    cat, solve_request_ = base, request
    if live:
        cat, solve_request_ = _live(base, request)
    try:
        result = plan(solve_request_, cat, previous=previous, exclusions=exclusions,
                      threshold=cfg.replan_threshold, prod=cfg.environment == "prod", accept=accept)
    except Infeasible as err:
        raise Failure(f"infeasible: {err}", EXIT_INFEASIBLE) from None
    sol = result.solution
    doc = lock_document(request, base, sol, exclusions, alternatives(solve_request_, cat, sol, exclusions=exclusions))
    doc["live"] = live
    written = write_if_changed(path, doc)
    if as_json:
        print(json.dumps({**pools_json(sol), "lock": str(path), "lockWritten": written, "held": result.held,
                          "moved": result.moved}, indent=2, sort_keys=True))
        return 0
    lock_line = f"{'wrote' if written else 'unchanged'} {path}"
    lines = report(env, sol, baselines(solve_request_, cat, sol, exclusions), binding_constraints(sol),
                   held=result.held, moved=result.moved, notes=result.notes, lock_line=lock_line,
                   exclusions=exclusions)
    print("\n".join(lines))
    return 0


def _live(base, request):
    """AWS regions the request could use, asked live; quotas found there join the config's."""
    from cost_model.catalog.live import LiveDataError, live_overrides

    if "aws" not in request.allowed_clouds:
        return base, request
    regions = sorted({o.region for o in base.offers if o.cloud == "aws"
                      and any(request.region_allowed(w, o.region) for w in request.workloads)})
    try:
        data = live_overrides(regions, catalog=base)
    except LiveDataError as err:
        raise Failure(str(err), EXIT_BAD_INPUT) from None
    return data.catalog(base), request.model_copy(update={"quotas": request.quotas + data.quotas})


def register(app: typer.Typer) -> None:
    app.command("place")(place)
