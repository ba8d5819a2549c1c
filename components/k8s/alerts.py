"""newinfra:k8s:DcgmAlerts — a PrometheusRule over the DCGM exporter's metrics.

Needs the Prometheus operator's CRDs on the cluster (kube-prometheus-stack or a managed equivalent); the rules and
what they read are in newinfra.components.planning.alerts.
Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from newinfra.components.planning.alerts import THRESHOLDS, alert_names, alert_rules
from newinfra.components.planning.k8s import GPU_OPERATOR_NAMESPACE, tag_labels


class AlertThresholds(TypedDict):
    """The alert pack's tunables; ranges and meanings in newinfra.components.planning.alerts.THRESHOLDS."""

    idle_minutes: NotRequired[int]
    temperature_celsius: NotRequired[int]
    temperature_minutes: NotRequired[int]
    error_window_minutes: NotRequired[int]
    throttle_minutes: NotRequired[int]
    nvlink_errors: NotRequired[int]
    expensive_idle_percent: NotRequired[int]
    expensive_idle_minutes: NotRequired[int]
    missing_gpu_minutes: NotRequired[int]
    # NVIDIA accelerators GpuIdleExpensive watches (default: the NVSwitch-board GPUs of the facts)
    expensive_accelerators: NotRequired[list[str]]


class DcgmAlertsArgs(AlertThresholds):
    namespace: NotRequired[str]
    # instance type -> GPUs per node, from the planned pools: the node-level GpuNodeMissingGpus alert
    node_gpus: NotRequired[dict[str, int]]
    # labels the Prometheus instance selects rules by (e.g. {"release": "kube-prometheus-stack"})
    rule_labels: NotRequired[dict[str, str]]
    tags: NotRequired[dict[str, str]]


class DcgmAlerts(pulumi.ComponentResource):
    """XID errors, GPUs off the bus, ECC and row remapping, throttling, NVLink errors, idle (expensive) GPUs,
    heat and nodes short of GPUs, as Prometheus alerts."""

    TYPE = "newinfra:k8s:DcgmAlerts"

    alerts: pulumi.Output[list[str]]

    def __init__(self, name: str, args: DcgmAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        rules = alert_rules(node_gpus=dict(args.get("node_gpus") or {}),
                            expensive_accelerators=args.get("expensive_accelerators"),
                            **{key: args[key] for key in THRESHOLDS if key in args})  # type: ignore[literal-required]
        labels = {**tag_labels(dict(args.get("tags") or {})), **dict(args.get("rule_labels") or {})}
        super().__init__(self.TYPE, name, None, opts)
        k8s.apiextensions.CustomResource(
            f"{name}-rules", api_version="monitoring.coreos.com/v1", kind="PrometheusRule",
            metadata={"name": "newinfra-gpu-alerts", "namespace": args.get("namespace", GPU_OPERATOR_NAMESPACE),
                      "labels": labels},
            spec={"groups": [{"name": "newinfra-gpu", "rules": rules}]},
            opts=pulumi.ResourceOptions(parent=self))
        self.alerts = pulumi.Output.from_input(alert_names(rules))
        self.register_outputs({"alerts": self.alerts})
