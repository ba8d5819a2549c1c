"""Policy configuration as the Pulumi CLI builds it before it calls a pack.

The CLI reads ``--policy-pack-config`` (``{"all": LEVEL, "<policy>": LEVEL | {"enforcementLevel": LEVEL,
...properties}}``), expands ``all``, fills each policy's ``config_schema`` defaults and validates the result
against the schema; the pack then receives only per-policy config. The offline runner does the same three
steps here, with one more layer under the user's file: defaults taken from the checked stack's
``newinfra:`` config (budget, residency, environment).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from newinfra.policies.packs import Pack, level_for
from newinfra.policies.rules.budget.caps import team_quotas, workload_teams
from newinfra.policies.rules.budget.estimate import workload_hours
from pulumi_policy import EnforcementLevel

LEVELS = {level.value: level for level in EnforcementLevel}

# Stack config key (under newinfra:) -> [(policy, property)] it supplies a default for.
STACK_DEFAULTS: dict[str, list[tuple[str, str]]] = {
    "monthlyBudgetUsd": [("monthly-budget", "monthlyBudgetUsd")],
    "dataResidency": [("data-residency", "residency")],
}
ENVIRONMENT_POLICIES = ("minimum-spot-share", "accelerator-scale-to-zero")


class PolicyConfigError(ValueError):
    """A policy config the CLI would refuse; the message names the file, policy, key and valid values."""


@dataclass(frozen=True)
class PolicySettings:
    level: EnforcementLevel
    properties: dict[str, Any]


def read_policy_config(path: Path) -> dict[str, Any]:
    """A ``--policy-pack-config`` file (JSON, as the Pulumi CLI reads it)."""
    from newinfra.inputs import InputError, load_json

    try:  # bounded nesting, finite numbers, UTF-8: one line naming the file
        data = load_json(Path(path), "policy config")
    except InputError as e:
        raise PolicyConfigError(f"--policy-config: {e}") from None
    if not isinstance(data, dict):
        raise PolicyConfigError(f"--policy-config: {path} must hold a JSON object keyed by policy name or 'all'")
    return data


def _level(value: Any, where: str) -> EnforcementLevel:
    if value not in LEVELS:
        raise PolicyConfigError(f"{where}: enforcement level {value!r} is not valid; valid: {sorted(LEVELS)}")
    return LEVELS[value]


def stack_value(config: Mapping[str, Any], key: str) -> Any:
    """``newinfra:<key>`` from a record's config, read as ``pulumi.Config`` reads it: `pulumi config set`
    writes every top-level value as a string, so text that parses as JSON (a number, a boolean, an object or
    a list) is that value; other text stays text."""
    value = config.get(f"newinfra:{key}")
    if isinstance(value, str) and value.strip()[:1] in "[{-0123456789tf":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def stack_defaults(stack_config: Mapping[str, Any], environment: str | None) -> dict[str, dict[str, Any]]:
    """Policy properties that default to the checked stack's own settings."""
    out: dict[str, dict[str, Any]] = {}
    for key, targets in STACK_DEFAULTS.items():
        value = stack_value(stack_config, key)
        if value is not None:
            for policy, prop in targets:
                out.setdefault(policy, {})[prop] = value
    teams = team_quotas(stack_value(stack_config, "teams"))
    owners = workload_teams(stack_value(stack_config, "workloads"))
    if teams:
        out.setdefault("accelerator-caps", {}).update({"teamAccelerators": teams, "workloadTeams": owners})
    hours = workload_hours(stack_value(stack_config, "workloads"))
    if hours:
        out.setdefault("monthly-budget", {})["workloadHours"] = hours
    if environment:
        for policy in ENVIRONMENT_POLICIES:
            out.setdefault(policy, {})["environment"] = environment
    return out


def known_policies(packs: tuple[Pack, ...]) -> set[str]:
    return {p.name for pack in packs for p in pack.policies}


def check_names(user: Mapping[str, Any], packs: tuple[Pack, ...]) -> None:
    unknown = sorted(set(user) - known_policies(packs) - {"all"})
    if unknown:
        raise PolicyConfigError(
            f"--policy-config: {unknown} name no policy; valid: 'all' or one of {sorted(known_policies(packs))}")


def resolve(pack: Pack, environment: str | None, stack: Mapping[str, dict[str, Any]],
            user: Mapping[str, Any] | None = None) -> dict[str, PolicySettings]:
    """Per-policy level and properties: pack level for the environment, then the user's ``all``, then the
    user's per-policy entry; properties = schema defaults <- stack defaults <- user properties, validated."""
    user = user or {}
    base = level_for(pack.name, environment)
    if "all" in user:
        base = _level(user["all"], "--policy-config 'all'")
    out: dict[str, PolicySettings] = {}
    for policy in pack.policies:
        level = base if "all" in user else (policy.enforcement_level or base)
        props: dict[str, Any] = {}
        schema = policy.config_schema
        for name, spec in (schema.properties if schema else {}).items():
            if "default" in spec:
                props[name] = spec["default"]
        props.update(stack.get(policy.name, {}))
        entry = user.get(policy.name)
        if isinstance(entry, str):
            level = _level(entry, f"--policy-config '{policy.name}'")
        elif isinstance(entry, Mapping):
            extra = {k: v for k, v in entry.items() if k != "enforcementLevel"}
            if "enforcementLevel" in entry:
                level = _level(entry["enforcementLevel"], f"--policy-config '{policy.name}'.enforcementLevel")
            if extra and schema is None:
                raise PolicyConfigError(f"--policy-config '{policy.name}': the policy takes no properties, got "
                                        f"{sorted(extra)}")
            props.update(extra)
        elif entry is not None:
            raise PolicyConfigError(f"--policy-config '{policy.name}': expected a level or an object, got {entry!r}")
        _validate(pack, policy, props)
        out[policy.name] = PolicySettings(level, props)
    return out


def _validate(pack: Pack, policy: Any, props: dict[str, Any]) -> None:
    schema = policy.config_schema
    if schema is None:
        return
    document = {"type": "object", "properties": schema.properties, "additionalProperties": False}
    if schema.required:
        document["required"] = list(schema.required)
    errors = sorted(jsonschema.Draft7Validator(document).iter_errors(props), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        key = ".".join(str(p) for p in e.path) or "(config)"
        valid = sorted(schema.properties)
        raise PolicyConfigError(
            f"policy {pack.name}/{policy.name}, key {key}: {e.message} (value {e.instance!r}; properties: {valid})")
