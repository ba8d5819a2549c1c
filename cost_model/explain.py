"""Why a placement: alternatives per workload, savings against two baselines, binding limits with their
LP-relaxation duals, and the plain-text report `newinfra place` prints."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from newinfra.cost_model import milp
from newinfra.cost_model.candidates import CandidateBuilder
from newinfra.cost_model.model import Infeasible, Solution, accelerator_of, offer_index, solve
from newinfra.cost_model.request import PlacementRequest, Workload
from newinfra.cost_model.spread import zone_key


def single_offer_costs(builder: CandidateBuilder, w: Workload, accel: str, *, on_demand_only: bool = False):
    """Monthly cost of running w on one instance type alone (spot up to its cap when cheaper), per offer.

    Returns (offer rows, monthly USD) with infeasible shapes at +inf."""
    ix = builder.ix
    rows = builder.rows(w, accel)
    apn = ix.apn[rows]
    lo, hi = builder.node_range(w) or (0, math.inf)
    n = np.full(len(rows), w.count // w.per_node) if w.per_node else np.maximum(-(-w.count // apn), lo)
    p = ix.od[rows]
    q = np.full(len(rows), np.nan) if on_demand_only else \
        ix.spot[rows] * (1.0 if builder.spot_factor is None else builder.spot_factor[rows])  # restart overhead
    cap = 0.0 if on_demand_only else builder.spot_cap(w)
    k = np.where(np.nan_to_num(q, nan=np.inf) < np.nan_to_num(p, nan=np.inf), np.floor(cap * n + 1e-9), 0)
    k = np.where(np.isnan(p) & (cap >= 1), n, k)
    with np.errstate(invalid="ignore"):
        cost = w.hours_per_month * (np.where(k > 0, k * np.nan_to_num(q, nan=np.inf), 0.0)
                                    + np.where(n - k > 0, (n - k) * np.nan_to_num(p, nan=np.inf), 0.0))
    cost = cost + np.array([builder.egress(w, int(r)) for r in ix.region[rows]])
    cost[(n < lo) | (n > hi)] = np.inf
    return rows, cost


def variants(catalog, w: Workload) -> list[tuple[Workload, str]]:
    """(w as it runs on it, catalog name) per accelerator w accepts: itself for one `accelerator`, each any-of
    variant's count and hours otherwise (`Workload.variant`)."""
    if w.accelerators is None:
        return [(w, accelerator_of(catalog, w))]
    out = []
    for name, speed in w.choices:
        accel = catalog.normalise_accelerator(name)
        out.append((w.variant(accel, speed), accel))
    return out


def variant_costs(builder: CandidateBuilder, catalog, w: Workload, *, on_demand_only: bool = False):
    """`single_offer_costs` over every accelerator w accepts, each in its variant's count and hours."""
    parts = [single_offer_costs(builder, v, accel, on_demand_only=on_demand_only) for v, accel in variants(catalog, w)]
    return (np.concatenate([r for r, _ in parts]).astype(np.int64), np.concatenate([c for _, c in parts]).astype(float))


def alternatives(request: PlacementRequest, catalog, solution: Solution, k: int = 2,
                 exclusions=()) -> dict[str, list[dict]]:
    """Per served workload, the next k cheapest instance types in other places (ignoring shared limits). An
    any-of workload's entries name their accelerator, and the cheapest of each accelerator not chosen is
    listed too (what the next one would cost)."""
    ix = offer_index(catalog)
    builder = CandidateBuilder(ix, request, exclusions)
    out: dict[str, list[dict]] = {}
    for w in request.workloads:
        plan = solution.plan(w.name)
        if plan is None or plan.pinned:
            continue
        chosen = {(p.cloud, p.region, p.instance_type) for p in plan.placements}
        chosen_accel = plan.placements[0].accelerator
        rows, cost = variant_costs(builder, catalog, w)
        alts, seen, accels = [], set(chosen), {chosen_accel}
        for i in np.lexsort((rows, cost)):
            o = ix.offers[int(rows[i])]
            key = (o.cloud, o.region, o.instance_type)
            if not np.isfinite(cost[i]) or key in seen:
                continue
            first_of_accel = w.accelerators is not None and o.accelerator not in accels
            if len(alts) >= k and not first_of_accel:
                continue
            seen.add(key)
            accels.add(o.accelerator)
            alt = {"cloud": o.cloud, "region": o.region, "zone": o.zone, "instanceType": o.instance_type,
                   "monthlyUsd": round(float(cost[i]), 2),
                   "deltaUsdPerMonth": round(float(cost[i]) - plan.monthly_usd, 2)}
            if w.accelerators is not None:
                alt["accelerator"] = o.accelerator
            alts.append(alt)
            if len(alts) >= k and (w.accelerators is None or len(accels) == len(w.choices)):
                break
        out[w.name] = alts
    return out


def failover(request: PlacementRequest, catalog, solution: Solution, k: int = 3, exclusions=()) -> dict[str, list[dict]]:
    """Per served workload, where it goes when its zone or type gives out: the next k offers (zone and type,
    cheapest first, each alone with spot up to its cap, shared limits ignored), after the ones it runs on.
    Each names itself as `newinfra place --exclude` takes it, so a failover can be forced or skipped."""
    ix = offer_index(catalog)
    builder = CandidateBuilder(ix, request, exclusions)
    out: dict[str, list[dict]] = {}
    for w in request.workloads:
        plan = solution.plan(w.name)
        if plan is None or plan.pinned:
            continue
        taken = {(p.cloud, p.region, p.zones[0], p.instance_type) for p in plan.placements}
        rows, cost = variant_costs(builder, catalog, w)
        order = []
        for i in np.lexsort((rows, cost)):
            o = ix.offers[int(rows[i])]
            key = (o.cloud, o.region, o.zone, o.instance_type)
            if not np.isfinite(cost[i]) or key in taken:
                continue
            taken.add(key)
            order.append({"offer": f"{o.cloud}/{o.region}/{o.zone}:{o.instance_type}", "accelerator": o.accelerator,
                          "monthlyUsd": round(float(cost[i]), 2)})
            if len(order) == k:
                break
        out[w.name] = order
    return out


@dataclass(frozen=True)
class Baselines:
    home_on_demand: float | None  # (a) single cloud, on-demand, the datasets' home regions
    home_missing: tuple[str, ...]  # workloads (a) cannot place
    unconstrained: float | None  # (b) cheapest per workload ignoring quotas and budget


def baselines(request: PlacementRequest, catalog, solution: Solution, exclusions=()) -> Baselines:
    served = {p.workload for p in solution.plans}
    ix = offer_index(catalog)
    homes = Counter(d.home_cloud for d in request.datasets)
    default_cloud = sorted(homes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if homes else None
    total, missing = 0.0, []
    by_cloud: dict[str, float] = {}
    no_dataset = [w for w in request.workloads if w.name in served and request.dataset(w.dataset) is None]
    for w in request.workloads:
        ds = request.dataset(w.dataset)
        if w.name not in served or ds is None:
            continue
        sub = request.model_copy(update={"allowed_clouds": (ds.home_cloud,), "data_residency": {},
                                         "datasets": request.datasets})
        builder = CandidateBuilder(ix, sub, exclusions)
        rows, cost = variant_costs(builder, catalog, w, on_demand_only=True)
        cost = cost[np.array([ix.offers[int(r)].region == ds.home_region for r in rows], bool)] \
            if len(rows) else cost
        best = float(cost.min()) if len(cost) else math.inf
        if math.isfinite(best):
            total += best
        else:
            missing.append(w.name)
    clouds = (default_cloud,) if default_cloud else tuple(request.allowed_clouds)
    for cloud in clouds:
        sub = request.model_copy(update={"allowed_clouds": (cloud,)})
        builder = CandidateBuilder(ix, sub, exclusions)
        s = 0.0
        for w in no_dataset:
            _, cost = variant_costs(builder, catalog, w, on_demand_only=True)
            s += float(cost.min()) if len(cost) else math.inf
        by_cloud[cloud] = s
    best_cloud = min(sorted(by_cloud), key=lambda c: by_cloud[c]) if by_cloud else None
    if no_dataset:
        if best_cloud is None or not math.isfinite(by_cloud[best_cloud]):
            missing += [w.name for w in no_dataset]
        else:
            total += by_cloud[best_cloud]
    try:
        free = solve(request, catalog, exclusions=exclusions, relax=frozenset({"quotas", "monthlyBudgetUsd"}))
        unconstrained = round(sum(p.monthly_usd for p in free.plans if p.workload in served) + free.open_usd, 2)
    except Infeasible:
        unconstrained = None
    return Baselines(round(total, 2) if not missing else None, tuple(sorted(missing)), unconstrained)


def binding_constraints(solution: Solution) -> list[str]:
    """Quota and budget rows at their limit, with the LP relaxation's dual in $/month."""
    ctx = solution.context
    lines = []
    prog = ctx.program if ctx else None
    duals = milp.lp_duals(prog, ctx.x) if prog is not None and ctx.x is not None else None
    for qi, (q, used) in enumerate(solution.quota_use):
        row = prog.quota_rows.get(qi) if prog is not None else None
        dual = float(duals[row]) if duals is not None and row is not None else 0.0
        if used < q.limit - 1e-6 and dual > -1e-6:
            continue
        block = _block(ctx, qi, _units_in(solution, q))
        name = f"{q.cloud}/{q.region} {q.family} ({q.market})"
        if dual < -1e-6:
            lines.append(f"quota {name}: {used:g} of {q.limit:g} used; one more block of {block:g} (one node) "
                         f"would save ${-dual * block:,.2f}/month (dual ${-dual:,.2f} per unit)")
        else:
            waiting = [lo.workload for lo in solution.left_out
                       if f"{q.cloud}/{q.region}/{q.family} ({q.market})" in lo.reason]
            effect = f"more would let left-out workloads in: {waiting}" if waiting else \
                "more would not lower the cost (dual $0.00)"
            lines.append(f"quota {name}: {used:g} of {q.limit:g} used; {effect}")
    budget = ctx.request.monthly_budget_usd if ctx else None
    if budget is not None:
        spent = solution.monthly_usd
        row = prog.budget_row if prog is not None else None
        dual = float(duals[row]) if duals is not None and row is not None else 0.0
        if spent >= budget - 0.01 or solution.left_out or dual < -1e-9:
            lines.append(f"monthlyBudgetUsd: ${spent:,.2f} of ${budget:,.2f} planned; dual ${-dual:,.4f} "
                         f"per extra dollar" + (f"; {len(solution.left_out)} workload(s) left out"
                                                if solution.left_out else ""))
    return lines


def _block(ctx, qi: int, chosen: list[float]) -> float:
    """A quota 'block': one node of the type the plan runs under this quota, else the smallest that could."""
    if chosen:
        return min(chosen)
    units = [float(c.units[i]) for c in ctx.cands for i, rows in enumerate(c.quota_rows) if qi in rows]
    return min(units) if units else 1.0


def _units_in(solution: Solution, q) -> list[float]:
    ix = solution.context.index
    out = []
    for plan in solution.plans:
        for p in plan.placements:
            offer = next((o for o in ix.offers if (o.cloud, o.region, o.zone, o.instance_type,
                          o.accelerators_per_node) == (p.cloud, p.region, zone_key(p.zones), p.instance_type,
                                                       p.accelerators_per_node)), None)
            if offer is not None and (p.cloud, p.region) == (q.cloud, q.region) and \
                    ix._family(offer, p.market) == q.family and q.market in ("any", p.market):
                out.append(float(ix.rules.units(offer)))
    return out


def report(env: str, solution: Solution, base: Baselines, binding: list[str], *, held=(), moved=(),
           notes=(), lock_line: str = "", exclusions=()) -> list[str]:
    total = solution.monthly_usd
    lines = [f"newinfra place {env}: {len(solution.plans)} workload(s), ${total:,.2f}/month"
             + (f" ({lock_line})" if lock_line else "")]
    for plan in solution.plans:
        pools = " + ".join(f"{p.nodes} x {p.instance_type} {p.market}" for p in plan.placements)
        p0 = plan.placements[0]
        pinned = " [pinned]" if plan.pinned else ""
        nodes = plan.monthly_usd - plan.egress_usd
        hours = round(nodes / plan.hourly_usd, 1) if plan.hourly_usd else 0.0
        egress = f" = ${nodes:,.2f} + egress ${plan.egress_usd:,.2f}" if plan.egress_usd else ""
        lines.append(f"  {plan.workload}: {p0.cloud}/{p0.region}/{','.join(p0.zones)} {pools}  "
                     f"${plan.hourly_usd:,.2f}/h x {hours:g} h{egress} = ${plan.monthly_usd:,.2f}/month{pinned}")
    lines += regions_opened(solution)
    lines.append(totals_line(solution))
    lines += solver_line(solution)
    lines.append("savings:")
    if base.home_on_demand is not None:
        lines.append(f"  vs single-cloud on-demand in the datasets' home regions ({usd(base.home_on_demand)}/month):"
                     f" {usd(base.home_on_demand - total)}/month ({_pct(base.home_on_demand, total)})")
    else:
        lines.append(f"  vs single-cloud on-demand in the home regions: n/a, no home-region offer for "
                     f"{list(base.home_missing)}")
    if base.unconstrained is not None:
        lines.append(f"  vs cheapest offer per workload ignoring quotas and budget ({usd(base.unconstrained)}"
                     f"/month): {usd(base.unconstrained - total)}/month (shared limits cost "
                     f"{usd(total - base.unconstrained)})")
    lines.append("binding constraints (LP relaxation duals):" if binding else "binding constraints: none")
    lines += [f"  {b}" for b in binding]
    if solution.left_out:
        lines.append("left out (priorities):")
        lines += [f"  {lo.workload} (priority {lo.priority}): {lo.reason}" for lo in solution.left_out]
    for title, items in (("excluded (--exclude, kept in the lock)", [str(e) for e in exclusions]),
                         ("held back (no churn)", held), ("moved", moved), ("notes", notes)):
        if items:
            lines.append(f"{title}:")
            lines += [f"  {i}" for i in items]
    return lines


def regions_opened(solution: Solution) -> list[str]:
    """One line per region the plans open: what its charges cost, paid once however many workloads share
    them (the solver weighs them: consolidating saves them)."""
    by_region: dict[tuple[str, str], list] = {}
    for ch in solution.opened:
        by_region.setdefault(ch.region, []).append(ch)
    lines = []
    for (cloud, region), charges in sorted(by_region.items()):
        priced = [ch for ch in charges if ch.monthly_usd > 0 or not ch.unpriced]
        what = " + ".join(dict.fromkeys(ch.what for ch in priced)) or "nothing priced"
        lines.append(f"  {cloud}/{region} opened: {usd(sum(ch.monthly_usd for ch in charges))}/month {what}")
        lines += [f"    unpriced: {why}" for ch in charges for why in ch.unpriced]
    return lines


def totals_line(solution: Solution) -> str:
    nodes = sum(p.monthly_usd - p.egress_usd for p in solution.plans)
    egress = sum(p.egress_usd for p in solution.plans)
    return (f"  total {usd(solution.monthly_usd)}/month = accelerator nodes {usd(nodes)} + egress {usd(egress)}"
            f" + regions {usd(solution.open_usd)}")


def solver_line(solution: Solution) -> list[str]:
    """How the all-served MILP went (printed only: the seconds differ run to run, so never in a lock)."""
    stats = solution.context.stats if solution.context is not None else None
    if stats is None:
        return []
    how = "the budget coupled them: solved as one model" if stats.coupled else \
        f"{stats.groups} independent group(s), largest {stats.largest} columns"
    return [f"  solver: {stats.seconds:.3f} s, MIP gap {stats.mip_gap:.2g}, {how}"]


def usd(x: float) -> str:
    return f"-${-x:,.2f}" if x < -0.005 else f"${abs(x):,.2f}"


def _pct(base: float, value: float) -> str:
    return f"{(base - value) / base:.1%}" if base > 0 else "n/a"
