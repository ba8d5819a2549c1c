"""Pure planning for the Kubernetes GPU layer: priority classes, Kueue flavors and quotas, team quotas,
GPU operator values (the DCGM alert rules are in alerts.py). No resources here; tested on its own.

The TypedDicts are part of the components' cross-language schema, which the Pulumi analyzer reads from
real annotations: no ``from __future__ import annotations`` in this module.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NotRequired, Protocol, TypedDict

from newinfra.components.planning.alerts import DCGM_METRICS_CONFIGMAP, DCGM_METRICS_PATH
from newinfra.components.planning.pools import LABEL_PREFIX, accelerator_vendor, label_value

from newinfra.errors import ComponentInputError
from newinfra.placement import Placement

DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
CLOUDS = ("alicloud", "aws", "gcp")
KINDS = ("batch", "inference", "training")


class Workload(Protocol):
    """What the GPU layer reads of a configured workload (the cost model's ``Workload`` has these fields):
    a structural type, so that the components never import the cost model."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def team(self) -> str | None: ...


class NodeTaint(TypedDict):
    key: str
    value: str
    effect: str


class GpuNodePool(TypedDict):
    """The node-pool facts the GPU layer needs (a subset of newinfra.components.planning.pools.NodePoolArgs:
    a NodePoolArgs value can be passed as is)."""

    name: str
    accelerator: str
    accelerators_per_node: int
    # the node-level alert compares each node's GPUs with its instance type's count
    instance_type: NotRequired[str]
    desired_size: int
    max_size: int
    market: str
    labels: dict[str, str]
    taints: list[NodeTaint]


class TeamQuota(TypedDict):
    """A team namespace and the accelerators its pods may request at once."""

    name: str
    gpus: int
    tpus: NotRequired[int]


class WorkloadPriority(TypedDict):
    name: str
    kind: str  # training | inference | batch
    priority: int  # 0..1000, from the workload's config


def tag_labels(tags: dict[str, str]) -> dict[str, str]:
    """Cost tags as Kubernetes labels under our prefix (owner -> newinfra.io/owner)."""
    return {f"{LABEL_PREFIX}/{label_value(k).lower()}": label_value(v) for k, v in sorted(tags.items())}


# --- priority classes ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PriorityClassPlan:
    name: str
    value: int
    preemption_policy: str  # PreemptLowerPriority | Never
    description: str


CRITICAL_TRAINING = PriorityClassPlan(
    "newinfra-critical-training", 100_000, "PreemptLowerPriority",
    "Training runs that must not wait: they preempt default and batch pods.")
DEFAULT = PriorityClassPlan(
    "newinfra-default", 10_000, "PreemptLowerPriority", "Ordinary training and inference.")
PREEMPTIBLE_BATCH = PriorityClassPlan(
    "newinfra-preemptible-batch", 1_000, "Never",
    "Batch work that fills idle accelerators and gives way to everything else.")
PRIORITY_CLASSES = (CRITICAL_TRAINING, DEFAULT, PREEMPTIBLE_BATCH)

# First match wins: (kinds, lowest workload priority, class).
PRIORITY_RULES: tuple[tuple[frozenset[str], int, PriorityClassPlan], ...] = (
    (frozenset({"training"}), 700, CRITICAL_TRAINING),
    (frozenset({"training", "inference"}), 100, DEFAULT),
    (frozenset(KINDS), 0, PREEMPTIBLE_BATCH),
)


def priority_class_for(kind: str, priority: int) -> str:
    """Workload kind and priority (0..1000) -> the name of its PriorityClass."""
    if kind not in KINDS:
        raise ComponentInputError("workloads[].kind", f"{kind!r} is not valid; valid: {list(KINDS)}")
    if not isinstance(priority, int) or not 0 <= priority <= 1000:
        raise ComponentInputError("workloads[].priority", f"{priority!r} must be an integer in [0, 1000]")
    for kinds, lowest, plan in PRIORITY_RULES:
        if kind in kinds and priority >= lowest:
            return plan.name
    raise AssertionError("the last rule matches every kind at priority 0")


def workload_priority_classes(workloads: list[WorkloadPriority]) -> dict[str, str]:
    """Workload name -> PriorityClass name, sorted by workload."""
    return {w["name"]: priority_class_for(w["kind"], w["priority"])
            for w in sorted(workloads, key=lambda w: w["name"])}


# --- GPU operator -------------------------------------------------------------------------------------

GPU_OPERATOR_CHART = "gpu-operator"
GPU_OPERATOR_VERSION = "v25.3.4"
GPU_OPERATOR_REPOSITORY = "https://helm.ngc.nvidia.com/nvidia"
GPU_OPERATOR_NAMESPACE = "gpu-operator"
DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.1"

# Whether the cluster's GPU node image already carries the NVIDIA driver: EKS AL2023 NVIDIA AMI, GKE
# node pools with driver installation, ACK GPU node images. Then the operator must not install one.
NODE_IMAGE_SHIPS_DRIVERS = {"aws": True, "gcp": True, "alicloud": True}
# EKS's accelerated AMIs (AL2023 NVIDIA, Bottlerocket NVIDIA) also ship the NVIDIA container toolkit wired into
# containerd; a second one from the operator would rewrite that config. GKE's image has none.
NODE_IMAGE_SHIPS_TOOLKIT = {"aws": True, "gcp": False, "alicloud": False}
# Where GKE puts the driver it installs, per NVIDIA's GKE instructions for the operator.
CLOUD_OPERATOR_VALUES: dict[str, dict[str, Any]] = {
    "gcp": {
        "hostPaths": {"driverInstallDir": "/home/kubernetes/bin/nvidia"},
        "toolkit": {"installDir": "/home/kubernetes/bin/nvidia"},
        "cdi": {"enabled": True, "default": True},
    },
}


def check_cloud(cloud: str) -> str:
    if cloud not in CLOUDS:
        raise ComponentInputError("cloud", f"{cloud!r} is not valid; valid: {list(CLOUDS)}")
    return cloud


def gpu_operator_values(cloud: str, *, drivers_preinstalled: bool | None = None) -> dict[str, Any]:
    """Helm values: driver and toolkit only where the image has none; device plugin and DCGM exporter on."""
    check_cloud(cloud)
    preinstalled = NODE_IMAGE_SHIPS_DRIVERS[cloud] if drivers_preinstalled is None else drivers_preinstalled
    values: dict[str, Any] = {
        "driver": {"enabled": not preinstalled},
        "toolkit": {"enabled": not (preinstalled and NODE_IMAGE_SHIPS_TOOLKIT[cloud])},
        "devicePlugin": {"enabled": True},
        # The counter list the alert rules need (planning/alerts.py), from the ConfigMap GpuOperator creates.
        "dcgmExporter": {"enabled": True, "serviceMonitor": {"enabled": True},
                         "config": {"name": DCGM_METRICS_CONFIGMAP},
                         "env": [{"name": "DCGM_EXPORTER_COLLECTORS", "value": DCGM_METRICS_PATH}]},
        "nfd": {"enabled": True},
    }
    for key, extra in CLOUD_OPERATOR_VALUES.get(cloud, {}).items():
        values[key] = {**values.get(key, {}), **extra}
    return dict(sorted(values.items()))


# --- Kueue --------------------------------------------------------------------------------------------

KUEUE_CHART = "oci://registry.k8s.io/kueue/charts/kueue"
KUEUE_VERSION = "0.14.6"  # serves kueue.x-k8s.io/v1beta1
KUEUE_API = "kueue.x-k8s.io/v1beta1"
KUEUE_NAMESPACE = "kueue-system"
CLUSTER_QUEUE = "newinfra-accelerators"
LOCAL_QUEUE = "accelerators"
TEAM_LABEL = f"{LABEL_PREFIX}/team"
# The extended resource each vendor's device plugin advertises.
RESOURCE_BY_VENDOR = {"nvidia": "nvidia.com/gpu", "tpu": "google.com/tpu", "neuron": "aws.amazon.com/neuron"}


@dataclass(frozen=True)
class FlavorPlan:
    name: str
    resource: str
    node_labels: dict[str, str]
    tolerations: list[dict[str, str]]
    nominal_quota: int  # accelerators: nodes x per node, summed over pools of this flavor


def flavor_name(accelerator_label: str, market: str) -> str:
    """A DNS-1123 name per (accelerator, market): h100-on-demand, tpu-v5litepod-spot."""
    name = re.sub(r"[^a-z0-9-]+", "-", f"{accelerator_label}-{market}".lower()).strip("-")[:63].rstrip("-")
    if not DNS_LABEL.match(name):
        raise ComponentInputError("node_pools[].accelerator", f"{accelerator_label!r} gives no valid flavor name")
    return name


def plan_flavors(pools: list[GpuNodePool]) -> list[FlavorPlan]:
    """One ResourceFlavor per (accelerator, market), matching the pools' labels and tolerating their taints."""
    groups: dict[str, list[GpuNodePool]] = defaultdict(list)
    for pool in pools:
        for key in (f"{LABEL_PREFIX}/accelerator", f"{LABEL_PREFIX}/market"):
            if key not in pool["labels"]:
                raise ComponentInputError(f"node_pools[{pool['name']!r}].labels", f"missing {key!r} (plan_node_pool sets it)")
        groups[flavor_name(pool["labels"][f"{LABEL_PREFIX}/accelerator"], pool["market"])].append(pool)
    flavors = []
    for name, members in sorted(groups.items()):
        first = members[0]
        taints = sorted({(t["key"], t["value"], t["effect"]) for p in members for t in p["taints"]})
        flavors.append(FlavorPlan(
            name=name,
            resource=RESOURCE_BY_VENDOR[accelerator_vendor(first["accelerator"])],
            node_labels={k: first["labels"][k] for k in (f"{LABEL_PREFIX}/accelerator", f"{LABEL_PREFIX}/market")},
            tolerations=[{"key": k, "operator": "Equal", "value": v, "effect": e} for k, v, e in taints],
            nominal_quota=sum(p["desired_size"] * p["accelerators_per_node"] for p in members),
        ))
    return flavors


def cluster_queue_spec(flavors: list[FlavorPlan]) -> dict[str, Any]:
    """One ClusterQueue over every flavor, a resource group per accelerator resource; only team
    namespaces may submit; higher priority preempts lower within the queue."""
    by_resource: dict[str, list[FlavorPlan]] = defaultdict(list)
    for flavor in flavors:
        by_resource[flavor.resource].append(flavor)
    return {
        "namespaceSelector": {"matchExpressions": [{"key": TEAM_LABEL, "operator": "Exists"}]},
        "queueingStrategy": "BestEffortFIFO",
        "preemption": {"withinClusterQueue": "LowerPriority", "reclaimWithinCohort": "Never"},
        "resourceGroups": [
            {"coveredResources": [resource],
             "flavors": [{"name": f.name, "resources": [{"name": resource, "nominalQuota": f.nominal_quota}]}
                         for f in members]}
            for resource, members in sorted(by_resource.items())
        ],
    }


# --- team namespaces ----------------------------------------------------------------------------------

def team_quota_hard(team: TeamQuota) -> dict[str, str]:
    """ResourceQuota `hard` for a team: requested accelerators at once."""
    name = team.get("name", "")
    if not DNS_LABEL.match(name):
        raise ComponentInputError("teams[].name", f"{name!r} must be a DNS label (lowercase letters, digits, dashes)")
    hard = {}
    for key, resource in (("gpus", "nvidia.com/gpu"), ("tpus", "google.com/tpu")):
        if key in team:
            count = team[key]  # type: ignore[literal-required]
            if not isinstance(count, int) or count < 0:
                raise ComponentInputError(f"teams[{name!r}].{key}", f"{count!r} must be an integer >= 0")
            hard[f"requests.{resource}"] = str(count)
    return hard


def check_teams(teams: list[TeamQuota]) -> list[TeamQuota]:
    names = [t.get("name") for t in teams]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ComponentInputError("teams", f"names must be unique, repeated: {repeated}")
    for team in teams:
        team_quota_hard(team)
    return sorted(teams, key=lambda t: t["name"])


# Team of workloads that name none.
DEFAULT_TEAM = "default"
# Quota key per vendor in TeamQuota (Neuron devices have no team quota key yet).
QUOTA_KEY_BY_VENDOR = {"nvidia": "gpus", "tpu": "tpus"}


def workload_priorities(workloads: list[Workload]) -> list[WorkloadPriority]:
    """The config's workloads as GpuPlatform's ``workloads`` argument, sorted by name."""
    return [{"name": w.name, "kind": w.kind, "priority": w.priority} for w in sorted(workloads, key=lambda w: w.name)]


def team_quotas(workloads: list[Workload], placements: list[Placement]) -> list[TeamQuota]:
    """A team's quota on one cluster: the accelerators its workloads' Kubernetes placements there can hold
    at their largest (max nodes x per node). Workloads without a team share the "default" team."""
    team_of = {w.name: w.team or DEFAULT_TEAM for w in workloads}
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"gpus": 0})
    for placement in placements:
        if placement.runs_on != "kubernetes":
            continue
        if placement.workload not in team_of:
            raise ComponentInputError("placements", f"workload {placement.workload!r} is not in the config's workloads")
        key = QUOTA_KEY_BY_VENDOR.get(accelerator_vendor(placement.accelerator))
        team = totals[team_of[placement.workload]]
        if key:
            team[key] = team.get(key, 0) + placement.max_nodes * placement.accelerators_per_node
    return [{"name": name, **quota} for name, quota in sorted(totals.items())]  # type: ignore[typeddict-item]
