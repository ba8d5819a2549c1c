"""The usage file: quantities the inputs cannot say (GB stored, GB processed, requests), Infracost-style.

YAML, one mapping per key; a key is a resource's URN, its name, or a type token (every resource of that
type). The most specific wins: URN over name over type over the documented default of the pricing
function (``newinfra cost --usage-defaults`` lists them). Example::

    aws:s3/bucketV2:BucketV2: {gbStored: 100}
    datasets-bucket: {gbStored: 5000, putRequests: 200000}
    aws:ec2/natGateway:NatGateway: {gbProcessed: 1000}

A key that matches nothing, an attribute the type does not take, or a value that is not a number >= 0 is
refused with UsageError naming the file, key and value (exit 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class UsageError(ValueError):
    """A bad usage file; the message names the file, key and value."""


@dataclass(frozen=True)
class Spec:
    default: float
    doc: str


@dataclass
class Usage:
    entries: dict[str, dict[str, float]]
    path: str
    checked: bool = field(default=False)

    def for_resource(self, resource: Mapping[str, Any], spec: Mapping[str, Spec]) -> dict[str, float]:
        out = {k: s.default for k, s in spec.items()}
        for key in (resource["type"], resource["name"], resource["urn"]):
            out.update(self.entries.get(key, {}))
        return out


def read_usage(path: Path) -> Usage:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such usage file") from None
    except yaml.YAMLError as err:
        raise UsageError(f"{path}: not YAML: {err}".splitlines()[0]) from None
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise UsageError(f"{path}: expected a mapping of resource URN, name or type to usage, got "
                         f"{type(data).__name__}")
    entries: dict[str, dict[str, float]] = {}
    for key, values in data.items():
        if not isinstance(values, Mapping):
            raise UsageError(f"{path}: key {key!r}: expected a mapping of usage attribute to number, got {values!r}")
        entries[str(key)] = {}
        for attr, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value < 0:
                raise UsageError(f"{path}: key {key}.{attr}: value {value!r} is not a number >= 0")
            entries[str(key)][str(attr)] = float(value)
    return Usage(entries, str(path))


def check_usage(usage: Usage, resources: list[Mapping[str, Any]], specs: Mapping[str, Mapping[str, Spec]]) -> None:
    """Every key names a resource or a priced type of the record, and every attribute is one its type takes."""
    types_of: dict[str, set[str]] = {}
    for r in resources:
        for key in (r["urn"], r["name"]):
            types_of.setdefault(key, set()).add(r["type"])
    for t in specs:
        types_of.setdefault(t, set()).add(t)
    for key in sorted(usage.entries):
        types = types_of.get(key)
        if not types:
            raise UsageError(f"{usage.path}: key {key!r} is no resource URN, name or priced type of this stack "
                             f"(priced types: {', '.join(sorted(t for t in specs if specs[t]))})")
        valid = set().union(*(set(specs.get(t, {})) for t in types))
        for attr in sorted(usage.entries[key]):
            if attr not in valid:
                raise UsageError(f"{usage.path}: key {key}.{attr}: unknown usage attribute; valid for "
                                 f"{', '.join(sorted(types))}: {sorted(valid) or 'none'}")
