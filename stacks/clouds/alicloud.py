"""Alibaba Cloud regions of the stack: VPC with NAT, KMS-encrypted OSS (and NAS), ACK with GPU node pools."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_alicloud as alicloud
from newinfra.components.alicloud.cluster import GpuCluster
from newinfra.components.alicloud.network import Network
from newinfra.components.alicloud.storage import Storage
from newinfra.components.planning.pools import plan_node_pool

from newinfra.config import ConfigError
from stacks.clouds.common import classification_of, cluster_classification, kubernetes_layer, workload_of

NAS_MIN_GIB = 100


def build(cfg, plans) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"buckets": [], "clusters": [], "nodeGroups": [], "fileSystems": [],
                                 "kubeconfigs": [], "gpuVmPools": []}
    for plan in plans:
        provider = alicloud.Provider(plan.key, region=plan.region)
        _region(cfg, plan, pulumi.ResourceOptions(provider=provider), out)
    return out


def region_zones(cfg, plan, opts: pulumi.ResourceOptions) -> list[str]:
    """The configured zones, else the cloud's zones that can hold vSwitches (a real-engine look-up)."""
    if plan.region in cfg.alicloud_zones:
        return list(cfg.alicloud_zones[plan.region])
    try:
        zones = alicloud.get_zones(available_resource_creation="VSwitch",
                                   opts=pulumi.InvokeOptions(provider=opts.provider))
    except Exception as exc:  # the offline engine has no zone data for Alibaba
        raise ConfigError(f"newinfra:alicloudZones: no zones for {plan.region!r} ({exc}); list two or more, "
                          f"e.g. alicloudZones: {{{plan.region}: [{plan.region}-h, {plan.region}-i]}}") from None
    return sorted(zones.ids)


def _region(cfg, plan, opts: pulumi.ResourceOptions, out: dict[str, list[Any]]) -> None:
    region, key = plan.region, plan.key
    zones = region_zones(cfg, plan, opts) if plan.placements else []
    network = Network(key, {"cidr": plan.cidr, "zones": zones, "tags": cfg.tags}, opts) if zones else None

    for ds in plan.datasets:
        args: dict[str, Any] = {"tags": cfg.tags, "classification": ds.classification}
        if ds.shared_file_system and network is not None:
            args["shared_file_system"] = {"vpc_id": network.vpc_id, "vswitch_id": network.vswitches[zones[0]],
                                          "zone": zones[0], "vpc_cidr": plan.cidr,
                                          "capacity_gib": max(NAS_MIN_GIB, int(ds.size_gb))}
        storage = Storage(f"{key}-{ds.name}", args, opts)
        out["buckets"].append({"cloud": "alicloud", "region": region, "dataset": ds.name,
                               "name": storage.bucket_name})
        if "shared_file_system" in args:
            out["fileSystems"].append({"cloud": "alicloud", "region": region, "dataset": ds.name,
                                       "id": storage.file_system_id})

    vm = [p.workload for p in plan.placements if p.runs_on == "vm"]
    if vm:
        raise ConfigError(f"newinfra:workloads: {vm} run on VMs in Alibaba Cloud {region}; the program builds "
                          "Alibaba GPU fleets only on ACK (runsOn: kubernetes)")
    k8s = plan.placements
    if k8s and network is not None:
        pools = []
        for p in k8s:
            pool = plan_node_pool(p, kind=workload_of(cfg, p).kind, profile=cfg.profile,
                                  classification=classification_of(cfg, p))
            # Alibaba offers carry no zone: the pool spreads over the network's zones.
            pool["zones"] = [z for z in p.zones if z] or zones
            pools.append(pool)
        cluster = GpuCluster(f"{key}-gpu", {"vswitches": network.vswitches, "node_pools": pools,
                                            "security_group_id": network.security_group_id,
                                            "vpc_cidr": plan.cidr, "tags": cfg.tags,
                                            "classification": cluster_classification(cfg, region, k8s)}, opts)
        out["clusters"].append({"cloud": "alicloud", "region": region, "name": cluster.cluster_id,
                                "endpoint": cluster.api_server_intranet})
        out["nodeGroups"].extend({"cloud": "alicloud", "region": region, "pool": pool["name"],
                                  "instanceType": pool["instance_type"], "market": pool["market"],
                                  "minSize": pool["min_size"], "maxSize": pool["max_size"],
                                  "desiredSize": pool["desired_size"]} for pool in pools)
        out["kubeconfigs"].append(pulumi.Output.secret(cluster.kubeconfig))
        kubernetes_layer(cfg, key, "alicloud", cluster.kubeconfig, k8s, pools, cluster)
