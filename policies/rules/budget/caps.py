"""Accelerator caps per stack and per team (no anchor has them): GPUs and TPU chips at max size."""

from __future__ import annotations

from collections.abc import Mapping

from newinfra.cost_model.catalog import prices
from newinfra.cost_model.record_pools import TYPES, Pool, pools
from newinfra.policies.rules.budget.scope import accelerated
from newinfra.policies.rules.common import setting, stack_rule, stack_setting
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

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
    for pool in accelerated(pools(args.resources)):
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
