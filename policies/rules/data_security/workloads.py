"""Kubernetes workloads: no privileged containers and no hostPath volumes outside the GPU operator's
namespaces (the GPU operator and device plugin need both; nothing else does)."""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get, items, resource_rule, with_defaults
from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs

# Pod spec location per workload kind.
POD_SPEC = {
    "kubernetes:core/v1:Pod": "spec",
    "kubernetes:apps/v1:Deployment": "spec.template.spec",
    "kubernetes:apps/v1:DaemonSet": "spec.template.spec",
    "kubernetes:apps/v1:StatefulSet": "spec.template.spec",
    "kubernetes:apps/v1:ReplicaSet": "spec.template.spec",
    "kubernetes:batch/v1:Job": "spec.template.spec",
    "kubernetes:batch/v1:CronJob": "spec.jobTemplate.spec.template.spec",
}

WORKLOAD_SCHEMA = PolicyConfigSchema(
    properties={
        "exemptNamespaces": {"type": "array", "items": {"type": "string", "minLength": 1},
                             "default": ["gpu-operator", "kube-system"]},
    }
)


def _problems(spec: Any) -> list[str]:
    problems = []
    containers = items(get(spec, "containers")) + items(get(spec, "initContainers"))
    for c in containers:
        if get(c, "securityContext.privileged") is True:
            problems.append(f"container {get(c, 'name', '?')!r} is privileged")
        if get(c, "securityContext.allowPrivilegeEscalation") is True:
            problems.append(f"container {get(c, 'name', '?')!r} allows privilege escalation")
    for v in items(get(spec, "volumes")):
        if get(v, "hostPath") is not None:
            problems.append(f"volume {get(v, 'name', '?')!r} mounts hostPath {get(v, 'hostPath.path', '?')}")
    if get(spec, "hostNetwork") is True or get(spec, "hostPID") is True:
        problems.append("it shares the host's network or PID namespace")
    return problems


def _validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
    config = with_defaults(WORKLOAD_SCHEMA, args.get_config())
    namespace = get(args.props, "metadata.namespace", "default")
    if namespace in config["exemptNamespaces"]:
        return
    problems = _problems(get(args.props, POD_SPEC[args.resource_type]))
    if problems:
        report(f"'{args.name}' in namespace {namespace!r}: {'; '.join(problems)}.")


no_privileged_pods = resource_rule(
    "kubernetes-no-privileged-pods",
    "Pods outside the GPU operator's namespaces run unprivileged, without hostPath volumes or host "
    "namespaces. Fix: drop securityContext.privileged / allowPrivilegeEscalation and hostPath; request GPUs "
    "with resources.limits['nvidia.com/gpu'] instead.",
    POD_SPEC.keys(),
    _validate,
    WORKLOAD_SCHEMA,
)

POLICIES = [no_privileged_pods]
