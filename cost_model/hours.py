"""Hours a stack's pools run per month, per workload (newinfra:workloads hoursPerMonth): the bill and the budget
rule read them here.

The monthly figures themselves are the bill's (cost_model/pricebook/bill.py, `totals`): the one place a
stack's total is summed, for `newinfra cost`, the budget rule, `check`, the plan summary, the PR comment and
the lock.
"""

from __future__ import annotations

from collections.abc import Mapping

from newinfra.cost_model.request import HOURS_PER_MONTH


def workload_hours(workloads: object) -> dict[str, float]:
    """Workload name -> hoursPerMonth from the stack's newinfra:workloads list (absent: the default)."""
    out: dict[str, float] = {}
    for w in workloads if isinstance(workloads, list | tuple) else []:
        if isinstance(w, Mapping) and isinstance(w.get("name"), str):
            out[w["name"]] = float(w.get("hoursPerMonth", HOURS_PER_MONTH))
    return out
