"""Solve a PlacementRequest against a catalog: every workload served at least cost, or, when the budget or
the quotas cannot serve everyone, higher priorities first with the left-out workloads named.

`solve()` is the one entry point; it returns a `Solution` or raises `Infeasible` with the constraint
families that cause it (each family relaxed alone and the model re-solved).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from newinfra.cost_model import milp, reduce
from newinfra.cost_model.candidates import (
    FAMILIES,
    MARKETS,
    CandidateBuilder,
    Candidates,
    OfferIndex,
    QuotaRules,
)
from newinfra.cost_model.catalog.schema import Offer
from newinfra.cost_model.exclusions import Exclusion
from newinfra.cost_model.markets import ALL_MARKETS, capacity_block_for, pools_monthly_usd, reservation_for
from newinfra.cost_model.open_costs import Charge, opened
from newinfra.cost_model.request import PlacementRequest, Quota, Workload, variant_for
from newinfra.cost_model.spread import SPREAD_ZONES, spreads, zone_key, zones_of
from scipy.optimize import LinearConstraint

from newinfra.placement import Placement

FAMILY_HELP = {
    "allowedClouds": "allowedClouds",
    "dataResidency": "dataResidency (regions allowed for the dataset's classification)",
    "exclude": "the --exclude list",
    "hostFloor": "the host floor (cpusPerAccelerator / memoryGbPerAccelerator, defaults in cost_model/hosts.py)",
    "optIn": "opt-in capacity (allowLocalZones / optInRegions)",
    "maxSpotShare": "spot / maxSpotShare (on-demand share)",
    "nodes": "nodes (node count range)",
    "quotas": "quotas",
    "monthlyBudgetUsd": "monthlyBudgetUsd",
}


class SolverLimit(Exception):
    """HiGHS stopped at its time limit without any plan: says nothing about feasibility (exit SOLVER_LIMIT)."""


def _no_plan_within_limit(res: Any, columns: int) -> None:
    """scipy's milp status 1: the time (or iteration) limit, with no plan or one not proven cheapest. Either way
    it is no verdict: reporting it as infeasible (as before) sent the diagnosis into more limit-length solves."""
    if res.status == 1:
        found = "before any plan was found" if res.x is None else "before the best plan found was proven cheapest"
        raise SolverLimit(f"the MILP ({columns} columns) reached its {milp.MILP_OPTIONS['time_limit']:g} s "
                          f"time limit {found}; this is no verdict on the request: place fewer workloads at a time "
                          "or narrow their regions")


class Infeasible(Exception):
    """No placement meets the request; `families` are those whose relaxation alone makes it feasible."""

    def __init__(self, message: str, families: tuple[str, ...] = ()):
        super().__init__(message)
        self.families = families


@dataclass(frozen=True)
class Pool:
    offer: Offer
    market: str
    nodes: int
    hourly: float | None = None  # node-hour price in a market beyond on-demand and spot


@dataclass(frozen=True)
class WorkloadPlan:
    workload: str
    placements: tuple[Placement, ...]
    hourly_usd: float
    egress_usd: float  # per month
    monthly_usd: float  # hours per month x hourly + egress
    pinned: bool = False


@dataclass(frozen=True)
class LeftOut:
    workload: str
    priority: int
    reason: str


@dataclass(frozen=True)
class Solution:
    plans: tuple[WorkloadPlan, ...]
    left_out: tuple[LeftOut, ...] = ()
    quota_use: tuple[tuple[Quota, float], ...] = ()
    # the region charges the plans open (control plane, NAT, shared file system), each paid once
    opened: tuple[Charge, ...] = ()
    # filled for explanations: the program of the last solve and the candidates behind it
    context: SolveContext | None = field(default=None, compare=False, repr=False)

    @property
    def workloads_usd(self) -> float:
        """Accelerator nodes and egress of the workloads, without the regions' charges."""
        return round(sum(p.monthly_usd for p in self.plans), 2)

    @property
    def open_usd(self) -> float:
        return round(sum(ch.monthly_usd for ch in self.opened), 2)

    @property
    def monthly_usd(self) -> float:
        return round(sum(p.monthly_usd for p in self.plans) + sum(ch.monthly_usd for ch in self.opened), 2)

    def plan(self, name: str) -> WorkloadPlan | None:
        return next((p for p in self.plans if p.workload == name), None)


@dataclass
class SolveContext:
    request: PlacementRequest
    index: OfferIndex
    builder: CandidateBuilder
    cands: list[Candidates]
    program: milp.Program | None
    quota_left: np.ndarray
    budget_left: float | None
    x: np.ndarray | None = None  # the MILP solution of `program`
    stats: milp.SolveStats | None = None  # time, gap and groups of the all-served solve (reports only)
    pinned: tuple[WorkloadPlan, ...] = ()


_INDEXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def offer_index(catalog, rules: QuotaRules | None = None) -> OfferIndex:
    """One index per catalog object (the build is the costly part of a first solve)."""
    try:
        ix = _INDEXES.get(catalog)
    except TypeError:  # not weak-referenceable: no cache
        return OfferIndex(catalog, rules)
    if ix is None or (rules is not None and ix.rules != rules):
        ix = OfferIndex(catalog, rules)
        _INDEXES[catalog] = ix
    return ix


def accelerator_of(catalog, w: Workload) -> str:
    """The catalog name of a single-accelerator workload's accelerator (any-of: of the first it accepts)."""
    return catalog.normalise_accelerator(w.choices[0][0])


def solve(request: PlacementRequest, catalog, *, exclusions: tuple[Exclusion, ...] = (),
          pins: Mapping[str, tuple[Placement, ...]] | None = None, relax: frozenset[str] = frozenset(),
          rules: QuotaRules | None = None, diagnose: bool = True) -> Solution:
    """All workloads at least cost; if budget or quotas cannot hold them all, by priority (left-out named).
    `pins` (and placements written in the config) are kept as they are and hold their quota and budget."""
    ctx, pinned_plans, empty = _prepare(request, catalog, exclusions, pins, relax, rules)
    args = (request, catalog, exclusions, pins, rules, relax)
    if empty:
        raise _diagnose(*args, _no_offer_lines(empty, request, ctx.builder)) if diagnose else Infeasible("no offer")
    plans = _all_served(ctx)
    left_out: tuple[LeftOut, ...] = ()
    if plans is None:
        # Leaving workloads out is the answer only when budget or quotas are what stands in the way.
        shared = {"quotas", "monthlyBudgetUsd"}
        if not diagnose or shared <= relax or not _feasible_all_served(*args[:5], relax | shared):
            raise _diagnose(*args, []) if diagnose else Infeasible("infeasible")
        plans, left_out = _by_priority(ctx)
        if not plans and not pinned_plans:
            raise _diagnose(*args, [])
    all_plans = tuple(sorted(pinned_plans + plans, key=lambda p: p.workload))
    return Solution(all_plans, left_out, _quota_use(ctx, all_plans, ctx.builder.quotas), opened(request, all_plans),
                    ctx)


def _prepare(request, catalog, exclusions, pins, relax, rules):
    """Candidates per free workload, and the quota and budget the pinned ones leave."""
    ix = offer_index(catalog, rules)
    builder = CandidateBuilder(ix, request, exclusions, frozenset(relax))
    pins = dict(pins or {})
    for w in request.workloads:
        if w.placement is not None:
            pins[w.name] = w.placement
    quota_left = builder.limits()  # quotas, then the owned capacities' nodes
    budget = None if "monthlyBudgetUsd" in relax else request.monthly_budget_usd
    pinned_plans = []
    for w in request.workloads:
        if w.name in pins:
            plan, use = _pinned_plan(w, pins[w.name], ix, builder)
            pinned_plans.append(plan)
            quota_left -= use
    budget_left = None if budget is None else budget - sum(p.monthly_usd for p in pinned_plans)
    cands = [builder.build_workload(w) for w in request.workloads if w.name not in pins]
    empty = [c for c in cands if len(c.offer) == 0]
    return SolveContext(request, ix, builder, cands, None, quota_left, budget_left,
                        pinned=tuple(pinned_plans)), pinned_plans, empty


def _all_served(ctx: SolveContext) -> list[WorkloadPlan] | None:
    fixed = [c for c in ctx.cands if c.fixed is not None]
    open_ = [c for c in ctx.cands if c.fixed is None]
    fixed_cost = sum(c.fixed.monthly_usd for c in fixed)
    plans = [_fixed_plan(c, ctx) for c in fixed]
    # charges that pinned and solver-free workloads open are paid whatever the others do
    paid = opened(ctx.request, list(ctx.pinned) + plans)
    budget = None if ctx.budget_left is None else \
        ctx.budget_left - fixed_cost - sum(ch.monthly_usd for ch in paid)
    if budget is not None and budget < -1e-6:
        return None
    if not open_:
        return plans
    already = frozenset(ch.key for ch in paid)
    # The plans, explanations and LP duals read the unreduced program; the solver gets the exact reduction
    # (cost_model/reduce.py) in the assignment form where it applies, and its plan is mapped back.
    prog = milp.build(open_, ctx.quota_left, budget, served_var=False, already_open=already)
    red = reduce.reduce(open_)
    small = milp.build(red.cands, ctx.quota_left, budget, served_var=False, already_open=already, tight=True,
                       ranks=red.ranks)
    res = milp.solve_decomposed(small)
    _no_plan_within_limit(res, len(small.c))
    if res.status != 0 or res.x is None:
        return None
    x = reduce.lift(prog, open_, red, small, res.x)
    ctx.program, ctx.x, ctx.stats = prog, x, res.stats
    ctx.cands = open_ + fixed
    return plans + [_plan_from(c, prog, x, wi, ctx) for wi, c in enumerate(open_)]


def _by_priority(ctx: SolveContext) -> tuple[list[WorkloadPlan], tuple[LeftOut, ...]]:
    """Lexicographic: most workloads served at the highest priority, then the next level, then cost."""
    cands = ctx.cands
    paid = opened(ctx.request, ctx.pinned)
    budget = None if ctx.budget_left is None else ctx.budget_left - sum(ch.monthly_usd for ch in paid)
    prog = milp.build(cands, ctx.quota_left, budget, served_var=True, already_open=frozenset(ch.key for ch in paid))
    prio = np.array([c.workload.priority for c in cands])
    extra: list[LinearConstraint] = []
    num = len(prog.c)
    for level in sorted(set(prio.tolist()), reverse=True):
        row = np.zeros(num)
        row[prog.s_cols[prio == level]] = 1.0
        res = milp.solve(prog, objective=-row, extra=extra)
        _no_plan_within_limit(res, num)
        if res.status != 0:
            break
        best = round(-res.fun)
        extra.append(LinearConstraint(row[None, :], best - 0.5, np.inf))
    res = milp.solve(prog, extra=extra)
    _no_plan_within_limit(res, num)
    if res.status != 0 or res.x is None:
        return [], ()
    ctx.program, ctx.x = prog, res.x
    served = np.round(res.x[prog.s_cols]).astype(bool)
    plans = [_plan_from(c, prog, res.x, wi, ctx) for wi, c in enumerate(cands) if served[wi]]
    left = tuple(
        LeftOut(c.workload.name, c.workload.priority, _left_out_reason(ctx, prog, res.x, wi, extra))
        for wi, c in enumerate(cands) if not served[wi]
    )
    return plans, tuple(sorted(left, key=lambda lo: (-lo.priority, lo.workload)))


def _left_out_reason(ctx: SolveContext, prog: milp.Program, x: np.ndarray, wi: int, extra) -> str:
    """Force the workload in (others as chosen) and see which of budget and quotas must give way."""
    c = ctx.cands[wi]
    served = np.round(x[prog.s_cols])
    served[wi] = 1.0
    fix = LinearConstraint(np.eye(len(prog.c))[prog.s_cols], served, served)
    blockers = []
    needs = None  # its cheapest placement next to the workloads served (budget lifted), monthly USD
    for family, rows in (("monthlyBudgetUsd", [prog.budget_row]), ("quotas", list(prog.quota_rows.values()))):
        rows = [r for r in rows if r is not None]
        if not rows:
            continue
        hi = prog.hi.copy()
        hi[rows] = np.inf
        relaxed = milp.Program(prog.c, prog.cost, prog.A, prog.lo, hi, prog.upper, prog.n_start,
                               prog.y_start, prog.s_cols, prog.quota_rows, prog.budget_row, prog.charge_cols)
        res = milp.solve(relaxed, extra=[fix])
        if res.status == 0:
            blockers.append(family)
            if family == "monthlyBudgetUsd" and res.x is not None:
                needs = _workload_cost(prog, res.x, wi)
    # lower bound of any configuration: every accelerator at the cheapest per-accelerator price
    cheapest = float(c.workload.hours_per_month * c.workload.count * np.min(c.price / c.apn) + c.egress.min())
    quotas = sorted({ctx.builder.limit_name(q) for rows in c.quota_rows for q in rows})
    if blockers == ["monthlyBudgetUsd"]:
        # What it needs and what the budget leaves, from the same plan: the workloads served keep theirs.
        spent = sum(_workload_cost(prog, x, i) for i in np.flatnonzero(np.round(x[prog.s_cols])))
        # the regions those workloads open (and the pinned ones' regions) are paid from the same budget
        spent += sum(float(prog.cost[col]) * round(float(x[col])) for col in (prog.charge_cols or {}).values())
        spent += sum(ch.monthly_usd for ch in opened(ctx.request, ctx.pinned))
        left = max(0.0, (ctx.budget_left or 0.0) - spent)
        return (f"monthlyBudgetUsd leaves ${left:,.2f}/month after the workloads of higher or equal priority; "
                f"its cheapest placement next to them needs ${needs if needs is not None else cheapest:,.2f}/month")
    if blockers == ["quotas"]:
        return f"quotas {quotas} are used up by workloads of higher or equal priority"
    return (f"neither monthlyBudgetUsd nor quotas {quotas} leave room for it next to workloads of higher or "
            f"equal priority (it needs at least ${cheapest:,.2f}/month)")


def _workload_cost(prog: milp.Program, x: np.ndarray, wi: int) -> float:
    """Monthly USD of workload ``wi``'s columns (nodes and zone) in solution ``x``."""
    n = slice(prog.n_start[wi], prog.n_start[wi + 1])
    y = slice(prog.y_start[wi], prog.y_start[wi + 1])
    return float(prog.cost[n] @ np.round(x[n]) + prog.cost[y] @ np.round(x[y]))


def _quota_name(q: Quota) -> str:
    return f"{q.cloud}/{q.region}/{q.family} ({q.market})"


def _plan_from(c: Candidates, prog: milp.Program, x: np.ndarray, wi: int, ctx: SolveContext) -> WorkloadPlan:
    n = np.round(x[prog.n_start[wi]:prog.n_start[wi + 1]]).astype(int)
    y = np.round(x[prog.y_start[wi]:prog.y_start[wi + 1]]).astype(int)
    zone = int(np.argmax(y))
    pools = [_pool(ctx, c, int(i), int(n[i])) for i in np.flatnonzero(n)]
    return _make_plan(c.workload, pools, float(c.egress[zone]), ctx)


def _fixed_plan(c: Candidates, ctx: SolveContext) -> WorkloadPlan:
    pools = [Pool(ctx.index.offers[o], ALL_MARKETS[m], n) for o, m, n in c.fixed.pools]
    return _make_plan(c.workload, pools, c.fixed.egress_usd, ctx)


def _make_plan(w: Workload, pools: list[Pool], egress: float, ctx: SolveContext) -> WorkloadPlan:
    # any-of: the hours (and count) of the accelerator chosen
    w = variant_for(w, pools[0].offer.accelerator, ctx.index.catalog.normalise_accelerator)
    ranges = pool_ranges(w, pools)
    placements = tuple(sorted((to_placement(w, p, ranges[p.market]) for p in pools), key=lambda p: p.market))
    hourly = round(sum(p.nodes * _price(p) for p in pools), 6)
    monthly = round(pools_monthly_usd(ctx.request, w.hours_per_month, placements) + egress, 6)
    return WorkloadPlan(w.name, placements, hourly, round(egress, 6), monthly)


def _pool(ctx: SolveContext, c: Candidates, i: int, nodes: int) -> Pool:
    """Candidate i of c as a pool; beyond on-demand and spot with its market's own node-hour price."""
    offer, m = ctx.index.offers[int(c.offer[i])], int(c.market[i])
    market = ALL_MARKETS[m]
    if m < 2:
        return Pool(offer, market, nodes)
    if market == "flex-start":
        return Pool(offer, market, nodes, round(offer.on_demand_usd * ctx.request.markets.flex_start.price_factor, 6))
    kind, item, _ = ctx.builder.owned[c.quota_rows[i][0] - len(ctx.builder.quotas)]
    return Pool(offer, market, nodes, 0.0 if kind == "reserved" else item.hourly_price_usd)


def _price(p: Pool) -> float:
    if p.hourly is not None:
        return p.hourly
    return p.offer.on_demand_usd if p.market == "on-demand" else p.offer.spot_usd


def pool_ranges(w: Workload, pools: list[Pool] | tuple[Pool, ...]) -> dict[str, tuple[int, int]]:
    """Share the workload's node range out over its pools (market -> (min, max)) so that together they
    never scale past the workload's max nor below its min: a spot/on-demand split must not double the worst
    case. Headroom goes to the on-demand pool (more spot would break maxSpotShare); the floor gives way on
    spot first (spot capacity can vanish anyway)."""
    total = sum(p.nodes for p in pools)
    lo, hi = (w.nodes.min, w.nodes.max) if w.nodes is not None else (total, total)
    ranges = {p.market: [p.nodes, p.nodes] for p in pools}
    grow = next((m for m in ("on-demand", "capacity-block") if m in ranges), pools[0].market)
    ranges[grow][1] += max(0, hi - total)
    give = max(0, total - lo)
    for market in sorted(ranges, key=lambda m: m != "spot"):
        cut = min(give, ranges[market][0])
        ranges[market][0] -= cut
        give -= cut
    return {m: (low, max(1, high)) for m, (low, high) in ranges.items()}


def to_placement(w: Workload, pool: Pool, node_range: tuple[int, int] | None = None) -> Placement:
    n = pool.nodes
    min_nodes, max_nodes = node_range if node_range is not None else pool_ranges(w, [pool])[pool.market]
    o = pool.offer
    return Placement(
        workload=w.name, cloud=o.cloud, region=o.region, zones=zones_of(o.zone), instance_type=o.instance_type,
        accelerator=o.accelerator, accelerators_per_node=o.accelerators_per_node, nodes=n,
        min_nodes=min_nodes, max_nodes=max_nodes, market=pool.market, runs_on=w.runs_on,
        tpu_topology=o.tpu_topology, node_hourly_usd=_price(pool),
    )


def _pinned_plan(w: Workload, placements: tuple[Placement, ...], ix: OfferIndex, builder: CandidateBuilder):
    """A placement fixed in config (or kept from the lock): its cost and the quota it holds."""
    if placements:  # any-of (kept from the lock): the hours of the accelerator it runs on
        try:
            w = variant_for(w, placements[0].accelerator, ix.catalog.normalise_accelerator)
        except ValueError:
            pass
    use = np.zeros(len(builder.quotas) + len(builder.owned))
    hourly = 0.0
    egress = 0.0
    for p in placements:
        hourly += p.nodes * p.node_hourly_usd
        offer = _find(ix, p)
        region_ids = [i for i, r in enumerate(ix.region_keys) if r == (p.cloud, p.region)]
        if region_ids:
            egress = builder.egress(w, region_ids[0])
        if offer is None:
            continue
        for k, (kind, item, _) in enumerate(builder.owned):  # a kept pool on owned capacity holds it
            if kind == p.market and item is (reservation_for(builder.request, p) if kind == "reserved" else
                                             capacity_block_for(builder.request, p)):
                use[len(builder.quotas) + k] += p.nodes
        fam = ix._family(offer, p.market) if p.market in MARKETS else None
        for qi, q in enumerate(builder.quotas):
            if (q.cloud, q.region, q.family) == (p.cloud, p.region, fam) and q.market in ("any", p.market):
                use[qi] += p.nodes * float(ix.rules.units(offer))
    hourly = round(hourly, 6)
    plan = WorkloadPlan(w.name, tuple(placements), hourly, round(egress, 6),
                        round(pools_monthly_usd(builder.request, w.hours_per_month, placements) + egress, 6),
                        pinned=True)
    return plan, use


def _quota_use(ctx: SolveContext, plans, quotas: tuple[Quota, ...]) -> tuple[tuple[Quota, float], ...]:
    use = np.zeros(len(quotas))
    ix = ctx.index
    for plan in plans:
        for p in plan.placements:
            offer = _find(ix, p)
            if offer is None:
                continue
            fam = ix._family(offer, p.market) if p.market in MARKETS else None
            for qi, q in enumerate(quotas):
                if (q.cloud, q.region, q.family) == (p.cloud, p.region, fam) and q.market in ("any", p.market):
                    use[qi] += p.nodes * float(ix.rules.units(offer))
    return tuple((q, float(u)) for q, u in zip(quotas, use, strict=True))


_OFFER_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _find(ix: OfferIndex, p: Placement) -> Offer | None:
    """The first offer of the index (its order) a placement stands for; one dict per index, built once (a scan
    per placement was a fifth of a 1,000-workload solve)."""
    keys = _OFFER_KEYS.get(ix)
    if keys is None:
        keys = {}
        for accel, rows in ix.by_accel.items():
            for i in rows:
                o = ix.offers[int(i)]
                keys.setdefault((accel, o.cloud, o.region, o.zone, o.instance_type, o.accelerators_per_node), o)
        _OFFER_KEYS[ix] = keys
    return keys.get((p.accelerator, p.cloud, p.region, zone_key(p.zones), p.instance_type, p.accelerators_per_node))


# --- infeasibility ---------------------------------------------------------------------------------------


def _diagnose(request, catalog, exclusions, pins, rules, relax, lines: list[str]) -> Infeasible:
    """Relax each constraint family alone and re-solve; name those that make the request feasible."""
    helping = tuple(f for f in FAMILIES if f not in relax and
                    _feasible_all_served(request, catalog, exclusions, pins, rules, relax | {f}))
    head = "no placement meets every constraint"
    if helping:
        causes = ", ".join(FAMILY_HELP[f] for f in helping)
        tail = f"the constraint families that cause it (relaxing any one alone makes it feasible): {causes}"
    else:
        together = tuple(f for f in FAMILIES if f not in relax)
        ok = _feasible_all_served(request, catalog, exclusions, pins, rules, relax | set(together))
        tail = ("no single constraint family causes it; relaxing all of them together "
                + ("makes it feasible" if ok else "does not help either (no offer of the accelerator fits)"))
        helping = together if ok else ()
    return Infeasible("\n".join([head + ":", *[f"  {ln}" for ln in lines], f"  {tail}"]), helping)


def _feasible_all_served(request, catalog, exclusions, pins, rules, relax) -> bool:
    ctx, _, empty = _prepare(request, catalog, exclusions, pins, relax, rules)
    return not empty and _all_served(ctx) is not None


def _no_offer_lines(empty: list[Candidates], request: PlacementRequest, builder: CandidateBuilder) -> list[str]:
    from newinfra.cost_model.hosts import describe, floor_for

    lines = []
    for c in empty:
        w = c.workload
        if w.accelerators is not None:
            shape = f" with perNode {w.per_node}" if w.per_node else ""
            lines.append(f"workload {w.name!r}: no offer of any of {[n for n, _ in w.choices]}{shape} in "
                         f"allowedClouds {list(request.allowed_clouds)} within dataResidency, the exclusions, the "
                         f"host floor and opt-in capacity")
            continue
        accel = builder.ix.catalog.normalise_accelerator(w.accelerator)
        unfloored = builder.rows(w, accel, frozenset({"hostFloor"}))
        floor = floor_for(w, accel)
        if floor is not None and len(unfloored) and not len(builder.rows(w, accel)):
            ix = builder.ix
            lines.append(f"workload {w.name!r}: no offer meets the host floor of {describe(w, floor)}; the "
                         f"{accel} hosts it may use have at most {np.nanmax(ix.vcpus_per[unfloored]):g} vCPUs and "
                         f"{np.nanmax(ix.mem_per[unfloored]):g} GiB per accelerator")
            continue
        if not len(unfloored) and len(builder.rows(w, accel, frozenset({"hostFloor", "optIn"}))):
            lines.append(f"workload {w.name!r}: {accel} is offered there only in opt-in capacity (Local Zones, "
                         f"opt-in regions: `newinfra catalog --excluded`); allow it with allowLocalZones: true or "
                         f"optInRegions")
            continue
        shape = f" with perNode {w.per_node}" if w.per_node else ""
        if spreads(w, request.profile) and len(builder.rows(w, accel, frozenset({"spread"}))):
            lines.append(f"workload {w.name!r}: an inference workload in a production profile runs in at least "
                         f"{SPREAD_ZONES} zones of one region, and no region it may use offers {accel}{shape} in "
                         f"{SPREAD_ZONES} zones (single-zone offers exist: profile development, or another "
                         "accelerator)")
            continue
        if w.per_node and w.nodes and not w.nodes.min <= w.count // w.per_node <= w.nodes.max:
            lines.append(f"workload {w.name!r}: count / perNode = {w.count // w.per_node} nodes is outside "
                         f"nodes {{min: {w.nodes.min}, max: {w.nodes.max}}}")
            continue
        where = request.allowed_regions(w)
        res = f" in regions {list(where)} (dataResidency)" if where is not None else ""
        lines.append(f"workload {w.name!r}: no {w.accelerator} offer{shape} in allowedClouds "
                     f"{list(request.allowed_clouds)}{res} outside the exclusions")
    return lines
