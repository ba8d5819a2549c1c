"""What each market costs beyond its price: spot's expected restart overhead.

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


def market_hours(request, hours: float, cloud: str, instance_type: str, market: str) -> float:
    """Hours a pool in ``market`` is billed for ``hours`` of work."""
    return hours * spot_overhead(request, cloud, instance_type) if market == "spot" else hours


def pools_monthly_usd(request, hours: float, placements) -> float:
    """Monthly USD of a workload's pools (placements priced with node_hourly_usd), egress aside."""
    return sum(market_hours(request, hours, p.cloud, p.instance_type, p.market) * p.nodes * (p.node_hourly_usd or 0.0)
               for p in placements)
