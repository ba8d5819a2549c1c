"""The mixed-integer program over all workloads' candidates, built as one sparse matrix.

Columns: n (integer nodes per candidate) | y (binary per workload zone: the one zone a workload runs in) |
s (binary per workload: served; priority mode only) | x (binary per candidate, only where a zone offers
several candidates in one market, so that each (workload, market) pool is one offer) | b (binary per region
charge: control plane, NAT, shared file system, open when any workload runs where it needs it; its cost is
paid once however many workloads share it, which is what makes consolidating in one region pay).

With ``tight=True`` a workload gets the configuration (assignment) form where its configurations are few
(`configurations`): one binary per configuration, "these one or two pools with these node counts in this
zone", their sum 1, and no integer node counts, zone binaries or big-M links. Exact, because a workload runs
at most one offer per market in one zone, and for a fixed pair of offers and spot node count, the fewest
on-demand nodes that cover the count, keep the spot share and the node range are never worse than more (more
nodes cost more and use more quota, and the bound caps them anyway); single pools are the pair with the
other pool empty, and with perNode the node count is fixed. Each configuration's cost, quota use and charges
are what the general form would charge for the same pools. The LP relaxation of this form is the convex hull
of each workload's own configurations: it cannot buy a fraction of a node nor open a fraction of a zone for a
whole pool, which is what made the general form branch. A column of this form stands for up to two pools;
`Program.pools` says which candidates and how many nodes each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from newinfra.cost_model.candidates import Candidates
from newinfra.cost_model.markets import ALL_MARKETS
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components

# HiGHS stops at a relative gap of 1e-4 by default; a cost model must return the optimum itself.
MILP_OPTIONS = {"disp": False, "mip_rel_gap": 1e-9, "time_limit": 120.0}
# Deterministic ties: candidate k of a workload (order: cloud, region, zone, market, shape, price) costs
# k * TIE dollars more per node and month — far below a cent, so it only decides between equal prices.
TIE = 1e-7
NUM_MARKETS = len(ALL_MARKETS)  # one pool per (workload, market): on-demand, spot, reserved, ...


class Rows:
    """COO triplets and row bounds, appended block by block."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.count = 0

    def new(self, k: int, lo, hi) -> np.ndarray:
        idx = np.arange(self.count, self.count + k)
        self.count += k
        self.lo.append(np.broadcast_to(np.asarray(lo, float), (k,)))
        self.hi.append(np.broadcast_to(np.asarray(hi, float), (k,)))
        return idx

    def put(self, rows, cols, vals) -> None:
        cols = np.asarray(cols, np.int64).ravel()
        self.r.append(np.broadcast_to(np.asarray(rows, np.int64), cols.shape).ravel())
        self.c.append(cols)
        self.v.append(np.broadcast_to(np.asarray(vals, float), cols.shape).ravel())

    def matrix(self, num_cols: int):
        def cat(parts, dt):
            return (np.concatenate(parts) if parts else np.zeros(0, dt))
        A = sparse.csr_matrix((cat(self.v, float), (cat(self.r, np.int64), cat(self.c, np.int64))),
                              shape=(self.count, num_cols))
        return A, cat(self.lo, float), cat(self.hi, float)


@dataclass
class Program:
    c: np.ndarray  # objective used by the solver (cost + ties, or a priority objective)
    cost: np.ndarray  # monthly USD per unit of each column
    A: sparse.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    upper: np.ndarray  # column upper bounds
    n_start: np.ndarray
    y_start: np.ndarray
    s_cols: np.ndarray | None
    quota_rows: dict[int, int]  # quota index -> row
    budget_row: int | None
    charge_cols: dict[tuple[str, ...], int] | None = None  # charge key -> its "open" column
    # per n column, the pools it stands for: (candidate, nodes per unit) twice, candidate -1 for none
    pools: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    x_col: np.ndarray | None = None  # per n column: its one-offer binary, -1 where it has none


# Above this many configurations (before and after dropping dominated ones) a workload keeps the general form.
MAX_CONFIGS = 20000
MAX_KEPT = 600


@dataclass(frozen=True)
class Configs:
    """A workload's configurations: zone, and pools (candidate, nodes); i2 = -1 where there is one pool."""

    zone: np.ndarray
    i1: np.ndarray
    n1: np.ndarray
    i2: np.ndarray
    n2: np.ndarray


def configurations(c: Candidates, rank: np.ndarray | None = None, limit: int = MAX_CONFIGS) -> Configs | None:
    """Every configuration of `c` worth considering (module docstring), or None for the general form: more
    than `limit`, all spot under a share cap (the general form does not restrict that case: unchanged), an
    any-of set, or a market other than on-demand and spot.
    A configuration is dropped when another in the same zone costs no more, uses no more of any quota row and
    wins the tie-break (`rank`): swapping it in keeps every row and does not raise the cost (same zone: same
    egress and charges), so no optimum needs the dropped one."""
    w = c.workload
    # any-of sets (a need per zone) and the owned or scheduled markets (reserved, capacity block, flex-start)
    # keep the general form, which models them (configurations enumerate on-demand and spot pools only)
    if c.zone_need is not None or bool((c.market > 1).any()):
        return None
    od, sp = np.flatnonzero(c.market == 0), np.flatnonzero(c.market == 1)
    if not len(od) and len(sp) and c.cap < 1:
        return None
    lo, hi = c.node_range if c.node_range is not None and w.per_node is None else (0, np.iinfo(np.int64).max)
    exact = w.per_node is not None
    # single pools: the only useful count (spot alone only when the cap allows all-spot)
    singles = np.concatenate([od, sp]) if c.cap >= 1 else od
    n = np.full(len(singles), c.need, np.int64) if exact else         np.maximum(-(-c.need // np.maximum(c.apn[singles], 1)), lo)
    ok = (n <= c.bound[singles]) & (n <= hi) & (n > 0)
    parts = [(singles[ok], n[ok], np.full(ok.sum(), -1), np.zeros(ok.sum(), np.int64))]
    if len(od) and len(sp) and c.cap > 0:
        pi, pj = np.nonzero(c.zone[od][:, None] == c.zone[sp][None, :])
        a, b = od[pi], sp[pj]
        if len(a) * int(c.bound[b].max(initial=0)) > 4 * limit:
            return None
        # every (on-demand, spot) pair of a zone with every spot count 1..bound, all pairs at once
        reps = c.bound[b].astype(np.int64)
        i1 = np.repeat(a, reps)
        i2 = np.repeat(b, reps)
        n2 = np.arange(int(reps.sum()), dtype=np.int64) - np.repeat(np.cumsum(reps) - reps, reps) + 1
        if exact:
            n1 = c.need - n2
        else:
            n1 = -(-np.maximum(c.need - c.apn[i2] * n2, 0) // c.apn[i1])
            if c.cap < 1:
                n1 = np.maximum(n1, np.ceil(n2 * (1 - c.cap) / c.cap - 1e-9).astype(np.int64))
            n1 = np.maximum(n1, lo - n2)
        n1 = np.maximum(n1, 1)
        good = (n1 <= c.bound[i1]) & (n1 + n2 <= hi) & (n2 <= c.cap * (n1 + n2) + 1e-9)
        if exact:
            good &= n1 + n2 == c.need
        parts.append((i1[good], n1[good], i2[good], n2[good]))
    i1, n1, i2, n2 = (np.concatenate(x) for x in zip(*parts, strict=True))
    if len(i1) > limit:
        return None
    order = np.lexsort((n2, i2, n1, i1))  # deterministic column order
    i1, n1, i2, n2 = i1[order], n1[order], i2[order], n2[order]
    keep = _undominated(c, np.arange(len(c.offer)) if rank is None else rank, i1, n1, i2, n2)
    if keep.sum() > MAX_KEPT:
        return None
    i1, n1, i2, n2 = i1[keep], n1[keep], i2[keep], n2[keep]
    return Configs(c.zone[i1], i1, n1, i2, n2)


def _undominated(c: Candidates, rank, i1, n1, i2, n2) -> np.ndarray:
    two = i2 >= 0
    j2, m2 = np.where(two, i2, 0), np.where(two, n2, 0)
    cost = c.price[i1] * n1 + c.price[j2] * m2
    tie = rank[i1] * n1 + rank[j2] * m2
    rows = sorted({q for qs in c.quota_rows for q in qs})
    col = {q: r for r, q in enumerate(rows)}
    has = np.zeros((len(c.quota_rows), len(rows)), bool)  # candidate x quota row it counts against
    for i, qs in enumerate(c.quota_rows):
        has[i, [col[q] for q in qs]] = True
    use = has[i1] * (c.units[i1] * n1)[:, None] + (has[j2] & two[:, None]) * (c.units[j2] * m2)[:, None]
    keep = np.ones(len(i1), bool)
    zone = c.zone[i1]
    for z in np.unique(zone):
        m = np.flatnonzero(zone == z)
        if len(m) < 2:
            continue
        cz, tz, uz = cost[m], tie[m], use[m]
        # better[j, i]: j dominates i (no dearer, no more quota, and first by cost, then tie rank, then order)
        weakly = cz[:, None] <= cz[None, :]
        for r in range(uz.shape[1]):  # few quota rows per zone: 2-D comparisons, no K x K x rows array
            weakly &= uz[:, r, None] <= uz[None, :, r]
        first = (cz[:, None] < cz[None, :]) | ((cz[:, None] == cz[None, :]) & (
            (tz[:, None] < tz[None, :]) | ((tz[:, None] == tz[None, :]) & (m[:, None] < m[None, :]))))
        keep[m] = ~(weakly & first).any(axis=0)
    return keep


def build(cands: list[Candidates], quota_left: np.ndarray, budget_left: float | None,
          served_var: bool, already_open: frozenset = frozenset(), *, tight: bool = False,
          ranks: list[np.ndarray] | None = None) -> Program:
    """``already_open``: keys of the charges paid anyway (pinned or solver-free workloads need them).
    ``tight``: the assignment form for single-market workloads (module docstring). ``ranks``: each candidate's
    tie-break rank (default its position), so that a reduced candidate list breaks ties as the full one did."""
    # workloads that ask the same thing share their candidate arrays: their configurations are computed once
    memo: dict[tuple[int, int], Configs | None] = {}
    assign = []
    for wi, c in enumerate(cands):
        key = (id(c.offer), id(ranks[wi]) if ranks is not None else -1)
        if tight and key not in memo:
            memo[key] = configurations(c, None if ranks is None else np.asarray(ranks[wi]))
        assign.append(memo[key] if tight else None)
    sizes = np.array([len(c.offer) if a is None else len(a.i1) for c, a in zip(cands, assign, strict=True)],
                     np.int64)
    zsizes = np.array([len(c.zones) if a is None else 0 for c, a in zip(cands, assign, strict=True)], np.int64)
    n_start = np.concatenate([[0], np.cumsum(sizes)])
    total_n = int(n_start[-1])
    y_start = total_n + np.concatenate([[0], np.cumsum(zsizes)])
    s0 = int(y_start[-1])
    x0 = s0 + (len(cands) if served_var else 0)
    x_next = x0
    R = Rows()
    cost, tie, upper, pools = [], [], [], []
    x_upper = []
    x_col = np.full(total_n, -1, np.int64)
    quota_terms: dict[int, list[tuple[int, float]]] = {}
    for wi, c in enumerate(cands):
        k, nz = int(sizes[wi]), len(c.zones)
        ncols = np.arange(n_start[wi], n_start[wi] + k)
        rank = np.arange(len(c.offer)) if ranks is None else np.asarray(ranks[wi], float)
        s = s0 + wi if served_var else None
        g = assign[wi]
        if g is not None:
            two = g.i2 >= 0
            j2 = np.where(two, g.i2, 0)
            m2 = np.where(two, g.n2, 0)
            cost.append(c.workload.hours_per_month * (c.price[g.i1] * g.n1 + c.price[j2] * m2) + c.egress[g.zone])
            tie.append(TIE * (rank[g.i1] * g.n1 + rank[j2] * m2))
            upper.append(np.ones(k))
            pools.append((g.i1, g.n1, g.i2, g.n2))
            r = R.new(1, 0.0 if served_var else 1.0, 0.0 if served_var else 1.0)  # one configuration
            R.put(r, ncols, 1.0)
            if s is not None:
                R.put(r, [s], -1.0)
            use: dict[tuple[int, int], float] = {}
            for col, i, nn in [*zip(ncols, g.i1, g.n1, strict=True),
                               *zip(ncols[two], g.i2[two], g.n2[two], strict=True)]:
                for q in c.quota_rows[i]:
                    use[(q, int(col))] = use.get((q, int(col)), 0.0) + float(c.units[i] * nn)
            for (q, col), v in use.items():
                quota_terms.setdefault(q, []).append((col, v))
            continue
        pools.append((np.arange(k), np.ones(k, np.int64), np.full(k, -1), np.zeros(k, np.int64)))
        ycols = np.arange(y_start[wi], y_start[wi] + nz)
        cost.append(c.workload.hours_per_month * c.price)
        tie.append(TIE * rank)
        upper.append(c.bound.astype(float))
        exact = c.workload.per_node is not None
        # With s, right-hand sides move into the s column: sum y = s, coverage >= need * s, ...
        rhs = 0.0 if served_var else 1.0
        r = R.new(1, rhs, rhs)  # one zone
        R.put(r, ycols, 1.0)
        if s is not None:
            R.put(r, [s], -1.0)
        need = float(c.need)
        if c.zone_need is not None:
            # any-of: the need is the chosen variant's, read off the zone picked (sum y = 1, or s): coverage
            # minus need(z) * y(z) is 0 with perNode, else >= 0
            r = R.new(1, 0.0, 0.0 if exact else np.inf)
            R.put(r, ncols, 1.0 if exact else c.apn)
            R.put(r, ycols, -c.zone_need.astype(float))
        else:
            r = R.new(1, 0.0 if served_var else need,
                      0.0 if (served_var and exact) else (need if exact else np.inf))
            R.put(r, ncols, 1.0 if exact else c.apn)  # coverage: exactly need nodes with perNode, else >= count
            if s is not None:
                R.put(r, [s], -need)
        if c.node_range is not None and not exact:
            lo, hi = c.node_range
            if s is None:
                r = R.new(1, lo, hi)
                R.put(r, ncols, 1.0)
            else:
                r = R.new(2, [0.0, -np.inf], [np.inf, 0.0])
                R.put(r[0], ncols, 1.0)
                R.put(r[0], [s], -float(lo))
                R.put(r[1], ncols, 1.0)
                R.put(r[1], [s], -float(hi))
        spot = (c.market == 1).astype(float)
        if 0 < c.cap < 1 and spot.any() and not spot.all():
            r = R.new(1, -np.inf, 0.0)  # spot nodes <= cap * all nodes
            R.put(r, ncols, spot - c.cap)
        # n <= bound * y(zone), or n <= bound * x and sum x <= y(zone) where a market has several offers
        group = c.zone * NUM_MARKETS + c.market
        multi = np.bincount(group, minlength=NUM_MARKETS * nz)[group] > 1
        links = R.new(k, -np.inf, 0.0)
        R.put(links, ncols, 1.0)
        single = np.flatnonzero(~multi)
        R.put(links[single], ycols[c.zone[single]], -c.bound[single])
        mi = np.flatnonzero(multi)
        if len(mi):
            xcols = np.arange(x_next, x_next + len(mi))
            x_col[ncols[mi]] = xcols
            x_next += len(mi)
            x_upper.append(np.ones(len(mi)))
            R.put(links[mi], xcols, -c.bound[mi])
            groups, inv = np.unique(group[mi], return_inverse=True)
            gr = R.new(len(groups), -np.inf, 0.0)
            R.put(gr[inv], xcols, 1.0)
            R.put(gr, ycols[groups // NUM_MARKETS], -1.0)
        for i, qrows in enumerate(c.quota_rows):
            for q in qrows:
                quota_terms.setdefault(q, []).append((int(ncols[i]), float(c.units[i])))
    quota_rows: dict[int, int] = {}
    for q in sorted(quota_terms):
        cols_, vals_ = zip(*quota_terms[q], strict=True)
        r = R.new(1, -np.inf, float(quota_left[q]))
        R.put(r, cols_, vals_)
        quota_rows[q] = int(r[0])
    # b columns: y(workload, zone) <= b(charge) for every charge the zone needs
    charge_cols: dict[tuple[str, ...], int] = {}
    charge_cost: list[float] = []
    for wi, c in enumerate(cands):
        for z, zcharges in enumerate(c.charges):
            for ch in zcharges:
                if ch.monthly_usd <= 0 or ch.key in already_open:
                    continue
                if ch.key not in charge_cols:
                    charge_cols[ch.key] = x_next + len(charge_cols)
                    charge_cost.append(ch.monthly_usd)
                r = R.new(1, -np.inf, 0.0)
                # the zone's binary, or in the assignment form the sum of its pools there (at most one is 1)
                zc = [int(y_start[wi]) + z] if assign[wi] is None else \
                    (n_start[wi] + np.flatnonzero(assign[wi].zone == z)).tolist()
                R.put(r, [*zc, charge_cols[ch.key]], [*([1.0] * len(zc)), -1.0])
    b0 = x_next
    num = x_next + len(charge_cols)
    col_cost = np.zeros(num)
    col_cost[b0:] = charge_cost
    col_cost[:total_n] = np.concatenate(cost) if cands else 0.0
    col_cost[total_n:s0] = np.concatenate([np.zeros(0)] + [c.egress for c, a in zip(cands, assign, strict=True)
                                                           if a is None])
    budget_row = None
    if budget_left is not None:
        nzc = np.flatnonzero(col_cost)
        r = R.new(1, -np.inf, budget_left)
        R.put(r, nzc, col_cost[nzc])
        budget_row = int(r[0])
    A, lo, hi = R.matrix(num)
    col_upper = np.ones(num)
    if cands:
        col_upper[:total_n] = np.concatenate(upper)
    objective = col_cost.copy()
    if cands:
        objective[:total_n] += np.concatenate(tie)
    return Program(objective, col_cost, A, lo, hi, col_upper, n_start, y_start,
                   np.arange(s0, x0) if served_var else None, quota_rows, budget_row, charge_cols,
                   tuple(np.concatenate([p[j] for p in pools] + [np.zeros(0, np.int64)]).astype(np.int64)
                         for j in range(4)), x_col)


def solve(p: Program, objective: np.ndarray | None = None, extra: list[LinearConstraint] = ()):
    cons = [LinearConstraint(p.A, p.lo, p.hi), *extra]
    return milp(p.c if objective is None else objective, integrality=np.ones(len(p.c)),
                bounds=Bounds(np.zeros(len(p.c)), p.upper), constraints=cons, options=MILP_OPTIONS)


@dataclass(frozen=True)
class SolveStats:
    """What the report shows of one all-served solve; never written to a lock (the seconds vary by run)."""

    seconds: float
    mip_gap: float  # largest relative gap HiGHS reports over the groups solved (0 when all proven optimal)
    groups: int  # independent groups solved one by one
    largest: int  # columns of the largest group
    coupled: bool  # the budget was exceeded by the decomposed optimum: the coupled model was solved

    def as_json(self) -> dict:
        return {"solveSeconds": round(self.seconds, 4), "mipGap": self.mip_gap, "groups": self.groups,
                "largestGroupColumns": self.largest, "budgetCoupled": self.coupled}


@dataclass
class Result:
    """The part of scipy's OptimizeResult the callers read (status 0: optimal; x; fun)."""

    status: int
    x: np.ndarray | None
    fun: float | None
    stats: SolveStats


def redundant_rows(p: Program) -> np.ndarray:
    """Rows no point within the column bounds can break (all columns >= 0): the largest activity is within
    the upper bound and the lower bound is -inf. A quota that all candidates together cannot fill is one."""
    top = p.A.maximum(0) @ p.upper  # negative coefficients add nothing at a column's lower bound 0
    return np.isneginf(p.lo) & (top <= p.hi + 1e-9 * np.maximum(1.0, np.abs(p.hi)))


def coupling_rows(p: Program) -> np.ndarray:
    """Rows that decide the groups: all but the budget row and the rows that can never bind."""
    keep = ~redundant_rows(p)
    if p.budget_row is not None:
        keep[p.budget_row] = False
    return keep


def groups(p: Program) -> tuple[int, np.ndarray]:
    """Connected components of the columns over the coupling rows: workloads that share no quota that can
    fill up and no region charge are independent problems. Returns (count, group of each column)."""
    A = p.A.tocsr()[coupling_rows(p)]
    m, n = A.shape
    pattern = sparse.csr_matrix((np.ones(A.nnz), A.indices, A.indptr), shape=(m, n))
    graph = sparse.bmat([[None, pattern], [pattern.T, None]], format="csr")  # rows and columns as vertices
    _, label = connected_components(graph, directed=False)
    _, cols = np.unique(label[m:], return_inverse=True)
    return int(cols.max(initial=-1)) + 1, cols


def solve_decomposed(p: Program) -> Result:
    """The same optimum as `solve(p)`, found group by group. Exact: the objective is a sum over groups and
    every row but the budget lies inside one group, so the groups' optima together are the optimum without
    the budget row; the budget only ever cuts off cheaper points, so when their sum keeps to it they are the
    optimum with it too, and only when it does not is the coupled model solved (never a relaxation's guess)."""
    start = time.perf_counter()
    # A row without columns (a workload none of whose configurations is feasible) belongs to no group: it
    # decides feasibility alone.
    empty = np.diff(p.A.tocsr().indptr) == 0
    if np.any(empty & ((p.lo > 1e-9) | (p.hi < -1e-9))):
        return Result(2, None, None, SolveStats(time.perf_counter() - start, 0.0, 0, 0, False))
    count, label = groups(p)
    keep = coupling_rows(p)
    A = p.A.tocsr()
    row_group = np.full(A.shape[0], -1)
    coo = A.tocoo()
    row_group[coo.row] = label[coo.col]
    x = np.zeros(len(p.c))
    gap, largest = 0.0, 0
    order = np.argsort(label, kind="stable")
    bounds = np.searchsorted(label[order], np.arange(count + 1))
    rows_sorted = np.argsort(np.where(keep, row_group, -1), kind="stable")
    row_bounds = np.searchsorted(np.where(keep, row_group, -1)[rows_sorted], np.arange(count + 1))
    for g in range(count):
        cols = order[bounds[g]:bounds[g + 1]]
        rows = rows_sorted[row_bounds[g]:row_bounds[g + 1]]
        largest = max(largest, len(cols))
        sub = A[rows][:, cols]
        res = milp(p.c[cols], integrality=np.ones(len(cols)), bounds=Bounds(np.zeros(len(cols)), p.upper[cols]),
                   constraints=[LinearConstraint(sub, p.lo[rows], p.hi[rows])] if len(rows) else [],
                   options=MILP_OPTIONS)
        if res.status != 0 or res.x is None:
            return Result(res.status, None, None, SolveStats(time.perf_counter() - start, 0.0, g + 1, largest,
                                                               False))
        x[cols] = res.x
        gap = max(gap, float(getattr(res, "mip_gap", 0.0) or 0.0))
    if p.budget_row is not None and A[p.budget_row] @ np.round(x) > p.hi[p.budget_row] + 1e-6:
        res = solve(p)
        stats = SolveStats(time.perf_counter() - start, float(getattr(res, "mip_gap", 0.0) or 0.0), 1, len(p.c),
                           True)
        return Result(res.status, res.x, res.fun, stats)
    return Result(0, x, float(p.c @ x), SolveStats(time.perf_counter() - start, gap, count, largest, False))


def lp_duals(p: Program, x: np.ndarray | None = None) -> np.ndarray | None:
    """Row duals of the LP relaxation: d(monthly cost)/d(row upper bound), <= 0 for binding limits.
    In priority mode the served set is held at the MILP's choice `x` (else the LP would serve nobody)."""
    finite_hi = np.isfinite(p.hi)
    finite_lo = np.isfinite(p.lo)
    eq = finite_hi & finite_lo & (p.lo == p.hi)
    le = finite_hi & ~eq
    ge = finite_lo & ~eq
    A = p.A
    le_rows, ge_rows, eq_rows = np.flatnonzero(le), np.flatnonzero(ge), np.flatnonzero(eq)
    A_ub = sparse.vstack([A[le_rows], -A[ge_rows]]).tocsr()
    b_ub = np.concatenate([p.hi[le_rows], -p.lo[ge_rows]])
    res = linprog(p.cost, A_ub=A_ub, b_ub=b_ub, A_eq=A[eq_rows] if len(eq_rows) else None,
                  b_eq=p.lo[eq_rows] if len(eq_rows) else None,
                  bounds=_lp_bounds(p, x), method="highs")
    if res.status != 0:
        return None
    duals = np.zeros(A.shape[0])
    duals[le_rows] = res.ineqlin.marginals[: len(le_rows)]
    return duals


def _lp_bounds(p: Program, x: np.ndarray | None) -> np.ndarray:
    bounds = np.stack([np.zeros(len(p.c)), p.upper], axis=1)
    if p.s_cols is not None and x is not None:
        served = np.round(x[p.s_cols])
        bounds[p.s_cols, 0] = served
        bounds[p.s_cols, 1] = served
    return bounds
