"""Compute lines shared by every pool type: nodes x hours x the node's hourly price.

Node counts, market and types come from newinfra.cost_model.record_pools (one table of where each type keeps them);
accelerator types are priced by the accelerator catalog (GCP: host + GPUs), other types by instances.csv.
"""

from __future__ import annotations

from functools import lru_cache

from newinfra.cost_model.pricebook.bill import Line, Unpriced
from newinfra.cost_model.pricebook.loader import Price


@lru_cache(maxsize=1)
def _catalog_meta() -> tuple[str, str]:
    from newinfra.cost_model.catalog import load_catalog
    from newinfra.cost_model.catalog.prices import _quiet

    with _quiet():
        cat = load_catalog()
    return cat.version, cat.as_of.isoformat()


def node_price(ctx, pool) -> tuple[str, Price]:
    """(instance type, hourly price of one node) for ``pool`` in ``ctx.region``: the dearest of its types."""
    from newinfra.cost_model.catalog import prices

    if not pool.instance_types:
        raise Unpriced("no instance type in its inputs")
    if not ctx.region:
        raise Unpriced("no region: its provider has none and its inputs name none")
    node = pool.price(prices.book())
    if node is not None and node.hourly(pool.spot) is not None:
        version, as_of = _catalog_meta()
        itype = pool.instance_type if len(pool.instance_types) == 1 else "/".join(pool.instance_types)
        notes = [] if pool.zones else ["zone not known: the region's dearest zone"]
        if pool.spot and not node.spot_usd:
            notes.append("no spot price: on-demand used")
        where = f" in {'/'.join(pool.zones)}" if pool.zones else ""
        return itype, Price(node.hourly(pool.spot), "node-hour",
                            f"accelerator catalog {version} (cost_model/catalog/data/offers.csv){where}", as_of,
                            "catalog", "; ".join(notes))
    found = [(t, p) for t in pool.instance_types if (p := ctx.book.instance(ctx.cloud, ctx.region, t, pool.spot))]
    if not found:
        what = "/".join(pool.instance_types)
        if pool.guest_accelerator:
            what += f" with {pool.guest_count} x {pool.guest_accelerator}"
        raise Unpriced(f"no price for {what} in {ctx.region} (accelerator catalog and instances.csv)")
    return max(found, key=lambda tp: tp[1].usd)


def capacity_block_lines(pool, ctx) -> list[Line]:
    """An EC2 Capacity Block: its nodes for the block's whole duration at the offering's hourly price
    (newinfra:capacityBlocks; AWS charges the block up front, whatever runs on it)."""
    itype = pool.instance_type or ""
    match = [b for b in ctx.capacity_blocks if b.get("instanceType") == itype and b.get("region") == ctx.region]
    if not match:
        raise Unpriced(f"a Capacity Block of {itype} in {ctx.region} that newinfra:capacityBlocks does not list "
                       "(its price is the offering's quote)")
    block = match[0]
    hours = float(block.get("durationHours") or 0)
    # dated by the block's start (the quote is for that block); quality marks it an accelerator node line
    price = Price(float(block.get("hourlyPriceUsd") or 0), "node-hour", "newinfra:capacityBlocks (the offering's "
                  "quote for the block starting then)", str(block.get("start") or "")[:10], "capacity-block")
    return [Line(f"{itype} capacity block, {pool.desired_nodes} node(s) x {hours:g} h (the whole block)",
                 pool.desired_nodes * hours, "node-hour", price, max_quantity=pool.max_nodes * hours)]


def node_lines(props, ctx) -> list[Line]:
    pool = ctx.pool
    if pool is None:
        raise Unpriced("no pool could be read from its inputs")
    if props.get("capacityType") == "CAPACITY_BLOCK":
        return capacity_block_lines(pool, ctx)
    itype, price = node_price(ctx, pool)
    market = "spot" if pool.spot else "on-demand"
    return [Line(f"{itype} {market}, {pool.desired_nodes} node(s) (max {pool.max_nodes}) x {ctx.hours:g} h",
                 pool.desired_nodes * ctx.hours, "node-hour", price, max_quantity=pool.max_nodes * ctx.hours)]
