"""The load balancers Kubernetes objects become: a controller in the cluster creates them in the cloud, so the
record holds the Ingress / Gateway / Service, never the ALB, forwarding rule or CLB. Each is priced here with
the same pricing function as the cloud's own load balancer resource (one price, one place):

- an Ingress of class ``alb`` (AWS Load Balancer Controller): one ALB (hour + LCUs);
- a Gateway of a ``gke-l7-*`` class (GKE Gateway controller), or an Ingress of class ``gce`` / ``gce-internal``:
  one forwarding rule (its proxies are not priced: no verified rate);
- a Service of type LoadBalancer: the cloud its annotations name (ACK: a CLB; AWS Load Balancer Controller
  ``external`` / ``nlb``: an NLB; GKE: a forwarding rule).

Other Kubernetes objects run on the cluster's nodes (priced as nodes). An Ingress, Gateway or LoadBalancer
Service whose load balancer cannot be told from the object is listed as unpriced with the reason.
"""

from __future__ import annotations

from dataclasses import replace

from newinfra.cost_model.pricebook.bill import Line, Unpriced
from newinfra.cost_model.pricebook.pricing import Pricer, alicloud_ecs, aws_lb, gcp_network

from newinfra.props import get

ON_NODES = "runs on the cluster's nodes, which are priced"
AWS_LB_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-type"
ACK_ANNOTATION_PREFIX = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer"
GKE_ANNOTATION_PREFIXES = ("cloud.google.com/", "networking.gke.io/")
GCE_INGRESS_CLASSES = ("gce", "gce-internal")


def _annotations(props) -> dict:
    return dict(get(props, "metadata", {}).get("annotations") or {})


def _ingress(props, ctx) -> list[Line]:
    spec = get(props, "spec", {}) or {}
    cls = spec.get("ingressClassName") or _annotations(props).get("kubernetes.io/ingress.class")
    if cls == "alb":
        return aws_lb._lb({"loadBalancerType": "application"}, replace(ctx, cloud="aws"))
    if cls in GCE_INGRESS_CLASSES:
        return gcp_network._rule({}, replace(ctx, cloud="gcp"))
    raise Unpriced(f"an Ingress of class {cls!r}: its load balancer is its controller's (priced: alb, "
                   f"{', '.join(GCE_INGRESS_CLASSES)})")


def _gateway(props, ctx) -> list[Line]:
    cls = (get(props, "spec", {}) or {}).get("gatewayClassName") or ""
    if cls.startswith("gke-l7-"):
        lines = gcp_network._rule({}, replace(ctx, cloud="gcp"))
        return [replace(lines[0], item=f"forwarding rule of a {cls} Gateway (proxies not priced: no verified "
                                       "rate)"), *lines[1:]]
    raise Unpriced(f"a Gateway of class {cls!r}: its load balancer is its controller's (priced: gke-l7-*)")


def _service(props, ctx) -> list[Line]:
    spec = get(props, "spec", {}) or {}
    if spec.get("type") != "LoadBalancer":
        return []
    annotations = _annotations(props)
    if any(k.startswith(ACK_ANNOTATION_PREFIX) for k in annotations):
        return alicloud_ecs._clb({}, replace(ctx, cloud="alicloud"))
    if annotations.get(AWS_LB_ANNOTATION) in ("external", "nlb", "nlb-ip"):
        return aws_lb._lb({"loadBalancerType": "network"}, replace(ctx, cloud="aws"))
    if any(k.startswith(GKE_ANNOTATION_PREFIXES) for k in annotations):
        return gcp_network._rule({}, replace(ctx, cloud="gcp"))
    raise Unpriced("a LoadBalancer Service whose annotations do not say its cloud's load balancer (priced: "
                   f"{ACK_ANNOTATION_PREFIX}-*, {AWS_LB_ANNOTATION}: external|nlb, cloud.google.com/*)")


USAGE = {**aws_lb.USAGE, **gcp_network.RULE_USAGE}
PRICERS = {
    "kubernetes:networking.k8s.io/v1:Ingress": Pricer(_ingress, USAGE),
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": Pricer(_gateway, gcp_network.RULE_USAGE),
    "kubernetes:core/v1:Service": Pricer(_service, USAGE, free_when_empty=ON_NODES),
}
