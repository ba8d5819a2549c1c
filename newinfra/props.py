"""Reading recorded resources: property paths, clouds, regions, tags and labels, provider settings.

Pure functions over a resource's properties (plain dicts from the record, or pulumi-policy's proxies: so
nothing here tests for ``dict`` or ``list``). The policy packs, the price book and the cost model's pool
reader all read resources through these, so they live in the core.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

CLASSIFICATION_TAG = "newinfra-data-classification"
# AWS/Alibaba tags and Kubernetes labels use the first spelling; GCP labels allow no '.' or '/'.
WORKLOAD_TAGS = ("newinfra.io/workload", "newinfra-workload")
KIND_LABELS = ("newinfra.io/kind", "newinfra-kind")
_CLOUD_PREFIX = {"aws": "aws", "gcp": "gcp", "alicloud": "alicloud", "kubernetes": "kubernetes"}


def get(props: Any, path: str, default: Any = None) -> Any:
    """Value at a dotted path (``scalingConfig.maxSize``), or ``default`` where any step is missing."""
    cur = props
    for part in path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return default
        cur = cur[part]
    return default if cur is None else cur


def items(value: Any) -> list[Any]:
    """A list for a Sequence input, [] for None; a lone object becomes a one-item list."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return [value]


_SCALARS = (str, int, float, bool, type(None))


def plain(value: Any) -> Any:
    """Deep copy of a proxied value into plain dicts and lists (for messages and remediations)."""
    if isinstance(value, _SCALARS):  # most values: skip the slower abstract-class checks below
        return value
    if isinstance(value, Mapping):
        return {k: plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(v) for v in value]
    return value


def cloud_of(resource_type: str) -> str | None:
    """aws / gcp / alicloud / kubernetes from a type token (providers: ``pulumi:providers:aws``)."""
    head = resource_type.split(":", 1)[0]
    if head == "pulumi" and resource_type.startswith("pulumi:providers:"):
        head = resource_type.rsplit(":", 1)[1]
    return _CLOUD_PREFIX.get(head)


def zone_to_region(zone: str) -> str:
    """GCP ``us-central1-a`` -> ``us-central1``; Alibaba ``cn-hangzhou-h`` -> ``cn-hangzhou``."""
    head, _, tail = zone.rpartition("-")
    return head if head and len(tail) == 1 else zone


def region_of(resource_type: str, props: Any, provider_props: Any) -> str | None:
    """Region a resource lives in: its own region/location/zone input, else its provider's region."""
    for key in ("region", "location", "zone"):
        value = get(props, key)
        if isinstance(value, str) and value:
            value = value.lower()  # GCS spells locations in capitals (EUROPE-WEST1, EU)
            return zone_to_region(value) if key != "region" else value
    for key in ("region", "zone"):
        value = get(provider_props, key)
        if isinstance(value, str) and value:
            return zone_to_region(value) if key == "zone" else value
    if cloud_of(resource_type) == "aws":
        env = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        return env or None
    return None


def labels_of(resource_type: str, props: Any, provider_props: Any) -> dict[str, str]:
    """Tags (AWS, Alibaba) or labels (GCP, Kubernetes) of a resource, merged over provider defaults."""
    merged: dict[str, str] = {}
    defaults = get(provider_props, "defaultTags.tags") or get(provider_props, "defaultLabels") or {}
    merged.update({str(k): str(defaults[k]) for k in defaults})
    for path in ("tags", "labels", "resourceLabels", "nodeConfig.resourceLabels", "metadata.labels"):
        found = get(props, path)
        if isinstance(found, Mapping):
            merged.update({str(k): str(found[k]) for k in found})
    return merged


def classification_of(resource_type: str, props: Any, provider_props: Any) -> str | None:
    return labels_of(resource_type, props, provider_props).get(CLASSIFICATION_TAG)


def provider_props(resource: Any) -> dict[str, Any]:
    """Inputs of a PolicyResource's (or ResourceValidationArgs') provider, {} when default.

    The engine passes a provider's structured settings as JSON text ('{"tags": {...}}'); decoded here.
    """
    provider = getattr(resource, "provider", None)
    if provider is None:
        return {}
    out: dict[str, Any] = {}
    for key in provider.props:
        value = provider.props[key]
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        out[key] = value
    return out


def truthy(value: Any) -> bool:
    """Booleans that some providers type as strings ("true") count as booleans."""
    return value is True or (isinstance(value, str) and value.lower() == "true")
