"""A big stack for the report's size test and benchmark: the prod record with each top-level component's
subtree copied under new component parents (names and URNs suffixed ``-xN``) until it has ``size`` resources.
Deterministic: the same record and size give the same resources in the same order. Providers are shared."""

from __future__ import annotations

import copy
from typing import Any

from newinfra.record import Record


def _subtrees(resources: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    by_parent: dict[str | None, list[dict[str, Any]]] = {}
    for r in resources:
        by_parent.setdefault(r.get("parent"), []).append(r)

    def walk(r: dict[str, Any]) -> list[dict[str, Any]]:
        out = [r]
        for c in by_parent.get(r["urn"], []):
            out += walk(c)
        return out

    return [walk(r) for r in by_parent.get(None, []) if not r.get("custom", True)]


def big_record(record: Record, size: int = 2000) -> Record:
    resources = list(record.resources)
    trees = _subtrees(record.resources)
    n = 0
    while len(resources) < size:
        n += 1
        for tree in trees:
            suffix = f"-x{n}"
            renamed = {r["urn"]: r["urn"] + suffix for r in tree}
            for r in tree:
                c = copy.deepcopy(r)
                c["urn"], c["name"] = renamed[r["urn"]], r["name"] + suffix
                c["parent"] = renamed.get(r.get("parent"), r.get("parent"))
                c["dependencies"] = [renamed.get(d, d) for d in r.get("dependencies") or []]
                c["propertyDependencies"] = {k: [renamed.get(d, d) for d in v]
                                             for k, v in (r.get("propertyDependencies") or {}).items()}
                resources.append(c)
    return Record(record.project, record.stack, sorted(resources, key=lambda r: r["urn"]), record.outputs,
                  record.config)
