"""Helpers every rule uses: property paths, clouds, regions, tags, settings, typed policy constructors.

Properties arrive through pulumi-policy's unknown-checking proxy (Mapping / Sequence, numbers as floats),
so nothing here tests for ``dict`` or ``list``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

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


def stack_setting(key: str) -> Any:
    """A ``newinfra:`` stack config value as the Pulumi CLI hands it to a policy pack (PULUMI_CONFIG).

    Under ``pulumi preview --policy-pack`` this is how a rule defaults to the checked stack's budget;
    offline, the runner passes the same values as policy config instead.
    """
    raw = os.environ.get("PULUMI_CONFIG")
    if not raw:
        return None
    try:
        value = json.loads(raw).get(f"newinfra:{key}")
    except (json.JSONDecodeError, AttributeError):
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def setting(config: Mapping[str, Any], name: str, stack_key: str | None = None) -> Any:
    """A rule setting: the policy config value, else the stack's ``newinfra:<stack_key>``, else None."""
    value = config.get(name) if config else None
    if value is None and stack_key:
        value = stack_setting(stack_key)
    return value


Validator = Callable[[ResourceValidationArgs, ReportViolation], None]
StackValidator = Callable[[StackValidationArgs, ReportViolation], None]


NOT_EVALUATED = "not evaluated:"
# A resource a rule would flag but that carries an exemption the platform's config allows. The offline
# runner lists such reports as "exempt" with the reason; under the CLI (one channel, every report is a
# violation) rules stay silent on them instead: EXEMPTIONS_VISIBLE is set by the offline runner only.
EXEMPT = "exempt:"
EXEMPTION_TAG = "newinfra-exemption"
EXEMPTIONS_VISIBLE = False
# The checked stack's config as the offline runner received it (under the CLI: PULUMI_CONFIG); None outside it.
STACK_CONFIG: dict[str, Any] | None = None


def report_exempt(report: ReportViolation, reason: str, urn: str | None = None) -> None:
    if EXEMPTIONS_VISIBLE:
        report(f"{EXEMPT} {reason}", urn)


@contextlib.contextmanager
def _fail_closed(name: str, report: ReportViolation):
    """An input of a shape the rule does not expect (the provider's Check, which mocks skip, would reject
    most of them) is reported as "not evaluated", not a crash of the whole check. The offline runner files
    such reports apart from violations (the CLI has only one channel, so there it reads as a violation)."""
    try:
        yield
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as e:
        report(f"{NOT_EVALUATED} {name} could not read this input ({type(e).__name__}: {e}); check the "
               "property types.")


def resource_rule(
    name: str,
    description: str,
    types: Iterable[str] | None,
    validate: Validator,
    config_schema: PolicyConfigSchema | None = None,
    remediate: Callable[[ResourceValidationArgs], Mapping[str, Any] | None] | None = None,
) -> ResourceValidationPolicy:
    """A resource policy that runs only for ``types`` (None: every type).

    ``resource_types`` lets the offline runner skip requests no policy reads; the check inside the
    wrapper keeps the same behaviour under the real CLI, which sends every resource to every policy.
    """
    wanted = frozenset(types) if types is not None else None

    def _validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if wanted is None or args.resource_type in wanted:
            with _fail_closed(name, report):
                validate(args, report)

    def _remediate(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
        if remediate is not None and (wanted is None or args.resource_type in wanted):
            return remediate(args)
        return None

    policy = ResourceValidationPolicy(
        name=name,
        description=description,
        validate=_validate,
        config_schema=config_schema,
        remediate=_remediate if remediate is not None else None,
    )
    policy.resource_types = wanted  # type: ignore[attr-defined]
    return policy


def stack_rule(
    name: str,
    description: str,
    types: Iterable[str] | None,
    validate: StackValidator,
    config_schema: PolicyConfigSchema | None = None,
) -> StackValidationPolicy:
    """A stack policy that reads only resources of ``types`` (None: all); the runner may pass just those."""
    wanted = frozenset(types) if types is not None else None

    def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
        with _fail_closed(name, report):
            validate(args, report)

    policy = StackValidationPolicy(
        name=name, description=description, validate=_validate, config_schema=config_schema
    )
    policy.resource_types = wanted  # type: ignore[attr-defined]
    return policy


def of_types(resources: Iterable[Any], types: Iterable[str]) -> list[Any]:
    wanted = set(types)
    return [r for r in resources if r.resource_type in wanted]


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


def with_defaults(schema: PolicyConfigSchema | None, config: Mapping[str, Any]) -> dict[str, Any]:
    """The policy's config over its schema defaults (the CLI fills them too; direct calls may not)."""
    merged = {k: v["default"] for k, v in (schema.properties if schema else {}).items() if "default" in v}
    merged.update(config or {})
    return merged
