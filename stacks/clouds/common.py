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


def served(cfg, placements: list[Placement]) -> list[Any]:
    """The configured services of the workloads placed on one cluster (newinfra:services order)."""
    names = {p.workload for p in placements}
    return [s for s in cfg.services if s.workload in names]


def controllers_needed(cfg, cloud: str, placements: list[Placement], pools: list[NodePoolArgs]) -> tuple[str, ...]:
    """The controllers the services on one cluster need (components/planning/serving_controllers.py): none for
    a cluster that serves nothing, so its record stays as it was."""
    from newinfra.components.planning.serving import plan_serving
    from newinfra.components.planning.serving_controllers import controllers_needed as needed

    return needed(plan_serving(service_args(cfg, s, cloud, pools)) for s in served(cfg, placements))


def kubernetes_layer(cfg, name: str, cloud: str, kubeconfig: pulumi.Output[str], placements: list[Placement],
                     pools: list[NodePoolArgs], parent: pulumi.Resource,
                     cloud_provider: pulumi.ProviderResource | None = None,
                     interruption_queue: dict[str, Any] | None = None,
                     load_balancer_controller: dict[str, Any] | None = None,
                     controller_dependencies: list[pulumi.Resource] | None = None) -> Any:
    """The same GPU software layer on every cluster, through a provider built from its kubeconfig, and the
    inference services of the workloads placed there with the controllers their objects need
    (``cloud_provider``: for what a service builds in the cloud itself, a public GKE endpoint's Cloud Armor
    policy; ``interruption_queue``: AWS's, for the node termination handler; ``load_balancer_controller``:
    AWS's {cluster_name, region, vpc_id}, with ``controller_dependencies`` its Pod Identity association)."""
    import pulumi_kubernetes as k8s
    from newinfra.components.k8s.platform import GpuPlatform
    from newinfra.components.planning.k8s import workload_priorities

    provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig, enable_server_side_apply=True,
                            opts=pulumi.ResourceOptions(parent=parent))
    names = {p.workload for p in placements}
    platform = GpuPlatform(f"{name}-platform", {
        "cloud": cloud,
        "node_pools": pools,
        "teams": team_quotas(cfg, placements),
        "workloads": workload_priorities([w for w in cfg.workloads if w.name in names]),
        "tags": cfg.tags,
        **({"interruption_queue": interruption_queue} if interruption_queue else {}),
    }, pulumi.ResourceOptions(provider=provider, parent=parent))
    services = served(cfg, placements)
    if not services:
        return platform
    from newinfra.components.k8s.serving import InferenceService
    from newinfra.components.k8s.serving_controllers import CHART_CONTROLLERS, ServingControllers

    charts = [c for c in controllers_needed(cfg, cloud, placements, pools) if c in CHART_CONTROLLERS]
    waits: list[pulumi.Resource] = [platform]
    if charts:
        controllers = ServingControllers(f"{name}-serving", {
            "controllers": charts,
            **({"load_balancer_controller": load_balancer_controller} if load_balancer_controller else {}),
        }, pulumi.ResourceOptions(provider=provider, parent=parent,
                                  depends_on=list(controller_dependencies or [])))
        waits += [controllers.releases[c] for c in charts]
    providers = [provider] + ([cloud_provider] if cloud_provider is not None else [])
    for svc in services:
        # the team namespace and the priority classes come with the platform; the CRDs and the load balancer's
        # controller with the releases
        InferenceService(f"{name}-{svc.workload}", service_args(cfg, svc, cloud, pools),
                         pulumi.ResourceOptions(providers=providers, parent=parent, depends_on=waits))
    return platform


def service_args(cfg, svc, cloud: str, pools: list[NodePoolArgs]) -> dict[str, Any]:
    """A configured service as InferenceService arguments: replicas from the workload's node range, the
    accelerators of one replica's node from its pools, its team's namespace and its priority class."""
    from newinfra.components.planning.k8s import DEFAULT_TEAM, priority_class_for

    from newinfra.config import replica_range

    w = next(w for w in cfg.workloads if w.name == svc.workload)
    own = [p for p in pools if p["workload"] == w.name]
    low, high = replica_range(w, svc.nodes_per_replica)
    # The base replicas stand on the on-demand nodes the pools keep; spot nodes are for the burst.
    on_demand = [p for p in own if p["market"] != "spot"]
    if on_demand:
        low = min(low, sum(p["min_size"] for p in on_demand) // svc.nodes_per_replica)
    exposure: dict[str, Any] = {"public": svc.exposure.public, "allowed_cidrs": list(svc.exposure.allowed_cidrs),
                                "tls_certificate": svc.exposure.tls_certificate}
    if svc.exposure.hostname:
        exposure["hostname"] = svc.exposure.hostname
    args: dict[str, Any] = {
        "cloud": cloud, "profile": cfg.profile, "workload": w.name, "namespace": w.team or DEFAULT_TEAM,
        "image": svc.image, "args": list(svc.args), "port": svc.port, "health_path": svc.health_path,
        "accelerators_per_replica_node": min(p["accelerators_per_node"] for p in own),
        "nodes_per_replica": svc.nodes_per_replica, "min_replicas": low, "max_replicas": high,
        "priority_class": priority_class_for(w.kind, w.priority), "node_pools": own, "exposure": exposure,
        "tags": cfg.tags,
    }
    if svc.autoscaling is not None:
        scaling = svc.autoscaling
        args["autoscaling"] = {"metric": scaling.metric, **({"target": scaling.target} if scaling.target else {}),
                               **({"prometheus_url": scaling.prometheus_url} if scaling.prometheus_url else {})}
    if svc.canary is not None:
        args["canary"] = {"image": svc.canary.image, "args": list(svc.canary.args), "weight": svc.canary.weight,
                          "replicas": svc.canary.replicas}
    return args
