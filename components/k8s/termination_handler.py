"""newinfra:k8s:NodeTerminationHandler — aws-node-termination-handler in queue processor mode (pinned chart).

It reads the InterruptionQueue (components/aws/guards.py) and cordons and drains a node before its spot
interruption, rebalance recommendation, scheduled change or Capacity Block end takes it away; its IAM role
comes through the queue's Pod Identity association. Values are planned in components/planning/guards.py.
Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

from typing import TypedDict

import pulumi
import pulumi_kubernetes as k8s
from newinfra.components.planning.guards import (
    NTH_CHART,
    NTH_NAMESPACE,
    NTH_VERSION,
    termination_handler_values,
)

from newinfra.errors import ComponentInputError


class NodeTerminationHandlerArgs(TypedDict):
    queue_url: pulumi.Input[str]
    region: str


class NodeTerminationHandler(pulumi.ComponentResource):
    TYPE = "newinfra:k8s:NodeTerminationHandler"

    def __init__(self, name: str, args: NodeTerminationHandlerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if not args.get("queue_url"):
            raise ComponentInputError("interruption_queue.queue_url", f"{args.get('queue_url')!r} is empty; give the "
                                      "InterruptionQueue's queue_url")
        values = termination_handler_values(args["queue_url"], args.get("region", ""))
        super().__init__(self.TYPE, name, None, opts)
        # OCI charts take the whole reference as `chart` and no repository (Helm 3.8+, the provider's Helm).
        k8s.helm.v3.Release(
            f"{name}-release", name="aws-node-termination-handler", chart=NTH_CHART, version=NTH_VERSION,
            namespace=NTH_NAMESPACE, create_namespace=False, atomic=True, cleanup_on_fail=True, values=values,
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
