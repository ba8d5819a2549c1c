"""Pure node-pool planning shared by every cloud: size range, labels, taints, compact placement.

A placement (what the cost model chose) plus the workload's kind and the environment's profile become one
``NodePoolArgs`` — plain data that the cluster components of each cloud turn into resources.
"""


import re
from typing import NotRequired, TypedDict

from newinfra.components.planning.profile import behaviour
from newinfra.components.planning.tags import checked_classification

from newinfra.placement import Placement

LABEL_PREFIX = "newinfra.io"


class Taint(TypedDict):
    key: str
    value: str
    effect: str  # NoSchedule | PreferNoSchedule | NoExecute


class NodePoolArgs(TypedDict):
    """One GPU/TPU node pool. Plain values: the components plan from them."""

    name: str
    workload: str
    instance_type: str
    accelerator: str
    accelerators_per_node: int
    zones: list[str]
    min_size: int
    max_size: int
    desired_size: int
    market: str  # on-demand | spot | capacity-block
    labels: dict[str, str]
    taints: list[Taint]
    compact: bool  # multi-node training: cluster placement group / compact placement policy
    tpu_topology: NotRequired[str]
    # The data classification of the workload's dataset (residency judges the pool by it); without one the
    # pool carries the cluster's.
    classification: NotRequired[str]


# Which extended resource an accelerator's nodes advertise, and so which taint keeps ordinary pods off.
TAINT_KEY_BY_VENDOR = {
    "nvidia": "nvidia.com/gpu",
    "neuron": "aws.amazon.com/neuron",
    "tpu": "google.com/tpu",
}
NEURON_ACCELERATORS = frozenset({"Inferentia", "Inferentia2", "Trainium", "Trainium2"})


def accelerator_vendor(accelerator: str) -> str:
    if accelerator.startswith("tpu-"):
        return "tpu"
    if accelerator in NEURON_ACCELERATORS:
        return "neuron"
    return "nvidia"


def label_value(value: str) -> str:
    """Kubernetes label values: [A-Za-z0-9._-], at most 63, alphanumeric at both ends."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip("-._")
    return cleaned[:63].rstrip("-._")


def pool_name(placement: Placement) -> str:
    """A name every cloud accepts for node pools (lowercase, digits, dashes, <= 40 chars)."""
    return re.sub(r"[^a-z0-9-]+", "-", placement.pool_name.lower())[:40].strip("-")


def plan_node_pool(placement: Placement, *, kind: str, profile: str,
                   classification: str | None = None) -> NodePoolArgs:
    """Turn a placement into a node pool: under the production profile it keeps its floor; otherwise it may
    scale to zero. ``classification``: that of the workload's dataset, if it has one."""
    min_size = placement.min_nodes if behaviour(profile).keep_node_floor else 0
    vendor = accelerator_vendor(placement.accelerator)
    pool: NodePoolArgs = {
        "name": pool_name(placement),
        "workload": placement.workload,
        "instance_type": placement.instance_type,
        "accelerator": placement.accelerator,
        "accelerators_per_node": placement.accelerators_per_node,
        "zones": list(placement.zones),
        "min_size": min_size,
        "max_size": placement.max_nodes,
        "desired_size": max(min_size, placement.nodes),
        "market": placement.market,
        "labels": {
            f"{LABEL_PREFIX}/accelerator": label_value(placement.accelerator),
            f"{LABEL_PREFIX}/market": placement.market,
            f"{LABEL_PREFIX}/workload": label_value(placement.workload),
            f"{LABEL_PREFIX}/kind": kind,
        },
        "taints": [{"key": TAINT_KEY_BY_VENDOR[vendor], "value": "present", "effect": "NoSchedule"}],
        "compact": kind == "training" and placement.multi_node,
    }
    if placement.tpu_topology:
        pool["tpu_topology"] = placement.tpu_topology
    if classification is not None:
        pool["classification"] = classification
    return pool


def pool_classification(pool: NodePoolArgs, cluster_classification: str | None) -> str | None:
    """The classification a pool's resources carry: its own (checked), else its cluster's."""
    return checked_classification(pool.get("classification")) or cluster_classification
