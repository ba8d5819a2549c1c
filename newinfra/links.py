"""Which resource an input refers to (a bucket's versioning -> the bucket, a flow log -> its VPC).

The engine says it exactly: a stack policy's resources carry ``property_dependencies`` (input key ->
resources it was computed from). Where a record has none (hand-written fixtures, records without
dependencies), a value refers to a resource by one of its names: its URN, its physical-name input, or
the engine's auto-name (logical name + "-" + 7 hex digits). A cloud id (``vpc-0a1b…``) is matched only
when exactly one candidate shares the referrer's parent component (or, among several, its logical name),
so a guess is never ambiguous.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from newinfra.props import get, items

# Inputs that hold a resource's physical name, by type token (default: "name").
NAME_INPUTS = {
    "aws:s3/bucket:Bucket": ("bucket",),
    "aws:s3/bucketV2:BucketV2": ("bucket",),
    "aws:eks/cluster:Cluster": ("name",),
    "aws:eks/nodeGroup:NodeGroup": ("nodeGroupName",),
    "alicloud:oss/bucket:Bucket": ("bucket",),
}
_ID_SHAPED = re.compile(r"^[a-z]+-[0-9a-f]{8,}$")
_AUTONAME = re.compile(r"^(?P<name>.+)-[0-9a-f]{7}$")


def names(resource: Any) -> set[str]:
    """Every value by which another resource's input may name ``resource``."""
    found = {resource.urn, resource.name}
    for key in NAME_INPUTS.get(resource.resource_type, ("name",)):
        value = get(resource.props, key)
        if isinstance(value, str) and value:
            found.add(value)
    return found


def parent_urn(resource: Any) -> str | None:
    parent = getattr(resource, "parent", None)
    if parent is not None:
        return parent.urn
    opts = getattr(resource, "opts", None)
    return getattr(opts, "parent", None) or None


class Index:
    """Look-ups from a referring input to the target resources, built once per policy run."""

    def __init__(self, targets: Iterable[Any]) -> None:
        self.targets = list(targets)
        self._by_name: dict[str, list[Any]] = defaultdict(list)
        self._by_logical: dict[str, list[Any]] = defaultdict(list)
        self._by_scope: dict[str | None, list[Any]] = defaultdict(list)
        for t in self.targets:
            for n in names(t):
                self._by_name[n].append(t)
            self._by_logical[t.name].append(t)
            self._by_scope[parent_urn(t)].append(t)
        self._urns = {t.urn for t in self.targets}

    def resolve(self, source: Any, key: str) -> list[Any]:
        """The targets that ``source``'s input ``key`` (dotted path allowed) refers to."""
        deps = getattr(source, "property_dependencies", None) or {}
        top = key.split(".", 1)[0]
        if deps.get(top):
            dep_urns = {d.urn for d in deps[top]}
            return [t for t in self.targets if t.urn in dep_urns]
        hits: list[Any] = []
        for value in _values(source.props, key):
            if not isinstance(value, str) or not value:
                continue
            found = list(self._by_name.get(value, ()) or self._by_name.get(value.rsplit("/", 1)[-1], ()))
            auto = _AUTONAME.match(value.rsplit("/", 1)[-1])
            if not found and auto:
                found = list(self._by_logical.get(auto.group("name"), ()))
            if not found and _ID_SHAPED.match(value):
                scope = self._by_scope.get(parent_urn(source), [])
                if len(scope) > 1:  # one component's pool and its template share the pool's name
                    scope = [t for t in scope if t.name == source.name]
                found = scope if len(scope) == 1 else []
            hits.extend(t for t in found if t not in hits)
        return hits

    def referrers(self, sources: Iterable[Any], key: str) -> dict[str, list[Any]]:
        """Target URN -> the sources whose ``key`` refers to it."""
        out: dict[str, list[Any]] = defaultdict(list)
        for s in sources:
            for t in self.resolve(s, key):
                out[t.urn].append(s)
        return out


def _values(props: Any, path: str) -> list[Any]:
    """Values at a dotted path, stepping into every element of lists on the way (versions.instanceTemplate)."""
    current = [props]
    for part in path.split("."):
        step = []
        for c in current:
            for v in items(c) if not isinstance(c, Mapping) else [c]:
                if isinstance(v, Mapping) and part in v and v[part] is not None:
                    step.append(v[part])
        current = step
    return [x for c in current for x in items(c)]


def bucket_name_from_path(path: Any) -> str | None:
    """``s3://bucket/prefix`` -> ``bucket``."""
    if not isinstance(path, str) or "://" not in path:
        return None
    return path.split("://", 1)[1].split("/", 1)[0] or None
