"""What the serving rules share (no rule here): which Kubernetes objects run a model server — a Deployment or
LeaderWorkerSet whose pods request accelerators — and which Services, PDBs and routes select them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from newinfra.components.planning.k8s import RESOURCE_BY_VENDOR
from newinfra.policies.rules.common import get, items, of_types

DEPLOYMENTS = ("kubernetes:apps/v1:Deployment",)
LWS = "kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
BACKEND_POLICY = "kubernetes:networking.gke.io/v1:GCPBackendPolicy"
ACCELERATOR_RESOURCES = frozenset(RESOURCE_BY_VENDOR.values())


@dataclass(frozen=True)
class Server:
    """A model server workload: its record resource, namespace, pod labels and pod spec."""

    resource: Any
    namespace: str
    labels: dict[str, str]
    pod: Any


def namespace_of(r: Any) -> str:
    return str(get(r.props, "metadata.namespace") or "default")


def _template(r: Any) -> Any:
    if r.resource_type == LWS:
        return get(r.props, "spec.leaderWorkerTemplate.workerTemplate") or \
            get(r.props, "spec.leaderWorkerTemplate.leaderTemplate")
    return get(r.props, "spec.template")


def requests_accelerators(pod: Any) -> bool:
    for container in items(get(pod, "containers")):
        for part in ("requests", "limits"):
            if any(k in ACCELERATOR_RESOURCES for k in (get(container, f"resources.{part}") or {})):
                return True
    return False


def servers(resources: list[Any]) -> list[Server]:
    """Deployments and LeaderWorkerSets whose pods request accelerators (training runs as Jobs)."""
    out = []
    for r in of_types(resources, (*DEPLOYMENTS, LWS)):
        template = _template(r) or {}
        pod = get(template, "spec") or {}
        if requests_accelerators(pod):
            out.append(Server(r, namespace_of(r), dict(get(template, "metadata.labels") or {}), pod))
    return out


def selects(selector: Any, labels: dict[str, str]) -> bool:
    """A label selector (matchLabels and matchExpressions) against a pod's labels; an empty one selects all."""
    if not selector:
        return False
    match = get(selector, "matchLabels") or {}
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for expr in items(get(selector, "matchExpressions")):
        key, op, values = get(expr, "key"), get(expr, "operator"), list(items(get(expr, "values")))
        value = labels.get(key)
        ok = {"In": value in values, "NotIn": value not in values, "Exists": value is not None,
              "DoesNotExist": value is None}.get(op)
        if not ok:
            return False
    return True


def serving_services(resources: list[Any], found: list[Server]) -> dict[tuple[str, str], Any]:
    """(namespace, name) -> Service, for the Services whose selector picks a model server's pods."""
    out = {}
    for svc in of_types(resources, (SERVICE,)):
        ns, selector = namespace_of(svc), get(svc.props, "spec.selector") or {}
        if selector and any(s.namespace == ns and selects({"matchLabels": selector}, s.labels) for s in found):
            out[(ns, str(get(svc.props, "metadata.name") or svc.name))] = svc
    return out
