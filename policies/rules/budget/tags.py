"""B4: cost-allocation tags (AWS, Alibaba) and labels (GCP) on every taggable resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from newinfra.policies.rules.budget.taggable import taggable
from newinfra.policies.rules.common import get, items, provider_props, resource_rule, with_defaults
from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs

TAGS_SCHEMA = PolicyConfigSchema(
    properties={
        "requiredTags": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1,
                         "default": ["owner", "cost-center"]},
    }
)


def tag_keys(tags: Any) -> set[str]:
    """Keys with a value: a map (most resources) or a list of {key, value} (an autoscaling group's tags)."""
    if isinstance(tags, Mapping):
        return {str(k) for k in tags if tags[k] not in (None, "")}
    return {str(t["key"]) for t in items(tags) if isinstance(t, Mapping) and t.get("key")
            and t.get("value") not in (None, "")}


def _tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    path = taggable()[args.resource_type]
    provider = provider_props(args)
    defaults = get(provider, "defaultTags.tags") or get(provider, "defaultLabels") or {}
    have = tag_keys(get(args.props, path)) | tag_keys(defaults)
    required = with_defaults(TAGS_SCHEMA, args.get_config())["requiredTags"]
    missing = [t for t in required if t not in have]
    if missing:
        where = "labels" if args.resource_type.startswith("gcp:") else "tags"
        report(f"'{args.name}' lacks {where} {missing} (in {path} or the provider's default {where}).")


cost_allocation_tags = resource_rule(
    "cost-allocation-tags",
    "B4: every taggable resource carries the cost tags (default: owner, cost-center). Fix: set them in "
    "newinfra:tags, or on the resource, or once in the provider's defaultTags (AWS) / defaultLabels (GCP).",
    taggable().keys(),
    _tags,
    TAGS_SCHEMA,
)
