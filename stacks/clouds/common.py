"""What every cloud builder shares: workload lookup and the GPU layer on each cluster."""

from __future__ import annotations

from typing import Any

import pulumi
from newinfra.components.planning.pools import NodePoolArgs
from newinfra.components.planning.tags import strictest_classification
from newinfra.cost_model.request import Workload

from newinfra.placement import Placement


def workload_of(cfg, placement: Placement) -> Workload:
    return next(w for w in cfg.workloads if w.name == placement.workload)


def classification_of(cfg, placement: Placement) -> str | None:
    """The classification of the data the placement's workload reads (its dataset's), None without one: what
    its pool, VMs or TPU slice carry so that residency judges compute as it judges storage."""
    dataset = cfg.dataset(workload_of(cfg, placement).dataset)
    return dataset.classification if dataset is not None else None


def cluster_classification(cfg, region: str, placements: list[Placement]) -> str | None:
    """The one classification a cluster carries: its workloads' common one, else the strictest for its region
    (components/planning/tags.py strictest_classification)."""
    return strictest_classification((classification_of(cfg, p) for p in placements), region,
                                    cfg.data_residency)


def team_quotas(cfg, placements: list[Placement]) -> list[dict[str, Any]]:
    """Per cluster: what the team's pools there can hold, never above the team's newinfra:teams allowance."""
    from newinfra.components.planning.k8s import team_quotas as derived

    allowance = {t.name: t.gpu_quota for t in cfg.teams}
    quotas = derived(list(cfg.workloads), placements)
    for quota in quotas:
        if quota["name"] in allowance and "gpus" in quota:
            quota["gpus"] = min(quota["gpus"], allowance[quota["name"]])
    return quotas


def kubernetes_layer(cfg, name: str, cloud: str, kubeconfig: pulumi.Output[str], placements: list[Placement],
                     pools: list[NodePoolArgs], parent: pulumi.Resource,
                     interruption_queue: dict[str, Any] | None = None) -> Any:
    """The same GPU software layer on every cluster, through a provider built from its kubeconfig."""
    import pulumi_kubernetes as k8s
    from newinfra.components.k8s.platform import GpuPlatform
    from newinfra.components.planning.k8s import workload_priorities

    provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig, enable_server_side_apply=True,
                            opts=pulumi.ResourceOptions(parent=parent))
    names = {p.workload for p in placements}
    return GpuPlatform(f"{name}-platform", {
        "cloud": cloud,
        "node_pools": pools,
        "teams": team_quotas(cfg, placements),
        "workloads": workload_priorities([w for w in cfg.workloads if w.name in names]),
        "tags": cfg.tags,
        **({"interruption_queue": interruption_queue} if interruption_queue else {}),
    }, pulumi.ResourceOptions(provider=provider, parent=parent))
