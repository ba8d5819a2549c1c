"""No public inference endpoint without TLS and an allow-list: a load balancer (LoadBalancer Service, ALB
Ingress, external GKE Gateway) that reaches a model server's pods from the internet terminates TLS and admits
only listed client ranges."""

from __future__ import annotations

import json
from typing import Any

from newinfra.policies.rules.common import get, items, of_types, stack_rule
from newinfra.policies.rules.data_security.exposure import open_to_internet
from newinfra.policies.rules.data_security.kubernetes import INTERNAL_LB
from newinfra.policies.rules.data_security.serving_objects import (
    BACKEND_POLICY,
    DEPLOYMENTS,
    GATEWAY,
    HTTP_ROUTE,
    INGRESS,
    LWS,
    SERVICE,
    namespace_of,
    servers,
    serving_services,
)
from pulumi_policy import ReportViolation, StackValidationArgs

ALB = "alb.ingress.kubernetes.io"
ACK = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer"
AWS_NLB_CERT = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"
# GKE Gateway classes that are internal (regional or cross-regional internal Application Load Balancers).
INTERNAL_GATEWAY_CLASSES = ("gke-l7-rilb", "gke-l7-rilb-mc", "gke-l7-cross-regional-internal-managed-mc")


def _allow_list(cidrs: list[str]) -> str | None:
    """None when the list is a real allow-list, else what is wrong with it."""
    if not cidrs:
        return "no allow-list"
    return f"allow-list {cidrs} admits the internet" if open_to_internet(cidrs) else None


def _service(svc: Any) -> list[str]:
    if get(svc.props, "spec.type") != "LoadBalancer":
        return []
    annotations = get(svc.props, "metadata.annotations") or {}
    if any(str(annotations.get(k, "")).lower() in {v.lower() for v in vs} for k, vs in INTERNAL_LB.items()):
        return []
    problems = []
    tls = annotations.get(AWS_NLB_CERT) or (str(annotations.get(f"{ACK}-protocol-port", "")).startswith("https")
                                            and annotations.get(f"{ACK}-cert-id"))
    if not tls:
        problems.append("no TLS (an aws-load-balancer-ssl-cert, or an ACK https protocol-port with a cert-id)")
    bad = _allow_list([str(c) for c in items(get(svc.props, "spec.loadBalancerSourceRanges"))])
    return problems + ([bad + " (loadBalancerSourceRanges)"] if bad else [])


def _ingress_backends(ing: Any) -> set[str]:
    names = {str(get(p, "backend.service.name")) for rule in items(get(ing.props, "spec.rules"))
             for p in items(get(rule, "http.paths")) if get(p, "backend.service.name")}
    if get(ing.props, "spec.defaultBackend.service.name"):
        names.add(str(get(ing.props, "spec.defaultBackend.service.name")))
    annotations = get(ing.props, "metadata.annotations") or {}
    for key, value in annotations.items():  # ALB forward actions name their target Services
        if key.startswith(f"{ALB}/actions."):
            names.discard(key.split("actions.", 1)[1])
            action = json.loads(value)
            names |= {str(g.get("serviceName")) for g in get(action, "forwardConfig.targetGroups") or []}
    return names


def _ingress(ing: Any) -> list[str]:
    annotations = get(ing.props, "metadata.annotations") or {}
    alb = get(ing.props, "spec.ingressClassName") == "alb" or annotations.get("kubernetes.io/ingress.class") == "alb"
    if alb:
        if annotations.get(f"{ALB}/scheme", "internal") != "internet-facing":
            return []
        problems = []
        ports = json.loads(annotations.get(f"{ALB}/listen-ports", '[{"HTTP": 80}]'))
        if not annotations.get(f"{ALB}/certificate-arn") or any("HTTP" in p for p in ports):
            problems.append("no TLS only listener (certificate-arn and listen-ports HTTPS only)")
        cidrs = [c.strip() for c in str(annotations.get(f"{ALB}/inbound-cidrs", "")).split(",") if c.strip()]
        bad = _allow_list(cidrs)
        return problems + ([bad + " (inbound-cidrs)"] if bad else [])
    if annotations.get("kubernetes.io/ingress.class") == "gce-internal":
        return []
    problems = [] if items(get(ing.props, "spec.tls")) else ["no TLS (spec.tls)"]
    cidrs = [c.strip() for c in str(annotations.get("nginx.ingress.kubernetes.io/whitelist-source-range", ""))
             .split(",") if c.strip()]
    bad = _allow_list(cidrs)
    return problems + ([bad] if bad else [])


def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
    found = servers(args.resources)
    if not found:
        return
    serving = serving_services(args.resources, found)
    for svc in serving.values():
        problems = _service(svc)
        if problems:
            report(f"inference endpoint Service '{svc.name}' is public with {'; '.join(problems)}.", svc.urn)
    for ing in of_types(args.resources, (INGRESS,)):
        ns = namespace_of(ing)
        if any((ns, b) in serving for b in _ingress_backends(ing)):
            problems = _ingress(ing)
            if problems:
                report(f"inference endpoint Ingress '{ing.name}' is public with {'; '.join(problems)}.", ing.urn)
    armored = {(namespace_of(p), str(get(p.props, "spec.targetRef.name")))
               for p in of_types(args.resources, (BACKEND_POLICY,)) if get(p.props, "spec.default.securityPolicy")}
    routes = of_types(args.resources, (HTTP_ROUTE,))
    for gw in of_types(args.resources, (GATEWAY,)):
        if get(gw.props, "spec.gatewayClassName") in INTERNAL_GATEWAY_CLASSES:
            continue
        ns, name = namespace_of(gw), str(get(gw.props, "metadata.name") or gw.name)
        backends = {str(get(b, "name")) for r in routes if namespace_of(r) == ns
                    and any(get(p, "name") == name for p in items(get(r.props, "spec.parentRefs")))
                    for rule in items(get(r.props, "spec.rules")) for b in items(get(rule, "backendRefs"))}
        backends = {b for b in backends if (ns, b) in serving}
        if not backends:
            continue
        problems = []
        if any(get(listener, "protocol") != "HTTPS" or not get(listener, "tls")
               for listener in items(get(gw.props, "spec.listeners"))):
            problems.append("a listener without HTTPS and tls")
        bare = sorted(b for b in backends if (ns, b) not in armored)
        if bare:
            problems.append(f"no Cloud Armor allow-list (GCPBackendPolicy securityPolicy) on {bare}")
        if problems:
            report(f"inference endpoint Gateway '{gw.name}' is public with {'; '.join(problems)}.", gw.urn)


inference_endpoint_tls = stack_rule(
    "inference-endpoint-tls-allow-list",
    "A public load balancer in front of a model server (LoadBalancer Service, ALB Ingress, external GKE "
    "Gateway) terminates TLS and admits only listed client ranges. Fix: keep it internal (InferenceService's "
    "default), or set its certificate (ACM ARN / ACK cert-id / Gateway tls) and an allow-list "
    "(loadBalancerSourceRanges, ALB inbound-cidrs, a Cloud Armor policy in a GCPBackendPolicy).",
    [*DEPLOYMENTS, LWS, SERVICE, INGRESS, GATEWAY, HTTP_ROUTE, BACKEND_POLICY],
    _validate,
)

POLICIES = [inference_endpoint_tls]
