"""newinfra:k8s:GpuOperator — NVIDIA's GPU operator (Helm release), or only the device plugin.

Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from newinfra.components.plain import require_plain
from newinfra.components.planning.alerts import (
    DCGM_METRICS_CONFIGMAP,
    DCGM_METRICS_FILE,
    exporter_counters_csv,
)
from newinfra.components.planning.k8s import (
    DEVICE_PLUGIN_IMAGE,
    GPU_OPERATOR_CHART,
    GPU_OPERATOR_NAMESPACE,
    GPU_OPERATOR_REPOSITORY,
    GPU_OPERATOR_VERSION,
    check_cloud,
    gpu_operator_values,
    tag_labels,
)
from newinfra.components.planning.pools import LABEL_PREFIX

from newinfra.errors import ComponentInputError

# The operator's driver, toolkit and validator pods run privileged on the GPU nodes: its namespace has to
# allow that, and only its namespace does.
OPERATOR_POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "privileged",
    "pod-security.kubernetes.io/audit": "privileged",
}
MODES = ("operator", "device-plugin")


class GpuOperatorArgs(TypedDict):
    cloud: str
    # "operator" (driver/toolkit/device plugin/DCGM exporter) or "device-plugin" (the DaemonSet alone)
    mode: NotRequired[str]
    # default: what the cloud's GPU node image does (EKS AL2023 NVIDIA, GKE, ACK images ship drivers)
    drivers_preinstalled: NotRequired[bool]
    tags: NotRequired[dict[str, str]]


class GpuOperator(pulumi.ComponentResource):
    """NVIDIA GPU operator (pinned chart) in its own namespace, or the NVIDIA device plugin DaemonSet."""

    TYPE = "newinfra:k8s:GpuOperator"

    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: GpuOperatorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        cloud = check_cloud(require_plain(args, "cloud"))
        mode = args.get("mode", "operator")
        if mode not in MODES:
            raise ComponentInputError("mode", f"{mode!r} is not valid; valid: {list(MODES)}")
        labels = tag_labels(dict(args.get("tags") or {}))
        values = gpu_operator_values(cloud, drivers_preinstalled=args.get("drivers_preinstalled"))
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if mode == "device-plugin":
            self.namespace = pulumi.Output.from_input("kube-system")
            self._device_plugin(name, labels)
        else:
            ns = k8s.core.v1.Namespace(
                f"{name}-ns", metadata={"name": GPU_OPERATOR_NAMESPACE,
                                        "labels": {**labels, **OPERATOR_POD_SECURITY}}, opts=child)
            # The exporter's counter list (the alert rules read fields its default list leaves out).
            counters = k8s.core.v1.ConfigMap(
                f"{name}-dcgm-metrics", metadata={"name": DCGM_METRICS_CONFIGMAP, "namespace": ns.metadata["name"],
                                                  "labels": labels},
                data={DCGM_METRICS_FILE: exporter_counters_csv()}, opts=child)
            k8s.helm.v3.Release(
                f"{name}-release", name="gpu-operator", chart=GPU_OPERATOR_CHART, version=GPU_OPERATOR_VERSION,
                repository_opts={"repo": GPU_OPERATOR_REPOSITORY}, namespace=ns.metadata["name"],
                create_namespace=False, atomic=True, cleanup_on_fail=True, values=values,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[counters]))
            self.namespace = ns.metadata["name"]
        self.register_outputs({"namespace": self.namespace})

    def _device_plugin(self, name: str, labels: dict[str, str]) -> None:
        selector = {"app.kubernetes.io/name": "nvidia-device-plugin"}
        k8s.apps.v1.DaemonSet(
            f"{name}-device-plugin",
            metadata={"name": "nvidia-device-plugin", "namespace": "kube-system", "labels": {**labels, **selector}},
            spec={
                "selector": {"matchLabels": selector},
                "updateStrategy": {"type": "RollingUpdate"},
                "template": {
                    "metadata": {"labels": selector},
                    "spec": {
                        "priorityClassName": "system-node-critical",
                        # only on our GPU nodes, whatever their taint says
                        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [{"matchExpressions": [
                                {"key": f"{LABEL_PREFIX}/accelerator", "operator": "Exists"}]}]}}},
                        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                        "containers": [{
                            "name": "nvidia-device-plugin",
                            "image": DEVICE_PLUGIN_IMAGE,
                            "env": [{"name": "FAIL_ON_INIT_ERROR", "value": "false"}],
                            "securityContext": {"allowPrivilegeEscalation": False,
                                                "capabilities": {"drop": ["ALL"]}},
                            "volumeMounts": [{"name": "device-plugin", "mountPath": "/var/lib/kubelet/device-plugins"}],
                        }],
                        "volumes": [{"name": "device-plugin",
                                     "hostPath": {"path": "/var/lib/kubelet/device-plugins"}}],
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self))
