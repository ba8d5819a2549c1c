"""Checks a request needs the catalog for: accelerator names, node shapes, residency and pinned placements.

Structural checks (types, ranges, perNode dividing count) are pydantic's, in newinfra.cost_model.request; here a
ValidationError becomes one message per key path. Every message names the key, the bad value and what is
valid; the CLIs exit 2 on a RequestError and write nothing.
"""

from __future__ import annotations

import fnmatch

from newinfra.cost_model.request import PlacementRequest
from pydantic import ValidationError


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
        raise RequestError(f"{where}: expected a mapping of keys (allowedClouds, workloads, ...), "
                           f"got {type(data).__name__}")
    try:
        return PlacementRequest.model_validate(data)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            loc = _path(tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-"))))
            got = f" (got {e['input']!r})" if e["type"] != "missing" and not isinstance(e["input"], dict) else ""
            lines.append(f"{where}: {loc}: {e['msg']}{got}")
        raise RequestError("\n".join(lines)) from None


def check_request(request: PlacementRequest, catalog) -> None:
    """Raise RequestError for the first class of problems found, listing every instance of it."""
    from newinfra.cost_model.catalog import UnknownAccelerator

    problems: list[str] = []
    for i, w in enumerate(request.workloads):
        key = f"workloads[{i}]"
        try:
            accel = catalog.normalise_accelerator(w.accelerator)
        except UnknownAccelerator as err:
            problems.append(f"{key}.accelerator: {err}")
            continue
        offers = [o for o in catalog.offers_for(accel) if o.cloud in request.allowed_clouds]
        if not offers:
            clouds = sorted({o.cloud for o in catalog.offers_for(accel)})
            problems.append(f"{key}.accelerator: {accel} is not offered in allowedClouds "
                            f"{list(request.allowed_clouds)}; it is offered on {clouds}")
            continue
        shapes = sorted({o.accelerators_per_node for o in offers})
        if w.per_node is not None and w.per_node not in shapes:
            problems.append(f"{key}.perNode: no {accel} offer in {list(request.allowed_clouds)} holds "
                            f"{w.per_node} per node; valid perNode values: {shapes}")
        if w.placement is not None:
            problems += _check_pinned(key, w, accel, catalog)
    problems += _check_residency(request, catalog)
    if problems:
        raise RequestError("\n".join(problems))


def _check_residency(request: PlacementRequest, catalog) -> list[str]:
    regions = sorted({o.region for o in catalog.offers if o.cloud in request.allowed_clouds})
    out = []
    for cls, patterns in sorted(request.data_residency.items()):
        if not patterns:
            out.append(f"dataResidency.{cls}: empty list allows no region; give region patterns such as "
                       f"'eu-*' or 'us-east-1'")
        elif not any(fnmatch.fnmatchcase(r, p) for r in regions for p in patterns):
            out.append(f"dataResidency.{cls}: {list(patterns)} matches no region of allowedClouds "
                       f"{list(request.allowed_clouds)}; regions there: {regions}")
    return out


def _check_pinned(key: str, w, accel: str, catalog) -> list[str]:
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
                           f"offered there in zones {list(valid)}" if valid else
                           f"{where}.region: {p.instance_type} is not offered in {p.cloud}/{p.region}; "
                           f"regions: {list(facts.regions)}")
    return out
