"""Per-type checks as data: one rule = {type token: check(props, config) -> [problems]}.

A check returns the problems it found as short phrases; the rule reports them on the resource.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from newinfra.policies.rules.common import resource_rule, with_defaults
from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs

Check = Callable[[Any, Mapping[str, Any]], list[str]]


def table_rule(
    name: str,
    description: str,
    checks: Mapping[str, Check],
    config_schema: PolicyConfigSchema | None = None,
    remediate=None,
):
    """A resource policy that runs ``checks[type]`` and reports every problem on the resource."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        problems = checks[args.resource_type](args.props, with_defaults(config_schema, args.get_config()))
        if problems:
            report(f"'{args.name}' ({args.resource_type.rsplit(':', 1)[-1]}): {'; '.join(problems)}.")

    return resource_rule(name, description, checks.keys(), validate, config_schema, remediate)
