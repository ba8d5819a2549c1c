"""Kubernetes objects of every workload kind and patch kind, in any namespace: container privileges, host
namespaces, hostPath volumes, pinned images, and Services exposed without an allow-list. YAML ConfigGroups and
ConfigFiles (rendered by the provider engine-side, so their children do not exist offline) are parsed here and
judged object by object with the same functions; Helm releases are judged by the values they set.

The judging functions take plain mappings (a manifest or a recorded input), so one set serves typed
resources and rendered YAML alike.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from newinfra.policies.rules.common import (
    NOT_EVALUATED,
    get,
    items,
    of_types,
    plain,
    resource_rule,
    stack_rule,
    with_defaults,
)
from newinfra.policies.rules.data_security.exposure import open_to_internet
from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

# kind -> where its pod spec lives.
_TEMPLATE = "spec.template.spec"
POD_SPEC_PATHS = {
    "Pod": "spec", "Deployment": _TEMPLATE, "StatefulSet": _TEMPLATE, "DaemonSet": _TEMPLATE,
    "ReplicaSet": _TEMPLATE, "ReplicationController": _TEMPLATE, "Job": _TEMPLATE,
    "CronJob": "spec.jobTemplate.spec.template.spec",
}
_GROUPS = {
    "Pod": ("core/v1",), "ReplicationController": ("core/v1",),
    "Deployment": ("apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"),
    "StatefulSet": ("apps/v1", "apps/v1beta1", "apps/v1beta2"),
    "DaemonSet": ("apps/v1", "apps/v1beta2", "extensions/v1beta1"),
    "ReplicaSet": ("apps/v1", "apps/v1beta2", "extensions/v1beta1"),
    "Job": ("batch/v1",), "CronJob": ("batch/v1", "batch/v1beta1"),
}
# Type token -> kind, for every kind and its server-side-apply Patch kind.
WORKLOAD_TYPES = {f"kubernetes:{g}:{kind}{suffix}": kind
                  for kind, groups in _GROUPS.items() for g in groups for suffix in ("", "Patch")}
SERVICE_TYPES = {"kubernetes:core/v1:Service": "Service", "kubernetes:core/v1:ServicePatch": "Service"}
CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHART = "kubernetes:helm.sh/v4:Chart"

# Annotations that make a LoadBalancer Service internal on EKS, GKE and ACK.
INTERNAL_LB = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("Internal",),
    "cloud.google.com/load-balancer-type": ("Internal",),
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": ("intranet",),
}

WORKLOAD_SCHEMA = PolicyConfigSchema(
    properties={
        "dangerousCapabilities": {
            "type": "array", "items": {"type": "string", "minLength": 1},
            "default": ["ALL", "BPF", "DAC_READ_SEARCH", "NET_ADMIN", "NET_RAW", "PERFMON", "SYS_ADMIN",
                        "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO"],
        },
        "exemptWorkloads": {
            "type": "array", "items": {"type": "string", "pattern": "^[^/]+/[^/]+$"}, "default": [],
            "description": "'namespace/name' (or 'namespace/*') of workloads allowed host access, e.g. "
                           "'gpu-operator/*'; listed exemptions are explicit in the policy config",
        },
    }
)


# --- judging plain objects --------------------------------------------------------------------------
def _containers(spec: Any) -> list[Any]:
    return (items(get(spec, "containers")) + items(get(spec, "initContainers"))
            + items(get(spec, "ephemeralContainers")))


def pod_problems(spec: Any, dangerous: Iterable[str]) -> list[str]:
    """What in a pod spec gives a container the node: privileges, capabilities, host namespaces, hostPath."""
    dangerous = {c.upper() for c in dangerous}
    problems = []
    for c in _containers(spec):
        name = get(c, "name", "?")
        if get(c, "securityContext.privileged") is True:
            problems.append(f"container {name!r} is privileged")
        if get(c, "securityContext.allowPrivilegeEscalation") is True:
            problems.append(f"container {name!r} allows privilege escalation")
        caps = sorted({str(x).upper().removeprefix("CAP_") for x in items(get(c, "securityContext.capabilities.add"))}
                      & dangerous)
        if caps:
            problems.append(f"container {name!r} adds capabilities {caps}")
    for key in ("hostPID", "hostIPC", "hostNetwork"):
        if get(spec, key) is True:
            problems.append(f"{key} is true")
    for v in items(get(spec, "volumes")):
        if get(v, "hostPath") is not None:
            problems.append(f"volume {get(v, 'name', '?')!r} mounts hostPath {get(v, 'hostPath.path', '?')}")
    return problems


def unpinned_images(spec: Any) -> list[str]:
    """Images without a digest or an explicit version tag ('latest' and untagged float)."""
    bad = []
    for c in _containers(spec):
        image = get(c, "image")
        if not isinstance(image, str) or "@sha256:" in image:
            continue
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else None
        if tag is None or tag.lower() == "latest":
            bad.append(image)
    return bad


def service_problems(obj: Any) -> list[str]:
    kind = get(obj, "spec.type", "ClusterIP")
    if kind == "NodePort":
        return ["type NodePort opens the port on every node (use ClusterIP behind an Ingress or an internal "
                "LoadBalancer)"]
    if kind != "LoadBalancer":
        return []
    annotations = get(obj, "metadata.annotations") or {}
    if any(str(annotations.get(k, "")).lower() in {v.lower() for v in vs} for k, vs in INTERNAL_LB.items()):
        return []
    ranges = [str(r) for r in items(get(obj, "spec.loadBalancerSourceRanges"))]
    if not ranges:
        return ["type LoadBalancer without loadBalancerSourceRanges or an internal load-balancer annotation "
                "(open to the internet)"]
    return [f"loadBalancerSourceRanges {ranges} admit the internet"] if open_to_internet(ranges) else []


def _exempt(namespace: str, name: str, exemptions: Iterable[str]) -> bool:
    return any(e in (f"{namespace}/{name}", f"{namespace}/*") for e in exemptions)


def object_findings(obj: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, list[str]]:
    """{policy name: problems} for one manifest object (kind, metadata, spec)."""
    kind = str(obj.get("kind", "")).removesuffix("Patch")
    namespace, name = get(obj, "metadata.namespace", "default"), get(obj, "metadata.name", "?")
    found: dict[str, list[str]] = {}
    if kind in POD_SPEC_PATHS:
        spec = get(obj, POD_SPEC_PATHS[kind])
        if not _exempt(namespace, name, config["exemptWorkloads"]):
            found[workload_security.name] = pod_problems(spec, config["dangerousCapabilities"])
        found[image_pinning.name] = [f"images {bad} are not pinned to a version or digest"]\
            if (bad := unpinned_images(spec)) else []
    elif kind == "Service":
        found[service_exposure.name] = service_problems(obj)
    return {k: v for k, v in found.items() if v}


# --- typed resources --------------------------------------------------------------------------------
def _workload(args: ResourceValidationArgs, report: ReportViolation) -> None:
    config = with_defaults(WORKLOAD_SCHEMA, args.get_config())
    namespace, name = get(args.props, "metadata.namespace", "default"), get(args.props, "metadata.name", args.name)
    if _exempt(namespace, name, config["exemptWorkloads"]):
        return
    problems = pod_problems(get(args.props, POD_SPEC_PATHS[WORKLOAD_TYPES[args.resource_type]]),
                            config["dangerousCapabilities"])
    if problems:
        report(f"'{args.name}' ({args.resource_type.rsplit(':', 1)[-1]}) in namespace {namespace!r}: "
               f"{'; '.join(problems)}.")


workload_security = resource_rule(
    "kubernetes-workload-security",
    "Workloads of every kind (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, "
    "CronJob and their Patch kinds) in every namespace, kube-system included, stay off the node: no privileged "
    "or privilege-escalating containers, no dangerous capabilities (dangerousCapabilities), no hostPID / "
    "hostIPC / hostNetwork, no hostPath volumes. Fix: drop them (request GPUs with "
    "resources.limits['nvidia.com/gpu']); list a workload that needs the host in exemptWorkloads.",
    WORKLOAD_TYPES.keys(),
    _workload,
    WORKLOAD_SCHEMA,
)


def _images(args: ResourceValidationArgs, report: ReportViolation) -> None:
    bad = unpinned_images(get(args.props, POD_SPEC_PATHS[WORKLOAD_TYPES[args.resource_type]]))
    if bad:
        report(f"'{args.name}': images {bad} are not pinned to a version or digest.")


image_pinning = resource_rule(
    "kubernetes-image-pinned",
    "Container images are pinned: a digest (@sha256:...) or an explicit version tag, never 'latest' or no tag. "
    "Fix: image 'registry/name:1.2.3' or 'registry/name@sha256:<digest>'.",
    WORKLOAD_TYPES.keys(),
    _images,
)


def _service(args: ResourceValidationArgs, report: ReportViolation) -> None:
    problems = service_problems(args.props)
    if problems:
        report(f"Service '{args.name}': {'; '.join(problems)}.")


service_exposure = resource_rule(
    "kubernetes-service-exposure",
    "Services are not exposed to the internet without an allow-list: a LoadBalancer Service sets "
    "loadBalancerSourceRanges to your ranges or an internal load-balancer annotation (EKS "
    "aws-load-balancer-scheme: internal, GKE networking.gke.io/load-balancer-type: Internal, ACK "
    "alibaba-cloud-loadbalancer-address-type: intranet); no NodePort Services. Fix: one of those, or ClusterIP "
    "behind an authenticated Ingress.",
    SERVICE_TYPES.keys(),
    _service,
)


# --- rendered manifests and charts ------------------------------------------------------------------
def _documents(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, Mapping)]


def _flatten(docs: Iterable[Any]) -> list[Mapping[str, Any]]:
    out = []
    for d in docs:
        if isinstance(d, Mapping) and str(d.get("kind", "")).endswith("List"):
            out += _flatten(items(d.get("items")))
        elif isinstance(d, Mapping):
            out.append(d)
    return out


def manifest_objects(props: Any) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The objects a ConfigGroup / ConfigFile would create, and the sources that could not be read."""
    objs: list[Any] = list(items(plain(get(props, "objs"))))
    unread: list[str] = []
    for text in items(get(props, "yaml")):
        objs += _documents(str(text))
    for pattern in [*items(get(props, "files")), *items(get(props, "file"))]:
        pattern = str(pattern)
        paths = sorted(glob.glob(pattern)) if "://" not in pattern else []
        if not paths:
            unread.append(pattern)
        for path in paths:
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    objs += _documents(f.read())
    return _flatten(objs), unread


def _dangerous_values(values: Any, dangerous: set[str], path: str = "") -> list[str]:
    """Paths in Helm values that turn on host access (privileged: true, hostNetwork: true, added caps)."""
    found = []
    if isinstance(values, Mapping):
        for k, v in values.items():
            here = f"{path}.{k}" if path else str(k)
            if k in ("privileged", "allowPrivilegeEscalation", "hostNetwork", "hostPID", "hostIPC") and v is True:
                found.append(f"{here}: true")
            elif k == "add" and isinstance(v, list) and {str(x).upper() for x in v} & dangerous:
                found.append(f"{here}: {sorted({str(x).upper() for x in v} & dangerous)}")
            else:
                found += _dangerous_values(v, dangerous, here)
    elif isinstance(values, list):
        for i, v in enumerate(values):
            found += _dangerous_values(v, dangerous, f"{path}[{i}]")
    return found


def _rendered(args: StackValidationArgs, report: ReportViolation) -> None:
    config = with_defaults(WORKLOAD_SCHEMA, args.get_config())
    for r in of_types(args.resources, [CONFIG_GROUP, CONFIG_FILE]):
        objs, unread = manifest_objects(r.props)
        for obj in objs:
            for policy, problems in sorted(object_findings(obj, config).items()):
                report(f"{r.resource_type.rsplit(':', 1)[-1]} '{r.name}' object {obj.get('kind')} "
                       f"{get(obj, 'metadata.namespace', 'default')}/{get(obj, 'metadata.name', '?')} "
                       f"({policy}): {'; '.join(problems)}.", r.urn)
        if unread:
            report(f"{NOT_EVALUATED} {rendered_manifests.name} could not read {unread} of '{r.name}' offline "
                   "(a URL, or a path that does not exist from here); its objects were not judged.", r.urn)
    dangerous = {c.upper() for c in config["dangerousCapabilities"]}
    for r in of_types(args.resources, [HELM_RELEASE, HELM_CHART]):
        namespace = get(r.props, "namespace", "default")
        if _exempt(namespace, get(r.props, "name", r.name), config["exemptWorkloads"]):
            continue
        found = _dangerous_values(plain(get(r.props, "values") or {}), dangerous)
        chart = get(r.props, "chart", "?")
        if found:
            report(f"Helm release '{r.name}' (chart {chart}) in namespace {namespace!r} sets {found}.", r.urn)
        else:
            report(f"{NOT_EVALUATED} {rendered_manifests.name} does not render chart {chart!r} of '{r.name}' "
                   "offline: only its values were inspected (nothing dangerous there).", r.urn)


rendered_manifests = stack_rule(
    "kubernetes-rendered-manifests",
    "Objects created through YAML ConfigGroups and ConfigFiles are judged one by one like typed resources "
    "(kubernetes-workload-security, kubernetes-image-pinned, kubernetes-service-exposure); Helm releases and "
    "charts may not set privileged, host namespaces or dangerous capabilities in their values (their templates "
    "are not rendered offline: shown as not evaluated). Fix: as for the typed rules; list a release's "
    "'namespace/name' in exemptWorkloads when it needs the host (e.g. the GPU operator).",
    [CONFIG_GROUP, CONFIG_FILE, HELM_RELEASE, HELM_CHART],
    _rendered,
    WORKLOAD_SCHEMA,
)

POLICIES = [workload_security, image_pinning, service_exposure, rendered_manifests]
