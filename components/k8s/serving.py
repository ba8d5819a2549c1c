"""newinfra:k8s:InferenceService — a model server (vLLM, Triton, TGI: the user's image and args) behind the
cloud's load balancer, spread over zones, with a disruption budget, KEDA autoscaling and a canary revision.
The plan (every object's spec) is components/planning/serving.py; this only registers it.

The program passes the cluster's Kubernetes provider in ``opts`` (and, for a public GKE endpoint, the GCP
provider as ``providers``: its Cloud Armor allow-list is a GCP resource).
Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

import pulumi
import pulumi_kubernetes as k8s
from newinfra.components.k8s.serving_controllers import own_dependencies
from newinfra.components.planning.serving import (
    GATEWAY_API,
    GKE_POLICY_API,
    KEDA_API,
    LWS_API,
    InferenceServiceArgs,
    armor_policy_name,
    plan_serving,
)
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError

TYPE = python_token("InferenceService")
API_OF_KIND = {"Gateway": GATEWAY_API, "HTTPRoute": GATEWAY_API, "GCPBackendPolicy": GKE_POLICY_API,
               "HealthCheckPolicy": GKE_POLICY_API}


class InferenceService(pulumi.ComponentResource):
    """Deployments (or LeaderWorkerSets), PDB, ScaledObjects, Services and the load balancer of one service."""

    TYPE = TYPE

    workloads: pulumi.Output[list[str]]
    endpoint_kind: pulumi.Output[str]

    def __init__(self, name: str, args: InferenceServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        for key, value in dict(args).items():
            if isinstance(value, pulumi.Output):
                raise ComponentInputError(key, "must be a plain value (it decides what gets created), not an Output")
        plan = plan_serving(args)  # every check before anything is registered
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        # The resources the service waits for (the controllers of its CRDs and of its load balancer), each object
        # waits for: a component's depends_on does not reach its children in a real `pulumi up`.
        waits = own_dependencies(opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=waits)
        ns, labels = plan.namespace, plan.labels

        def meta(obj_name: str, extra: dict | None = None) -> dict:
            return {"name": obj_name, "namespace": ns, "labels": labels, **(extra or {})}

        def short(obj_name: str) -> str:  # children's names: the component's name already says the service
            return obj_name.removeprefix(plan.name).lstrip("-") or "main"

        created = []
        for w in plan.workloads:
            if w.kind == "Deployment":
                created.append(k8s.apps.v1.Deployment(f"{name}-{short(w.name)}", metadata=meta(w.name), spec=w.spec,
                                                      opts=child))
            else:
                created.append(k8s.apiextensions.CustomResource(
                    f"{name}-{short(w.name)}", api_version=LWS_API, kind="LeaderWorkerSet", metadata=meta(w.name),
                    spec=w.spec, opts=child))
        after = pulumi.ResourceOptions(parent=self, depends_on=[*waits, *created])
        k8s.policy.v1.PodDisruptionBudget(f"{name}-pdb", metadata=meta(plan.name), spec=plan.pdb, opts=child)
        for target, spec in plan.scaled_objects:
            k8s.apiextensions.CustomResource(f"{name}-{short(target)}-scaler", api_version=KEDA_API, kind="ScaledObject",
                                             metadata=meta(target), spec=spec, opts=after)
        for svc_name, spec in plan.services:
            k8s.core.v1.Service(f"{name}-service-{short(svc_name)}", metadata=meta(svc_name), spec=spec, opts=child)
        if plan.armor_rules:
            import pulumi_gcp as gcp

            gcp.compute.SecurityPolicy(
                f"{name}-armor", name=armor_policy_name_from(plan), description=f"allow-list of {plan.name}",
                rules=[{"priority": p, "action": action, "match": {"versionedExpr": "SRC_IPS_V1",
                                                                   "config": {"srcIpRanges": list(cidrs)}}}
                       for p, action, cidrs in plan.armor_rules], opts=child)
        for kind, obj_name, extra, spec in plan.exposure:
            if kind == "Ingress":
                k8s.networking.v1.Ingress(f"{name}-ingress", metadata=meta(obj_name, extra), spec=spec, opts=after)
            elif kind == "Service":
                k8s.core.v1.Service(f"{name}-lb", metadata=meta(obj_name, extra), spec=spec, opts=after)
            else:
                k8s.apiextensions.CustomResource(
                    f"{name}-{kind.lower()}-{short(obj_name)}", api_version=API_OF_KIND[kind], kind=kind,
                    metadata=meta(obj_name, extra), spec=spec, opts=after)

        self.workloads = pulumi.Output.from_input([w.name for w in plan.workloads])
        self.endpoint_kind = pulumi.Output.from_input(plan.exposure[0][0])
        self.register_outputs({"workloads": self.workloads, "endpointKind": self.endpoint_kind})


def armor_policy_name_from(plan) -> str:
    """The policy name the GCPBackendPolicy objects refer to (read back from the plan, one source)."""
    names = {spec["default"].get("securityPolicy") for kind, _, _, spec in plan.exposure if kind == "GCPBackendPolicy"}
    (only,) = names
    return only


__all__ = ["InferenceService", "armor_policy_name"]
