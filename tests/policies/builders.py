"""Recorded-resource builders for policy tests: the dicts the offline engine writes (real type tokens,
engine camelCase inputs), with one provider per cloud carrying region and cost tags."""

from __future__ import annotations

from typing import Any

from newinfra.policies.packs import pack
from newinfra.policies.runner import Evaluation, evaluate

PROJECT, STACK = "team", "dev"
COST_TAGS = {"owner": "ml-platform", "cost-center": "cc-4120"}
PROVIDER_INPUTS = {
    "aws": {"region": "us-east-1", "defaultTags": {"tags": COST_TAGS}},
    "gcp": {"project": "team-ml", "region": "us-central1", "defaultLabels": COST_TAGS},
    "alicloud": {"region": "cn-hangzhou"},
    "kubernetes": {},
}


def urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_token}::{name}"


def provider(cloud: str, name: str | None = None, **inputs: Any) -> dict[str, Any]:
    name = name or f"{cloud}-default"
    token = f"pulumi:providers:{cloud}"
    return {"urn": urn(token, name), "type": token, "name": name, "parent": None, "provider": None,
            "custom": True, "inputs": {**PROVIDER_INPUTS[cloud], **inputs}}


def res(type_token: str, name: str, inputs: dict[str, Any] | None = None, *, via: dict | None = None,
        **extra: Any) -> dict[str, Any]:
    """A custom resource using ``via`` (a provider dict) or its cloud's default provider."""
    cloud = type_token.split(":", 1)[0]
    prov = via or provider(cloud)
    tags = {} if cloud != "alicloud" else {"tags": dict(COST_TAGS)}  # Alibaba has no provider default tags
    return {"urn": urn(type_token, name), "type": type_token, "name": name, "parent": extra.get("parent"),
            "provider": f"{prov['urn']}::{prov['name']}-id", "custom": True,
            "inputs": {**tags, **(inputs or {})}, "_provider": prov}


def with_providers(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The resources as a record holds them: each provider they use registered once, before them."""
    out: dict[str, dict[str, Any]] = {}
    for r in resources:
        prov = r.get("_provider")
        if prov is not None:
            out.setdefault(prov["urn"], prov)
    for r in resources:
        out[r["urn"]] = {k: v for k, v in r.items() if k != "_provider"}
    return list(out.values())


def check(resources: list[dict[str, Any]], *, packs: tuple[str, ...] = ("budget", "data_security"),
          config: dict[str, Any] | None = None, policy_config: dict[str, Any] | None = None,
          environment: str = "dev") -> Evaluation:
    return evaluate(with_providers(resources), config or {}, project=PROJECT, stack=STACK,
                    environment=environment, policy_config=policy_config,
                    selected=[pack(p) for p in packs])


def flagged(ev: Evaluation, policy: str) -> set[str]:
    """Names of resources (or the stack) a policy reported."""
    return {v.resource for v in ev.violations if v.policy == policy}
