"""Google Cloud regions of the stack: network, dataset storage, private GKE with GPU/TPU pools, TPU VMs, VM pools."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp
from newinfra.components.gcp.cluster import GpuCluster
from newinfra.components.gcp.guards import BudgetGuard
from newinfra.components.gcp.network import Network
from newinfra.components.gcp.storage import Storage
from newinfra.components.gcp.tpu import TpuSlice
from newinfra.components.planning.gcp import gcp_label, gcp_labels
from newinfra.components.planning.pools import accelerator_vendor, plan_node_pool, pool_name
from newinfra.components.planning.serving_controllers import GATEWAY_API

from stacks.clouds.common import (
    classification_of,
    cluster_classification,
    controllers_needed,
    kubernetes_layer,
    workload_of,
)

# The GPU operator brings its own device plugin; GKE's must step aside on those nodes.
GKE_OPERATOR_LABELS = {"gke-no-default-nvidia-gpu-device-plugin": "true"}
FILESTORE_ZONAL_MIN_GIB = 1024


def build(cfg, plans) -> dict[str, list[Any]]:
    project = pulumi.Config("gcp").require("project")
    out: dict[str, list[Any]] = {"buckets": [], "clusters": [], "nodeGroups": [], "fileSystems": [],
                                 "kubeconfigs": [], "gpuVmPools": [], "tpuSlices": []}
    providers = []
    storages: dict[str, Storage] = {}
    regions: dict[str, dict[str, Any]] = {}
    for plan in plans:
        provider = gcp.Provider(plan.key, project=project, region=plan.region,
                                default_labels=gcp_labels(cfg.tags))
        providers.append(provider)
        _region(cfg, plan, pulumi.ResourceOptions(provider=provider), out, storages, regions)
    # Caches last: a cache reads a bucket that may live in a region built after the cache's own.
    for plan in plans:
        for cache in plan.caches:
            out.setdefault("datasetCaches", []).append(
                dataset_cache(cfg, cache, storages[cache["dataset"]], regions[plan.region]))
    if cfg.budget_alerts is not None and plans:
        out["budgetGuards"] = [budget_guard(cfg, plans[0].region, pulumi.ResourceOptions(provider=providers[0]))]
    return out


def budget_guard(cfg, region: str, opts: pulumi.ResourceOptions) -> dict[str, Any]:
    """One GCP budget for the stack's project and scope label; its topic lives in the stack's first region."""
    alerts = cfg.budget_alerts
    guard = BudgetGuard("gcp-budget", {
        "billing_account": alerts.gcp_billing_account, "budget_usd": cfg.monthly_budget_usd,
        "thresholds": [{"percent": t.percent, "basis": t.basis} for t in alerts.thresholds],
        "recipients": list(alerts.recipients), "scope": gcp_label(alerts.scope_tag, cfg.tags[alerts.scope_tag]),
        "region": region, "labels": gcp_labels(cfg.tags),
    }, opts)
    return {"cloud": "gcp", "budget": guard.budget_name, "topic": guard.topic_id}


def dataset_cache(cfg, cache: dict[str, Any], storage: Storage, region: dict[str, Any]) -> dict[str, Any]:
    """The dataset's DatasetCache on the GKE cluster that reads it (plan: stacks/program.py plan_caches)."""
    from newinfra.components.gcp.dataset_cache import DatasetCache

    built = DatasetCache(f"{region['key']}-{cache['dataset']}-cache", {
        "dataset": cache["dataset"], "size_gb": cfg.dataset(cache["dataset"]).size_gb,
        "classification": cache["classification"], "region": cache["region"],
        "bucket_region": cache["bucket_region"],
        "residency": {k: list(v) for k, v in cfg.data_residency.items()},
        "bucket_name": storage.bucket_name, "kubeconfig": region["cluster"].kubeconfig,
        "namespace": cache["namespace"], "cache": cfg.dataset(cache["dataset"]).cache.as_plan_spec(),
    }, region["opts"])
    return {"cloud": "gcp", "region": cache["region"], "dataset": cache["dataset"], "kind": built.kind,
            "claim": built.claim_name}


def _region(cfg, plan, opts: pulumi.ResourceOptions, out: dict[str, list[Any]],
            storages: dict[str, Storage] | None = None, regions: dict[str, dict[str, Any]] | None = None) -> None:
    region, key = plan.region, plan.key
    # an internal Gateway (a private service placed here) needs the region's proxy-only subnet
    placed = {p.workload for p in plan.placements}
    proxy = [region] if any(s.workload in placed and not s.exposure.public for s in cfg.services) else []
    network = Network(key, {"cidr": plan.cidr, "regions": [region], "tags": cfg.tags,
                            **({"proxy_only_regions": proxy} if proxy else {})}, opts) \
        if plan.placements else None
    subnetwork = network.subnetworks[region].id if network else None

    for ds in plan.datasets:
        args: dict[str, Any] = {"location": region, "tags": cfg.tags, "classification": ds.classification}
        zone = next((p.zones[0] for p in plan.placements if workload_of(cfg, p).dataset == ds.name), None)
        # A dataset with a cache is read through it (GCS FUSE), not through a Filestore copy as well.
        if ds.shared_file_system and ds.cache is None and network is not None and zone is not None:
            args["shared_file_system"] = {"network": network.network_id, "zone": zone,
                                          "capacity_gib": max(FILESTORE_ZONAL_MIN_GIB, int(ds.size_gb))}
        storage = Storage(f"{key}-{ds.name}", args, opts)
        if storages is not None:
            storages[ds.name] = storage
        out["buckets"].append({"cloud": "gcp", "region": region, "dataset": ds.name, "name": storage.bucket_name})
        if "shared_file_system" in args:
            out["fileSystems"].append({"cloud": "gcp", "region": region, "dataset": ds.name,
                                       "id": storage.file_system_name})

    k8s = [p for p in plan.placements if p.runs_on == "kubernetes"]
    if k8s and network is not None:
        pools = []
        for p in k8s:
            pool = plan_node_pool(p, kind=workload_of(cfg, p).kind, profile=cfg.profile,
                                  classification=classification_of(cfg, p))
            if accelerator_vendor(p.accelerator) == "nvidia":
                pool["labels"] = {**pool["labels"], **GKE_OPERATOR_LABELS}
            pools.append(pool)
        cluster = GpuCluster(f"{key}-gpu", {
            "location": region, "network": network.network_id, "subnetwork": subnetwork,
            "network_cidr": plan.cidr, "node_pools": pools, "tags": cfg.tags,
            "classification": cluster_classification(cfg, region, k8s),
            "master_authorized_cidrs": list(cfg.cluster_public_cidrs),
            "private_endpoint": not cfg.cluster_public_cidrs,
            # a service's Gateway and HTTPRoute need the Gateway API on the cluster
            **({"gateway_api": True} if GATEWAY_API in controllers_needed(cfg, "gcp", k8s, pools) else {}),
        }, opts)
        out["clusters"].append({"cloud": "gcp", "region": region, "name": cluster.cluster_name,
                                "endpoint": cluster.endpoint})
        out["nodeGroups"].extend(_node_group_row(region, pool) for pool in pools)
        out["kubeconfigs"].append(pulumi.Output.secret(cluster.kubeconfig))
        if regions is not None:
            regions[region] = {"key": key, "opts": opts, "cluster": cluster}
        kubernetes_layer(cfg, key, "gcp", cluster.kubeconfig, k8s, pools, cluster, cloud_provider=opts.provider)

    for p in (p for p in plan.placements if p.runs_on == "vm"):
        if p.is_tpu:
            slices = TpuSlice(f"{key}-{pool_name(p)}", {
                "zone": p.zones[0], "accelerator_type": p.instance_type, "network": network.network_id,
                "subnetwork": subnetwork, "tags": cfg.tags, "classification": classification_of(cfg, p),
                "count": p.nodes, "market": p.market, "workload": p.workload,
                **({"topology": p.tpu_topology} if p.tpu_topology else {}),
            }, opts)
            out["tpuSlices"].append({"region": region, "zone": p.zones[0], "acceleratorType": p.instance_type,
                                     "topology": slices.topology, "count": p.nodes, "market": p.market,
                                     "nodes": slices.node_ids})
            continue
        from newinfra.components.gcp.vm_pool import GpuVmPool
        from newinfra.components.planning.vm_pool import vm_pool_spec

        pool = vm_pool_spec(p, kind=workload_of(cfg, p).kind, profile=cfg.profile)
        vm_pool = GpuVmPool(f"{key}-{pool['name']}", {"pool": pool, "region": region, "subnetwork": subnetwork,
                                                      "tags": cfg.tags,
                                                      "classification": classification_of(cfg, p)}, opts)
        out["gpuVmPools"].append(vm_pool.inventory)


def _node_group_row(region: str, pool) -> dict[str, Any]:
    return {"cloud": "gcp", "region": region, "pool": pool["name"], "instanceType": pool["instance_type"],
            "market": pool["market"], "minSize": pool["min_size"], "maxSize": pool["max_size"],
            "desiredSize": pool["desired_size"]}
