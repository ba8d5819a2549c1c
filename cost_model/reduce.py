"""Exact reductions of the built candidates before the MILP, and the way back to the unreduced column layout.

The candidates (cost_model/candidates.py) are already pruned per workload with quotas ignored; what remains
are the workloads that quotas, the budget or region charges couple. Many of their columns are still
redundant, and a MILP pays for redundancy twice: in size, and in symmetric branches it must close one by one.
Two reductions remove them without losing any optimum (and without changing which plan the tie-break picks):

Dominated offers. Within one workload, zone, market and set of quota rows, candidate A is dominated by B when
B costs no more per node, carries at least as many accelerators per node, uses no more quota units per node
and may take at least as many nodes (bound), and B wins the tie-break between them (cheaper, or as cheap and
earlier). Proof: in any solution using A with n nodes, replace A by B with the same n nodes. The zone, the
market (so the spot share and the one-offer-per-market rule), the node count (so the node range and, with
perNode, the exact node count) are unchanged; coverage can only grow (apn_B >= apn_A); each quota row A
counts is a row B counts (same rows) with no more units; n <= bound_A <= bound_B; the charges are the zone's;
cost and budget use do not rise. B is not already used in that (zone, market): one offer per market. So the
replacement is feasible and no worse, strictly better in the tie-break: an optimum never needs A.

Interchangeable zones. Two zones of one workload whose candidates are the same multiset of (market, price,
apn, bound, units, quota rows), with the same egress and the same priced region charges, are
interchangeable: moving a solution's pools from one to the other, offer for matching offer, changes no row
and no cost. The first zone is kept: its candidates come first in the workload's order, so the tie-break
already preferred it.

Both reductions look only at one workload's own candidates, so they hold whatever the other workloads,
quotas and budget are. `lift` maps a solution of the reduced model back into the columns of the unreduced
`milp.Program`, which is what the plans, the explanations and the LP duals read.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from newinfra.cost_model import milp
from newinfra.cost_model.candidates import Candidates


@dataclass(frozen=True)
class Reduced:
    cands: list[Candidates]  # the reduced candidates, one per workload, same order
    keep: list[np.ndarray]  # per workload: position of each kept candidate in the unreduced arrays
    dropped_offers: int  # dominated candidates removed
    dropped_zones: int  # zones removed as copies of an earlier zone

    @property
    def ranks(self) -> list[np.ndarray]:
        """Tie-break rank of each kept candidate: its position before the reduction (milp.TIE)."""
        return self.keep


def dominated(c: Candidates) -> np.ndarray:
    """Mask of the candidates of `c` that another candidate dominates (see the module docstring)."""
    out = np.zeros(len(c.offer), bool)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i in range(len(c.offer)):
        groups[(int(c.zone[i]), int(c.market[i]), c.quota_rows[i])].append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        m = np.array(members)
        p, a, u, b = c.price[m], c.apn[m], c.units[m], c.bound[m]
        # better[j, i]: j dominates i
        weakly = (p[:, None] <= p[None, :]) & (a[:, None] >= a[None, :]) & (u[:, None] <= u[None, :]) & \
                 (b[:, None] >= b[None, :])
        wins_tie = (p[:, None] < p[None, :]) | ((p[:, None] == p[None, :]) & (m[:, None] < m[None, :]))
        out[m] = (weakly & wins_tie).any(axis=0)
    return out


def _charge_sig(c: Candidates, z: int) -> tuple:
    return tuple(sorted((ch.key, ch.monthly_usd) for ch in c.charges[z] if ch.monthly_usd > 0)) if c.charges \
        else ()


def duplicate_zones(c: Candidates, alive: np.ndarray) -> np.ndarray:
    """Mask of the local zones of `c` that repeat an earlier zone in everything the model sees, judged on the
    candidates in `alive`; zones left without candidates count as duplicates too (nothing to run there)."""
    seen: set[tuple] = set()
    dup = np.zeros(len(c.zones), bool)
    for z in range(len(c.zones)):
        idx = np.flatnonzero(alive & (c.zone == z))
        if not len(idx):
            dup[z] = True
            continue
        offers = tuple(sorted((int(c.market[i]), float(c.price[i]), int(c.apn[i]), int(c.bound[i]),
                               float(c.units[i]), c.quota_rows[i]) for i in idx))
        need = None if c.zone_need is None else int(c.zone_need[z])  # any-of: the zone's variant's coverage
        sig = (offers, float(c.egress[z]), _charge_sig(c, z), need)
        dup[z] = sig in seen
        seen.add(sig)
    return dup


def reduce(cands: list[Candidates]) -> Reduced:
    out, keep = [], []
    n_off = n_zone = 0
    memo: dict[int, tuple[Candidates, np.ndarray]] = {}
    for c in cands:
        if id(c.offer) in memo:  # the builder shares one computation among workloads that ask the same thing
            r, kept = memo[id(c.offer)]
            out.append(dataclasses.replace(r, workload=c.workload))
            keep.append(kept)
            continue
        alive = ~dominated(c)
        n_off += int((~alive).sum())
        dup = duplicate_zones(c, alive)
        n_zone += int(dup.sum())
        kept = np.flatnonzero(alive & ~dup[c.zone])
        zone_keep = ~dup
        remap = np.cumsum(zone_keep) - 1
        out.append(Candidates(
            c.workload, c.offer[kept], c.market[kept], c.price[kept], c.apn[kept], c.bound[kept],
            remap[c.zone[kept]], [c.quota_rows[i] for i in kept], c.units[kept], c.zones[zone_keep],
            c.egress[zone_keep], c.need, c.cap, c.node_range, c.fixed,
            tuple(ch for ch, k in zip(c.charges, zone_keep, strict=True) if k) if c.charges else (),
            None if c.zone_need is None else c.zone_need[zone_keep]))
        keep.append(kept)
        memo[id(c.offer)] = (out[-1], kept)
    return Reduced(out, keep, n_off, n_zone)


def lift(orig: milp.Program, cands: list[Candidates], red: Reduced, prog: milp.Program, x: np.ndarray) -> np.ndarray:
    """The solution `x` of `prog` (built over `red.cands`) in the columns of `orig` (built over `cands`):
    the same pools, the zone they run in, the one-offer binaries and the region charges they open."""
    out = np.zeros(len(orig.c))
    i1, n1, i2, n2 = prog.pools
    for wi, c in enumerate(cands):
        lo, hi = int(prog.n_start[wi]), int(prog.n_start[wi + 1])
        units = np.round(x[lo:hi])
        nodes = np.zeros(len(red.keep[wi]))
        for j in np.flatnonzero(units):
            col = lo + j
            nodes[i1[col]] += units[j] * n1[col]
            if i2[col] >= 0:
                nodes[i2[col]] += units[j] * n2[col]
        for j in np.flatnonzero(nodes):
            i = int(red.keep[wi][j])
            col = int(orig.n_start[wi]) + i
            out[col] = nodes[j]
            out[int(orig.y_start[wi]) + int(c.zone[i])] = 1.0
            if orig.x_col[col] >= 0:
                out[orig.x_col[col]] = 1.0
            for ch in c.charges[int(c.zone[i])] if c.charges else ():
                if orig.charge_cols and ch.key in orig.charge_cols:
                    out[orig.charge_cols[ch.key]] = 1.0
    if orig.s_cols is not None and prog.s_cols is not None:
        out[orig.s_cols] = np.round(x[prog.s_cols])
    return out
