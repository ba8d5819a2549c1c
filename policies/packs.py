"""The two packs, their policies and their enforcement per environment.

Enforcement table: prod blocks on both packs; staging and dev block on data security and only warn on
budget. An environment outside the table gets prod's levels (the strict side). A policy config file in
``--policy-pack-config`` format overrides any of it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from pulumi_policy import EnforcementLevel, Policy

DATA_SECURITY = "newinfra-data-security"
BUDGET = "newinfra-budget"
STRICT_ENVIRONMENT = "prod"

ENFORCEMENT: dict[str, dict[str, EnforcementLevel]] = {
    "prod": {DATA_SECURITY: EnforcementLevel.MANDATORY, BUDGET: EnforcementLevel.MANDATORY},
    "staging": {DATA_SECURITY: EnforcementLevel.MANDATORY, BUDGET: EnforcementLevel.ADVISORY},
    "dev": {DATA_SECURITY: EnforcementLevel.MANDATORY, BUDGET: EnforcementLevel.ADVISORY},
}


@dataclass(frozen=True)
class Pack:
    name: str
    directory: str  # under policies/
    description: str
    policies: tuple[Policy, ...]


def packs() -> tuple[Pack, ...]:
    from newinfra.policies.rules import budget, data_security

    return (
        Pack(BUDGET, "budget", "newinfra budget: monthly cost vs budget, accelerator caps, spot share, "
             "scale-to-zero, instance types, cost tags, storage hygiene", tuple(budget.POLICIES)),
        Pack(DATA_SECURITY, "data_security", "newinfra data security: encryption, private networking, audit "
             "logs, residency, GPU node hygiene for AWS, GCP, Alibaba Cloud and Kubernetes",
             tuple(data_security.POLICIES)),
    )


def pack(name_or_directory: str) -> Pack:
    for p in packs():
        if name_or_directory in (p.name, p.directory):
            return p
    raise KeyError(f"unknown policy pack {name_or_directory!r}; valid: {[p.name for p in packs()]}")


def level_for(pack_name: str, environment: str | None) -> EnforcementLevel:
    table = ENFORCEMENT.get(environment or "", ENFORCEMENT[STRICT_ENVIRONMENT])
    return table[pack_name]


def environment_from_cli() -> str | None:
    """The checked stack's environment inside a pack started by ``pulumi preview --policy-pack``: its
    newinfra:environment config (PULUMI_CONFIG), else the stack name (PULUMI_STACK)."""
    raw = os.environ.get("PULUMI_CONFIG")
    if raw:
        try:
            env = json.loads(raw).get("newinfra:environment")
        except (json.JSONDecodeError, AttributeError):
            env = None
        if env:
            return str(env)
    return os.environ.get("PULUMI_STACK") or None


def pack_arguments(directory: str) -> dict:
    """Keyword arguments of ``PolicyPack`` for a pack folder's __main__.py."""
    p = pack(directory)
    return {
        "name": p.name,
        "description": p.description,
        "policies": list(p.policies),
        "enforcement_level": level_for(p.name, environment_from_cli()),
    }
