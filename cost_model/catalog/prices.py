"""Node prices and accelerator counts from the cost model's catalog, per (cloud, region, instance type).

A pool is priced in the zones it runs in (newinfra.cost_model.record_pools.pool_zones: the zone the placement chose),
so every figure matches the lock's; where its zones are not known, or the catalog has no offer there, a
region's price is the highest zone price there (an estimate that errs on the side of the budget). Tests and
benchmarks pass their own ``PriceBook``.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from newinfra.cost_model.catalog.schema import Offer


@dataclass(frozen=True)
class NodePrice:
    accelerator: str
    accelerators_per_node: int
    on_demand_usd: float | None
    spot_usd: float | None
    efa: bool

    @property
    def is_tpu(self) -> bool:
        return self.accelerator.startswith("tpu-")

    def hourly(self, spot: bool) -> float | None:
        """Spot price for a spot pool where the catalog has one, else on-demand."""
        return self.spot_usd if spot and self.spot_usd is not None else self.on_demand_usd


Key = tuple[str, str, str, str | None, int | None]
ZoneKey = tuple[str, str, str, str | None, int | None, str]


def _fold(group: list[Offer]) -> NodePrice:
    """One price for offers of one type: the dearest on-demand and the dearest spot price among them."""
    on_demand = [o.on_demand_usd for o in group if o.on_demand_usd is not None]
    spot = [o.spot_usd for o in group if o.spot_usd is not None]
    return NodePrice(group[0].accelerator, group[0].accelerators_per_node, max(on_demand) if on_demand else None,
                     max(spot) if spot else None, any(o.efa for o in group))


class PriceBook:
    """Offers folded to one price per (cloud, region, type[, accelerator, count])."""

    def __init__(self, offers: Iterable[Offer], version: str = "") -> None:
        self.version = version
        grouped: dict[Key, list[Offer]] = {}
        zoned: dict[ZoneKey, list[Offer]] = {}
        for o in offers:
            if o.zone:
                zoned.setdefault((o.cloud, o.region, o.instance_type, o.accelerator, o.accelerators_per_node,
                                  o.zone), []).append(o)
            for key in ((o.cloud, o.region, o.instance_type, None, None),
                        (o.cloud, o.region, o.instance_type, o.accelerator, o.accelerators_per_node)):
                grouped.setdefault(key, []).append(o)
        self._prices: dict[Key, NodePrice] = {}
        self._types: dict[tuple[str, str], set[str]] = {}
        for key, group in grouped.items():
            variants = {(o.accelerator, o.accelerators_per_node) for o in group}
            if key[3] is None and len(variants) > 1:
                continue  # a GCP N1 host: its price depends on the attached GPUs
            self._prices[key] = _fold(group)
            self._types.setdefault((key[0], key[2]), set()).add(key[1])
        self._zoned: dict[tuple[str, str, str, str, int], dict[str, list[Offer]]] = {}
        for (cloud, region, itype, accel, count, zone), group in zoned.items():
            self._zoned.setdefault((cloud, region, itype, accel, count), {})[zone] = group
            self._zoned.setdefault((cloud, region, itype, "", 0), {}).setdefault(zone, []).extend(group)

    def node(self, cloud: str, region: str, instance_type: str, accelerator: str | None = None,
             count: int | None = None, zones: Iterable[str] = ()) -> NodePrice | None:
        """The type's price in ``zones`` (the dearest of them the catalog offers it in), else in the region's
        dearest zone."""
        region_price = self._prices.get((cloud, region, instance_type, accelerator, count))
        if region_price is None or not zones:
            return region_price
        by_zone = self._zoned.get((cloud, region, instance_type, accelerator or "", count or 0), {})
        group = [o for z in sorted(set(zones)) for o in by_zone.get(z, ())]
        variants = {(o.accelerator, o.accelerators_per_node) for o in group}
        return _fold(group) if group and len(variants) == 1 else region_price

    def regions_of(self, cloud: str, instance_type: str) -> set[str]:
        """Regions where the catalog offers the type (empty: the catalog does not know it)."""
        return self._types.get((cloud, instance_type), set())


_override: list[PriceBook] = []


@lru_cache(maxsize=1)
def _catalog_book() -> PriceBook:
    from newinfra.cost_model.catalog import load_catalog

    with _quiet():  # staleness is reported once by the check command, not per policy
        catalog = load_catalog()
    return PriceBook(catalog.offers, catalog.version)


def catalog_version() -> str:
    """The packaged catalog's version, as the pull-request comment names it (the bill gives the date)."""
    from newinfra.cost_model.catalog import load_catalog

    with _quiet():
        catalog = load_catalog()
    return f"accelerator catalog {catalog.version}"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    log = logging.getLogger("newinfra.cost_model.catalog.loader")
    disabled, log.disabled = log.disabled, True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        log.disabled = disabled


def book() -> PriceBook:
    return _override[-1] if _override else _catalog_book()


@contextlib.contextmanager
def using(price_book: PriceBook) -> Iterator[PriceBook]:
    """Evaluate with ``price_book`` instead of the catalog (tests, benchmarks)."""
    _override.append(price_book)
    try:
        yield price_book
    finally:
        _override.pop()


def gcp_accelerator_name(value: Any) -> str:
    """GCE accelerator type ('nvidia-tesla-t4', a full URL) -> catalog name where known ('T4')."""
    name = str(value).rsplit("/", 1)[-1]
    from newinfra.cost_model.catalog import load_catalog

    with _quiet():
        try:
            return load_catalog().normalise_accelerator(name)
        except ValueError:
            return name
