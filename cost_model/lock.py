"""The placement lock `stacks/placements/<env>.json`: what `newinfra place` decided, reviewed like code.

Byte-stable (sorted keys, 2-space indent, trailing newline, no timestamps); it records the catalog version and
a hash of the request so that `pulumi up` refuses a lock that no longer matches the config or the catalog.
No churn: with a lock present a workload moves only when the saving reaches the threshold, and under the
production profile only with --accept; otherwise its locked placement is kept while it still meets the request.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from newinfra.cost_model.exclusions import Exclusion, parse_exclusions
from newinfra.cost_model.request import PlacementRequest, Workload

from newinfra.placement import Placement

if TYPE_CHECKING:  # reading a lock (every `pulumi up`) must not pay for scipy
    from newinfra.cost_model.model import Solution

LOCK_FORMAT = 1


class StaleLock(Exception):
    """The lock is missing or was made for another config or catalog; the message says what to run."""


def request_hash(request: PlacementRequest) -> str:
    """sha256 of the request's canonical JSON (sorted keys, camelCase, no whitespace). The request is
    validated once more first so that defaults get the same normal form as written values (sorted clouds)."""
    canonical = PlacementRequest.model_validate(request.model_dump(by_alias=True))
    text = json.dumps(canonical.model_dump(by_alias=True, mode="json"), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def render(doc: dict) -> str:
    return json.dumps(doc, sort_keys=True, indent=2) + "\n"


def read_lock(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise StaleLock(f"{path}: not a placement lock ({err}); run `newinfra place {Path(path).stem}`") from None


def locked_placements(doc: dict | None) -> dict[str, tuple[Placement, ...]]:
    if not doc:
        return {}
    return {name: tuple(Placement.model_validate(p) for p in entry["placements"])
            for name, entry in sorted(doc.get("workloads", {}).items())}


def lock_document(request: PlacementRequest, catalog, solution: Solution, exclusions: tuple[Exclusion, ...],
                  alternatives: dict[str, list[dict]] | None = None) -> dict:
    alternatives = alternatives or {}
    workloads = {}
    for plan in solution.plans:
        workloads[plan.workload] = {
            "placements": [p.to_file() for p in plan.placements],
            "hourlyUsd": plan.hourly_usd,
            "monthlyUsd": round(plan.monthly_usd, 2),
            "egressUsdPerMonth": round(plan.egress_usd, 2),
            "pinned": plan.pinned,
            "alternatives": alternatives.get(plan.workload, []),
        }
    return {
        "format": LOCK_FORMAT,
        "catalogVersion": catalog.version,
        "configHash": request_hash(request),
        "exclusions": [str(e) for e in exclusions],
        "workloads": workloads,
        "leftOut": [{"workload": lo.workload, "priority": lo.priority, "reason": lo.reason}
                    for lo in solution.left_out],
        "totals": {
            "hourlyUsd": round(sum(p.hourly_usd for p in solution.plans), 6),
            "monthlyUsd": solution.monthly_usd,
            # monthlyUsd = hours x hourly per workload + egress + what the regions cost to open
            "egressUsdPerMonth": round(sum(p.egress_usd for p in solution.plans), 2),
            "regionsUsdPerMonth": solution.open_usd,
        },
        "regions": [{"key": list(ch.key), "what": ch.what, "monthlyUsd": round(ch.monthly_usd, 2),
                     "unpriced": list(ch.unpriced)} for ch in solution.opened],
    }


def write_if_changed(path: Path, doc: dict) -> bool:
    """Write the lock only when its bytes change; returns whether it was written."""
    text = render(doc)
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


@dataclass
class PlanResult:
    solution: Solution
    held: list[str] = field(default_factory=list)  # moves the churn rules held back, one line each
    moved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan(request: PlacementRequest, catalog, *, previous: dict | None = None,
         exclusions: tuple[Exclusion, ...] = (), threshold: float = 0.10, production: bool = False,
         accept: bool = False) -> PlanResult:
    """Solve, then keep each locked workload where it is unless moving saves >= threshold (and, under the
    production profile, ``accept``)."""
    from newinfra.cost_model.model import Infeasible, solve

    fresh = solve(request, catalog, exclusions=exclusions)
    locked = locked_placements(previous)
    if not locked:
        return PlanResult(fresh)
    result = PlanResult(fresh)
    pins: dict[str, tuple[Placement, ...]] = {}
    for w in request.workloads:
        old = locked.get(w.name)
        new = fresh.plan(w.name)
        if old is None or w.placement is not None or new is None:
            continue
        kept = still_valid(w, old, request, catalog, exclusions)
        if kept is None:
            if not _same(old, new.placements):
                result.moved.append(f"{w.name}: its locked placement no longer meets the request or catalog")
            continue
        if _same(kept, new.placements):
            continue
        old_cost = w.hours_per_month * sum(p.nodes * p.node_hourly_usd for p in kept) + \
            _egress(request, catalog, w, kept[0])
        new_cost = new.monthly_usd
        saving = (old_cost - new_cost) / old_cost if old_cost > 0 else 0.0
        if saving < threshold:
            pins[w.name] = kept
        elif production and not accept:
            pins[w.name] = kept
            result.held.append(f"{w.name}: moving would save {saving:.1%} (${old_cost - new_cost:,.2f}/month) "
                               f"but moves under the production profile need --accept")
        else:
            result.moved.append(f"{w.name}: moves, saving {saving:.1%} (${old_cost - new_cost:,.2f}/month)")
    if not pins:
        return result
    try:
        result.solution = solve(request, catalog, exclusions=exclusions, pins=pins)
    except Infeasible:
        result.notes.append("keeping the locked placements breaks a shared limit; every workload re-planned")
        result.held.clear()
    return result


def _egress(request: PlacementRequest, catalog, w: Workload, p: Placement) -> float:
    ds = request.dataset(w.dataset)
    if ds is None:
        return 0.0
    return catalog.egress_usd_per_gb(ds.home_cloud, ds.home_region, p.cloud, p.region) * ds.read_gb


def _same(a: tuple[Placement, ...], b: tuple[Placement, ...]) -> bool:
    def key(ps):
        return (sorted((p.cloud, p.region, p.zones, p.instance_type, p.market, p.nodes) for p in ps))
    return key(a) == key(b)


def still_valid(w: Workload, placements: tuple[Placement, ...], request: PlacementRequest, catalog,
                exclusions: tuple[Exclusion, ...]) -> tuple[Placement, ...] | None:
    """The locked pools with today's prices if they still meet the workload's request, else None."""
    try:
        accel = catalog.normalise_accelerator(w.accelerator)
    except ValueError:
        return None
    out = []
    accelerators = spot = nodes = 0
    for p in placements:
        offer = next((o for o in catalog.offers_for(accel) if (o.cloud, o.region, o.zone, o.instance_type,
                      o.accelerators_per_node) == (p.cloud, p.region, p.zones[0], p.instance_type,
                                                   p.accelerators_per_node)), None)
        if offer is None or p.cloud not in request.allowed_clouds or not request.region_allowed(w, p.region):
            return None
        if any(e.matches(offer) for e in exclusions):
            return None
        if w.per_node is not None and p.accelerators_per_node != w.per_node:
            return None
        price = offer.on_demand_usd if p.market == "on-demand" else offer.spot_usd
        if price is None or (p.market == "spot" and not w.spot):
            return None
        lo, hi = (w.nodes.min, w.nodes.max) if w.nodes else (p.nodes, p.nodes)
        out.append(p.model_copy(update={"node_hourly_usd": price, "min_nodes": min(lo, p.nodes),
                                        "max_nodes": max(hi, p.nodes, 1), "runs_on": w.runs_on}))
        accelerators += p.nodes * p.accelerators_per_node
        nodes += p.nodes
        spot += p.nodes if p.market == "spot" else 0
    if len({(p.cloud, p.region, p.zones) for p in out}) != 1:
        return None
    need_ok = accelerators == w.count if w.per_node else accelerators >= w.count
    range_ok = w.nodes is None or w.per_node is not None or w.nodes.min <= nodes <= w.nodes.max
    if not need_ok or not range_ok or spot > w.spot_share_cap * nodes + 1e-9:
        return None
    return tuple(out)


def _env(lock_path: Path) -> str:
    return Path(lock_path).stem


def load_placements(request: PlacementRequest, lock_path: Path, catalog) -> tuple[Placement, ...]:
    """The locked placements, or StaleLock when the lock is missing or made for another config/catalog."""
    env = _env(lock_path)
    doc = read_lock(lock_path)
    if doc is None:
        raise StaleLock(f"{lock_path}: no placement lock; run `newinfra place {env}` and commit the lock")
    problems = []
    if doc.get("configHash") != request_hash(request):
        problems.append("the stack config changed since it was written (configHash differs)")
    if doc.get("catalogVersion") != catalog.version:
        problems.append(f"it was made with catalog {doc.get('catalogVersion')}, this is {catalog.version}")
    if problems:
        raise StaleLock(f"{lock_path}: stale placement lock: {'; '.join(problems)}; run `newinfra place {env}`")
    placements = [p for ps in locked_placements(doc).values() for p in ps]
    return tuple(sorted(placements, key=lambda p: (p.workload, p.market)))


def preview_diff(request: PlacementRequest, lock_path: Path, catalog) -> list[str]:
    """Re-solve in memory (the lock's exclusions, churn rules as `place` without --accept) and describe
    each workload whose placement would differ from the lock; [] when they match."""
    env = _env(lock_path)
    doc = read_lock(lock_path)
    if doc is None:
        return [f"{lock_path}: no placement lock; `newinfra place {env}` would create it"]
    from newinfra.cost_model.model import Infeasible

    exclusions = parse_exclusions(doc.get("exclusions", []))
    try:
        result = plan(request, catalog, previous=doc, exclusions=exclusions)
    except Infeasible as err:
        return [f"re-solving fails: {err}"]
    old = locked_placements(doc)
    new = {p.workload: p.placements for p in result.solution.plans}
    lines = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is not None and b is not None and _same(a, b):
            continue
        lines.append(f"{name}: {_describe(a)} -> {_describe(b)}")
    return lines


def _describe(ps: tuple[Placement, ...] | None) -> str:
    if not ps:
        return "(none)"
    return " + ".join(f"{p.nodes} x {p.instance_type} {p.market} in {p.cloud}/{p.region}/{','.join(p.zones)} "
                      f"(${p.hourly_usd:,.2f}/h)" for p in ps)
