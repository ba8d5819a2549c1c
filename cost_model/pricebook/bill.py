"""The whole bill of a record: every resource priced by the pricing function of its type.

A resource is *priced* (lines of quantity x unit price, each with its source and date), *usage-based*
(some of its lines take their quantity from the usage file), *free* (a type the clouds do not charge
for, listed in pricing.FREE with the reason) or *unpriced* (no pricing function, or no price in the book
for it there: reported with the reason, never counted as zero). Monthly figures at the desired size and
at the maximum size of every pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from newinfra.cost_model.pricebook.loader import Price, PriceBook, load_pricebook
from newinfra.cost_model.pricebook.usage import Usage
from newinfra.cost_model.request import HOURS_PER_MONTH


class Unpriced(Exception):  # noqa: N818 - an outcome, not a failure: the resource is listed as unpriced
    """Raised by a pricing function when the book has no price for the resource; the text says why."""


@dataclass(frozen=True)
class Line:
    """One charge of a resource: quantity per month (at desired and at max size) x unit price."""

    item: str
    quantity: float
    unit: str
    price: Price
    max_quantity: float | None = None  # None: the same as quantity
    usage: bool = False  # the quantity comes from the usage file (or its documented default)

    @property
    def monthly_usd(self) -> float:
        return self.quantity * self.price.usd

    @property
    def max_monthly_usd(self) -> float:
        return (self.quantity if self.max_quantity is None else self.max_quantity) * self.price.usd

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "quantity": round(self.quantity, 6), "unit": self.unit,
                "maxQuantity": round(self.quantity if self.max_quantity is None else self.max_quantity, 6),
                "unitUsd": round(self.price.usd, 10), "monthlyUsd": round(self.monthly_usd, 2),
                "maxMonthlyUsd": round(self.max_monthly_usd, 2), "usageBased": self.usage,
                "source": self.price.source, "asOf": self.price.as_of, "quality": self.price.quality,
                "assumption": self.price.assumption}


# Lines priced as accelerator nodes: from the accelerator catalog, or a Capacity Block at its offering's quote.
ACCELERATOR_QUALITIES = ("catalog", "capacity-block")


@dataclass
class Context:
    """What a pricing function may read besides the resource: the book, its region, its usage, its pool."""

    book: PriceBook
    cloud: str
    region: str
    usage: Mapping[str, float]
    pool: Any = None  # newinfra.cost_model.record_pools.Pool for compute types
    template: Mapping[str, Any] | None = None
    hours: float = HOURS_PER_MONTH
    # newinfra:capacityBlocks as configured: a Capacity Block's price is the offering's quote, not the catalog's
    capacity_blocks: tuple[Mapping[str, Any], ...] = ()

    def service(self, key: str, what: str) -> Price:
        price = self.book.service(key, self.cloud, self.region)
        if price is None:
            raise Unpriced(f"no dated, verified price for {what} in the price book ({key})")
        return price


@dataclass
class Priced:
    urn: str
    type: str
    name: str
    region: str
    lines: list[Line] = field(default_factory=list)
    unpriced: str | None = None  # the reason, when not priced
    free: str | None = None  # the reason, when the cloud does not charge for it

    @property
    def monthly_usd(self) -> float:
        return round(sum(line.monthly_usd for line in self.lines), 2)

    @property
    def max_monthly_usd(self) -> float:
        return round(sum(line.max_monthly_usd for line in self.lines), 2)

    @property
    def usage_based(self) -> bool:
        return any(line.usage for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"urn": self.urn, "type": self.type, "name": self.name, "region": self.region,
                               "monthlyUsd": self.monthly_usd, "maxMonthlyUsd": self.max_monthly_usd,
                               "lines": [line.to_dict() for line in self.lines]}
        if self.unpriced:
            out["unpriced"] = self.unpriced
        return out


EGRESS_TYPE = "newinfra:egress"  # a bill line of its own, not a resource: a dataset read from another region


@dataclass(frozen=True)
class Totals:
    """A stack's monthly figures. `totals` is the only place a bill's total is summed: `newinfra cost`, the
    budget pack, `newinfra check`, the plan summary, the PR comment and the lock all read these."""

    monthly_usd: float  # at desired size
    max_monthly_usd: float  # every pool at its max size
    egress_usd: float  # part of both: datasets read across regions or clouds
    accelerator_usd: float  # part of monthly_usd: nodes priced from the accelerator catalog
    accelerator_max_usd: float
    price_date: str | None  # the oldest as-of date among the prices used

    def to_dict(self) -> dict[str, Any]:
        return {"monthlyUsd": self.monthly_usd, "maxMonthlyUsd": self.max_monthly_usd,
                "egressUsdPerMonth": self.egress_usd, "acceleratorMonthlyUsd": self.accelerator_usd,
                "acceleratorMaxMonthlyUsd": self.accelerator_max_usd, "priceDate": self.price_date}


def totals(priced: list[Priced]) -> Totals:
    """The monthly totals of priced resources: each resource rounded to the cent, then summed (so a total is
    the sum of the lines a reader sees). Unpriced and free resources add nothing and are listed elsewhere."""
    lines = [(p, line) for p in priced for line in p.lines]
    dates = [line.price.as_of for _, line in lines]
    return Totals(
        monthly_usd=round(sum(p.monthly_usd for p in priced), 2),
        max_monthly_usd=round(sum(p.max_monthly_usd for p in priced), 2),
        egress_usd=round(sum((p.monthly_usd for p in priced if p.type == EGRESS_TYPE), 0.0), 2),
        accelerator_usd=round(sum(line.monthly_usd for _, line in lines if line.price.quality in ACCELERATOR_QUALITIES),
                              2),
        accelerator_max_usd=round(sum(line.max_monthly_usd for _, line in lines
                                      if line.price.quality in ACCELERATOR_QUALITIES), 2),
        price_date=min(dates) if dates else None)


@dataclass
class Bill:
    project: str
    stack: str
    resources: list[Priced]

    @property
    def priced(self) -> list[Priced]:
        return [p for p in self.resources if p.lines and not p.unpriced]

    @property
    def unpriced(self) -> list[Priced]:
        return [p for p in self.resources if p.unpriced]

    @property
    def free(self) -> list[Priced]:
        return [p for p in self.resources if p.free]

    @property
    def totals(self) -> Totals:
        return totals(self.priced)

    @property
    def monthly_usd(self) -> float:
        return self.totals.monthly_usd

    @property
    def max_monthly_usd(self) -> float:
        return self.totals.max_monthly_usd

    @property
    def egress_usd(self) -> float:
        return self.totals.egress_usd

    def accelerator_usd(self, at_max: bool = False) -> float:
        """The part of the bill priced from the accelerator catalog (GPU / TPU nodes)."""
        t = self.totals
        return t.accelerator_max_usd if at_max else t.accelerator_usd

    @property
    def price_date(self) -> str | None:
        """The oldest as-of date among the prices used."""
        return self.totals.price_date

    def biggest(self, n: int = 5, at_max: bool = True) -> list[Priced]:
        key = (lambda p: -p.max_monthly_usd) if at_max else (lambda p: -p.monthly_usd)
        return sorted(self.priced, key=lambda p: (key(p), p.urn))[:n]

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project, "stack": self.stack, **self.totals.to_dict(),
            "coverage": {"priced": len(self.priced), "usageBased": sum(p.usage_based for p in self.priced),
                         "unpriced": len(self.unpriced), "free": len(self.free)},
            "resources": [p.to_dict() for p in self.priced],
            "unpriced": [p.urn for p in self.unpriced],
            "unpricedReasons": {p.urn: p.unpriced for p in self.unpriced},
            "free": [{"type": t, "count": sum(1 for p in self.free if p.type == t), "why": w}
                     for t, w in sorted({p.type: p.free for p in self.free}.items())],
        }


def _adapters(resources: list[dict[str, Any]]) -> list[Any]:
    """Record rows as the objects newinfra.cost_model.record_pools reads (props, provider props, parent)."""
    providers = {r["urn"]: r.get("inputs") or {} for r in resources if r["type"].startswith("pulumi:providers:")}
    by_urn: dict[str, Any] = {}
    out = []
    for r in resources:
        provider = providers.get((r.get("provider") or "").rsplit("::", 1)[0])
        a = SimpleNamespace(urn=r["urn"], name=r["name"], resource_type=r["type"], props=r.get("inputs") or {},
                            provider=SimpleNamespace(props=provider) if provider is not None else None,
                            parent=None, opts=SimpleNamespace(parent=r.get("parent")), property_dependencies={})
        by_urn[r["urn"]] = a
        out.append(a)
    for r, a in zip(resources, out, strict=True):
        deps = r.get("propertyDependencies") or {}
        a.property_dependencies = {k: [by_urn[u] for u in v if u in by_urn] for k, v in deps.items()}
    return out


def policy_rows(resources: list[Any]) -> list[dict[str, Any]]:
    """PolicyResources (a stack policy's view) as record rows, their providers included, so that the
    budget pack prices exactly what ``newinfra cost`` prices. A type of no provider package is a component."""
    from newinfra.props import cloud_of, plain, provider_props

    rows: list[dict[str, Any]] = []
    providers: dict[str, dict[str, Any]] = {}
    for r in resources:
        provider = getattr(r, "provider", None)
        purn = getattr(provider, "urn", None) if provider is not None else None
        if purn:
            providers.setdefault(purn, {"urn": purn, "type": provider.resource_type, "name": provider.name,
                                        "inputs": provider_props(r), "custom": True, "parent": None,
                                        "provider": None})
        parent = getattr(r, "parent", None)
        deps = getattr(r, "property_dependencies", None) or {}
        rows.append({"urn": r.urn, "type": r.resource_type, "name": r.name, "inputs": plain(r.props),
                     "custom": cloud_of(r.resource_type) is not None, "parent": parent.urn if parent else None,
                     "provider": f"{purn}::id" if purn else None,
                     "propertyDependencies": {k: [d.urn for d in v] for k, v in deps.items()}})
    seen = {r["urn"] for r in rows}
    return rows + [p for urn, p in sorted(providers.items()) if urn not in seen]


def price_record(record: Any, usage: Usage | None = None, book: PriceBook | None = None, *,
                 hours_per_month: float = HOURS_PER_MONTH, workload_hours: Mapping[str, float] | None = None) -> Bill:
    """Price every resource of ``record`` (newinfra.record.Record, or anything with .resources, .config,
    .project, .stack). A pool tagged with a workload runs that workload's hoursPerMonth (``workload_hours``,
    default: the stack's newinfra:workloads), any other pool ``hours_per_month``."""
    from newinfra.cost_model import hours as run_hours
    from newinfra.cost_model.pricebook import pricing
    from newinfra.cost_model.record_pools import launch_templates, pools

    from newinfra.props import cloud_of, region_of
    from newinfra.record import resource_regions

    book = book or load_pricebook()
    usage = usage or Usage({}, "<defaults>")
    resources = [r for r in record.resources if r.get("custom", True)]
    regions = resource_regions(record)
    adapters = _adapters(record.resources)
    by_urn = {a.urn: a for a in adapters}
    compute = [a for a in adapters if a.resource_type in pricing.POOL_TYPES]
    pool_of = {p.urn: p for p in pools(compute + [a for a in adapters if a.resource_type in pricing.TEMPLATE_TYPES])}
    templates = launch_templates([a for a in adapters if a.resource_type in pricing.POOL_OR_TEMPLATE_TYPES])
    hours = dict(workload_hours) if workload_hours is not None else \
        run_hours.workload_hours(_stack_value(record.config, "workloads"))
    variants = run_hours.any_of_hours(_stack_value(record.config, "workloads"))
    found = _stack_value(record.config, "capacityBlocks")
    blocks = tuple(b for b in found if isinstance(b, Mapping)) if isinstance(found, list | tuple) else ()

    def pool_hours(pool) -> float:
        """The pool's workload's hours; for an any-of workload, those of the accelerator the pool carries."""
        run = float(hours.get(pool.workload or "", hours_per_month))
        if pool.workload in variants and (node := pool.price()) is not None:
            return float(variants[pool.workload].get(node.accelerator, run))
        return run

    out = []
    for r in resources:
        a = by_urn[r["urn"]]
        pricer = pricing.REGISTRY.get(r["type"])
        free = pricing.free_reason(r["type"]) if pricer is None else None
        if free is not None:  # most of a stack: no region look-up needed
            out.append(Priced(r["urn"], r["type"], r["name"], regions.get(r["urn"], ""), free=free))
            continue
        cloud = cloud_of(r["type"]) or ""
        region = region_of(r["type"], {k: v for k, v in a.props.items() if k in ("region", "location", "zone")},
                           {"region": regions.get(r["urn"], "")}) or ""
        priced = Priced(r["urn"], r["type"], r["name"], region)
        if pricer is None:
            priced.unpriced = f"no pricing function for {r['type']}"
            out.append(priced)
            continue
        pool = pool_of.get(r["urn"])
        template = templates.get(r["urn"])
        ctx = Context(book, cloud, region, usage.for_resource(r, pricer.usage), pool,
                      template.props if template is not None else None,
                      pool_hours(pool) if pool is not None else HOURS_PER_MONTH, blocks)
        try:
            priced.lines = pricer.fn(a.props, ctx)
        except Unpriced as why:
            priced.unpriced = str(why)
        if not priced.lines and not priced.unpriced:
            priced.free = pricer.free_when_empty or "nothing billable in its inputs"
        out.append(priced)
    out += egress_lines(record.config, list(pool_of.values()))
    return Bill(record.project, record.stack, sorted(out, key=lambda p: p.urn))


def egress_lines(config: Mapping[str, Any], pools: list[Any]) -> list[Priced]:
    """One bill entry per workload that reads its dataset (newinfra:datasets, newinfra:workloads) from another
    region or cloud than its pools run in: read GB x the catalog's egress rate (the solver's figure,
    ``lock.dataset_egress_usd``). A stack without newinfra's config has none."""
    from newinfra.cost_model.catalog import load_catalog
    from newinfra.cost_model.catalog.prices import _quiet
    from newinfra.cost_model.lock import dataset_egress_usd
    from newinfra.cost_model.request import Dataset

    datasets, workloads = _stack_value(config, "datasets"), _stack_value(config, "workloads")
    if not isinstance(datasets, list) or not isinstance(workloads, list):
        return []
    try:
        by_name = {d.name: d for d in (Dataset.model_validate(x) for x in datasets)}
    except ValueError:  # not newinfra's datasets: nothing to price as egress
        return []
    out = []
    for w in workloads:
        ds = by_name.get(w.get("dataset")) if isinstance(w, Mapping) else None
        where = sorted({(p.cloud, p.region) for p in pools if p.workload == w.get("name") and p.region}) \
            if ds is not None else []
        if not where:
            continue
        with _quiet():
            catalog = load_catalog()
        cloud, region = where[0]  # a workload's pools share one zone
        rate = catalog.egress_usd_per_gb(ds.home_cloud, ds.home_region, cloud, region)
        if dataset_egress_usd(catalog, ds, cloud, region) <= 0:
            continue
        price = Price(rate, "GB", f"accelerator catalog {catalog.version} (cost_model/catalog/data/egress.csv)",
                      catalog.as_of.isoformat(), "egress")
        name = f"egress {ds.name} -> {w['name']}"
        out.append(Priced(f"{EGRESS_TYPE}::{ds.name}::{w['name']}", EGRESS_TYPE, name, region, lines=[
            Line(f"{ds.name} read from {ds.home_cloud}/{ds.home_region} in {cloud}/{region}", ds.read_gb, "GB",
                 price)]))
    return out


def price_one(resource_type: str, props: Mapping[str, Any], cloud: str, region: str, *,
              book: PriceBook | None = None, usage: Usage | None = None,
              hours: float = HOURS_PER_MONTH) -> list[Line]:
    """One resource the way ``price_record`` prices it (the same pricing function, book and usage
    defaults), for callers that know what they will create before a record exists: the cost model's
    price of opening a region. Raises ``Unpriced`` (or KeyError: no pricing function for the type)."""
    from newinfra.cost_model.pricebook import pricing

    pricer = pricing.REGISTRY[resource_type]
    usage = usage or Usage({}, "<defaults>")
    row = {"type": resource_type, "name": resource_type, "urn": resource_type}
    ctx = Context(book or load_pricebook(), cloud, region, usage.for_resource(row, pricer.usage), hours=hours)
    return pricer.fn(props, ctx)


def _stack_value(config: Mapping[str, Any], key: str) -> Any:
    import json

    for k, v in (config or {}).items():
        if k.split(":", 1)[-1] == key:
            if isinstance(v, str):
                try:
                    return json.loads(v)
                except ValueError:
                    return v
            return v
    return None
