"""The Pulumi program: config -> placements -> providers per (cloud, region) -> components -> outputs.

Runs unchanged under the real engine (`pulumi up`) and under the offline engine (`newinfra plan`).
A cloud's SDK is imported only when the stack uses that cloud.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pulumi
from newinfra.components.planning.network import allocate_cidrs
from pulumi.runtime.config import CONFIG, get_config_env

from newinfra.config import NAMESPACE, ConfigError, EnvConfig, lock_path, parse_config
from newinfra.placement import Placement

# cloud -> module that builds one region of it (imported on first use)
CLOUD_BUILDERS = {"aws": "stacks.clouds.aws", "gcp": "stacks.clouds.gcp", "alicloud": "stacks.clouds.alicloud"}


def read_config() -> EnvConfig:
    """All `newinfra:` keys the engine handed the program, validated once."""
    import json

    merged = {**get_config_env(), **CONFIG.get()}
    raw: dict[str, Any] = {}
    for key, value in sorted(merged.items()):
        ns, _, name = key.partition(":")
        if ns != NAMESPACE:
            continue
        try:
            raw[name] = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            raw[name] = value
    cfg = parse_config(raw, f"Pulumi.{pulumi.get_stack()}.yaml")
    if cfg.environment != pulumi.get_stack():
        raise ConfigError(f"newinfra:environment is {cfg.environment!r} but the stack is {pulumi.get_stack()!r}")
    return cfg


def resolve_placements(cfg: EnvConfig) -> tuple[Placement, ...]:
    """Hand-written placements win; the rest come from the reviewed lock (stacks/placements/<env>.json)."""
    pinned = tuple(p for w in cfg.workloads for p in (w.placement or ()))
    unpinned = [w for w in cfg.workloads if not w.placement]
    if not unpinned:
        return tuple(sorted(pinned, key=lambda p: (p.workload, p.market)))
    from newinfra.cost_model import lock
    from newinfra.cost_model.catalog import load_catalog

    catalog = load_catalog()
    path = lock_path(cfg.environment)
    try:
        locked = lock.load_placements(cfg.request, path, catalog)
    except lock.InvalidLock as exc:  # edited by hand: never planned over, not even in a preview
        raise ConfigError(str(exc)) from None
    except lock.StaleLock as exc:
        if not pulumi.runtime.is_dry_run():
            raise ConfigError(str(exc)) from None
        # A preview re-solves in memory and shows the difference; `pulumi up` refuses until the lock is renewed.
        pulumi.log.warn("\n".join([str(exc), *lock.preview_diff(cfg.request, path, catalog)]))
        doc = lock.read_lock(path)
        exclusions = lock.parse_exclusions(doc.get("exclusions", [])) if doc else ()
        fresh = lock.plan(cfg.request, catalog, previous=doc, exclusions=exclusions).solution
        locked = tuple(p for plan in fresh.plans for p in plan.placements)
    by_name = {p.workload for p in pinned}
    return tuple(sorted(pinned + tuple(p for p in locked if p.workload not in by_name),
                        key=lambda p: (p.workload, p.market)))


@dataclass
class RegionPlan:
    """Everything one (cloud, region) holds: compute placements and the datasets homed there."""

    cloud: str
    region: str
    cidr: str
    placements: list[Placement] = field(default_factory=list)
    datasets: list[Any] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.cloud}-{self.region}"


def plan_regions(cfg: EnvConfig, placements: tuple[Placement, ...]) -> list[RegionPlan]:
    """Pure: group placements and datasets by (cloud, region); give each a CIDR block."""
    groups: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: {"placements": [], "datasets": []})
    for p in placements:
        groups[(p.cloud, p.region)]["placements"].append(p)
    used = {w.dataset for w in cfg.workloads if w.dataset}
    for ds in cfg.datasets:
        if ds.name in used and ds.home_cloud in cfg.allowed_clouds:
            groups[(ds.home_cloud, ds.home_region)]["datasets"].append(ds)
    cidrs = allocate_cidrs(cfg.network_supernet, [f"{c}-{r}" for c, r in groups])
    return [RegionPlan(cloud, region, cidrs[f"{cloud}-{region}"], **groups[(cloud, region)])
            for cloud, region in sorted(groups)]


def main() -> None:
    cfg = read_config()
    placements = resolve_placements(cfg)
    outputs: dict[str, Any] = defaultdict(list)
    by_cloud: dict[str, list[RegionPlan]] = defaultdict(list)
    for plan in plan_regions(cfg, placements):
        by_cloud[plan.cloud].append(plan)
    for cloud in sorted(by_cloud):
        builder = importlib.import_module(CLOUD_BUILDERS[cloud])
        for key, value in builder.build(cfg, by_cloud[cloud]).items():
            outputs[key].extend(value)
    for key in sorted(outputs):
        pulumi.export(key, outputs[key])
    pulumi.export("environment", cfg.environment)
    pulumi.export("placements", [p.to_file() for p in placements])
