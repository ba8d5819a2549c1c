"""One AWS region of the stack: provider with default tags, network, dataset storage, EKS, VM pools."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
from newinfra.components.aws.cluster import GpuCluster
from newinfra.components.aws.guards import BudgetGuard, InterruptionQueue
from newinfra.components.aws.load_balancer_controller import LoadBalancerControllerRole
from newinfra.components.aws.network import Network
from newinfra.components.aws.storage import Storage
from newinfra.components.planning.pools import plan_node_pool
from newinfra.components.planning.profile import behaviour
from newinfra.components.planning.serving_controllers import AWS_LBC

from stacks.clouds.common import (
    classification_of,
    cluster_classification,
    controllers_needed,
    kubernetes_layer,
    workload_of,
)


def build(cfg, plans) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    clusters: list[GpuCluster] = []
    providers: list[aws.Provider] = []
    storages: dict[str, Storage] = {}
    regions: dict[str, dict[str, Any]] = {}
    for plan in plans:
        for key, value in build_region(cfg, plan, clusters, providers, storages, regions).items():
            out.setdefault(key, []).extend(value)
    # Caches last: a cache reads a bucket that may live in a region built after the cache's own.
    for plan in plans:
        for cache in plan.caches:
            for key, value in dataset_cache(cfg, cache, storages[cache["dataset"]], regions[plan.region]).items():
                out.setdefault(key, []).extend(value)
    if cfg.budget_alerts is not None and providers:
        out["budgetGuards"] = [budget_guard(cfg, clusters, pulumi.ResourceOptions(provider=providers[0]))]
    return out


def budget_guard(cfg, clusters: list[GpuCluster], opts: pulumi.ResourceOptions) -> dict[str, Any]:
    """One AWS budget for the stack (Budgets is account-wide): its topic lives in the stack's first region."""
    alerts = cfg.budget_alerts
    args: dict[str, Any] = {
        "budget_usd": cfg.monthly_budget_usd,
        "thresholds": [{"percent": t.percent, "basis": t.basis} for t in alerts.thresholds],
        "recipients": list(alerts.recipients), "scope": {alerts.scope_tag: cfg.tags[alerts.scope_tag]},
        "profile": cfg.profile, "tags": cfg.tags,
    }
    if alerts.stop_gpu_at_percent is not None:
        # The deny goes to the nodes' roles (an autoscaler without its own role scales through them) and to the
        # roles the config names (deploy pipelines, autoscaler or Karpenter controller roles).
        args["stop_gpu"] = {
            "percent": alerts.stop_gpu_at_percent,
            "roles": [c.node_role_name for c in clusters] + list(alerts.stop_gpu_roles),
            "node_group_arns": pulumi.Output.all(*[c.node_group_arns for c in clusters]).apply(
                lambda groups: sorted(arn for group in groups for arn in group)),
            "cluster_names": [c.cluster_name for c in clusters],
        }
    guard = BudgetGuard("aws-budget", args, opts)
    return {"cloud": "aws", "budget": guard.budget_name, "topic": guard.topic_arn}


def dataset_cache(cfg, cache: dict[str, Any], storage: Storage, region: dict[str, Any]) -> dict[str, list[Any]]:
    """The dataset's DatasetCache next to its GPUs (plan: stacks/program.py plan_caches, already checked)."""
    from newinfra.components.aws.dataset_cache import DatasetCache

    args: dict[str, Any] = {
        "dataset": cache["dataset"], "size_gb": cfg.dataset(cache["dataset"]).size_gb,
        "classification": cache["classification"], "region": cache["region"],
        "bucket_region": cache["bucket_region"],
        "residency": {k: list(v) for k, v in cfg.data_residency.items()},
        "bucket_name": storage.bucket_name, "key_arn": storage.key_arn, "tags": cfg.tags,
        "cache": cfg.dataset(cache["dataset"]).cache.as_plan_spec(),
    }
    network, cluster = region["network"], region.get("cluster")
    if cache["kind"] == "fsx":
        args.update(vpc_id=network.vpc_id, vpc_cidr=region["cidr"],
                    subnet_id=network.private_subnet_by_zone.apply(lambda m, z=cache["zone"]: m[z]))
    else:
        args.update(cluster_name=cluster.cluster_name, kubeconfig=cluster.kubeconfig, namespace=cache["namespace"])
    built = DatasetCache(f"{region['key']}-{cache['dataset']}-cache", args, region["opts"])
    row = {"cloud": "aws", "region": cache["region"], "dataset": cache["dataset"], "kind": built.kind}
    out: dict[str, list[Any]] = {"datasetCaches": [{**row, "fileSystemId": built.file_system_id,
                                                    "claim": built.claim_name}]}
    if built.file_system_id is not None:
        out["fileSystems"] = [{"cloud": "aws", "region": cache["region"], "dataset": cache["dataset"],
                               "id": built.file_system_id, "dns": built.file_system_dns}]
    return out


def build_region(cfg, plan, clusters: list[GpuCluster] | None = None,
                 providers: list[aws.Provider] | None = None, storages: dict[str, Storage] | None = None,
                 regions: dict[str, dict[str, Any]] | None = None) -> dict[str, list[Any]]:
    region, key = plan.region, plan.key
    provider = aws.Provider(key, region=region, default_tags={"tags": cfg.tags})
    if providers is not None:
        providers.append(provider)
    opts = pulumi.ResourceOptions(provider=provider)
    out: dict[str, list[Any]] = {"buckets": [], "clusters": [], "nodeGroups": [], "fileSystems": [],
                                 "kubeconfigs": [], "gpuVmPools": [], "interruptionQueues": []}
    network = None
    if plan.placements:
        zone_ids = sorted({z for p in plan.placements for z in p.zones})
        network = Network(key, {"cidr": plan.cidr, "zone_ids": zone_ids,
                                "nat_per_zone": behaviour(cfg.profile).nat_per_zone, "tags": cfg.tags}, opts)

    if regions is not None:
        regions[region] = {"key": key, "opts": opts, "network": network, "cidr": plan.cidr}
    for ds in plan.datasets:
        args: dict[str, Any] = {"dataset": ds.name, "classification": ds.classification, "tags": cfg.tags}
        training_zone = _shared_fs_zone(cfg, plan, ds.name)
        # A dataset with a cache gets its shared file system from DatasetCache (one FSx, not two).
        if ds.shared_file_system and ds.cache is None and network is not None and training_zone is not None:
            args["shared_file_system"] = {
                "vpc_id": network.vpc_id, "vpc_cidr": plan.cidr,
                "subnet_id": network.private_subnet_by_zone.apply(lambda m, z=training_zone: m[z]),
            }
        storage = Storage(f"{key}-{ds.name}", args, opts)
        if storages is not None:
            storages[ds.name] = storage
        out["buckets"].append({"cloud": "aws", "region": region, "dataset": ds.name, "name": storage.bucket_name})
        if storage.file_system_id is not None:
            out["fileSystems"].append({"cloud": "aws", "region": region, "dataset": ds.name,
                                       "id": storage.file_system_id, "dns": storage.file_system_dns})

    k8s = [p for p in plan.placements if p.runs_on == "kubernetes"]
    if k8s and network is not None:
        pools = [plan_node_pool(p, kind=workload_of(cfg, p).kind, profile=cfg.profile,
                                classification=classification_of(cfg, p)) for p in k8s]
        offerings = {pool["name"]: workload_of(cfg, p).capacity_block_offering_id
                     for pool, p in zip(pools, k8s, strict=True) if p.market == "capacity-block"}
        cluster = GpuCluster(f"{key}-gpu", {
            "vpc_id": network.vpc_id, "subnet_ids": network.private_subnet_ids,
            "subnet_by_zone": network.private_subnet_by_zone, "node_pools": pools,
            "public_access_cidrs": list(cfg.cluster_public_cidrs), "node_image": cfg.aws_node_image,
            "capacity_block_offerings": offerings, "tags": cfg.tags,
            "classification": cluster_classification(cfg, region, k8s),
        }, opts)
        out["clusters"].append({"cloud": "aws", "region": region, "name": cluster.cluster_name,
                                "endpoint": cluster.endpoint})
        out["nodeGroups"].extend({"cloud": "aws", "region": region, "pool": pool["name"],
                                  "instanceType": pool["instance_type"], "market": pool["market"],
                                  "minSize": pool["min_size"],
                                  "maxSize": pool["max_size"], "desiredSize": pool["desired_size"]}
                                 for pool in pools)
        out["kubeconfigs"].append(cluster.kubeconfig)
        if regions is not None:
            regions.setdefault(region, {})["cluster"] = cluster
        # Spot warnings, rebalance recommendations, scheduled changes and Capacity Block ends, read by the node
        # termination handler (queue processor mode) that the GPU layer installs.
        queue = InterruptionQueue(f"{key}-interruptions", {"cluster_name": cluster.cluster_name, "tags": cfg.tags},
                                  opts)
        lbc: dict[str, Any] = {}
        if AWS_LBC in controllers_needed(cfg, "aws", k8s, pools):
            # the ALB Ingress of a service: the controller's role, bound to its service account by Pod Identity
            role = LoadBalancerControllerRole(f"{key}-lb-controller", {
                "cluster_name": cluster.cluster_name, "region": region, "tags": cfg.tags}, opts)
            lbc = {"load_balancer_controller": {"cluster_name": cluster.cluster_name, "region": region,
                                                "vpc_id": network.vpc_id},
                   "controller_dependencies": [role.association]}
        kubernetes_layer(cfg, key, "aws", cluster.kubeconfig, k8s, pools, cluster,
                         interruption_queue={"queue_url": queue.queue_url, "region": region}, **lbc)
        if clusters is not None:
            clusters.append(cluster)
        out["interruptionQueues"].append({"cloud": "aws", "region": region, "cluster": cluster.cluster_name,
                                          "queueUrl": queue.queue_url, "handlerPolicyArn": queue.handler_policy_arn,
                                          "handlerRoleArn": queue.handler_role_arn})

    vm = [p for p in plan.placements if p.runs_on == "vm"]
    if vm and network is not None:
        from newinfra.components.aws.vm_pool import GpuVmPool
        from newinfra.components.planning.vm_pool import vm_pool_spec

        for p in vm:
            pool = vm_pool_spec(p, kind=workload_of(cfg, p).kind, profile=cfg.profile)
            vm_pool = GpuVmPool(f"{key}-{pool['name']}", {
                "pool": pool, "subnet_by_zone": network.private_subnet_by_zone, "vpc_id": network.vpc_id,
                "tags": cfg.tags, "classification": classification_of(cfg, p),
            }, opts)
            out["gpuVmPools"].append(vm_pool.inventory)
    return out


def _shared_fs_zone(cfg, plan, dataset: str) -> str | None:
    """Lustre sits in the zone of the dataset's first training pool in this region (same-region link)."""
    for p in plan.placements:
        if workload_of(cfg, p).dataset == dataset:
            return p.zones[0]
    return None
