"""Helpers every rule uses: property paths, clouds, regions, tags, settings, typed policy constructors.

Properties arrive through pulumi-policy's unknown-checking proxy (Mapping / Sequence, numbers as floats),
so nothing here tests for ``dict`` or ``list``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

# The readers live in the core (the price book reads resources too); re-exported for the rules.
from newinfra.props import (
    CLASSIFICATION_TAG as CLASSIFICATION_TAG,
)
from newinfra.props import (
    KIND_LABELS as KIND_LABELS,
)
from newinfra.props import (
    WORKLOAD_TAGS as WORKLOAD_TAGS,
)
from newinfra.props import (
    classification_of as classification_of,
)
from newinfra.props import (
    cloud_of as cloud_of,
)
from newinfra.props import (
    get as get,
)
from newinfra.props import (
    items as items,
)
from newinfra.props import (
    labels_of as labels_of,
)
from newinfra.props import (
    plain as plain,
)
from newinfra.props import (
    provider_props as provider_props,
)
from newinfra.props import (
    region_of as region_of,
)
from newinfra.props import (
    truthy as truthy,
)
from newinfra.props import (
    zone_to_region as zone_to_region,
)


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


def with_defaults(schema: PolicyConfigSchema | None, config: Mapping[str, Any]) -> dict[str, Any]:
    """The policy's config over its schema defaults (the CLI fills them too; direct calls may not)."""
    merged = {k: v["default"] for k, v in (schema.properties if schema else {}).items() if "default" in v}
    merged.update(config or {})
    return merged
