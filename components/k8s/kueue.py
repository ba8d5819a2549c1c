"""newinfra:k8s:Kueue — Kueue (pinned Helm chart), a ResourceFlavor per accelerator and market, one
ClusterQueue with each flavor's accelerators as quota, and a LocalQueue in every team namespace.

Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from newinfra.components.plain import require_plain
from newinfra.components.planning.k8s import (
    CLUSTER_QUEUE,
    KUEUE_API,
    KUEUE_CHART,
    KUEUE_NAMESPACE,
    KUEUE_VERSION,
    LOCAL_QUEUE,
    GpuNodePool,
    cluster_queue_spec,
    plan_flavors,
    tag_labels,
)

from newinfra.errors import ComponentInputError


class KueueArgs(TypedDict):
    node_pools: list[GpuNodePool]
    # team namespaces (they must exist: the platform creates them first)
    team_namespaces: list[str]
    tags: NotRequired[dict[str, str]]


class Kueue(pulumi.ComponentResource):
    """Kueue and its queues for the cluster's accelerator pools."""

    TYPE = "newinfra:k8s:Kueue"

    flavors: pulumi.Output[list[str]]
    cluster_queue: pulumi.Output[str]

    def __init__(self, name: str, args: KueueArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        pools = list(require_plain(args, "node_pools"))
        if not pools:
            raise ComponentInputError("node_pools", "at least one accelerator node pool is needed for Kueue's quotas")
        flavors = plan_flavors(pools)
        teams = sorted(set(require_plain(args, "team_namespaces")))
        labels = tag_labels(dict(args.get("tags") or {}))
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        release = k8s.helm.v3.Release(
            f"{name}-release", name="kueue", chart=KUEUE_CHART, version=KUEUE_VERSION,
            namespace=KUEUE_NAMESPACE, create_namespace=True, atomic=True, cleanup_on_fail=True, opts=child)
        # The CRDs and the admission webhook come with the release: the queues wait for it.
        after = pulumi.ResourceOptions(parent=self, depends_on=[release])
        for flavor in flavors:
            k8s.apiextensions.CustomResource(
                f"{name}-flavor-{flavor.name}", api_version=KUEUE_API, kind="ResourceFlavor",
                metadata={"name": flavor.name, "labels": labels},
                spec={"nodeLabels": flavor.node_labels, "tolerations": flavor.tolerations}, opts=after)
        queue = k8s.apiextensions.CustomResource(
            f"{name}-cluster-queue", api_version=KUEUE_API, kind="ClusterQueue",
            metadata={"name": CLUSTER_QUEUE, "labels": labels}, spec=cluster_queue_spec(flavors), opts=after)
        for team in teams:
            k8s.apiextensions.CustomResource(
                f"{name}-local-queue-{team}", api_version=KUEUE_API, kind="LocalQueue",
                metadata={"name": LOCAL_QUEUE, "namespace": team, "labels": labels},
                spec={"clusterQueue": CLUSTER_QUEUE},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[release, queue]))

        self.flavors = pulumi.Output.from_input([f.name for f in flavors])
        self.cluster_queue = pulumi.Output.from_input(CLUSTER_QUEUE)
        self.register_outputs({"flavors": self.flavors, "clusterQueue": self.cluster_queue})
