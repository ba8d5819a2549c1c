"""Monthly cost of a stack's compute pools: node counts x catalog price x hours, at max and desired size."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from newinfra.cost_model.request import HOURS_PER_MONTH
from newinfra.policies.rules import prices

from newinfra.record_pools import Pool


@dataclass(frozen=True)
class PoolCost:
    pool: Pool
    hourly_usd: float | None  # one node, in the pool's market; None: not in the catalog
    accelerators_per_node: int
    hours: float  # per month: the pool's workload's hoursPerMonth, else the stack-wide figure

    @property
    def priced(self) -> bool:
        return self.hourly_usd is not None

    def monthly(self, nodes: int) -> float:
        return round(nodes * (self.hourly_usd or 0.0) * self.hours, 2)


@dataclass(frozen=True)
class Estimate:
    pools: tuple[PoolCost, ...]
    hours_per_month: float

    @property
    def max_usd(self) -> float:
        return round(sum(c.monthly(c.pool.max_nodes) for c in self.pools), 2)

    @property
    def desired_usd(self) -> float:
        return round(sum(c.monthly(c.pool.desired_nodes) for c in self.pools), 2)

    @property
    def unpriced(self) -> tuple[PoolCost, ...]:
        return tuple(c for c in self.pools if not c.priced)

    def to_dict(self) -> dict:
        return {
            "hoursPerMonth": self.hours_per_month,
            "maxUsd": self.max_usd,
            "desiredUsd": self.desired_usd,
            "pools": [
                {"urn": c.pool.urn, "name": c.pool.name, "cloud": c.pool.cloud, "region": c.pool.region,
                 "instanceType": c.pool.instance_type, "market": "spot" if c.pool.spot else "on-demand",
                 "minNodes": c.pool.min_nodes, "desiredNodes": c.pool.desired_nodes, "maxNodes": c.pool.max_nodes,
                 "nodeHourlyUsd": c.hourly_usd, "hoursPerMonth": c.hours, "workload": c.pool.workload, "maxUsd": c.monthly(c.pool.max_nodes),
                 "desiredUsd": c.monthly(c.pool.desired_nodes)}
                for c in self.pools
            ],
        }


def estimate(pools: Iterable[Pool], hours_per_month: float = HOURS_PER_MONTH,
             workload_hours: Mapping[str, float] | None = None, book: prices.PriceBook | None = None) -> Estimate:
    """Cost of ``pools``; a pool tagged with a workload runs that workload's hours (``workload_hours``)."""
    book = book or prices.book()
    workload_hours = workload_hours or {}
    costs = []
    for pool in pools:
        price = pool.price(book)
        hours = float(workload_hours.get(pool.workload or "", hours_per_month))
        costs.append(PoolCost(pool, price.hourly(pool.spot) if price else None, pool.accelerators_per_node(book),
                              hours))
    return Estimate(tuple(costs), hours_per_month)


def workload_hours(workloads: object) -> dict[str, float]:
    """Workload name -> hoursPerMonth from the stack's newinfra:workloads list (absent: the default)."""
    out: dict[str, float] = {}
    for w in workloads if isinstance(workloads, list | tuple) else []:
        if isinstance(w, Mapping) and isinstance(w.get("name"), str):
            out[w["name"]] = float(w.get("hoursPerMonth", HOURS_PER_MONTH))
    return out
