"""Outside prod: a minimum spot/preemptible share of accelerators, and accelerator pools that scale to zero."""

from __future__ import annotations

from newinfra.cost_model.catalog import prices
from newinfra.cost_model.record_pools import TYPES, pools
from newinfra.policies.rules.budget.scope import ENVIRONMENT_PROPERTY, PRODUCTION, accelerated, environment
from newinfra.policies.rules.common import stack_rule, with_defaults
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

SPOT_SCHEMA = PolicyConfigSchema(
    properties={
        "minSpotShare": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5,
                         "description": "share of accelerators (at max size) on spot/preemptible capacity"},
        "environment": ENVIRONMENT_PROPERTY,
    }
)


def _spot_share(args: StackValidationArgs, report: ReportViolation) -> None:
    config = with_defaults(SPOT_SCHEMA, args.get_config())
    if environment(config) == PRODUCTION:
        args.not_applicable("production stacks may run on-demand")
    book = prices.book()
    weights = [(p, p.max_nodes * max(p.accelerators_per_node(book), 1)) for p in accelerated(pools(args.resources))]
    total = sum(w for _, w in weights)
    if not total:
        return
    share = sum(w for p, w in weights if p.spot) / total
    if share < config["minSpotShare"]:
        on_demand = sorted(p.name for p, _ in weights if not p.spot)
        report(f"{share:.0%} of accelerators are on spot/preemptible capacity; at least "
               f"{config['minSpotShare']:.0%} outside prod. On-demand pools: {on_demand}.")


spot_share = stack_rule(
    "minimum-spot-share",
    "Outside prod, at least minSpotShare of the accelerators run on spot/preemptible capacity. Fix: EKS "
    "capacityType 'SPOT', GKE nodeConfig.spot, TPU schedulingConfig.spot, Alibaba spotStrategy "
    "'SpotAsPriceGo' (or set spot: true on the workload and re-run newinfra place).",
    TYPES, _spot_share, SPOT_SCHEMA,
)

ZERO_SCHEMA = PolicyConfigSchema(properties={"environment": ENVIRONMENT_PROPERTY})


def _scale_to_zero(args: StackValidationArgs, report: ReportViolation) -> None:
    if environment(args.get_config()) == PRODUCTION:
        args.not_applicable("production pools may keep a warm minimum")
    for pool in accelerated(pools(args.resources)):
        if pool.min_nodes > 0 and pool.max_nodes > 1:
            report(f"Accelerator pool '{pool.name}' keeps at least {pool.min_nodes} node(s); outside prod the "
                   "minimum must be 0 so idle accelerators cost nothing.", pool.urn)


scale_to_zero = stack_rule(
    "accelerator-scale-to-zero",
    "Outside prod, autoscaled accelerator pools scale to zero (minimum 0). Fix: EKS scalingConfig.minSize 0, "
    "GKE autoscaling.minNodeCount/totalMinNodeCount 0, Alibaba scalingConfig.minSize 0.",
    TYPES, _scale_to_zero, ZERO_SCHEMA,
)
