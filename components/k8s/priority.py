"""newinfra:k8s:PriorityClasses — critical training, default, preemptible batch.

Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

from typing import TypedDict

import pulumi
import pulumi_kubernetes as k8s
from newinfra.components.planning.k8s import PRIORITY_CLASSES, WorkloadPriority, workload_priority_classes


class PriorityClassesArgs(TypedDict):
    workloads: list[WorkloadPriority]


class PriorityClasses(pulumi.ComponentResource):
    """The three PriorityClasses and which one each workload uses."""

    TYPE = "newinfra:k8s:PriorityClasses"

    # workload name -> PriorityClass name (what the workload's pods set as priorityClassName)
    by_workload: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: PriorityClassesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        mapping = workload_priority_classes(list(args.get("workloads") or []))
        super().__init__(self.TYPE, name, None, opts)
        for plan in PRIORITY_CLASSES:
            k8s.scheduling.v1.PriorityClass(
                f"{name}-{plan.name}", metadata={"name": plan.name}, value=plan.value,
                preemption_policy=plan.preemption_policy, global_default=False, description=plan.description,
                opts=pulumi.ResourceOptions(parent=self))
        self.by_workload = pulumi.Output.from_input(mapping)
        self.register_outputs({"byWorkload": self.by_workload})
