"""B2: the stack's whole monthly bill stays within its budget (max and desired size).

The bill is `newinfra cost`'s: every resource through its pricing function (compute pools at desired and
max size, control planes, NAT, load balancers, storage, keys, ...). Usage-based lines take their documented
defaults here (a policy has no usage file). An unpriced compute pool is reported on its own; every other
unpriced resource is listed in the finding, never counted as zero.
"""

from __future__ import annotations

from newinfra.cost_model.hours import workload_hours
from newinfra.cost_model.record_pools import POOL_TYPES
from newinfra.cost_model.request import HOURS_PER_MONTH
from newinfra.policies.rules.common import setting, stack_rule, stack_setting, with_defaults
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

BIGGEST = 5  # lines named in the finding

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


def whole_bill(resources, hours_per_month: float, hours: dict[str, float], stack_config=None):
    """The bill this rule judges, of a stack policy's resources (``stack_config``: the stack's config, for the
    egress of its datasets; under `pulumi preview --policy-pack` the PULUMI_CONFIG the CLI hands the pack)."""
    from newinfra.cost_model.pricebook.bill import policy_rows

    from newinfra.record import Record

    config = stack_config if stack_config is not None else _pulumi_config()
    return record_bill(Record(project="", stack="", resources=policy_rows(list(resources)), config=config),
                       {"hoursPerMonth": hours_per_month, "workloadHours": hours})


def record_bill(record, settings):
    """The bill of a record under this rule's settings (``Evaluation.settings['monthly-budget']``): what the
    rule judges, and what `newinfra check` reports as the budget figure. One call, so the two never differ."""
    from newinfra.cost_model.pricebook.bill import price_record

    config = with_defaults(BUDGET_SCHEMA, settings)
    hours = config.get("workloadHours") or workload_hours(_workloads(record.config))
    return price_record(record, hours_per_month=config["hoursPerMonth"], workload_hours=hours)


def figure(bill, settings) -> float:
    """The total the rule compares with the budget: max or desired size, as the rule's basis says."""
    return bill.max_monthly_usd if with_defaults(BUDGET_SCHEMA, settings)["basis"] == "max" else bill.monthly_usd


def _workloads(config):
    from newinfra.cost_model.pricebook.bill import _stack_value

    return _stack_value(config or {}, "workloads")


def _pulumi_config() -> dict:
    import json
    import os

    try:
        raw = json.loads(os.environ.get("PULUMI_CONFIG") or "{}")
    except json.JSONDecodeError:
        return {}
    return raw if isinstance(raw, dict) else {}


def finding(bill, basis: str, budget: float) -> str:
    cost = bill.max_monthly_usd if basis == "max" else bill.monthly_usd
    at_max = basis == "max"
    lines = ", ".join(f"{p.name} ${p.max_monthly_usd if at_max else p.monthly_usd:,.2f}"
                      for p in bill.biggest(BIGGEST, at_max=at_max))
    unpriced = ", ".join(p.name for p in bill.unpriced) or "none"
    return (f"Estimated monthly bill ${cost:,.2f} ({basis} size) exceeds the budget ${budget:,.2f} "
            f"(max size ${bill.max_monthly_usd:,.2f}, desired size ${bill.monthly_usd:,.2f}; prices as of "
            f"{bill.price_date or 'n/a'}). Biggest lines: {lines or 'none'}. Unpriced, not counted: {unpriced}.")


def _budget(args: StackValidationArgs, report: ReportViolation) -> None:
    config = with_defaults(BUDGET_SCHEMA, args.get_config())
    budget = setting(config, "monthlyBudgetUsd", "monthlyBudgetUsd")
    hours = setting(config, "workloadHours") or workload_hours(stack_setting("workloads"))
    bill = whole_bill(args.resources, config["hoursPerMonth"], hours, _stack_config())
    for p in bill.unpriced:
        if p.type in POOL_TYPES:
            report(f"Pool '{p.name}' in {p.region or '<unknown region>'} is unpriced ({p.unpriced}), so the "
                   "estimate leaves it out.", p.urn)
    if budget is None:
        args.not_applicable("no monthlyBudgetUsd in the policy config or newinfra:monthlyBudgetUsd")
    cost = figure(bill, config)
    if cost > float(budget):
        report(finding(bill, config["basis"], float(budget)))


def _stack_config() -> dict:
    """The checked stack's config: offline the runner hands it over (common.STACK_CONFIG), under the CLI
    PULUMI_CONFIG holds it."""
    from newinfra.policies.rules import common

    return dict(common.STACK_CONFIG) if common.STACK_CONFIG is not None else _pulumi_config()


monthly_budget = stack_rule(
    "monthly-budget",
    "B2: the stack's whole monthly bill (every resource through newinfra cost's pricing functions: compute at "
    "node count x price x hours, control planes, NAT, load balancers, storage, keys) stays within the budget; "
    "reports the worst case (max size) and the expected case (desired size), the biggest lines and the "
    "unpriced resources. Fix: lower max sizes, use spot or cheaper types (newinfra place), remove idle "
    "gateways, or raise newinfra:monthlyBudgetUsd with approval.",
    None, _budget, BUDGET_SCHEMA,
)
