"""The markets the solver chooses between, and what each costs beyond its list price.

Markets (index in the solver's arrays): on-demand, spot, reserved (capacity the user owns: free up to its
size), capacity-block (an AWS Capacity Block: the block's hours paid per instance), flex-start (GCP Dynamic
Workload Scheduler: the user's share of the on-demand price, a delayed start, a bounded run).

A spot node is reclaimed now and then; each interruption costs the work since the last checkpoint plus the
restart (``restartHours``), paid again in node-hours. With ``interruptionsPerDay`` λ for the instance family,
a spot pool that runs H hours is expected to be billed H x (1 + λ / 24 x restartHours). The solver weighs
spot at that price, the lock's monthly figures carry it, and ``nodeHourlyUsd`` stays the market's own price.

Default: no penalty (λ = 0). AWS publishes interruption frequency only as monthly buckets per instance type
and region in the Spot Instance Advisor (<5%, 5-10%, 10-15%, 15-20%, >20% of instances interrupted in the
trailing month: https://aws.amazon.com/ec2/spot/instance-advisor/), GCP and Alibaba publish none, and no
rate is in the project's reference data, so none is assumed: set yours under ``newinfra:markets``.
A bucket converts as λ ≈ share / 30 per day (>20%: about 0.0067).
"""

from __future__ import annotations

from newinfra.facts import FamilyNameError, family_of

ALL_MARKETS = ("on-demand", "spot", "reserved", "capacity-block", "flex-start")
MARKET_INDEX = {m: i for i, m in enumerate(ALL_MARKETS)}


def flex_start_allowed(request, w) -> bool:
    """Flex-start is offered (a price factor is configured), w can wait the expected delay, and its run (its
    hours in the month, taken as one run) fits the maximum run length."""
    fs = request.markets.flex_start
    if fs.price_factor is None or w.hours_per_month > fs.max_run_hours + 1e-9:
        return False
    return w.max_start_delay_hours is None or fs.start_delay_hours <= w.max_start_delay_hours + 1e-9


def block_in_time(block, w) -> bool:
    """A Capacity Block serves w only when it starts by w's `startBy` (no `startBy`: w can wait for it)."""
    from newinfra.cost_model.request import instant

    return w.start_by is None or instant(block.start, "start") <= instant(w.start_by, "startBy")


def reservation_for(request, p):
    """The reservation a `reserved` placement draws on, or None."""
    return next((r for r in request.reservations if (r.cloud, r.region, r.instance_type) ==
                 (p.cloud, p.region, p.instance_type) and r.zone in (None, p.zones[0])), None)


def capacity_block_for(request, p):
    """The Capacity Block a `capacity-block` placement runs on (its price picks among blocks alike), or None."""
    blocks = [b for b in request.capacity_blocks if p.cloud == "aws" and (b.region, b.instance_type) ==
              (p.region, p.instance_type)]
    return next((b for b in blocks if p.node_hourly_usd is not None and
                 abs(b.hourly_price_usd - p.node_hourly_usd) < 1e-9), blocks[0] if blocks else None)


def market_price(request, offer, p) -> float | None:
    """The node-hour price of placement ``p`` on ``offer`` in its market (None: not sold so)."""
    if p.market == "on-demand":
        return offer.on_demand_usd
    if p.market == "spot":
        return offer.spot_usd
    if p.market == "reserved":
        return 0.0 if reservation_for(request, p) is not None else None
    if p.market == "capacity-block":
        block = capacity_block_for(request, p)
        return None if block is None else block.hourly_price_usd
    if p.market == "flex-start":
        factor = request.markets.flex_start.price_factor
        ok = factor is not None and offer.cloud == "gcp" and offer.on_demand_usd is not None
        return round(offer.on_demand_usd * factor, 6) if ok else None
    return None


def spot_overhead(request, cloud: str, instance_type: str) -> float:
    """Multiplier on a spot pool's hours: 1 + interruptions per day / 24 x restart hours (1.0: no penalty)."""
    spot = request.markets.spot
    if not spot.interruptions_per_day or spot.restart_hours <= 0:
        return 1.0
    try:
        family = family_of(cloud, instance_type)
    except FamilyNameError:
        family = ""
    rate = spot.interruptions_per_day.get(family, spot.interruptions_per_day.get("*", 0.0))
    return 1.0 + rate / 24.0 * spot.restart_hours


def billed_hours(request, hours: float, p) -> float:
    """Hours placement ``p`` is billed for ``hours`` of work: spot adds its restart overhead, a Capacity Block
    is paid for its whole duration."""
    if p.market == "spot":
        return hours * spot_overhead(request, p.cloud, p.instance_type)
    if p.market == "capacity-block":
        block = capacity_block_for(request, p)
        return block.duration_hours if block is not None else hours
    return hours


def pools_monthly_usd(request, hours: float, placements) -> float:
    """Monthly USD of a workload's pools (placements priced with node_hourly_usd), egress aside."""
    return sum(billed_hours(request, hours, p) * p.nodes * (p.node_hourly_usd or 0.0) for p in placements)


def committed_usd(request, catalog) -> float:
    """What the reservations cost each month whether used or not (on-demand price x nodes x 730 h: what an
    EC2 capacity reservation or a GCE reservation bills), counted once; 0 without reservations."""
    total = 0.0
    for r in request.reservations:
        prices = [o.on_demand_usd for o in catalog.offers if (o.cloud, o.region, o.instance_type) ==
                  (r.cloud, r.region, r.instance_type) and r.zone in (None, o.zone) and o.on_demand_usd is not None]
        total += (min(prices) if prices else 0.0) * r.count * 730.0
    return round(total, 2)
