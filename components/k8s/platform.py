"""newinfra:k8s:GpuPlatform — the same GPU software layer on every cluster, whatever its cloud.

PriorityClasses, team namespaces with accelerator quotas, Kueue with flavors and queues for the cluster's
pools, and — where the cluster has NVIDIA pools — the GPU operator (or device plugin) with DCGM alerts; on AWS,
with an InterruptionQueue, the node termination handler that drains nodes before the cloud takes them.
The program passes the cluster's Kubernetes provider (built from its kubeconfig) in ``opts``.
Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

from typing import Any, NotRequired, TypedDict

import pulumi
from newinfra.components.k8s.alerts import AlertThresholds, DcgmAlerts, DcgmAlertsArgs
from newinfra.components.k8s.gpu_operator import GpuOperator, GpuOperatorArgs
from newinfra.components.k8s.kueue import Kueue
from newinfra.components.k8s.namespaces import TeamNamespaces
from newinfra.components.k8s.priority import PriorityClasses
from newinfra.components.k8s.termination_handler import NodeTerminationHandler, NodeTerminationHandlerArgs
from newinfra.components.plain import require_plain
from newinfra.components.planning.alerts import alert_rules, node_gpus_from_pools
from newinfra.components.planning.guards import termination_handler_values
from newinfra.components.planning.k8s import (
    GpuNodePool,
    TeamQuota,
    WorkloadPriority,
    check_cloud,
    check_teams,
    plan_flavors,
    workload_priority_classes,
)
from newinfra.components.planning.pools import accelerator_vendor
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError, input_path


class GpuPlatformArgs(TypedDict):
    cloud: str
    node_pools: list[GpuNodePool]
    teams: list[TeamQuota]
    workloads: list[WorkloadPriority]
    tags: NotRequired[dict[str, str]]
    # the NVIDIA device plugin DaemonSet instead of the whole GPU operator
    device_plugin_only: NotRequired[bool]
    drivers_preinstalled: NotRequired[bool]
    # DCGM alerts need the Prometheus operator's CRDs; off where the cluster has none
    alerts: NotRequired[bool]
    alert_thresholds: NotRequired[AlertThresholds]
    prometheus_rule_labels: NotRequired[dict[str, str]]
    # AWS: the InterruptionQueue this cluster's node termination handler reads ({queue_url, region})
    interruption_queue: NotRequired[NodeTerminationHandlerArgs]


class GpuPlatform(pulumi.ComponentResource):
    """The GPU layer of one cluster: priorities, team quotas, Kueue, GPU operator, DCGM alerts."""

    TYPE = python_token("GpuPlatform")

    priority_classes: pulumi.Output[dict[str, str]]
    flavors: pulumi.Output[list[str]]
    cluster_queue: pulumi.Output[str]
    team_namespaces: pulumi.Output[list[str]]

    def __init__(self, name: str, args: GpuPlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        cloud = check_cloud(require_plain(args, "cloud"))
        pools = list(require_plain(args, "node_pools"))
        teams = check_teams(list(require_plain(args, "teams")))
        workloads = list(require_plain(args, "workloads"))
        # Fail on bad pools, kinds, priorities or alert thresholds before anything is created.
        if not pools:
            raise ComponentInputError("node_pools", "at least one accelerator node pool is needed for Kueue's quotas")
        plan_flavors(pools)
        workload_priority_classes(workloads)
        thresholds: dict[str, Any] = dict(args.get("alert_thresholds") or {})
        unknown = sorted(set(thresholds) - set(AlertThresholds.__annotations__))
        if unknown:
            raise ComponentInputError(f"alert_thresholds.{unknown[0]}", "is not a threshold; valid: "
                                      + ", ".join(sorted(AlertThresholds.__annotations__)))
        node_gpus = node_gpus_from_pools(pools)
        with input_path("alert_thresholds"):  # DcgmAlerts checks them too, but only after its siblings exist
            alert_rules(**{key: thresholds[key] for key in AlertThresholds.__annotations__ if key in thresholds})
        queue = args.get("interruption_queue")
        if queue is not None and cloud != "aws":
            raise ComponentInputError("interruption_queue", f"is an AWS queue; cloud {cloud!r} handles interruptions "
                                      "itself (GKE: graceful node shutdown on spot pools)")
        if queue is not None:
            termination_handler_values(queue.get("queue_url"), queue.get("region", ""))
        tags = dict(args.get("tags") or {})
        nvidia = any(accelerator_vendor(p["accelerator"]) == "nvidia" for p in pools)
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)

        priorities = PriorityClasses(f"{name}-priorities", {"workloads": workloads}, opts=child)
        namespaces = TeamNamespaces(f"{name}-teams", {"teams": teams, "tags": tags}, opts=child)
        kueue = Kueue(f"{name}-kueue", {"node_pools": pools, "team_namespaces": [t["name"] for t in teams],
                                        "tags": tags},
                      opts=pulumi.ResourceOptions(parent=self, depends_on=[namespaces]))
        if nvidia:
            device_plugin_only = bool(args.get("device_plugin_only", False))
            operator_args: GpuOperatorArgs = {
                "cloud": cloud, "tags": tags, "mode": "device-plugin" if device_plugin_only else "operator"}
            if "drivers_preinstalled" in args:
                operator_args["drivers_preinstalled"] = args["drivers_preinstalled"]
            operator = GpuOperator(f"{name}-gpu-operator", operator_args, opts=child)
            # The DCGM exporter comes with the operator: without it there is nothing to alert on.
            if args.get("alerts", True) and not device_plugin_only:
                alerts_args: DcgmAlertsArgs = {
                    "rule_labels": dict(args.get("prometheus_rule_labels") or {}), "tags": tags,
                    "node_gpus": node_gpus}
                for key in AlertThresholds.__annotations__:
                    if key in thresholds:
                        alerts_args[key] = thresholds[key]  # type: ignore[literal-required]  # keys of both TypedDicts
                DcgmAlerts(f"{name}-dcgm-alerts", alerts_args,
                           opts=pulumi.ResourceOptions(parent=self, depends_on=[operator]))

        if queue is not None:
            NodeTerminationHandler(f"{name}-termination-handler", queue, opts=child)

        self.priority_classes = priorities.by_workload
        self.flavors = kueue.flavors
        self.cluster_queue = kueue.cluster_queue
        self.team_namespaces = namespaces.namespaces
        self.register_outputs({"priorityClasses": self.priority_classes, "flavors": self.flavors})
