"""Which (offer, market) pairs each workload may use, with the dominated ones pruned away.

Exactness of the pruning (why no optimal solution is lost). Fix a workload w with total coverage need,
spot cap, node range and one-zone rule. A *configuration* of w is a zone plus at most one offer per market
with node counts. Shared constraints that couple workloads are only (i) quotas, which count `units × nodes`
of (offer, market) pairs a quota row matches, and (ii) the monthly budget, which only ever prefers cheaper.

Rule 1 (same key, cheaper wins). Two candidates with the same zone, market, accelerators per node and
the same quota rows and units per node are interchangeable in every constraint (coverage, node range, spot
share, zone, quotas); swapping the pricier for the cheaper keeps a solution feasible and does not raise its
cost. So per key only the cheapest survives (ties: first in catalog order, which makes the choice stable).

Rule 2 (zones beaten by a quota-free zone). Call a zone *free* for w when no quota row matches any of w's
candidates there. For each zone z let BEST(z) be the cheapest configuration of w in z with quotas ignored
(computed exactly: with perNode, the cheapest on-demand offer plus as many nodes of the cheapest spot offer
as the cap allows when spot is cheaper; without perNode, every (on-demand shape, spot shape) pair and spot
node count, with the fewest on-demand nodes that cover the count, the cap and the node range). BEST(z) is a
lower bound on any configuration in z and, in a free zone, is attained. Let z* be the free zone with the
least BEST. Any solution that runs w in a zone z with BEST(z) >= BEST(z*) can move w to z*'s configuration:
it uses no quota, costs no more, keeps the budget, and other workloads are untouched. So such zones are
dropped (z* itself is kept; ties therefore go to the quota-free zone first in catalog order).

Node bound: a pool of offer o never needs more than max(ceil(count / per node), nodes.min) nodes — a
solution with more can be replaced by that many nodes of o alone (covers the count, meets nodes.min, no spot,
less quota, no more cost), and a spot pool can drop one node at a time without breaking the spot share.

When only z* survives, its configuration is optimal for w and touches no shared limit but the budget: the
solver receives it as a constant (`Fixed`), not as variables; in priority mode (budget or quotas too tight
for everyone) the kept candidates become variables again. The hypothesis tests check all of this against
brute-force enumeration.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from newinfra.cost_model.catalog.opt_in import allowed
from newinfra.cost_model.catalog.schema import Offer
from newinfra.cost_model.exclusions import Exclusion
from newinfra.cost_model.hosts import floor_for
from newinfra.cost_model.markets import MARKET_INDEX, block_in_time, flex_start_allowed, spot_overhead
from newinfra.cost_model.request import PlacementRequest, Quota, Workload
from newinfra.cost_model.spread import spread_offers, spreads, zones_of

from newinfra.facts import RUNS_ON, runs_on

MARKETS = ("on-demand", "spot")
# Constraint families a diagnosis can relax one at a time (candidate filters and shared rows).
FAMILIES = ("allowedClouds", "dataResidency", "exclude", "hostFloor", "optIn", "maxSpotShare", "nodes", "quotas",
            "monthlyBudgetUsd")
_TOL = 1e-9


@dataclass(frozen=True)
class QuotaRules:
    """How a cloud counts quota: family of an (offer, market) and units per node (from the catalog)."""

    family: object  # Callable[[Offer, str], str | None]
    units: object  # Callable[[Offer], float]

    @classmethod
    def from_catalog(cls) -> QuotaRules:
        from newinfra.cost_model.catalog.quota import quota_family, quota_units

        return cls(quota_family, quota_units)


class OfferIndex:
    """Column arrays over one catalog's offers, grouped by accelerator, built once per catalog."""

    def __init__(self, catalog, rules: QuotaRules | None = None):
        self.catalog = catalog
        self.rules = rules or QuotaRules.from_catalog()
        offers = sorted(catalog.offers, key=lambda o: (o.cloud, o.region, o.zone, o.instance_type,
                                                       o.accelerator, o.accelerators_per_node))
        # Region-level offers for workloads spread over zones (cost_model/spread.py), after the zonal ones so
        # that every zonal offer and zone keeps its index (ties break in catalog order as before).
        self.zonal_count = len(offers)
        offers += spread_offers(offers)
        self.offers: tuple[Offer, ...] = tuple(offers)
        # Which rows a spread workload may take: the region-level ones, and the rows whose source lists no zone
        # (Alibaba: such a pool spans the region's configured zones); every other workload takes the zonal rows.
        pseudo = np.arange(len(offers)) >= self.zonal_count
        self.spread_rows = {False: ~pseudo, True: pseudo | np.array([o.zone == "" for o in offers], bool)}
        nan = float("nan")
        self.od = np.array([nan if o.on_demand_usd is None else o.on_demand_usd for o in offers], float)
        self.spot = np.array([nan if o.spot_usd is None else o.spot_usd for o in offers], float)
        self.apn = np.array([o.accelerators_per_node for o in offers], np.int64)
        # host size per accelerator (NaN where the catalog has none: TPU slices), for the host floor
        self.vcpus_per = np.array([nan if o.vcpus is None else o.vcpus / o.accelerators_per_node for o in offers])
        self.mem_per = np.array([nan if o.memory_gib is None else o.memory_gib / o.accelerators_per_node
                                 for o in offers])
        self.clouds = np.array([o.cloud for o in offers], object)
        zones = [(o.cloud, o.region, o.zone) for o in offers]
        self.zone_keys = sorted(set(zones[:self.zonal_count])) + sorted(set(zones[self.zonal_count:]))
        zid = {z: i for i, z in enumerate(self.zone_keys)}
        self.zone = np.array([zid[z] for z in zones], np.int64)
        self.region_keys = sorted({(o.cloud, o.region) for o in offers})
        rid = {r: i for i, r in enumerate(self.region_keys)}
        self.region = np.array([rid[(o.cloud, o.region)] for o in offers], np.int64)
        self.zone_region = np.array([rid[z[:2]] for z in self.zone_keys], np.int64)
        by_accel: dict[str, list[int]] = {}
        for i, o in enumerate(offers):
            by_accel.setdefault(o.accelerator, []).append(i)
        self.by_accel = {a: np.array(ix, np.int64) for a, ix in by_accel.items()}
        # Where each offer can run (newinfra/facts.py): a Kubernetes workload never lands on a type the node
        # pools refuse (TPU v2 on GKE), nor any workload on one no pool takes (no accelerated node image).
        modes = [runs_on(o.cloud, o.instance_type) for o in offers]
        self.runs_on = {mode: np.array([mode in m for m in modes], bool) for mode in RUNS_ON}

    @cached_property
    def families(self) -> tuple[tuple[str | None, ...], ...]:
        """Quota family per market per offer (computed once; only needed when a request has quotas)."""
        return tuple(tuple(self._family(o, m) for o in self.offers) for m in MARKETS)

    def _family(self, offer: Offer, market: str) -> str | None:
        try:
            return self.rules.family(offer, market)
        except ValueError:  # a family the quota table does not know: no quota row can match it
            return None

    @cached_property
    def units(self) -> np.ndarray:
        return np.array([float(self.rules.units(o)) for o in self.offers], float)

    def exclusion_mask(self, exclusions: tuple[Exclusion, ...]) -> np.ndarray:
        mask = np.zeros(len(self.offers), bool)
        for e in exclusions:  # a region-level offer is excluded with any of its zones (Exclusion.matches)
            mask |= np.array([e.matches(o) for o in self.offers], bool)
        return mask


@dataclass
class Candidates:
    """One workload's surviving (offer, market) pairs; zones are local indices into `zones`."""

    workload: Workload
    offer: np.ndarray  # index into OfferIndex.offers
    market: np.ndarray  # 0 on-demand, 1 spot
    price: np.ndarray  # USD per node-hour
    apn: np.ndarray
    bound: np.ndarray  # most nodes a pool of this candidate can need
    zone: np.ndarray  # local zone index
    quota_rows: list[tuple[int, ...]]  # quota rows matching each candidate
    units: np.ndarray
    zones: np.ndarray  # global zone ids
    egress: np.ndarray  # USD/month per local zone
    need: int  # accelerators (or exact node count with perNode)
    cap: float  # spot share cap
    node_range: tuple[int, int] | None
    fixed: Fixed | None = None
    # per local zone: the region charges (control plane, NAT, shared file system) a pool there needs
    charges: tuple[tuple, ...] = ()
    # any-of accelerators: per local zone, the coverage need of the accelerator variant that zone belongs to
    # (`need` then is their least, for messages only); None when every zone needs `need`
    zone_need: np.ndarray | None = None


def merge_variants(w: Workload, parts: list[Candidates]) -> Candidates:
    """One workload's candidates over several accelerators (see `CandidateBuilder.build_workload`)."""
    offsets = np.cumsum([0] + [len(p.zones) for p in parts])
    scale = [p.workload.hours_per_month / w.hours_per_month for p in parts]
    zone_need = np.concatenate([np.full(len(p.zones), p.need, np.int64) for p in parts])
    return Candidates(
        w, np.concatenate([p.offer for p in parts]), np.concatenate([p.market for p in parts]),
        np.concatenate([p.price * s for p, s in zip(parts, scale, strict=True)]),
        np.concatenate([p.apn for p in parts]), np.concatenate([p.bound for p in parts]),
        np.concatenate([p.zone + off for p, off in zip(parts, offsets, strict=False)]),
        [q for p in parts for q in p.quota_rows], np.concatenate([p.units for p in parts]),
        np.concatenate([p.zones for p in parts]), np.concatenate([p.egress for p in parts]),
        int(zone_need.min()), parts[0].cap, parts[0].node_range, None,
        tuple(ch for p in parts for ch in p.charges), zone_need)


@dataclass(frozen=True)
class Fixed:
    """A workload whose optimum was proven without the solver: pools [(offer index, market, nodes)]."""

    pools: tuple[tuple[int, int, int], ...]
    zone: int  # global zone id
    monthly_usd: float
    egress_usd: float


class CandidateBuilder:
    """Per request: residency, egress and quota lookups shared by all workloads."""

    def __init__(self, index: OfferIndex, request: PlacementRequest, exclusions=(), relax=frozenset()):
        self.ix = index
        self.request = request
        self.relax = relax
        self.excluded = index.exclusion_mask(tuple(exclusions)) if "exclude" not in relax else None
        self.allowed_cloud = {c: (c in request.allowed_clouds or "allowedClouds" in relax) for c in
                              ("aws", "gcp", "alicloud")}
        self.quotas: tuple[Quota, ...] = () if "quotas" in relax else request.quotas
        self._quota_map: dict[tuple[str, str, str, str], tuple[int, ...]] = {}
        self._quota_of: dict[tuple[int, int], tuple[int, ...]] = {}
        for qi, q in enumerate(self.quotas):
            for m in MARKETS if q.market == "any" else (q.market,):
                key = (q.cloud, q.region, q.family, m)
                self._quota_map[key] = self._quota_map.get(key, ()) + (qi,)
        # Local Zones and opt-in regions only when the request opts in (cost_model/catalog/opt_in.py)
        self.opt_in_ok = None if "optIn" in relax else np.array(
            [all(allowed(c, r, one, request.allow_local_zones, request.opt_in_regions) for one in zones_of(z))
             for c, r, z in index.zone_keys], bool)
        quota_regions = {(q.cloud, q.region) for q in self.quotas}
        self.region_quota = np.array([r in quota_regions for r in index.region_keys], bool)
        self._region_ok: dict[tuple[str, ...] | None, np.ndarray] = {}
        self._egress: dict[tuple[str | None, int], float] = {}
        self._built: dict[tuple, Candidates] = {}
        # capacity the user owns or bought, each a shared limit in nodes after the quotas (quota index
        # len(quotas) + k): (market, the config entry, nodes)
        self.owned: list[tuple[str, object, int]] = \
            [("reserved", r, r.count) for r in request.reservations] + \
            [("capacity-block", b, b.count) for b in request.capacity_blocks]
        # spot's expected restart overhead per offer (cost_model/markets.py); None: no penalty configured
        spot = request.markets.spot
        self.spot_factor = np.array([spot_overhead(request, o.cloud, o.instance_type) for o in index.offers],
                                    float) if spot.interruptions_per_day and spot.restart_hours > 0 else None
        from newinfra.cost_model.open_costs import OpenCosts

        self.open_costs = OpenCosts(request)

    def limits(self) -> np.ndarray:
        """Every shared row's limit: the quotas, then the owned capacities' nodes."""
        return np.array([q.limit for q in self.quotas] + [n for _, _, n in self.owned], float)

    def limit_name(self, q: int) -> str:
        if q < len(self.quotas):
            qu = self.quotas[q]
            return f"{qu.cloud}/{qu.region}/{qu.family} ({qu.market})"
        kind, item, n = self.owned[q - len(self.quotas)]
        return f"{kind} {getattr(item, 'cloud', 'aws')}/{item.region}:{item.instance_type} ({n} nodes)"

    def region_mask(self, w: Workload) -> np.ndarray | None:
        patterns = None if "dataResidency" in self.relax else self.request.allowed_regions(w)
        if patterns is None:
            return None
        if patterns not in self._region_ok:
            self._region_ok[patterns] = np.array(
                [any(fnmatch.fnmatchcase(r, p) for p in patterns) for _, r in self.ix.region_keys], bool
            )
        return self._region_ok[patterns]

    def egress(self, w: Workload, region_id: int) -> float:
        ds = self.request.dataset(w.dataset)
        if ds is None:
            return 0.0
        key = (ds.name, region_id)
        if key not in self._egress:
            cloud, region = self.ix.region_keys[region_id]
            rate = self.ix.catalog.egress_usd_per_gb(ds.home_cloud, ds.home_region, cloud, region)
            self._egress[key] = float(rate) * ds.read_gb
        return self._egress[key]

    def rows(self, w: Workload, accelerator: str, relax: frozenset[str] = frozenset()) -> np.ndarray:
        """Offers the workload may use: accelerator, allowed clouds, residency, exclusions, opt-in capacity,
        host floor, perNode, spread over zones (`relax` drops the opt-in, floor or spread filter to explain an
        empty set)."""
        ix = self.ix
        rows = ix.by_accel.get(accelerator, np.zeros(0, np.int64))
        keep = np.array([self.allowed_cloud[c] for c in ix.clouds[rows]], bool) if len(rows) else \
            np.zeros(0, bool)
        regions_ok = self.region_mask(w)
        if regions_ok is not None:
            keep &= regions_ok[ix.region[rows]]
        if self.excluded is not None:
            keep &= ~self.excluded[rows]
        if self.opt_in_ok is not None and "optIn" not in relax:
            keep &= self.opt_in_ok[ix.zone[rows]]
        floor = None if "hostFloor" in self.relax | relax else floor_for(w, accelerator)
        if floor is not None:  # NaN (no host size: a TPU slice) compares False: kept, as meets_floor says
            keep &= ~(ix.vcpus_per[rows] < floor[0] - 1e-9) & ~(ix.mem_per[rows] < floor[1] - 1e-9)
        if w.per_node is not None:
            keep &= ix.apn[rows] == w.per_node
        keep &= ix.runs_on[w.runs_on][rows]
        # a spread workload takes region-level offers only, every other workload zonal ones only
        keep &= ix.spread_rows[spreads(w, self.request.profile) and "spread" not in relax][rows]
        return rows[keep]

    def spot_cap(self, w: Workload) -> float:
        return 1.0 if "maxSpotShare" in self.relax else w.spot_share_cap

    def node_range(self, w: Workload) -> tuple[int, int] | None:
        return (w.nodes.min, w.nodes.max) if w.nodes is not None and "nodes" not in self.relax else None

    def build(self, w: Workload, accelerator: str) -> Candidates:
        """Candidates of w; workloads that ask the same thing share one computation."""
        key = (accelerator, w.count, w.per_node, w.nodes, w.spot, w.max_spot_share, w.hours_per_month,
               w.dataset, w.runs_on, w.cpus_per_accelerator, w.memory_gb_per_accelerator, w.max_start_delay_hours,
               w.start_by,
               spreads(w, self.request.profile))
        if key not in self._built:
            self._built[key] = self._build(w, accelerator)
        return dataclasses.replace(self._built[key], workload=w)

    def build_workload(self, w: Workload) -> Candidates:
        """Candidates of w over every accelerator it accepts. One accelerator: `build`. Several (any-of): each
        accelerator's variant (its count and hours, `Workload.variant`) is built and pruned on its own (the
        pruning rules hold within a variant), then the variants' zones are put side by side as zones of one
        workload, so the one-zone row picks one (accelerator, zone); prices are scaled to the merged
        workload's hours and each zone carries its variant's coverage need (`zone_need`)."""
        normalise = self.ix.catalog.normalise_accelerator
        if w.accelerators is None:
            return self.build(w, normalise(w.accelerator))
        parts = []
        for name, speed in w.choices:
            accel = normalise(name)
            part = self.build(w.variant(accel, speed), accel)
            if len(part.offer):
                parts.append(part)
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return dataclasses.replace(self.build(w.variant(normalise(w.choices[0][0]), w.choices[0][1]),
                                                  normalise(w.choices[0][0])), workload=w)
        return merge_variants(w, parts)

    def _build(self, w: Workload, accelerator: str) -> Candidates:
        ix = self.ix
        rows = self.rows(w, accelerator)
        cap = self.spot_cap(w)
        od_rows = rows[~np.isnan(ix.od[rows])]
        sp_rows = rows[~np.isnan(ix.spot[rows])] if cap > 0 else rows[:0]
        offer = np.concatenate([od_rows, sp_rows])
        market = np.concatenate([np.zeros(len(od_rows), np.int64), np.ones(len(sp_rows), np.int64)])
        spot_price = ix.spot[sp_rows] if self.spot_factor is None else ix.spot[sp_rows] * self.spot_factor[sp_rows]
        price = np.concatenate([ix.od[od_rows], spot_price])  # spot with its expected restart overhead
        special = self._special_markets(w, rows)
        owner = np.concatenate([np.full(len(offer), -1, np.int64), special[3]])
        offer = np.concatenate([offer, special[0]])
        market = np.concatenate([market, special[1]])
        price = np.concatenate([price, special[2]])
        apn = ix.apn[offer]
        node_range = self.node_range(w)
        if w.per_node is not None:
            need = w.count // w.per_node
            bound = np.full(len(offer), need, np.int64)
            if node_range and not node_range[0] <= need <= node_range[1]:
                keep = np.zeros(len(offer), bool)  # count / perNode nodes fall outside the node range
                offer, market, price, apn, bound, owner = (a[keep] for a in (offer, market, price, apn, bound, owner))
        else:
            need = w.count
            bound = -(-w.count // np.maximum(apn, 1))
            if node_range:
                bound = np.clip(np.maximum(bound, node_range[0]), 0, node_range[1])
        quota_rows, units = self._quota(offer, market)
        for i in np.flatnonzero(owner >= 0):  # owned capacity: its own row, counted in nodes, up to its size
            k = int(owner[i])
            quota_rows[i] = (len(self.quotas) + k,)
            units[i] = 1.0
            bound[i] = min(int(bound[i]), self.owned[k][2])
        return self._prune(w, offer, market, price, apn, bound, quota_rows, units, need, cap, node_range)

    def _special_markets(self, w: Workload, rows: np.ndarray):
        """Candidates of the markets beyond on-demand and spot among the offers w may use: (offer rows, market,
        price per node-hour as the solver weighs it, owned-capacity index or -1). Reservations: free, up to
        their size. Capacity Blocks: the whole block's hours paid per node (hourly x duration, spread over w's
        hours), only when w's hours fit the duration. Flex-start: the user's share of the on-demand price, only
        for a workload that can wait the expected delay and whose run fits the maximum run length."""
        ix = self.ix
        out_rows, out_market, out_price, out_owner = [], [], [], []
        for k, (kind, item, _count) in enumerate(self.owned):
            for r in rows:
                o = ix.offers[int(r)]
                if kind == "reserved":
                    if (o.cloud, o.region, o.instance_type) != (item.cloud, item.region, item.instance_type) or \
                            item.zone not in (None, o.zone):
                        continue
                    price = 0.0
                else:
                    if (o.cloud, o.region, o.instance_type) != ("aws", item.region, item.instance_type) or \
                            w.hours_per_month > item.duration_hours + 1e-9 or not block_in_time(item, w):
                        continue
                    price = item.hourly_price_usd * item.duration_hours / w.hours_per_month
                out_rows.append(int(r))
                out_market.append(MARKET_INDEX[kind])
                out_price.append(price)
                out_owner.append(k)
        if flex_start_allowed(self.request, w):
            factor = self.request.markets.flex_start.price_factor
            for r in rows:
                o = ix.offers[int(r)]
                # a TPU slice outside GKE cannot be built on flex-start (components/gcp/tpu.py says why)
                if o.cloud == "gcp" and not np.isnan(ix.od[r]) and not (w.runs_on == "vm" and
                                                                       o.accelerator.startswith("tpu-")):
                    out_rows.append(int(r))
                    out_market.append(MARKET_INDEX["flex-start"])
                    out_price.append(float(ix.od[r]) * factor)
                    out_owner.append(-1)
        return (np.array(out_rows, np.int64), np.array(out_market, np.int64), np.array(out_price, float),
                np.array(out_owner, np.int64))

    def _quota(self, offer: np.ndarray, market: np.ndarray) -> tuple[list[tuple[int, ...]], np.ndarray]:
        rows: list[tuple[int, ...]] = [()] * len(offer)
        units = np.zeros(len(offer), float)
        if not self.quotas:
            return rows, units
        ix = self.ix
        # reservations, Capacity Blocks, flex-start: counted by their own rows, not the cloud quotas
        known = self._quota_of
        for i in np.flatnonzero(self.region_quota[ix.region[offer]] & (market < len(MARKETS))):
            o, m = int(offer[i]), int(market[i])
            matched = known.get((o, m))
            if matched is None:  # once per (offer, market) and request: workloads share most offers
                fam = ix.families[m][o]
                of = ix.offers[o]
                matched = known[(o, m)] = self._quota_map.get((of.cloud, of.region, fam, MARKETS[m]), ()) \
                    if fam else ()
            if matched:
                rows[i] = matched
                units[i] = ix.units[o]
        return rows, units

    def _prune(self, w, offer, market, price, apn, bound, quota_rows, units, need, cap, node_range):
        ix = self.ix
        gzone = ix.zone[offer]
        sig_ids = {s: k for k, s in enumerate(sorted(set(quota_rows)))}
        sig = np.array([sig_ids[s] for s in quota_rows], np.int64)
        # Rule 1: per (zone, market, shape, quota rows, units) keep the cheapest (catalog order on ties).
        order = np.lexsort((offer, price, units, sig, apn, market, gzone))
        keys = np.stack([gzone, market, apn, sig, units.view(np.int64)], axis=1)[order]
        first = np.ones(len(order), bool)
        if len(order) > 1:
            first[1:] = np.any(keys[1:] != keys[:-1], axis=1)
        sel = order[first]
        offer, market, price, apn, bound, units, gzone, sig = (
            a[sel] for a in (offer, market, price, apn, bound, units, gzone, sig))
        quota_rows = [quota_rows[i] for i in sel]
        zones, local = np.unique(gzone, return_inverse=True)
        egress = np.array([self.egress(w, int(ix.zone_region[z])) for z in zones], float)
        charges = tuple(self.open_costs.charges(w, *ix.zone_keys[int(z)]) for z in zones)
        cands = Candidates(w, offer, market, price, apn, bound, local, quota_rows, units, zones, egress,
                           need, cap, node_range, charges=charges)
        if len(zones) == 0:
            return cands
        # Rule 2: per zone, the best configuration ignoring quotas: exact in a quota-free zone and a lower
        # bound in the others. Over on-demand and spot only: a zone with another market's candidate (owned
        # capacity, flex-start) has no such bound and is always kept, and such a workload is never fixed.
        special = market >= 2
        regular = cands if not special.any() else dataclasses.replace(
            cands, offer=offer[~special], market=market[~special], price=price[~special], apn=apn[~special],
            bound=bound[~special], zone=local[~special], quota_rows=[q for q, sp in zip(quota_rows, special,
                                                                                         strict=True) if not sp],
            units=units[~special])
        if w.per_node is not None:
            best_cost, best_pools = self._zone_configs(regular)
        else:
            best_cost, best_pools = self._mixed_configs(regular)
        lb = best_cost
        constrained = np.zeros(len(zones), bool)
        np.logical_or.at(constrained, local, sig != sig_ids.get((), -1))
        free_cost = np.where(constrained, np.inf, best_cost)
        if not np.isfinite(free_cost).any():
            return cands
        zstar = int(np.argmin(free_cost + self._opening(charges, None, zstar_all=True)))
        ub = float(free_cost[zstar])
        # Moving w from zone z to z* may open charges z* needs and z does not (and may close z's: never dearer).
        extra = self._opening(charges, zstar)
        keep_zone = (lb < ub + extra - _TOL * max(1.0, ub)) | (np.arange(len(zones)) == zstar)
        np.logical_or.at(keep_zone, local, special)
        if keep_zone.sum() == 1 and lb[zstar] >= ub - _TOL * max(1.0, ub) and not special.any():
            cands.fixed = Fixed(tuple((int(offer[c]), int(market[c]), n) for c, n in best_pools[zstar]),
                                int(zones[zstar]), ub, float(egress[zstar]))
        kept = keep_zone[local]
        remap = np.cumsum(keep_zone) - 1
        return Candidates(w, offer[kept], market[kept], price[kept], apn[kept], bound[kept],
                          remap[local[kept]], [q for q, k in zip(quota_rows, kept, strict=True) if k],
                          units[kept], zones[keep_zone], egress[keep_zone], need, cap, node_range,
                          cands.fixed, tuple(ch for ch, k in zip(charges, keep_zone, strict=True) if k))

    @staticmethod
    def _opening(charges: tuple[tuple, ...], zstar: int | None, zstar_all: bool = False) -> np.ndarray:
        """Per zone z: what the charges of z* cost that z does not need (``zstar_all``: all of z's own)."""
        if zstar_all:
            return np.array([sum(ch.monthly_usd for ch in zc) for zc in charges], float)
        target = charges[zstar]
        return np.array([sum(ch.monthly_usd for ch in target if ch not in zc) for zc in charges], float)

    def _zone_configs(self, c: Candidates) -> tuple[np.ndarray, dict[int, list[tuple[int, int]]]]:
        """Per zone, the cheapest configuration of one shape: the cheapest on-demand offer of it plus as
        many nodes of its cheapest spot offer as the cap allows when spot is cheaper (quotas ignored)."""
        w = c.workload
        lo, hi = c.node_range or (0, math.inf)
        cost = np.full(len(c.zones), np.inf)
        pools: dict[int, list[tuple[int, int]]] = {}
        groups: dict[tuple[int, int], list[int | None]] = {}
        for i in np.lexsort((c.price, c.market, c.apn, c.zone)):
            slot = groups.setdefault((int(c.zone[i]), int(c.apn[i])), [None, None])
            if slot[int(c.market[i])] is None:
                slot[int(c.market[i])] = int(i)
        h = w.hours_per_month
        for (z, a), (od, sp) in sorted(groups.items()):
            n = c.need if w.per_node is not None else max(-(-w.count // a), lo)
            if n < lo or n > hi:
                continue
            p = c.price[od] if od is not None else math.inf
            q = c.price[sp] if sp is not None else math.inf
            k = math.floor(c.cap * n + _TOL) if q < p else 0
            if od is None:
                if k < n:
                    continue
                k = n
            total = h * (k * q if k else 0.0) + h * ((n - k) * p if n - k else 0.0) + float(c.egress[z])
            if total < cost[z] - _TOL * max(1.0, total):
                cost[z] = total
                pools[z] = [(i, m) for i, m in ((od, n - k), (sp, k)) if i is not None and m > 0]
        return cost, pools

    def _mixed_configs(self, c: Candidates) -> tuple[np.ndarray, dict[int, list[tuple[int, int]]]]:
        """Without perNode: per zone, the cheapest configuration of at most one on-demand and one spot
        offer (quotas ignored), by enumerating the spot node count of every (on-demand, spot) pair and
        taking the fewest on-demand nodes that cover the count, meet the spot cap and the node range."""
        w = c.workload
        lo, hi = c.node_range or (0, math.inf)
        h, count, cap = w.hours_per_month, w.count, c.cap
        # cheapest candidate per (zone, market, shape); others cannot beat it with quotas ignored
        order = np.lexsort((np.arange(len(c.offer)), c.price, c.apn, c.market, c.zone))
        key = np.stack([c.zone, c.market, c.apn], axis=1)[order]
        first = np.ones(len(order), bool)
        first[1:] = np.any(key[1:] != key[:-1], axis=1)
        rep = order[first]
        od, sp = rep[c.market[rep] == 0], rep[c.market[rep] == 1]
        parts = []  # (zone, cost, i1, n1, i2, n2)
        for idx in (od, sp) if cap >= 1 else (od,):
            a = c.apn[idx]
            n = np.maximum(-(-count // a), lo)
            ok = n <= hi
            parts.append((c.zone[idx][ok], h * n[ok] * c.price[idx][ok], idx[ok], n[ok],
                          np.full(ok.sum(), -1), np.zeros(ok.sum(), np.int64)))
        if len(od) and len(sp) and cap > 0:
            pi, pj = np.nonzero(c.zone[od][:, None] == c.zone[sp][None, :])
            i1, i2 = od[pi], sp[pj]
            a1, a2 = c.apn[i1][:, None], c.apn[i2][:, None]
            top = np.maximum(-(-count // a2), lo)
            n2 = np.arange(1, int(top.max(initial=1)) + 1)[None, :]
            need = -(-np.maximum(count - a2 * n2, 0) // a1)
            share = np.ceil(n2 * (1 - cap) / cap - _TOL).astype(np.int64) if cap < 1 else 0
            n1 = np.maximum(np.maximum(need, share), lo - n2).clip(min=0)
            ok = (n2 <= top) & (n1 + n2 <= hi) & (n2 <= cap * (n1 + n2) + _TOL)
            cost = h * (n1 * c.price[i1][:, None] + n2 * c.price[i2][:, None])
            r, k = np.nonzero(ok)
            parts.append((c.zone[i1][r], cost[r, k], i1[r], n1[r, k], i2[r], np.broadcast_to(n2, ok.shape)[r, k]))
        zone, cost, i1, n1, i2, n2 = (np.concatenate(x) for x in zip(*parts, strict=True))
        cost = cost + c.egress[zone]
        best = np.full(len(c.zones), np.inf)
        pools: dict[int, list[tuple[int, int]]] = {}
        if len(zone):
            order = np.lexsort((np.arange(len(zone)), cost, zone))
            firsts = order[np.r_[True, zone[order][1:] != zone[order][:-1]]]
            for t in firsts:
                z = int(zone[t])
                best[z] = cost[t]
                pools[z] = [(int(i), int(n)) for i, n in ((i1[t], n1[t]), (i2[t], n2[t])) if i >= 0 and n > 0]
        return best, pools
