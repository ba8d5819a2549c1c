"""Multi-node GPU training hygiene: EFA or compact placement, and taints that keep ordinary pods off
accelerator nodes."""

from __future__ import annotations

from typing import Any

from newinfra.cost_model.catalog import prices
from newinfra.cost_model.record_pools import LAUNCH_TEMPLATE, TYPES, Pool, launch_templates, pools
from newinfra.policies.rules.common import get, items, stack_rule, with_defaults
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

from newinfra.facts import FamilyNameError, efa_interfaces
from newinfra.links import Index

PLACEMENT_GROUP = "aws:ec2/placementGroup:PlacementGroup"


def _efa_capable(pool: Pool, book: prices.PriceBook) -> bool:
    """EFA by the catalog's offer or by the family table (the same answer the components build from)."""
    price = pool.price(book)
    try:
        listed = pool.cloud == "aws" and efa_interfaces("aws", pool.instance_type or "") > 0
    except FamilyNameError:
        listed = False
    return bool((price and price.efa) or listed)


def _aws_problem(pool: Pool, template: Any, groups: Index, book: prices.PriceBook) -> str | None:
    if pool.resource_type == "aws:ec2/instance:Instance":
        return None
    efa = template is not None and any(get(n, "interfaceType") == "efa"
                                       for n in items(get(template.props, "networkInterfaces")))
    placed = template is not None and any(
        get(g.props, "strategy") == "cluster" for g in groups.resolve(template, "placement.groupName"))
    if _efa_capable(pool, book):
        if not efa:
            return f"{pool.instance_type} supports EFA but its launch template has no interfaceType 'efa'"
        return None
    if not placed:
        return "no EFA on this type and no cluster placement group in its launch template"
    return None


def _gcp_problem(pool: Pool, resource: Any) -> str | None:
    if pool.resource_type != "gcp:container/nodePool:NodePool":
        return None
    if get(resource.props, "placementPolicy.type") != "COMPACT":
        return "placementPolicy.type is not COMPACT"
    return None


def _ali_problem(pool: Pool, resource: Any) -> str | None:
    if pool.resource_type != "alicloud:cs/nodePool:NodePool":
        return None
    return None if get(resource.props, "deploymentSetId") else "no deploymentSetId (low-latency deployment set)"


CLOUD_CHECKS = {"gcp": _gcp_problem, "alicloud": _ali_problem}


def _interconnect(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    by_urn = {r.urn: r for r in resources}
    templates = launch_templates(resources)
    groups = Index(r for r in resources if r.resource_type == PLACEMENT_GROUP)
    book = prices.book()
    for pool in pools(resources):
        if pool.max_nodes < 2 or pool.kind not in (None, "training") or pool.is_tpu(book) \
                or not pool.accelerated(book):
            continue  # serving and batch pools scale out without talking between nodes
        resource = by_urn[pool.urn]
        if pool.cloud == "aws":
            problem = _aws_problem(pool, templates.get(pool.urn), groups, book)
        else:
            problem = CLOUD_CHECKS.get(pool.cloud, lambda _p, _r: None)(pool, resource)
        if problem:
            report(f"Multi-node GPU pool '{pool.name}' (up to {pool.max_nodes} nodes): {problem}.", pool.urn)


multi_node_interconnect = stack_rule(
    "gpu-multi-node-interconnect",
    "Multi-node GPU training pools (node label newinfra.io/kind=training, or unlabelled) get high-bandwidth, low-latency networking. Fix: AWS: EFA interfaces "
    "(interfaceType 'efa') on EFA-capable types, else a 'cluster' placement group in the launch template; "
    "GKE: placementPolicy {type: COMPACT}; Alibaba: a deploymentSetId.",
    (*TYPES, LAUNCH_TEMPLATE, PLACEMENT_GROUP),
    _interconnect,
)

TAINT_SCHEMA = PolicyConfigSchema(
    properties={
        "gpuTaintKey": {"type": "string", "minLength": 1, "default": "nvidia.com/gpu"},
        "tpuTaintKey": {"type": "string", "minLength": 1, "default": "google.com/tpu"},
    }
)
# Where each pool type keeps taints, and how its API spells NoSchedule.
TAINTS = {
    "aws:eks/nodeGroup:NodeGroup": ("taints", ("NO_SCHEDULE", "NO_EXECUTE")),
    "gcp:container/nodePool:NodePool": ("nodeConfig.taints", ("NO_SCHEDULE", "NO_EXECUTE")),
    "alicloud:cs/nodePool:NodePool": ("taints", ("NoSchedule", "NoExecute")),
}


def _taints(args: StackValidationArgs, report: ReportViolation) -> None:
    config = with_defaults(TAINT_SCHEMA, args.get_config())
    resources = list(args.resources)
    by_urn = {r.urn: r for r in resources}
    book = prices.book()
    for pool in pools(resources):
        if pool.resource_type not in TAINTS or not pool.accelerated(book):
            continue
        path, effects = TAINTS[pool.resource_type]
        key = config["tpuTaintKey"] if pool.is_tpu(book) else config["gpuTaintKey"]
        taints = items(get(by_urn[pool.urn].props, path))
        if not any(get(t, "key") == key and get(t, "effect") in effects for t in taints):
            report(f"Accelerator pool '{pool.name}' has no taint {key}:{effects[0]} in {path}; ordinary pods "
                   "could take its nodes.", pool.urn)


accelerator_taints = stack_rule(
    "accelerator-node-taints",
    "Accelerator node pools carry a NoSchedule taint (nvidia.com/gpu, google.com/tpu) so that only pods "
    "asking for accelerators land there. Fix: add the taint to the pool (EKS taints, GKE nodeConfig.taints, "
    "Alibaba taints).",
    TYPES,
    _taints,
    TAINT_SCHEMA,
)

POLICIES = [multi_node_interconnect, accelerator_taints]
