"""newinfra:k8s:ServingControllers — the controllers a cluster's InferenceServices need, as pinned Helm charts:
KEDA (ScaledObject), LeaderWorkerSet (one replica over several nodes), on EKS the AWS Load Balancer Controller
(the ALB Ingress; its IAM role comes through the Pod Identity association of LoadBalancerControllerRole).
Which ones a cluster gets, the charts and their values: components/planning/serving_controllers.py.
The program passes the cluster's Kubernetes provider in ``opts``.
Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from newinfra.components.planning.serving_controllers import (
    AWS_LBC,
    GATEWAY_API,
    KEDA,
    KEDA_CHART,
    KEDA_NAMESPACE,
    KEDA_REPO,
    KEDA_VERSION,
    LBC_CHART,
    LBC_NAMESPACE,
    LBC_REPO,
    LBC_VERSION,
    LWS,
    LWS_CHART,
    LWS_NAMESPACE,
    LWS_VERSION,
    keda_values,
    lbc_values,
    lws_values,
)

from newinfra.errors import ComponentInputError

CHART_CONTROLLERS = (AWS_LBC, KEDA, LWS)  # the Gateway API is a GKE cluster setting, not a chart


def own_dependencies(opts: pulumi.ResourceOptions | None) -> list:
    """The resources among a component's depends_on, for its children: in a real `pulumi up` a component's
    depends_on does not reach the resources it creates. A component among them (the GPU platform) stays on the
    component alone: handed down, it would make each child wait on every one of that component's resources."""
    deps = opts.depends_on if opts is not None else None
    if deps is None:
        return []
    found: list = list(deps) if isinstance(deps, list | tuple) else [deps]
    return [d for d in found if not isinstance(d, pulumi.ComponentResource)]


class LoadBalancerControllerArgs(TypedDict):
    cluster_name: pulumi.Input[str]
    region: str
    vpc_id: pulumi.Input[str]


class ServingControllersArgs(TypedDict):
    controllers: list[str]  # of keda, lws, aws-load-balancer-controller (gateway-api is ignored: no chart)
    load_balancer_controller: NotRequired[LoadBalancerControllerArgs]


class ServingControllers(pulumi.ComponentResource):
    """One Helm release per controller the cluster's services need; ``releases`` maps controller -> release."""

    TYPE = "newinfra:k8s:ServingControllers"

    def __init__(self, name: str, args: ServingControllersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        wanted = list(args.get("controllers") or [])
        bad = sorted(set(wanted) - {*CHART_CONTROLLERS, GATEWAY_API})
        if bad:
            raise ComponentInputError("controllers", f"{bad[0]!r} is not valid; valid: "
                                      f"{sorted({*CHART_CONTROLLERS, GATEWAY_API})}")
        lbc = args.get("load_balancer_controller")
        if AWS_LBC in wanted and lbc is None:
            raise ComponentInputError("load_balancer_controller", "required with aws-load-balancer-controller "
                                      "(cluster_name, region, vpc_id)")
        lbc_vals = lbc_values(lbc["cluster_name"], lbc.get("region", ""), lbc["vpc_id"]) \
            if AWS_LBC in wanted and lbc is not None else None
        super().__init__(self.TYPE, name, None, opts)
        # a release waits for what the component waits for (the controller's Pod Identity association)
        child = pulumi.ResourceOptions(parent=self, depends_on=own_dependencies(opts))
        self.releases: dict[str, k8s.helm.v3.Release] = {}
        if KEDA in wanted:
            self.releases[KEDA] = k8s.helm.v3.Release(
                f"{name}-keda", name="keda", chart=KEDA_CHART, version=KEDA_VERSION,
                repository_opts={"repo": KEDA_REPO}, namespace=KEDA_NAMESPACE, create_namespace=True, atomic=True,
                cleanup_on_fail=True, values=keda_values(), opts=child)
        if LWS in wanted:
            # OCI charts take the whole reference as `chart` and no repository (Helm 3.8+, the provider's Helm).
            self.releases[LWS] = k8s.helm.v3.Release(
                f"{name}-lws", name="lws", chart=LWS_CHART, version=LWS_VERSION, namespace=LWS_NAMESPACE,
                create_namespace=True, atomic=True, cleanup_on_fail=True, values=lws_values(), opts=child)
        if lbc_vals is not None:
            self.releases[AWS_LBC] = k8s.helm.v3.Release(
                f"{name}-aws-lbc", name="aws-load-balancer-controller", chart=LBC_CHART, version=LBC_VERSION,
                repository_opts={"repo": LBC_REPO}, namespace=LBC_NAMESPACE, create_namespace=False, atomic=True,
                cleanup_on_fail=True, values=lbc_vals, opts=child)
        self.register_outputs({})
