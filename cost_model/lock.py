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
from newinfra.cost_model.hosts import placement_problem
from newinfra.cost_model.markets import committed_usd, pools_monthly_usd
from newinfra.cost_model.request import PlacementRequest, Workload, variant_for
from newinfra.cost_model.spread import SPREAD_ZONES, find_offer, spread_ok, spreads

from newinfra.inputs import listing
from newinfra.placement import Placement

if TYPE_CHECKING:  # reading a lock (every `pulumi up`) must not pay for scipy
    from newinfra.cost_model.model import Solution

LOCK_FORMAT = 1


class StaleLock(Exception):
    """The lock is missing or was made for another config or catalog; the message says what to run."""


# Keys added after locks were first written: hashed only when set, so a lock that predates them stays valid
# for a config that does not use them (its hash is the same text as before).
_LATER_KEYS = {"allowLocalZones": False, "optInRegions": [], "reservations": [], "capacityBlocks": [],
               "markets": {"spot": {"interruptionsPerDay": {}, "restartHours": 0.0},
                           "flexStart": {"priceFactor": None, "maxRunHours": 168.0, "startDelayHours": 0.0}}}
_LATER_WORKLOAD_KEYS = {"cpusPerAccelerator": None, "memoryGbPerAccelerator": None, "accelerators": None,
                        "startBy": None,
                        "maxStartDelayHours": None}
_LATER_DATASET_KEYS = {"cache": None}


def _drop_unset(data: dict, defaults: dict) -> None:
    for key, default in defaults.items():
        if key in data and data[key] == default:
            del data[key]


def request_hash(request: PlacementRequest) -> str:
    """sha256 of the request's canonical JSON (sorted keys, camelCase, no whitespace). The request is
    validated once more first so that defaults get the same normal form as written values (sorted clouds)."""
    canonical = PlacementRequest.model_validate(request.model_dump(by_alias=True))
    data = canonical.model_dump(by_alias=True, mode="json")
    _drop_unset(data, _LATER_KEYS)
    for w in data["workloads"]:
        _drop_unset(w, _LATER_WORKLOAD_KEYS)
    for d in data.get("datasets", []):
        _drop_unset(d, _LATER_DATASET_KEYS)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def render(doc: dict) -> str:
    return json.dumps(doc, sort_keys=True, indent=2) + "\n"


class BadLock(ValueError):
    """A lock newinfra did not write (or that was edited into a wrong shape): one line naming the file, the key,
    the value and what is valid. Bad input (exit 2), never read as a stale lock that could be solved around."""


class InvalidLock(BadLock):
    """The lock's hashes match but its content breaks the config or the catalog (edited by hand): the message
    names the lock file, the workload, the field, the locked value and what is allowed. Never re-solved over
    silently: the program stops, `newinfra place` rewrites it."""


def read_lock(path: Path) -> dict | None:
    """The lock's document, checked for shape; None when there is no lock. Raises BadLock."""
    from newinfra.inputs import InputError, load_json

    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return None
    try:
        doc = load_json(path, "placement lock")
    except InputError as err:
        raise BadLock(f"{err}; {_fix(path)}") from None
    return check_lock_shape(doc, path)


def parse_lock(text: str, path: Path) -> dict:
    """A lock's text from elsewhere (the base branch), checked the same way. Raises BadLock."""
    from newinfra.inputs import InputError, parse_json

    try:
        return check_lock_shape(parse_json(text, str(path)), path)
    except InputError as err:
        raise BadLock(f"{err}; {_fix(path)}") from None


def _fix(path: Path) -> str:
    return f"restore it from git or delete it and run `newinfra place {Path(path).stem}`"


def check_lock_shape(doc: object, path: Path) -> dict:
    """The keys newinfra reads from a lock hold what it wrote: workloads of valid placements, parseable
    exclusions, numbers where totals are. Raises BadLock naming the first bad key."""
    from pydantic import ValidationError

    from newinfra.inputs import echo

    def bad(key: str, value: object, valid: str) -> BadLock:
        return BadLock(f"{path}: {key}: {echo(value)} is not valid: expected {valid}; {_fix(path)}")

    if not isinstance(doc, dict):
        raise bad("(document)", doc, "a JSON object with format, configHash, workloads, ...")
    for key in ("configHash", "catalogVersion"):
        if key in doc and not isinstance(doc[key], str):
            raise bad(key, doc[key], "a string")
    workloads = doc.get("workloads", {})
    if not isinstance(workloads, dict):
        raise bad("workloads", workloads, "an object of workload name -> {placements: [...]}")
    for name, entry in workloads.items():
        placements = entry.get("placements") if isinstance(entry, dict) else None
        if not isinstance(placements, list):
            raise bad(f"workloads.{name}", entry, "an object with a placements list")
        for i, p in enumerate(placements):
            where = f"workloads.{name}.placements[{i}]"
            try:
                placement = Placement.model_validate(p)
            except ValidationError as err:
                e = err.errors()[0]
                sub = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in e["loc"])
                raise BadLock(f"{path}: {where}{sub}: {echo(e.get('input'))} is not valid: {e['msg']}; "
                              f"{_fix(path)}") from None
            if placement.workload != name:
                raise bad(f"{where}.workload", placement.workload, f"the workload's name {name!r}")
    exclusions = doc.get("exclusions", [])
    if not isinstance(exclusions, list) or not all(isinstance(e, str) for e in exclusions):
        raise bad("exclusions", exclusions, "a list of CLOUD/REGION[/ZONE][:TYPE] strings")
    for i, text in enumerate(exclusions):
        try:
            Exclusion.parse(text)
        except ValueError:
            raise bad(f"exclusions[{i}]", text, "CLOUD/REGION[/ZONE][:TYPE], e.g. aws/us-east-1/use1-az4") from None
    totals = doc.get("totals", {})
    if not isinstance(totals, dict) or not all(isinstance(v, int | float) and not isinstance(v, bool)
                                               for v in totals.values()):
        raise bad("totals", totals, "an object of numbers (hourlyUsd, monthlyUsd)")
    bill = doc.get("bill", {})
    if not isinstance(bill, dict) or not all(isinstance(v, int | float) and not isinstance(v, bool)
                                             for v in bill.values()):
        raise bad("bill", bill, "an object of resource URN -> monthly USD")
    if "priceDate" in doc and not isinstance(doc["priceDate"], str | None):
        raise bad("priceDate", doc["priceDate"], "a date (YYYY-MM-DD)")
    return doc


def locked_placements(doc: dict | None) -> dict[str, tuple[Placement, ...]]:
    if not doc:
        return {}
    return {name: tuple(Placement.model_validate(p) for p in entry["placements"])
            for name, entry in sorted(doc.get("workloads", {}).items())}


def lock_document(request: PlacementRequest, catalog, solution: Solution, exclusions: tuple[Exclusion, ...],
                  alternatives: dict[str, list[dict]] | None = None,
                  failover: dict[str, list[dict]] | None = None) -> dict:
    """``failover``: per workload, the next offers in order (explain.failover), written as each entry's
    failover order; without it (a bare solve) the key is left out."""
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
        if failover is not None:
            workloads[plan.workload]["failover"] = failover.get(plan.workload, [])
        w = next((w for w in request.workloads if w.name == plan.workload), None)
        if w is not None and w.accelerators is not None and plan.placements:
            workloads[plan.workload]["anyOf"] = any_of_entry(w, plan.placements, catalog)
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
            # the solver's objective: hours x hourly per workload + egress + what the regions cost to open;
            # monthlyUsd (the whole bill, `with_bill`) adds everything else the program creates
            "placementsUsdPerMonth": solution.monthly_usd,
            "egressUsdPerMonth": round(sum(p.egress_usd for p in solution.plans), 2),
            "regionsUsdPerMonth": solution.open_usd,
        },
        **({"reservations": {"committedUsdPerMonth": committed_usd(request, catalog),
                             "note": "paid whether used or not; counted once, outside placementsUsdPerMonth"}}
           if request.reservations else {}),
        "regions": [{"key": list(ch.key), "what": ch.what, "monthlyUsd": round(ch.monthly_usd, 2),
                     "unpriced": list(ch.unpriced)} for ch in solution.opened],
    }


BILL_KEYS = ("bill", "priceDate")  # and totals.monthlyUsd / maxMonthlyUsd: what `with_bill` adds


def with_bill(doc: dict, bill) -> dict:
    """The lock with the whole bill of the program it places (pricebook.bill.Bill of its record): totals
    monthlyUsd / maxMonthlyUsd, the price date and each priced resource's monthly figure, so a pull request
    shows the bill's change per resource and `check`, the plan summary and the comment give the same total."""
    t = bill.totals
    return {**doc, "totals": {**doc["totals"], "monthlyUsd": t.monthly_usd, "maxMonthlyUsd": t.max_monthly_usd},
            "priceDate": t.price_date, "bill": {p.urn: p.monthly_usd for p in bill.priced}}


def without_bill(doc: dict | None) -> dict | None:
    """``doc`` less what `with_bill` added: what the solver decided."""
    if not isinstance(doc, dict):
        return doc
    totals = doc.get("totals") if isinstance(doc.get("totals"), dict) else {}
    rest = {k: v for k, v in doc.items() if k not in BILL_KEYS}
    return {**rest, "totals": {k: v for k, v in totals.items() if k not in ("monthlyUsd", "maxMonthlyUsd")}} \
        if "totals" in doc else rest


def write_if_changed(path: Path, doc: dict) -> bool:
    """Write the lock only when its bytes change; returns whether it was written."""
    text = render(doc)
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    from newinfra.atomic import write_text

    write_text(path, text)  # a unique temp file, fsynced, renamed: never a torn or empty lock
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
        old_cost = pools_monthly_usd(request, locked_variant(w, kept, catalog)[0].hours_per_month, kept) + \
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
    return 0.0 if ds is None else dataset_egress_usd(catalog, ds, p.cloud, p.region)


def dataset_egress_usd(catalog, ds, cloud: str, region: str) -> float:
    """What a workload in (cloud, region) pays each month to read dataset ``ds`` from its home: the one
    egress figure of the solver, the lock and the bill."""
    return catalog.egress_usd_per_gb(ds.home_cloud, ds.home_region, cloud, region) * ds.read_gb


def _same(a: tuple[Placement, ...], b: tuple[Placement, ...]) -> bool:
    def key(ps):
        return (sorted((p.cloud, p.region, p.zones, p.instance_type, p.market, p.nodes) for p in ps))
    return key(a) == key(b)


def any_of_entry(w: Workload, placements, catalog) -> dict:
    """What the lock says of an any-of choice: the accelerator chosen, its relative speed, and the count and
    hours that speed gives (capped: hours / speed passed 744, so the count grew instead of the hours)."""
    v, accel = locked_variant(w, placements, catalog)
    speed = next(s for n, s in w.choices if catalog.normalise_accelerator(n) == accel)
    return {"chosen": accel, "speed": speed, "count": v.count, "hoursPerMonth": v.hours_per_month,
            "capped": w.kind != "inference" and w.hours_per_month / speed > v.hours_per_month + 1e-9,
            "accepted": dict(w.choices)}


def locked_variant(w: Workload, placements, catalog) -> tuple[Workload, str]:
    """(``w`` as it runs on the accelerator of its locked pools, that accelerator's catalog name): any-of
    workloads take the count and hours of the accelerator chosen. Raises ValueError for one it does not accept."""
    if w.accelerators is None:
        return w, catalog.normalise_accelerator(w.accelerator)
    accel = placements[0].accelerator if placements else ""
    return variant_for(w, accel, catalog.normalise_accelerator), accel


def still_valid(w: Workload, placements: tuple[Placement, ...], request: PlacementRequest, catalog,
                exclusions: tuple[Exclusion, ...]) -> tuple[Placement, ...] | None:
    """The locked pools with today's prices if they still meet the workload's request, else None."""
    try:
        w, accel = locked_variant(w, placements, catalog)
    except ValueError:
        return None
    out = []
    accelerators = spot = nodes = 0
    for p in placements:
        offer = find_offer(catalog.offers_for(accel), p.cloud, p.region, p.zones, p.instance_type,
                           p.accelerators_per_node)
        if spreads(w, request.profile) and not spread_ok(p.zones) or \
                not spreads(w, request.profile) and len(p.zones) != 1:  # spread over zones, or one zone
            return None
        if offer is None or p.cloud not in request.allowed_clouds or not request.region_allowed(w, p.region):
            return None
        if any(e.matches(offer) for e in exclusions):
            return None
        if placement_problem(w, accel, offer, request) is not None:
            return None
        if w.per_node is not None and p.accelerators_per_node != w.per_node:
            return None
        price = _market_price(request, offer, p)
        if price is None or (p.market == "spot" and not w.spot) or _market_problem(request, w, p) is not None:
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


def stale_reasons(request: PlacementRequest, doc: dict, catalog) -> list[str]:
    """Why the lock was made for another config or catalog ([] when both hashes match)."""
    problems = []
    if doc.get("configHash") != request_hash(request):
        problems.append("the stack config changed since it was written (configHash differs)")
    if doc.get("catalogVersion") != catalog.version:
        problems.append(f"it was made with catalog {doc.get('catalogVersion')}, this is {catalog.version}")
    return problems


def load_placements(request: PlacementRequest, lock_path: Path, catalog) -> tuple[Placement, ...]:
    """The locked placements priced from the catalog; StaleLock when the lock is missing or made for another
    config/catalog, InvalidLock when its content breaks the config or the catalog (see `review_lock`)."""
    env = _env(lock_path)
    doc = read_lock(lock_path)
    if doc is None:
        raise StaleLock(f"{lock_path}: no placement lock; run `newinfra place {env}` and commit the lock")
    problems = stale_reasons(request, doc, catalog)
    if problems:
        raise StaleLock(f"{lock_path}: stale placement lock: {'; '.join(problems)}; run `newinfra place {env}`")
    review = review_lock(request, doc, catalog)
    if review.problems:
        raise InvalidLock(f"{lock_path}: the lock breaks the config or the catalog: {'; '.join(review.problems)}; "
                          f"run `newinfra place {env}` to rewrite it")
    return review.placements


@dataclass
class LockReview:
    """A lock checked against the config and the catalog. `placements` and the figures are recomputed from
    the catalog (the lock's own prices are never used); `problems` names every rule the lock breaks."""

    rules: list[str] = field(default_factory=list)  # config or catalog rules the placements break
    figures: list[str] = field(default_factory=list)  # recorded prices and totals that differ from the catalog
    placements: tuple[Placement, ...] = ()
    monthly_usd: dict[str, float] = field(default_factory=dict)  # workload -> recomputed monthly cost
    regions_usd: float = 0.0  # what opening the placements' regions costs (cost_model/open_costs.py)

    @property
    def problems(self) -> list[str]:
        return self.rules + self.figures

    @property
    def total_monthly_usd(self) -> float:
        return round(sum(self.monthly_usd.values()) + self.regions_usd, 2)


def _num(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _close(locked, actual: float, tol: float) -> bool:
    got = _num(locked)
    return got is not None and abs(got - actual) <= tol


def _offer(catalog, p: Placement):
    """The catalog offer of a placement: zonal, or region-level over its zones (cost_model/spread.py)."""
    return find_offer(catalog.offers, p.cloud, p.region, p.zones, p.instance_type, p.accelerators_per_node,
                      p.accelerator)


def _market_price(request: PlacementRequest, offer, p: Placement) -> float | None:
    from newinfra.cost_model.markets import market_price

    return market_price(request, offer, p)


def _market_problem(request: PlacementRequest, w: Workload, p: Placement) -> str | None:
    """Why workload w may not use p's market (flex-start's wait and run length, a Capacity Block's duration and
    start)."""
    from newinfra.cost_model.markets import block_in_time, capacity_block_for, flex_start_allowed

    if p.market == "flex-start" and not flex_start_allowed(request, w):
        fs = request.markets.flex_start
        return (f"market: locked 'flex-start'; the workload runs {w.hours_per_month:g} h (flex-start allows "
                f"{fs.max_run_hours:g}) or waits at most {w.max_start_delay_hours} h (expected "
                f"{fs.start_delay_hours:g})")
    block = capacity_block_for(request, p) if p.market == "capacity-block" else None
    if block is not None and w.hours_per_month > block.duration_hours + 1e-9:
        return (f"market: locked 'capacity-block'; the workload runs {w.hours_per_month:g} h, the block lasts "
                f"{block.duration_hours:g} h")
    if block is not None and not block_in_time(block, w):
        return f"market: locked 'capacity-block'; the block starts {block.start}, after the workload's startBy {w.start_by}"
    return None


def review_lock(request: PlacementRequest, doc: dict, catalog) -> LockReview:
    """Check a lock against the request and the catalog: every workload present once (placed or left out),
    each placement inside allowedClouds, dataResidency, the exclusions, the workload's shape and spot rules,
    offered by the catalog in that zone and market, the quotas, and every recorded price equal to the
    catalog's. Prices and totals are recomputed from the catalog whatever the lock says."""
    from newinfra.cost_model.catalog.quota import quota_family, quota_units

    review = LockReview()
    bad = review.rules
    entries = doc.get("workloads")
    left = doc.get("leftOut")
    if not isinstance(entries, dict) or not isinstance(left, list) or \
            not all(isinstance(lo, dict) and isinstance(lo.get("workload"), str) for lo in left):
        bad.append("workloads must be a mapping and leftOut a list of {workload, ...}; the lock is not one "
                   "`newinfra place` writes")
        return review
    wanted = {w.name: w for w in request.workloads}
    left_names = [lo["workload"] for lo in left]
    for name in sorted(set(wanted) - set(entries) - set(left_names)):
        bad.append(f"workloads.{name}: missing (neither placed nor left out); the config asks for it")
    for name in sorted(set(entries) - set(wanted)):
        bad.append(f"workloads.{name}: not a workload of the config; valid: {listing(sorted(wanted))}")
    for name in sorted(set(left_names) - set(wanted)):
        bad.append(f"leftOut.{name}: not a workload of the config; valid: {listing(sorted(wanted))}")
    for name in sorted({n for n in left_names if left_names.count(n) > 1} | (set(left_names) & set(entries))):
        bad.append(f"leftOut.{name}: listed more than once or also placed")
    try:
        exclusions = parse_exclusions(doc.get("exclusions", []))
    except (ValueError, TypeError) as err:
        bad.append(f"exclusions: {err}")
        exclusions = ()
    quota_use = [0.0] * len(request.quotas)
    placements: list[Placement] = []
    for name in sorted(set(entries) & set(wanted)):
        w, entry = wanted[name], entries[name]
        if w.placement is not None:  # written in the config: the program uses the config's, not the lock's
            continue
        key = f"workloads.{name}"
        try:
            locked = tuple(Placement.model_validate(p) for p in entry["placements"])
        except (KeyError, TypeError, ValueError) as err:
            bad.append(f"{key}.placements: not valid placements ({str(err).splitlines()[0]})")
            continue
        if not locked:
            bad.append(f"{key}.placements: empty; a placed workload needs at least one pool")
            continue
        priced, hourly = _review_workload(key, w, locked, request, catalog, exclusions, bad, review.figures,
                                          quota_use, quota_family, quota_units)
        if priced is None:
            continue
        placements += priced
        egress = _egress(request, catalog, w, priced[0])
        monthly = round(pools_monthly_usd(request, locked_variant(w, priced, catalog)[0].hours_per_month, priced)
                        + egress, 6)
        review.monthly_usd[name] = monthly
        for field_, locked_value, actual, tol in (("hourlyUsd", entry.get("hourlyUsd"), hourly, 1e-6),
                                                  ("egressUsdPerMonth", entry.get("egressUsdPerMonth"), egress, 0.01),
                                                  ("monthlyUsd", entry.get("monthlyUsd"), monthly, 0.01)):
            if not _close(locked_value, actual, tol):
                review.figures.append(f"{key}.{field_}: locked {locked_value!r}, the catalog gives {round(actual, 6)}")
    bad += _owned_overuse(request, [p for name in sorted(set(entries) & set(wanted))
                                     for p in _placements_of(entries[name])])
    for q, used in zip(request.quotas, quota_use, strict=True):
        if used > q.limit + 1e-9:
            bad.append(f"quotas: {q.cloud}/{q.region}/{q.family} ({q.market}): the locked pools use {used:g}, "
                       f"the limit is {q.limit:g}")
    if not bad:
        review.regions_usd = _regions_usd(request, placements)
        totals = doc.get("totals") if isinstance(doc.get("totals"), dict) else {}
        if "regionsUsdPerMonth" in totals and not _close(totals["regionsUsdPerMonth"], review.regions_usd, 0.01):
            review.figures.append(f"totals.regionsUsdPerMonth: locked {totals['regionsUsdPerMonth']!r}, the price "
                                  f"book gives {review.regions_usd}")
        total_hourly = round(sum(p.hourly_usd for p in placements), 6)
        if not _close(totals.get("hourlyUsd"), total_hourly, 1e-4):
            review.figures.append(f"totals.hourlyUsd: locked {totals.get('hourlyUsd')!r}, the catalog gives "
                                  f"{total_hourly}")
        if not _close(totals.get("placementsUsdPerMonth"), review.total_monthly_usd, 0.02):
            review.figures.append(f"totals.placementsUsdPerMonth: locked {totals.get('placementsUsdPerMonth')!r}, "
                                  f"the catalog gives {review.total_monthly_usd}")
    review.placements = tuple(sorted(placements, key=lambda p: (p.workload, p.market)))
    return review


def _placements_of(entry) -> list[Placement]:
    try:
        return [Placement.model_validate(p) for p in entry["placements"]]
    except (KeyError, TypeError, ValueError):
        return []


def _owned_overuse(request: PlacementRequest, placements: list[Placement]) -> list[str]:
    """Reservations and Capacity Blocks hold only their size: the locked pools on each, summed."""
    from newinfra.cost_model.markets import capacity_block_for, reservation_for

    out = []
    for kind, items, find in (("reservations", request.reservations, reservation_for),
                              ("capacityBlocks", request.capacity_blocks, capacity_block_for)):
        market = "reserved" if kind == "reservations" else "capacity-block"
        for i, item in enumerate(items):
            used = sum(p.nodes for p in placements if p.market == market and find(request, p) is item)
            if used > item.count:
                out.append(f"{kind}[{i}]: the locked pools use {used} nodes of {item.instance_type} in "
                           f"{item.region}; it holds {item.count}")
    return out


def _regions_usd(request: PlacementRequest, placements: list[Placement]) -> float:
    """The regions' opening costs of the locked placements and the config's pinned ones, each charge once,
    from the same price book functions the solver used."""
    from types import SimpleNamespace

    from newinfra.cost_model.open_costs import opened

    pinned = [p for w in request.workloads for p in (w.placement or ())]
    by_workload: dict[str, list[Placement]] = {}
    for p in [*placements, *pinned]:
        by_workload.setdefault(p.workload, []).append(p)
    plans = [SimpleNamespace(workload=name, placements=ps) for name, ps in sorted(by_workload.items())]
    return round(sum(ch.monthly_usd for ch in opened(request, plans)), 2)


def _review_workload(key, w: Workload, locked, request, catalog, exclusions, bad, figures, quota_use,
                     quota_family, quota_units) -> tuple[tuple[Placement, ...] | None, float]:
    """One workload's locked pools checked and priced from the catalog, or (None, 0) with `bad` extended."""
    start = len(bad)
    try:
        w, accel = locked_variant(w, locked, catalog)
    except ValueError:
        if w.accelerators is not None:
            bad.append(f"{key}.placements[0].accelerator: locked {locked[0].accelerator!r}; the workload accepts "
                       f"{listing([n for n, _ in w.choices])}")
            return None, 0.0
        accel = w.accelerator
    out = []
    for j, p in enumerate(locked):
        at = f"{key}.placements[{j}]"
        if p.workload != w.name:
            bad.append(f"{at}.workload: locked {p.workload!r}, the entry is {w.name!r}")
        if p.cloud not in request.allowed_clouds:
            bad.append(f"{at}.cloud: locked {p.cloud!r}; allowedClouds: {listing(request.allowed_clouds)}")
            continue
        if not request.region_allowed(w, p.region):
            ds = request.dataset(w.dataset)
            bad.append(f"{at}.region: locked {p.region!r}; dataResidency.{ds.classification} (dataset "
                       f"{ds.name}) allows {listing(request.allowed_regions(w))}")
            continue
        if p.accelerator != accel:
            bad.append(f"{at}.accelerator: locked {p.accelerator!r}; the workload asks for {accel!r}")
            continue
        if p.runs_on != w.runs_on:
            bad.append(f"{at}.runsOn: locked {p.runs_on!r}; the workload runs on {w.runs_on!r}")
        if spreads(w, request.profile) and not spread_ok(p.zones):
            bad.append(f"{at}.zones: locked {list(p.zones)}; an inference workload in a production profile runs "
                       f"in at least {SPREAD_ZONES} zones of its region")
            continue
        if not spreads(w, request.profile) and len(p.zones) != 1:
            bad.append(f"{at}.zones: locked {list(p.zones)}; a pool runs in exactly one zone")
            continue
        offer = _offer(catalog, p)
        if offer is None:
            zones = sorted({o.zone for o in catalog.offers if (o.cloud, o.region, o.instance_type) ==
                            (p.cloud, p.region, p.instance_type)})
            bad.append(f"{at}: locked {p.instance_type} with {p.accelerators_per_node} x {p.accelerator} in "
                       f"{p.cloud}/{p.region}/{p.zones[0]}; the catalog offers it there in zones {zones}"
                       if zones else f"{at}.instanceType: locked {p.instance_type!r}; the catalog offers no "
                       f"{p.instance_type} with {p.accelerators_per_node} x {p.accelerator} in {p.cloud}/{p.region}")
            continue
        price = _market_price(request, offer, p)
        if price is None:
            from newinfra.cost_model.markets import ALL_MARKETS

            markets = [m for m in ALL_MARKETS if _market_price(request, offer, p.model_copy(update={"market": m}))
                       is not None]
            bad.append(f"{at}.market: locked {p.market!r}; the catalog offers {p.instance_type} in "
                       f"{p.cloud}/{p.zones[0]} as {markets}")
            continue
        if p.market == "spot" and not w.spot:
            bad.append(f"{at}.market: locked 'spot'; the workload has spot: false")
        if (why := _market_problem(request, w, p)) is not None:
            bad.append(f"{at}.{why}")
        if any(e.matches(offer) for e in exclusions):
            bad.append(f"{at}: {p.cloud}/{p.region}/{p.zones[0]}:{p.instance_type} is in the lock's exclusions")
        problem = placement_problem(w, accel, offer, request)
        if problem is not None:
            bad.append(f"{at}: {problem}")
        if w.per_node is not None and p.accelerators_per_node != w.per_node:
            bad.append(f"{at}.acceleratorsPerNode: locked {p.accelerators_per_node}; perNode is {w.per_node}")
        top = max(w.nodes.max if w.nodes else p.nodes, p.nodes, 1)
        if p.max_nodes > top:  # the autoscaler's ceiling is what the budget must hold
            bad.append(f"{at}.maxNodes: locked {p.max_nodes}; the workload allows at most {top}")
        if p.node_hourly_usd is None or abs(p.node_hourly_usd - price) > 1e-6:
            figures.append(f"{at}.nodeHourlyUsd: locked {p.node_hourly_usd!r}, the catalog's {p.market} price for "
                       f"{p.instance_type} in {p.cloud}/{p.zones[0]} is {price}")
        try:
            family, units = quota_family(offer, p.market), quota_units(offer)
        except ValueError:
            family, units = None, 0.0
        for qi, q in enumerate(request.quotas):
            if (q.cloud, q.region, q.family) == (p.cloud, p.region, family) and q.market in ("any", p.market):
                quota_use[qi] += p.nodes * units
        out.append(p.model_copy(update={"node_hourly_usd": price}))
    if len(bad) > start:
        return None, 0.0
    if len({(p.cloud, p.region, p.zones) for p in out}) != 1:
        bad.append(f"{key}.placements: pools in {sorted({'/'.join((p.cloud, p.zones[0])) for p in out})}; "
                   f"a workload's pools share one zone")
        return None, 0.0
    accelerators = sum(p.nodes * p.accelerators_per_node for p in out)
    nodes = sum(p.nodes for p in out)
    spot = sum(p.nodes for p in out if p.market == "spot")
    if (accelerators != w.count) if w.per_node else (accelerators < w.count):
        bad.append(f"{key}.placements: locked {accelerators} x {accel} in all; the workload's count is {w.count}")
    if w.nodes is not None and w.per_node is None and not w.nodes.min <= nodes <= w.nodes.max:
        bad.append(f"{key}.placements: locked {nodes} nodes; nodes allows {w.nodes.min}..{w.nodes.max}")
    if spot > w.spot_share_cap * nodes + 1e-9:
        bad.append(f"{key}.placements: locked {spot} of {nodes} nodes on spot; maxSpotShare allows "
                   f"{w.spot_share_cap:g}")
    if len(bad) > start:
        return None, 0.0
    return tuple(out), round(sum(p.nodes * p.node_hourly_usd for p in out), 6)


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


def shrinks(previous: dict | None, solution: Solution, request: PlacementRequest, catalog) -> list[str]:
    """What a new plan takes away from the previous lock, one line per workload of today's config with its
    monthly cost (priced from the catalog): left out, fewer nodes, a pool removed. [] when nothing shrinks."""
    try:
        old = locked_placements(previous)
    except (KeyError, TypeError, ValueError):  # not a lock `place` writes: there is nothing to compare
        return []
    wanted = {w.name: w for w in request.workloads}
    new = {p.workload: p for p in solution.plans}
    left = {lo.workload: lo.reason for lo in solution.left_out}

    def monthly(w: Workload, ps) -> float:
        priced = []
        for p in ps:
            offer = _offer(catalog, p)
            price = _market_price(request, offer, p) if offer is not None else None
            priced.append(p.model_copy(update={"node_hourly_usd": price if price is not None else
                                               p.node_hourly_usd or 0.0}))
        try:
            hours = locked_variant(w, ps, catalog)[0].hours_per_month
        except ValueError:
            hours = w.hours_per_month
        return pools_monthly_usd(request, hours, priced) + (_egress(request, catalog, w, ps[0]) if ps else 0.0)

    out = []
    for name in sorted(set(old) & set(wanted)):
        was, w = old[name], wanted[name]
        cost = monthly(w, was)
        plan_ = new.get(name)
        if plan_ is None:
            why = left.get(name, "it is not in the new plan")
            out.append(f"{name}: left out (was {sum(p.nodes for p in was)} nodes, ${cost:,.2f}/month): {why}")
            continue
        before, after = sum(p.nodes for p in was), sum(p.nodes for p in plan_.placements)
        if after < before:
            out.append(f"{name}: {before} -> {after} nodes (${cost:,.2f} -> "
                       f"${monthly(w, plan_.placements):,.2f}/month)")
        gone = sorted({p.pool_name for p in was} - {p.pool_name for p in plan_.placements})
        if gone:
            out.append(f"{name}: pool {', '.join(gone)} removed (was ${cost:,.2f}/month)")
    return out
