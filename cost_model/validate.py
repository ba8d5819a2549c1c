"""Checks a request needs the catalog for: accelerator names, node shapes, residency and pinned placements.

Structural checks (types, ranges, perNode dividing count) are pydantic's, in newinfra.cost_model.request; here a
ValidationError becomes one message per key path. Every message names the key, the bad value and what is
valid; the CLIs exit 2 on a RequestError and write nothing.
"""

from __future__ import annotations

import fnmatch

from newinfra.cost_model.request import PlacementRequest
from pydantic import ValidationError

from newinfra.inputs import did_you_mean, echo, listing


class RequestError(ValueError):
    """A malformed request: the message names the key path."""


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "request"


def parse_request(data: object, where: str = "request") -> PlacementRequest:
    """Validate raw keys (camelCase) into a PlacementRequest, or raise RequestError naming each bad key."""
    if not isinstance(data, dict):
        raise RequestError(f"{where}: {echo(data)} is not valid: expected a mapping of keys (allowedClouds, "
                           f"workloads, ...)")
    try:
        return PlacementRequest.model_validate(data)
    except ValidationError as err:
        from newinfra.config import format_validation_error

        lines = [line.removeprefix("newinfra:").removeprefix("newinfra")
                 for line in format_validation_error(err, PlacementRequest).splitlines()]
        raise RequestError("\n".join(f"{where}: {line.lstrip(': ') or line}" for line in lines)) from None


def check_request(request: PlacementRequest, catalog) -> None:
    """Raise RequestError for the first class of problems found, listing every instance of it."""
    problems: list[str] = []
    for i, w in enumerate(request.workloads):
        problems += _check_workload(f"workloads[{i}]", w, request, catalog)
    problems += _check_residency(request, catalog)
    problems += _check_quotas(request, catalog)
    if problems:
        raise RequestError("\n".join(problems))


def _check_workload(key: str, w, request: PlacementRequest, catalog) -> list[str]:
    """Each accelerator a workload accepts (`accelerator`, or every key of `accelerators`) is known, offered in
    allowedClouds and, with perNode, offered in that shape."""
    from newinfra.cost_model.catalog import UnknownAccelerator

    problems: list[str] = []
    usable = 0
    for name, _ in w.choices:
        at = f"{key}.accelerator" if w.accelerators is None else f"{key}.accelerators.{name}"
        try:
            accel = catalog.normalise_accelerator(name)
        except UnknownAccelerator as err:
            hint = did_you_mean(name, catalog.accelerators)
            problems.append(f"{at}: {str(err).replace('; valid:', hint + '; valid:', 1)}")
            continue
        problems += _check_floor(key, w, accel)
        offers = [o for o in catalog.offers_for(accel) if o.cloud in request.allowed_clouds]
        if not offers:
            if w.accelerators is None:  # one of several may be missing from some clouds: the others serve
                clouds = sorted({o.cloud for o in catalog.offers_for(accel)})
                problems.append(f"{at}: {accel} is not offered in allowedClouds "
                                f"{listing(request.allowed_clouds)}; it is offered on {listing(clouds)}")
            continue
        shapes = sorted({o.accelerators_per_node for o in offers})
        if w.per_node is not None and w.per_node not in shapes and w.accelerators is None:
            problems.append(f"{key}.perNode: no {accel} offer in {listing(request.allowed_clouds)} holds "
                            f"{w.per_node} per node; valid perNode values: {', '.join(map(str, shapes))}")
            continue
        usable += 1
        if w.placement is not None:
            problems += _check_pinned(key, w, accel, catalog, request)
    if w.accelerators is not None and not problems and not usable:
        problems.append(f"{key}.accelerators: none of {listing([n for n, _ in w.choices])} is offered in "
                        f"allowedClouds {listing(request.allowed_clouds)}"
                        + (f" with perNode {w.per_node}" if w.per_node else ""))
    return problems


def _check_floor(key: str, w, accel: str) -> list[str]:
    """A host floor on a TPU slice would filter nothing (its host is fixed, its size not in the catalog)."""
    from newinfra.cost_model.hosts import default_floor

    if default_floor(accel) is not None:
        return []
    return [f"{key}.{name}: {value:g} does not apply to {accel}: a TPU slice's host is fixed by the slice; valid "
            f"only for GPU and other accelerators with a host of their own, so leave it out"
            for name, value in (("cpusPerAccelerator", w.cpus_per_accelerator),
                                ("memoryGbPerAccelerator", w.memory_gb_per_accelerator)) if value is not None]


def quota_families(catalog, cloud: str) -> set[str]:
    """Families a quota of ``cloud`` can name: those some offer of the catalog counts against."""
    from newinfra.cost_model.catalog.quota import MARKETS, quota_family

    out = set()
    for o in catalog.offers:
        if o.cloud == cloud:
            for market in MARKETS:
                try:
                    out.add(quota_family(o, market))
                except ValueError:  # a family without a quota class: nothing can count against it
                    pass
    return out


def _check_quotas(request: PlacementRequest, catalog) -> list[str]:
    """A quota for a region or family the catalog does not know would limit nothing: refused, not ignored."""
    out = []
    for i, q in enumerate(request.quotas):
        regions = catalog.regions(q.cloud)
        families = quota_families(catalog, q.cloud)
        if q.region not in regions:
            out.append(f"quotas[{i}].region: {echo(q.region)} is not a region of {q.cloud} in the catalog, so the "
                       f"quota would limit nothing{did_you_mean(q.region, regions)}; valid: {listing(regions)}")
        if q.family not in families:
            out.append(f"quotas[{i}].family: {echo(q.family)} is not a quota family of {q.cloud} in the catalog, so "
                       f"the quota would limit nothing{did_you_mean(q.family, families)}; "
                       f"valid: {listing(families)}")
    return out


def _check_residency(request: PlacementRequest, catalog) -> list[str]:
    regions = sorted({o.region for o in catalog.offers if o.cloud in request.allowed_clouds})
    out = []
    for cls, patterns in sorted(request.data_residency.items()):
        if not patterns:
            out.append(f"dataResidency.{cls}: empty list allows no region; give region patterns such as "
                       f"'eu-*' or 'us-east-1'")
        elif not any(fnmatch.fnmatchcase(r, p) for r in regions for p in patterns):
            out.append(f"dataResidency.{cls}: {listing(patterns)} matches no region of allowedClouds "
                       f"{listing(request.allowed_clouds)}; regions there: {listing(regions)}")
    return out


def _check_pinned(key: str, w, accel: str, catalog, request: PlacementRequest) -> list[str]:
    from newinfra.cost_model.hosts import placement_problem

    out = []
    for j, p in enumerate(w.placement):
        where = f"{key}.placement[{j}]"
        if p.accelerator != accel:
            out.append(f"{where}.accelerator: {p.accelerator!r} differs from the workload's {accel!r}")
        facts = catalog.instance(p.cloud, p.instance_type, accel, p.accelerators_per_node) \
            if p.accelerator == accel else None
        if facts is None:
            out.append(f"{where}.instanceType: {p.cloud} {p.instance_type!r} with {p.accelerators_per_node} x "
                       f"{accel} is not in the catalog")
            continue
        for zone in p.zones:
            if not catalog.offered(p.cloud, p.region, zone, p.instance_type):
                valid = facts.zones_in(p.region)
                out.append(f"{where}.zones: {p.instance_type} is not offered in {p.cloud}/{p.region}/{zone}; "
                           f"offered there in zones {listing(valid)}" if valid else
                           f"{where}.region: {p.instance_type} is not offered in {p.cloud}/{p.region}; "
                           f"regions: {listing(facts.regions)}")
            offer = next((o for o in catalog.offers_for(accel) if o.zone in (zone, "") and (
                o.cloud, o.region, o.instance_type, o.accelerators_per_node) == (
                p.cloud, p.region, p.instance_type, p.accelerators_per_node)), None)  # Alibaba rows: no zone
            problem = None if offer is None else placement_problem(w, accel, offer, request)
            if problem is not None:  # a hand-written placement follows the optimizer's rules
                out.append(f"{where}: {problem}")
    return out
