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
    caches: list[dict[str, Any]] = field(default_factory=list)  # dataset cache plans that sit in this region

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


def plan_caches(cfg: EnvConfig, placements: tuple[Placement, ...]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Pure: every dataset `cache` planned and checked before any resource exists, keyed by (cloud, region).

    A cache sits on the dataset's home cloud, in `cache.region` or else the region of the first GPUs there that
    read the dataset, with the claim in the readers' team namespace; none while no GPUs there read it. Every refusal (a
    ninth association, a region outside the dataset's residency, a cloud without a cache) is one ConfigError
    naming `datasets[i].cache.<key>`."""
    from newinfra.components.planning.dataset_cache import plan_cache
    from newinfra.components.planning.k8s import DEFAULT_TEAM

    from newinfra.errors import ComponentInputError

    out: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for i, ds in enumerate(cfg.datasets):
        if ds.cache is None or ds.home_cloud not in cfg.allowed_clouds:
            continue
        readers = sorted((p for p in placements if p.cloud == ds.home_cloud
                          and any(w.name == p.workload and w.dataset == ds.name for w in cfg.workloads)),
                         key=lambda p: (p.region, p.workload, p.market))
        if not readers:
            continue  # no GPUs read it (its workloads left out): nothing to sit next to; `check` reports them
        region = ds.cache.region or readers[0].region
        try:
            plan = plan_cache(cloud=ds.home_cloud, dataset=ds.name, size_gb=ds.size_gb,
                              classification=ds.classification, region=region,
                              bucket_region=ds.home_region, residency={k: list(v) for k, v in cfg.data_residency.items()},
                              spec=ds.cache.as_plan_spec())
        except ComponentInputError as exc:
            key = {"cloud": "kind", "classification": "region"}.get(exc.property_path, exc.property_path)
            raise ConfigError(f"datasets[{i}].cache.{key}: {exc.reason}") from None  # the config check missed it
        in_region = [p for p in readers if p.region == region]
        if not in_region:
            raise ConfigError(f"datasets[{i}].cache.region: {region!r} has no GPUs of this stack that read "
                              f"{ds.name!r}, so the cache would sit next to nothing; regions with readers: "
                              f"{sorted({p.region for p in readers})}")
        if plan["kind"] in ("mountpoint", "gcsfuse") and in_region[0].runs_on != "kubernetes":
            raise ConfigError(f"datasets[{i}].cache.kind: {plan['kind']!r} mounts through a Kubernetes CSI driver, "
                              f"but {in_region[0].workload!r} runs on VMs; valid there: fsx (AWS)")
        team = next(w.team for w in cfg.workloads if w.name == in_region[0].workload) or DEFAULT_TEAM
        plan.update(zone=in_region[0].zones[0], namespace=team, runs_on=in_region[0].runs_on)
        out[(ds.home_cloud, region)].append(plan)
    return out


def main() -> None:
    cfg = read_config()
    placements = resolve_placements(cfg)
    caches = plan_caches(cfg, placements)
    outputs: dict[str, Any] = defaultdict(list)
    by_cloud: dict[str, list[RegionPlan]] = defaultdict(list)
    regions = plan_regions(cfg, placements)
    for plan in regions:
        plan.caches = caches.pop((plan.cloud, plan.region), [])
        by_cloud[plan.cloud].append(plan)
    for cloud in sorted(by_cloud):
        builder = importlib.import_module(CLOUD_BUILDERS[cloud])
        for key, value in builder.build(cfg, by_cloud[cloud]).items():
            outputs[key].extend(value)
    for key in sorted(outputs):
        pulumi.export(key, outputs[key])
    pulumi.export("environment", cfg.environment)
    pulumi.export("placements", [p.to_file() for p in placements])
