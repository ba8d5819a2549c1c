"""newinfra:k8s:DcgmAlerts — a PrometheusRule over the DCGM exporter's metrics.

Needs the Prometheus operator's CRDs on the cluster (kube-prometheus-stack or a managed equivalent).
Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from newinfra.components.planning.k8s import GPU_OPERATOR_NAMESPACE, alert_rules, tag_labels


class DcgmAlertsArgs(TypedDict):
    namespace: NotRequired[str]
    idle_minutes: NotRequired[int]
    temperature_celsius: NotRequired[int]
    temperature_minutes: NotRequired[int]
    # labels the Prometheus instance selects rules by (e.g. {"release": "kube-prometheus-stack"})
    rule_labels: NotRequired[dict[str, str]]
    tags: NotRequired[dict[str, str]]


class DcgmAlerts(pulumi.ComponentResource):
    """XID errors, uncorrectable ECC, idle allocated GPUs and heat, as Prometheus alerts."""

    TYPE = "newinfra:k8s:DcgmAlerts"

    alerts: pulumi.Output[list[str]]

    def __init__(self, name: str, args: DcgmAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        rules = alert_rules(idle_minutes=args.get("idle_minutes", 60),
                            temperature_celsius=args.get("temperature_celsius", 85),
                            temperature_minutes=args.get("temperature_minutes", 5))
        labels = {**tag_labels(dict(args.get("tags") or {})), **dict(args.get("rule_labels") or {})}
        super().__init__(self.TYPE, name, None, opts)
        k8s.apiextensions.CustomResource(
            f"{name}-rules", api_version="monitoring.coreos.com/v1", kind="PrometheusRule",
            metadata={"name": "newinfra-gpu-alerts", "namespace": args.get("namespace", GPU_OPERATOR_NAMESPACE),
                      "labels": labels},
            spec={"groups": [{"name": "newinfra-gpu", "rules": rules}]},
            opts=pulumi.ResourceOptions(parent=self))
        self.alerts = pulumi.Output.from_input([r["alert"] for r in rules])
        self.register_outputs({"alerts": self.alerts})
