"""B1-B3 and the accelerator rules no anchor has: budget, accelerator caps, spot share, scale-to-zero,
instance-type allow-list. All read the stack's pools (see policies.rules.pools)."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

from cost_model.request import HOURS_PER_MONTH
from policies.rules import prices
from policies.rules.budget.estimate import estimate, workload_hours
from policies.rules.common import setting, stack_rule, stack_setting, with_defaults
from policies.rules.pools import TYPES, Pool, pools

ENVIRONMENT_PROPERTY = {
    "type": "string", "minLength": 1,
    "description": "environment of the checked stack (default: newinfra:environment, else the stack name)",
}
PRODUCTION = "prod"


def environment(config: Mapping[str, Any]) -> str | None:
    return setting(config, "environment", "environment") or os.environ.get("PULUMI_STACK") or None


def _accelerated(stack_pools: list[Pool]) -> list[Pool]:
    book = prices.book()
    return [p for p in stack_pools if p.accelerated(book)]


BUDGET_SCHEMA = PolicyConfigSchema(
    properties={
        "monthlyBudgetUsd": {"type": "number", "exclusiveMinimum": 0,
                             "description": "default: the stack's newinfra:monthlyBudgetUsd"},
        "basis": {"type": "string", "enum": ["max", "desired"], "default": "max",
                  "description": "compare the budget with pools at max size (worst case) or desired size"},
        "hoursPerMonth": {"type": "number", "exclusiveMinimum": 0, "maximum": 744, "default": HOURS_PER_MONTH,
                          "description": "hours a pool runs per month unless its workload says otherwise"},
        "workloadHours": {"type": "object", "additionalProperties": {"type": "number", "exclusiveMinimum": 0,
                                                                     "maximum": 744},
                          "description": "workload (newinfra-workload tag) -> hours per month; default: "
                                         "hoursPerMonth of newinfra:workloads"},
    }
)


def _budget(args: StackValidationArgs, report: ReportViolation) -> None:
    config = with_defaults(BUDGET_SCHEMA, args.get_config())
    budget = setting(config, "monthlyBudgetUsd", "monthlyBudgetUsd")
    hours = setting(config, "workloadHours") or workload_hours(stack_setting("workloads"))
    est = estimate(pools(args.resources), config["hoursPerMonth"], hours)
    for cost in est.unpriced:
        report(f"Pool '{cost.pool.name}': {cost.pool.cloud} {cost.pool.instance_type or '<no instance type>'} "
               f"in {cost.pool.region or '<unknown region>'} has no catalog price, so the estimate leaves it "
               "out.", cost.pool.urn)
    if budget is None:
        args.not_applicable("no monthlyBudgetUsd in the policy config or newinfra:monthlyBudgetUsd")
    basis = config["basis"]
    cost = est.max_usd if basis == "max" else est.desired_usd
    if cost > float(budget):
        report(f"Estimated monthly cost ${cost:,.2f} ({basis} size) exceeds the budget ${float(budget):,.2f} "
               f"(max size ${est.max_usd:,.2f}, desired size ${est.desired_usd:,.2f}).")


monthly_budget = stack_rule(
    "monthly-budget",
    "B2: the stack's estimated monthly compute cost (node count x catalog price x hours) stays within the "
    "budget; reports the worst case (max size) and the expected case (desired size). Fix: lower max sizes, "
    "use spot or cheaper types (newinfra place), or raise newinfra:monthlyBudgetUsd with approval.",
    TYPES, _budget, BUDGET_SCHEMA,
)

CAPS_SCHEMA = PolicyConfigSchema(
    properties={
        "maxGpus": {"type": "integer", "minimum": 0, "description": "GPUs in the stack at max size"},
        "maxTpuChips": {"type": "integer", "minimum": 0, "description": "TPU chips in the stack at max size"},
        "teamAccelerators": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                             "description": "team -> accelerators its pools may hold at max size; default: "
                                            "gpuQuota of newinfra:teams"},
        "workloadTeams": {"type": "object", "additionalProperties": {"type": "string"},
                          "description": "workload (newinfra.io/workload tag) -> team; default: newinfra:workloads"},
    }
)


def team_quotas(teams: object) -> dict[str, int]:
    """newinfra:teams -> {team: gpuQuota}."""
    return {t["name"]: int(t["gpuQuota"]) for t in teams if isinstance(t, Mapping) and "gpuQuota" in t} \
        if isinstance(teams, list | tuple) else {}


def workload_teams(workloads: object) -> dict[str, str]:
    """newinfra:workloads -> {workload: team}."""
    return {w["name"]: w["team"] for w in workloads if isinstance(w, Mapping) and w.get("team")} \
        if isinstance(workloads, list | tuple) else {}


def _caps(args: StackValidationArgs, report: ReportViolation) -> None:
    config = args.get_config()
    caps = {"gpus": config.get("maxGpus"), "tpu": config.get("maxTpuChips")}
    teams = setting(config, "teamAccelerators") or team_quotas(stack_setting("teams"))
    owners = setting(config, "workloadTeams") or workload_teams(stack_setting("workloads"))
    if caps["gpus"] is None and caps["tpu"] is None and not teams:
        args.not_applicable("no maxGpus, maxTpuChips or team quotas configured")
    book = prices.book()
    totals = {"gpus": 0, "tpu": 0}
    by_team: dict[str, list[tuple[Pool, int]]] = {}
    for pool in _accelerated(pools(args.resources)):
        count = pool.max_nodes * pool.accelerators_per_node(book)
        totals["tpu" if pool.is_tpu(book) else "gpus"] += count
        team = owners.get(pool.workload or "")
        if team in teams:
            by_team.setdefault(team, []).append((pool, count))
    for kind, label, key in (("gpus", "GPUs", "maxGpus"), ("tpu", "TPU chips", "maxTpuChips")):
        if caps[kind] is not None and totals[kind] > caps[kind]:
            report(f"The stack can scale to {totals[kind]} {label}; {key} is {caps[kind]}.")
    for team, held in sorted(by_team.items()):
        total = sum(n for _, n in held)
        if total > teams[team]:
            for pool, n in held:
                report(f"Team '{team}' pools can hold {total} accelerators at max size (this pool: {n}); the "
                       f"team may request only {teams[team]}, so the rest would be paid for and idle.", pool.urn)


accelerator_caps = stack_rule(
    "accelerator-caps",
    "Caps the GPUs and TPU chips a stack, and each team, can hold (sum of max nodes x accelerators per node; "
    "team quotas default to newinfra:teams gpuQuota). Fix: lower pool max sizes, or raise maxGpus / "
    "maxTpuChips / the team's gpuQuota with the platform team.",
    TYPES, _caps, CAPS_SCHEMA,
)

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
    weights = [(p, p.max_nodes * max(p.accelerators_per_node(book), 1)) for p in _accelerated(pools(args.resources))]
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
    for pool in _accelerated(pools(args.resources)):
        if pool.min_nodes > 0 and pool.max_nodes > 1:
            report(f"Accelerator pool '{pool.name}' keeps at least {pool.min_nodes} node(s); outside prod the "
                   "minimum must be 0 so idle accelerators cost nothing.", pool.urn)


scale_to_zero = stack_rule(
    "accelerator-scale-to-zero",
    "Outside prod, autoscaled accelerator pools scale to zero (minimum 0). Fix: EKS scalingConfig.minSize 0, "
    "GKE autoscaling.minNodeCount/totalMinNodeCount 0, Alibaba scalingConfig.minSize 0.",
    TYPES, _scale_to_zero, ZERO_SCHEMA,
)

ALLOW_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedInstanceTypes": {
            "type": "array", "items": {"type": "string", "minLength": 1},
            "description": "fnmatch patterns of permitted accelerator instance types (e.g. 'g6e.*', "
                           "'v5litepod-*'); unset: any type the catalog offers in the pool's region",
        }
    }
)


def _allow_list(args: StackValidationArgs, report: ReportViolation) -> None:
    patterns = args.get_config().get("allowedInstanceTypes")
    book = prices.book()
    for pool in _accelerated(pools(args.resources)):
        for itype in pool.instance_types:
            if patterns is not None and not any(fnmatch.fnmatchcase(itype, p) for p in patterns):
                report(f"Pool '{pool.name}' uses {itype}, which allowedInstanceTypes {list(patterns)} does not "
                       "permit.", pool.urn)
                continue
            offered = book.regions_of(pool.cloud, itype)
            if offered and pool.region and pool.region not in offered:
                report(f"Pool '{pool.name}': {itype} is not offered in {pool.region} (catalog regions: "
                       f"{sorted(offered)[:8]}{' ...' if len(offered) > 8 else ''}).", pool.urn)


instance_type_allow_list = stack_rule(
    "accelerator-instance-types",
    "B1: accelerator pools use permitted instance types that the catalog offers in the pool's region. Fix: "
    "pick a type matching allowedInstanceTypes (newinfra place chooses one) in a region that offers it.",
    TYPES, _allow_list, ALLOW_SCHEMA,
)

POLICIES = [monthly_budget, accelerator_caps, spot_share, scale_to_zero, instance_type_allow_list]
