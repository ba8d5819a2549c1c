"""How the stack's config reaches a package's default provider: the facts the engine uses to configure default
providers and the record's readers (policies, pricing, the plan summary) use to find a resource's region. One
place, in the core, so that neither side imports the other."""

from __future__ import annotations

import os
from typing import Any


def provider_defaults(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What each default provider is configured with: the stack's ``<package>:<key>`` values first, then
    the provider's own environment variables, only where the stack sets nothing (the providers' documented
    precedence: pulumi-aws takes ``aws:region`` over AWS_REGION / AWS_DEFAULT_REGION)."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in config.items():
        package, _, name = key.partition(":")
        if package in PROVIDER_ENV and name:
            out.setdefault(package, {})[name] = value
    for package, env in PROVIDER_ENV.items():
        for name, variables in env.items():
            if name not in out.get(package, {}):
                found = next((os.environ[v] for v in variables if os.environ.get(v)), None)
                if found:
                    out.setdefault(package, {})[name] = found
    return out


# package -> config key -> environment variables the provider reads when the key is unset, in its order.
PROVIDER_ENV: dict[str, dict[str, tuple[str, ...]]] = {
    "aws": {"region": ("AWS_REGION", "AWS_DEFAULT_REGION")},
    "gcp": {"project": ("GOOGLE_PROJECT", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"),
            "region": ("GOOGLE_REGION", "GCLOUD_REGION", "CLOUDSDK_COMPUTE_REGION"),
            "zone": ("GOOGLE_ZONE", "GCLOUD_ZONE", "CLOUDSDK_COMPUTE_ZONE")},
    "alicloud": {"region": ("ALICLOUD_REGION", "ALIBABA_CLOUD_REGION")},
    "kubernetes": {"namespace": ()},
}


def default_region(resource_type: str, defaults: dict[str, dict[str, Any]]) -> str:
    """The region a default provider puts a resource in: ``<cloud>:region``, else a GCP zone's region."""
    package = resource_type.split(":", 1)[0]
    settings = defaults.get(package, {})
    region = str(settings.get("region") or "")
    if not region and settings.get("zone"):
        head, _, tail = str(settings["zone"]).rpartition("-")
        region = head if head and len(tail) == 1 else str(settings["zone"])
    return region
