"""`python -m newinfra.cost_model solve REQUEST.yaml`: solve and explain a standalone request.

Exit codes: 0 solved, 2 bad input (config, request, catalog, --exclude), 3 infeasible. Every check runs
before anything is written.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path

from newinfra.exits import BAD_INPUT as EXIT_BAD_INPUT
from newinfra.exits import INFEASIBLE as EXIT_INFEASIBLE
from newinfra.exits import SOLVER_LIMIT


class Failure(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def load_catalog_checked(path: str | Path | None = None):
    """The catalog, its staleness warning printed once on stderr; CatalogError becomes exit 2."""
    from newinfra.cost_model.catalog import CatalogError, StaleCatalogWarning, load_catalog

    logging.getLogger("newinfra.cost_model.catalog.loader").propagate = False
    logging.getLogger("newinfra.cost_model.catalog.loader").addHandler(logging.NullHandler())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StaleCatalogWarning)
        try:
            cat = load_catalog(path)
        except CatalogError as err:
            raise Failure(f"catalog: {err}", EXIT_BAD_INPUT) from None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return cat


def checked(request, catalog, where: str | None = None):
    """check_request as a Failure (exit 2); each line names ``where`` (the request file) when given."""
    from newinfra.cost_model.validate import RequestError, check_request

    try:
        check_request(request, catalog)
    except RequestError as err:
        lines = str(err).splitlines()
        raise Failure("\n".join(f"{where}: {line}" if where else line for line in lines), EXIT_BAD_INPUT) from None


def solver_json(solution) -> dict | None:
    """Solve time, MIP gap and groups of the all-served MILP (--json only, never the lock: seconds vary)."""
    stats = solution.context.stats if solution.context is not None else None
    return stats.as_json() if stats is not None else None


def pools_json(solution) -> dict:
    """The `--json` shape of the issue: one entry per (workload, market) pool, then the total."""
    from newinfra.cost_model.spread import zone_key

    rows = [{"name": p.workload, "cloud": p.cloud, "region": p.region, "zone": zone_key(p.zones),
             "instanceType": p.instance_type, "nodes": p.nodes, "market": p.market,
             "hourlyUsd": p.hourly_usd, "accelerator": p.accelerator,
             "acceleratorsPerNode": p.accelerators_per_node}
            for plan in solution.plans for p in plan.placements]
    return {
        "workloads": rows,
        "monthlyUsd": solution.monthly_usd,
        "egressUsdPerMonth": round(sum(p.egress_usd for p in solution.plans), 2),
        "regionsUsdPerMonth": solution.open_usd,
        "regions": [{"key": list(ch.key), "what": ch.what, "monthlyUsd": round(ch.monthly_usd, 2),
                     "unpriced": list(ch.unpriced)} for ch in solution.opened],
        "leftOut": [{"name": lo.workload, "priority": lo.priority, "reason": lo.reason}
                    for lo in solution.left_out],
    }


def read_request_file(path: Path):
    from newinfra.cost_model.validate import RequestError, parse_request

    from newinfra.inputs import InputError, load_yaml

    try:
        data = load_yaml(Path(path), "request file")
    except InputError as err:
        raise Failure(str(err), EXIT_BAD_INPUT) from None
    if isinstance(data, dict):  # the stack config's namespaced keys work too
        data = {k.removeprefix("newinfra:") if isinstance(k, str) else k: v for k, v in data.items()}
    try:
        return parse_request(data, where=str(path))
    except RequestError as err:
        raise Failure(str(err), EXIT_BAD_INPUT) from None


def solve_request(path: Path, as_json: bool, catalog_path: Path | None = None) -> int:
    """`python -m newinfra.cost_model solve`: nothing is written; prints the choice (and the report without --json)."""
    from newinfra.cost_model.explain import baselines, binding_constraints, report
    from newinfra.cost_model.model import Infeasible, SolverLimit, solve

    try:
        request = read_request_file(path)
        cat = load_catalog_checked(catalog_path)
        checked(request, cat, str(path))
        try:
            solution = solve(request, cat)
        except Infeasible as err:
            raise Failure(f"infeasible: {err}", EXIT_INFEASIBLE) from None
        except SolverLimit as err:
            raise Failure(f"no plan: {err}", SOLVER_LIMIT) from None
    except Failure as f:
        print(f"error: {f}", file=sys.stderr)
        return f.code
    if as_json:
        print(json.dumps({**pools_json(solution), "catalogVersion": cat.version, "solver": solver_json(solution)},
                         indent=2, sort_keys=True))
    else:
        lines = report(Path(path).name, solution, baselines(request, cat, solution),
                       binding_constraints(solution))
        print("\n".join(lines).replace("newinfra place", "solve", 1))
    return 0
