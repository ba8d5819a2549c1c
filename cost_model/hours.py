"""Hours a stack's pools run per month, per workload (newinfra:workloads hoursPerMonth): the bill and the budget
rule read them here.

The monthly figures themselves are the bill's (cost_model/pricebook/bill.py, `totals`): the one place a
stack's total is summed, for `newinfra cost`, the budget rule, `check`, the plan summary, the PR comment and
the lock.
"""

from __future__ import annotations

from collections.abc import Mapping

from newinfra.cost_model.request import HOURS_PER_MONTH


def any_of_hours(workloads: object) -> dict[str, dict[str, float]]:
    """Workload name -> {catalog accelerator -> hours per month of that variant}, for workloads that accept a
    set (`accelerators`): the pool the program built for the chosen accelerator runs that variant's hours
    (cost_model/request.py Workload.variant: hoursPerMonth / speed, at most 744), which is what the lock
    priced. Workloads with one accelerator, or entries that do not validate, are left to `workload_hours`."""
    from newinfra.cost_model.catalog import load_catalog
    from newinfra.cost_model.request import Workload

    catalog = load_catalog()
    out: dict[str, dict[str, float]] = {}
    for raw in workloads if isinstance(workloads, list | tuple) else []:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("accelerators"), Mapping):
            continue
        try:
            w = Workload.model_validate(raw)
        except ValueError:
            continue  # the config's own validation names the problem; the bill prices what it can
        hours: dict[str, float] = {}
        for name, speed in w.choices:
            try:
                accelerator = catalog.normalise_accelerator(name)
            except ValueError:
                continue
            hours[accelerator] = w.variant(accelerator, speed).hours_per_month
        out[w.name] = hours
    return out


def workload_hours(workloads: object) -> dict[str, float]:
    """Workload name -> hoursPerMonth from the stack's newinfra:workloads list (absent: the default)."""
    out: dict[str, float] = {}
    for w in workloads if isinstance(workloads, list | tuple) else []:
        if isinstance(w, Mapping) and isinstance(w.get("name"), str):
            out[w["name"]] = float(w.get("hoursPerMonth", HOURS_PER_MONTH))
    return out
