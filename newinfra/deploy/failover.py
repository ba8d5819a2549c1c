"""Provisioner failover for `newinfra up --failover N`: when `pulumi up` fails because a cloud has no capacity
for a locked offer, take that offer out (`newinfra place --exclude`, the lock's `failover` order says where the
workload goes next) and deploy again — SkyPilot's provisioner loop, with the cost model choosing each retry.

Pure: which engine messages are capacity errors, and which locked placements a message names. Only an offer the
message names is excluded (its instance type, and its zone when the message gives one); a capacity error that
names none of the lock's offers is not retried, since there is nothing exact to exclude.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# The clouds' own words for "no capacity here now" (error codes as their APIs return them).
CAPACITY_ERRORS = re.compile(
    r"InsufficientInstanceCapacity|InsufficientCapacity\b|InsufficientReservedInstanceCapacity"  # EC2
    r"|ZONE_RESOURCE_POOL_EXHAUSTED|GCE_STOCKOUT|does not have enough resources available"  # GCE / GKE
    r"|OperationDenied\.NoStock|Zone\.NotOnSale",  # ECS (Alibaba Cloud)
    re.IGNORECASE)


def capacity_error(message: str) -> bool:
    return bool(CAPACITY_ERRORS.search(message or ""))


def offers_named(message: str, lock: Mapping[str, Any]) -> list[str]:
    """The lock's placements the message names, as `--exclude` entries (CLOUD/REGION[/ZONE]:TYPE): an instance
    type the message contains, narrowed to the zones it contains when it names any of the placement's zones.
    Sorted, unique."""
    found: set[str] = set()
    for entry in (lock.get("workloads") or {}).values():
        for p in entry.get("placements") or []:
            itype = p.get("instanceType") or ""
            if not itype or not re.search(rf"(?<![\w.-]){re.escape(itype)}(?![\w.-])", message):
                continue
            zones = [z for z in p.get("zones") or [] if z and z in message]
            if zones:
                found.update(f"{p['cloud']}/{p['region']}/{z}:{itype}" for z in zones)
            else:
                found.add(f"{p['cloud']}/{p['region']}:{itype}")
    return sorted(found)
