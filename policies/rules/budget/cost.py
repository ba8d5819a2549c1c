"""B2: the stack's estimated monthly compute cost stays within its budget (max and desired size)."""

from __future__ import annotations

from newinfra.cost_model.request import HOURS_PER_MONTH
from newinfra.policies.rules.budget.estimate import estimate, workload_hours
from newinfra.policies.rules.common import setting, stack_rule, stack_setting, with_defaults
from newinfra.policies.rules.pools import TYPES, pools
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

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
