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
from newinfra.cost_model.hours import workload_hours
from newinfra.policies.packs import Pack, level_for
from newinfra.policies.rules.budget.caps import team_quotas, workload_teams
from pulumi_policy import EnforcementLevel

LEVELS = {level.value: level for level in EnforcementLevel}

# Stack config key (under newinfra:) -> [(policy, property)] it supplies a default for.
STACK_DEFAULTS: dict[str, list[tuple[str, str]]] = {
    "monthlyBudgetUsd": [("monthly-budget", "monthlyBudgetUsd")],
    "dataResidency": [("data-residency", "residency"), ("dataset-cache-residency", "residency")],
}
ENVIRONMENT_POLICIES = ("minimum-spot-share", "accelerator-scale-to-zero", "serving-zone-spread")


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


def stack_defaults(stack_config: Mapping[str, Any], environment: str | None,
                   user: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Policy properties that default to the checked stack's own settings; where the platform's policy
    config sets them too, the stack may only tighten (see :func:`tightened_residency`)."""
    out: dict[str, dict[str, Any]] = {}
    platform_residency = ((user or {}).get("data-residency") or {})
    platform_residency = platform_residency.get("residency") if isinstance(platform_residency, Mapping) else None
    for key, targets in STACK_DEFAULTS.items():
        value = stack_value(stack_config, key)
        if key == "dataResidency" and value is not None and platform_residency is not None:
            value = tightened_residency(platform_residency, value)
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


# The platform team's own section of the policy config (not a policy): environment per stack name.
PLATFORM_KEY = "newinfra"
ENVIRONMENT_ALIASES = {"production": "prod", "development": "dev"}
_STRENGTH = {EnforcementLevel.DISABLED: 0, EnforcementLevel.ADVISORY: 1, EnforcementLevel.MANDATORY: 2,
             EnforcementLevel.REMEDIATE: 2}


# Policies merged into another, so that one fact gives one finding: name -> what a config should say now.
RETIRED_POLICIES = {
    "kubernetes-no-privileged-pods": "its checks (privileged, privilege escalation, hostPath, host namespaces) "
    "are kubernetes-workload-security's, in every namespace; configure that policy (exemptNamespaces ['ns'] "
    "becomes exemptWorkloads ['ns/*'])",
}


def check_names(user: Mapping[str, Any], packs: tuple[Pack, ...]) -> None:
    from newinfra.inputs import did_you_mean

    valid = known_policies(packs) | {"all", PLATFORM_KEY}
    for name in sorted(set(user) - valid):
        if name in RETIRED_POLICIES:
            raise PolicyConfigError(f"--policy-config: {name!r} no longer exists: {RETIRED_POLICIES[name]}")
        raise PolicyConfigError(f"--policy-config: {name!r} names no policy{did_you_mean(name, valid)}; valid: "
                                f"'all', '{PLATFORM_KEY}' or one of {sorted(known_policies(packs))}")


def platform_environment(stack: str, user: Mapping[str, Any] | None) -> str | None:
    """The environment the platform assigns to a stack name: ``{"newinfra": {"environments": {pattern:
    env}}}`` (fnmatch patterns, first match in sorted order; env: prod / staging / dev or production /
    development), else the stack name itself (prod -> production levels; unknown names get prod's)."""
    import fnmatch

    section = (user or {}).get(PLATFORM_KEY) or {}
    if not isinstance(section, Mapping) or set(section) - {"environments"}:
        raise PolicyConfigError(f"--policy-config '{PLATFORM_KEY}': {section!r} is not valid; valid: an object "
                                "with 'environments' (stack name pattern -> prod | staging | dev)")
    table = section.get("environments") or {}
    if not isinstance(table, Mapping):
        raise PolicyConfigError(f"--policy-config '{PLATFORM_KEY}.environments': {table!r} is not an object")
    from newinfra.policies.packs import ENFORCEMENT

    for pattern in sorted(table, key=lambda k: ("*" in k or "?" in k or "[" in k, k)):  # exact names first
        env = ENVIRONMENT_ALIASES.get(table[pattern], table[pattern])
        if env not in ENFORCEMENT:
            raise PolicyConfigError(f"--policy-config '{PLATFORM_KEY}.environments.{pattern}': {table[pattern]!r} "
                                    f"is not an environment; valid: {sorted(ENFORCEMENT) + sorted(ENVIRONMENT_ALIASES)}")
        if fnmatch.fnmatchcase(stack, pattern):
            return env
    return stack or None


def effective_environment(stack: str, declared: Any, packs: tuple[Pack, ...],
                          user: Mapping[str, Any] | None) -> str | None:
    """The platform's environment for ``stack``, or the stack's own ``newinfra:environment`` when that is at
    least as strict for every pack (a stack may tighten, never loosen); loosening is a PolicyConfigError."""
    platform = platform_environment(stack, user)
    if not declared or declared == platform:
        return platform
    declared = ENVIRONMENT_ALIASES.get(str(declared), str(declared))
    weaker = [p.name for p in packs if _STRENGTH[level_for(p.name, declared)] < _STRENGTH[level_for(p.name, platform)]]
    if weaker:
        raise PolicyConfigError(
            f"newinfra:environment: {declared!r} would loosen the platform's enforcement for stack {stack!r} "
            f"(environment {platform!r}) on {weaker}; a stack may only tighten it (remove the key or ask the "
            f"platform team to map the stack in --policy-config '{PLATFORM_KEY}.environments')")
    return declared


def _covered(pattern: str, allowed: list[str]) -> bool:
    import fnmatch

    return any(pattern == a or fnmatch.fnmatchcase(pattern, a) for a in allowed)


def tightened_residency(platform: Any, declared: Any) -> Any:
    """The stack's ``newinfra:dataResidency`` over the platform's map: a classification's regions may only
    narrow (every stack pattern must fall inside a platform pattern); widening is a PolicyConfigError."""
    if not isinstance(platform, Mapping) or not isinstance(declared, Mapping):
        return platform if isinstance(platform, Mapping) else declared
    merged = dict(platform)
    for classification, patterns in sorted(declared.items()):
        if classification not in platform:
            merged[classification] = patterns  # a rule for data the platform leaves open: tighter
            continue
        wider = [p for p in (patterns or []) if not _covered(str(p), list(platform[classification]))]
        if wider:
            raise PolicyConfigError(
                f"newinfra:dataResidency.{classification}: {wider} would widen the platform's residency "
                f"{list(platform[classification])} for {classification!r} data; a stack may only narrow it")
        merged[classification] = list(patterns)
    return merged


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
            if policy.name in ("data-residency", "dataset-cache-residency") and "residency" in extra \
                    and "residency" in props:
                extra["residency"] = props["residency"]  # already the platform's map, narrowed by the stack
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
