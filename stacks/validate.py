"""Checks the providers would make and the mock runtime cannot: config against the catalog.

Every problem is one line naming the key path, the bad value and what is valid. Nothing is registered
when any check fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stacks.config import EnvConfig


def check_against_catalog(cfg: EnvConfig) -> list[str]:
    from cost_model.catalog import load_catalog
    from cost_model.validate import request_problems

    catalog = load_catalog()
    problems = list(request_problems(cfg.request, catalog))
    for i, workload in enumerate(cfg.workloads):
        for j, placement in enumerate(workload.placement or ()):
            where = f"newinfra:workloads[{i}].placement[{j}]"
            problems.extend(placement_problems(where, placement, workload, cfg, catalog))
    return problems


def placement_problems(where, placement, workload, cfg, catalog) -> list[str]:
    """An explicit placement must name a real offer the workload may use."""
    out = []
    if placement.workload != workload.name:
        out.append(f"{where}.workload: {placement.workload!r} must be the workload's name {workload.name!r}")
    if placement.cloud not in cfg.allowed_clouds:
        out.append(f"{where}.cloud: {placement.cloud!r} is not allowed; allowedClouds: {list(cfg.allowed_clouds)}")
    if not cfg.region_allowed(workload, placement.region):
        ds = cfg.dataset(workload.dataset)
        out.append(
            f"{where}.region: {placement.region!r} is outside the regions allowed for "
            f"{ds.classification!r} data; valid: {list(cfg.allowed_regions(workload) or ())}"
        )
    facts = catalog.instance(placement.cloud, placement.instance_type)
    if facts is None:
        known = sorted({o.instance_type for o in catalog.offers
                        if o.cloud == placement.cloud and o.accelerator == placement.accelerator})
        out.append(
            f"{where}.instanceType: {placement.instance_type!r} is not a {placement.cloud} accelerator type "
            f"in the catalog; valid for {placement.accelerator}: {known[:12]}"
        )
        return out
    if facts.accelerator != placement.accelerator:
        out.append(f"{where}.accelerator: {placement.accelerator!r} does not match {placement.instance_type} "
                   f"(carries {facts.accelerator})")
    if facts.accelerators_per_node != placement.accelerators_per_node:
        out.append(f"{where}.acceleratorsPerNode: {placement.accelerators_per_node} does not match "
                   f"{placement.instance_type} ({facts.accelerators_per_node})")
    for zone in placement.zones:
        if not catalog.offered(placement.cloud, placement.region, zone, placement.instance_type):
            offered = sorted({o.zone for o in catalog.offers if o.cloud == placement.cloud
                              and o.region == placement.region and o.instance_type == placement.instance_type})
            out.append(f"{where}.zones: {placement.instance_type} is not offered in {zone!r}; "
                       f"offered in {placement.region}: {offered or 'no zone'}")
    return out
