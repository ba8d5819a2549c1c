"""Environment behaviour by profile, not by the environment's name.

A stack declares ``newinfra:profile: production | development`` (default development: a new environment
starts cheap and must opt in to what costs money). Every decision that used to ask "is this prod?" reads
this table, so an environment can be called anything (``qa``, ``prod-eu``) and behave as its profile says.

Protective settings (policy enforcement levels) are not here: they come from the platform team's policy
configuration, which a stack cannot loosen by declaring a profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Profile = Literal["production", "development"]
PROFILES: tuple[str, ...] = get_args(Profile)
DEFAULT_PROFILE: Profile = "development"


@dataclass(frozen=True)
class Behaviour:
    # Node pools keep the placement's minimum node count; otherwise they may scale to zero when idle.
    keep_node_floor: bool
    # One NAT gateway per zone (a zone outage does not cut the others off) instead of one for the VPC.
    nat_per_zone: bool
    # `newinfra place` moves a locked workload to a cheaper placement only with --accept.
    moves_need_accept: bool
    # A budget action may stop new accelerator capacity (newinfra:budgetAlerts.stopGpuAtPercent).
    budget_may_stop_capacity: bool


BEHAVIOUR: dict[str, Behaviour] = {
    "production": Behaviour(keep_node_floor=True, nat_per_zone=True, moves_need_accept=True,
                             budget_may_stop_capacity=False),
    "development": Behaviour(keep_node_floor=False, nat_per_zone=False, moves_need_accept=False,
                              budget_may_stop_capacity=True),
}


def behaviour(profile: str) -> Behaviour:
    try:
        return BEHAVIOUR[profile]
    except KeyError:
        raise ValueError(f"profile: {profile!r} is not valid; valid: {list(PROFILES)}") from None
