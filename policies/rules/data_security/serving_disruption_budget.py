"""Every model server (a Deployment or LeaderWorkerSet whose pods request accelerators) has a
PodDisruptionBudget: without one a node drain or upgrade can evict every replica at once."""

from __future__ import annotations

from newinfra.policies.rules.common import get, of_types, stack_rule
from newinfra.policies.rules.data_security.serving_objects import (
    DEPLOYMENTS,
    LWS,
    PDB,
    namespace_of,
    selects,
    servers,
)
from pulumi_policy import ReportViolation, StackValidationArgs


def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
    budgets = [(namespace_of(p), get(p.props, "spec.selector")) for p in of_types(args.resources, (PDB,))]
    for server in servers(args.resources):
        if not any(ns == server.namespace and selects(sel, server.labels) for ns, sel in budgets):
            report(f"model server '{server.resource.name}' (namespace {server.namespace}) has no "
                   "PodDisruptionBudget selecting its pods.", server.resource.urn)


serving_disruption_budget = stack_rule(
    "serving-disruption-budget",
    "Every model server (Deployment or LeaderWorkerSet requesting accelerators) is covered by a "
    "PodDisruptionBudget in its namespace, so a drain or node upgrade never takes every replica down. Fix: a "
    "policy/v1 PodDisruptionBudget with maxUnavailable 1 selecting its pods (InferenceService makes one).",
    [*DEPLOYMENTS, LWS, PDB],
    _validate,
)

POLICIES = [serving_disruption_budget]
