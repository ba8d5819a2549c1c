"""In production a model server spreads over at least two zones: its pods carry a zone topology spread that
the scheduler enforces, and the node pools its pods may use span two zones or more."""

from __future__ import annotations

from newinfra.cost_model.record_pools import pools
from newinfra.policies.rules.budget.scope import ENVIRONMENT_PROPERTY, PRODUCTION, environment
from newinfra.policies.rules.common import get, items, stack_rule
from newinfra.policies.rules.data_security.serving_objects import selects, servers
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

ZONE_KEY = "topology.kubernetes.io/zone"
WORKLOAD_LABEL = "newinfra.io/workload"
SCHEMA = PolicyConfigSchema(properties={"environment": ENVIRONMENT_PROPERTY})


def _spread(pod, labels) -> bool:
    return any(get(c, "topologyKey") == ZONE_KEY and float(get(c, "maxSkew", 99)) <= 1
               and get(c, "whenUnsatisfiable") == "DoNotSchedule" and selects(get(c, "labelSelector"), labels)
               for c in items(get(pod, "topologySpreadConstraints")))


def _workloads_required(pod) -> set[str]:
    """The newinfra.io/workload values the pod's required node affinity pins it to (empty: any node)."""
    terms = items(get(pod, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"))
    return {str(v) for t in terms for e in items(get(t, "matchExpressions"))
            if get(e, "key") == WORKLOAD_LABEL and get(e, "operator") == "In" for v in items(get(e, "values"))}


def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
    if environment(args.get_config()) != PRODUCTION:
        args.not_applicable("only production serving must survive a zone's loss")
    stack_pools = pools(args.resources)
    for server in servers(args.resources):
        name = server.resource.name
        if not _spread(server.pod, server.labels):
            report(f"model server '{name}' has no zone spread (topologySpreadConstraints with topologyKey "
                   f"{ZONE_KEY}, maxSkew 1, whenUnsatisfiable DoNotSchedule selecting its pods).", server.resource.urn)
        pinned = _workloads_required(server.pod)
        known = [p for p in stack_pools if p.workload in pinned and p.zones]  # zones (): not known, not judged
        zones = {z for p in known for z in p.zones}
        if known and len(zones) < 2:
            report(f"model server '{name}' runs on node pools of {sorted(pinned)} in zones {sorted(zones)}; "
                   "production serving needs two zones or more.", server.resource.urn)


serving_zone_spread = stack_rule(
    "serving-zone-spread",
    "In production a model server survives a zone's loss: its pods spread over zones (topologySpreadConstraints "
    "on topology.kubernetes.io/zone, maxSkew 1, DoNotSchedule) and the node pools it is pinned to span two "
    "zones or more. Fix: serve it through InferenceService and place it with newinfra place (a production "
    "inference workload is placed over two zones).",
    None,
    _validate,
    SCHEMA,
)

POLICIES = [serving_zone_spread]
