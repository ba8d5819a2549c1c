"""Checks the providers would make and the mock runtime cannot: the config against the catalog.

Every problem is one line naming the key path, the bad value and what is valid. Nothing is registered
when any check fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newinfra.config import EnvConfig


def check_against_catalog(cfg: EnvConfig) -> list[str]:
    from newinfra.cost_model.catalog import load_catalog
    from newinfra.cost_model.validate import RequestError, check_request

    problems = pinned_problems(cfg)
    try:
        check_request(cfg.request, load_catalog())
    except RequestError as exc:
        problems = [f"newinfra:{line}" for line in str(exc).splitlines()] + problems
    return problems


def pinned_problems(cfg: EnvConfig) -> list[str]:
    """A hand-written placement obeys the same rules the optimizer does: allowed clouds and residency."""
    from newinfra.inputs import listing

    out = []
    for i, workload in enumerate(cfg.workloads):
        for j, p in enumerate(workload.placement or ()):
            where = f"newinfra:workloads[{i}].placement[{j}]"
            if p.workload != workload.name:
                out.append(f"{where}.workload: {p.workload!r} must be the workload's name {workload.name!r}")
            if p.cloud not in cfg.allowed_clouds:
                out.append(f"{where}.cloud: {p.cloud!r} is not allowed; allowedClouds: {listing(cfg.allowed_clouds)}")
            if not cfg.region_allowed(workload, p.region):
                ds = cfg.dataset(workload.dataset)
                assert ds is not None  # a region is refused only where the workload's dataset has residency
                out.append(f"{where}.region: {p.region!r} is outside the regions allowed for "
                           f"{ds.classification!r} data; valid: {listing(cfg.allowed_regions(workload) or ())}")
    return out
