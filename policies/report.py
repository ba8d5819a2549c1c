"""What `newinfra check` prints and writes: the JSON verdicts, a terminal table, a pull-request comment
(verdicts, the whole bill and its change against the base branch's lock) and SARIF for code scanning."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from newinfra.policies.rules.common import get
from newinfra.policies.runner import Evaluation

COMMENT_MARKER = "<!-- newinfra-check -->"
SARIF_LEVEL = {"mandatory": "error", "advisory": "warning", "remediate": "note"}


def stack_bill(record: Any, settings: Mapping[str, Any] | None = None):
    """The whole bill of a record, as the monthly-budget rule priced it under ``settings`` (the rule's
    resolved properties: hours per month, workload hours): the one bill the check reports."""
    from newinfra.policies.rules.budget.cost import record_bill

    return record_bill(record, settings or {})


@dataclass(frozen=True)
class LockDiff:
    """Monthly total of the placement lock here and on the base branch (None where there is none), and the
    base lock's bill per resource (URN -> monthly USD; None: the base lock has none)."""

    current_usd: float | None
    base_usd: float | None
    note: str = ""
    base_resources: Mapping[str, float] | None = None

    @property
    def delta_usd(self) -> float | None:
        if self.current_usd is None or self.base_usd is None:
            return None
        return round(self.current_usd - self.base_usd, 2)


def lock_total(doc: Mapping[str, Any] | None) -> float | None:
    value = get(doc or {}, "totals.monthlyUsd")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def lock_resources(doc: Mapping[str, Any] | None) -> dict[str, float] | None:
    """The lock's bill per resource (URN -> monthly USD at desired size), None for a lock without one."""
    bill = get(doc or {}, "bill")
    if not isinstance(bill, Mapping):
        return None
    return {str(k): float(v) for k, v in bill.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def changes(bill, base: Mapping[str, float] | None) -> list[tuple[str, str, float, float, float]]:
    """(urn, name, base USD, USD here, change) per resource whose monthly figure changed, sorted by URN;
    [] without a base bill. A resource only here has base 0, one only on the base has 0 here."""
    if base is None:
        return []
    here = {p.urn: p for p in bill.priced}
    out = []
    for urn in sorted(set(here) | set(base)):
        now = here[urn].monthly_usd if urn in here else 0.0
        was = float(base.get(urn, 0.0))
        if round(now - was, 2) != 0:
            name = here[urn].name if urn in here else urn.rsplit("::", 1)[-1]
            out.append((urn, name, was, now, round(now - was, 2)))
    return out


def bill_figures(bill, budget_figure: float) -> dict[str, Any]:
    """The check's cost figures: the bill's totals (pricebook.bill.totals), the figure the budget rule
    compared, the bill per resource and the unpriced resources."""
    return {**bill.totals.to_dict(), "budgetFigureUsd": budget_figure,
            "resources": [{"urn": p.urn, "name": p.name, "type": p.type, "monthlyUsd": p.monthly_usd,
                           "maxMonthlyUsd": p.max_monthly_usd} for p in bill.priced],
            "unpriced": [p.urn for p in bill.unpriced]}


def payload(ev: Evaluation, bill, budget_figure: float, lock: LockDiff | None = None) -> dict[str, Any]:
    """``{"violations": [...]}`` plus context keys, sorted and stable."""
    return {
        "violations": [v.to_dict() for v in ev.violations],
        "passed": ev.passed,
        "project": ev.project,
        "stack": ev.stack,
        "environment": ev.environment,
        "resources": ev.resource_count,
        "levels": ev.levels,
        "remediations": [{"pack": r.pack, "policy": r.policy, "urn": r.urn, "resource": r.resource}
                         for r in ev.remediations],
        "notApplicable": [{"pack": p, "policy": n, "reason": why} for p, n, why in ev.not_applicable],
        "exemptions": [{"pack": p, "policy": n, "resource": r, "reason": why} for p, n, r, why in ev.exemptions],
        "cost": bill_figures(bill, budget_figure),
        "lock": None if lock is None else {
            "monthlyUsd": lock.current_usd, "baseMonthlyUsd": lock.base_usd, "deltaUsd": lock.delta_usd,
            "note": lock.note, "changes": [{"urn": u, "name": n, "baseMonthlyUsd": was, "monthlyUsd": now,
                                            "deltaUsd": d} for u, n, was, now, d in
                                           changes(bill, lock.base_resources)]},
    }


def dumps(data: Any) -> str:
    """Stable JSON: every dict here is built in a fixed order ("violations" first), so no key sorting."""
    return json.dumps(data, indent=2) + "\n"


def table(ev: Evaluation):
    """A rich Table of the violations (mandatory first)."""
    from rich.table import Table

    t = Table(title=f"newinfra check: {ev.project}/{ev.stack} ({ev.environment or 'no environment'})")
    for col in ("Level", "Pack", "Policy", "Resource", "Message"):  # names whole; the rest folds to fit
        t.add_column(col, overflow="fold", no_wrap=col in ("Level", "Policy"))
    order = {"mandatory": 0, "advisory": 1}
    for v in sorted(ev.violations, key=lambda v: (order.get(v.level, 2), v.pack, v.policy, v.urn)):
        style = "bold red" if v.level == "mandatory" else "yellow"
        t.add_row(f"[{style}]{v.level}[/]", v.pack.removeprefix("newinfra-"), v.policy, v.resource, v.message)
    return t


def summary(ev: Evaluation, bill) -> str:
    mandatory, advisory = len(ev.mandatory), len(ev.violations) - len(ev.mandatory)
    verdict = "FAILED" if mandatory else "passed"
    return (f"{verdict}: {mandatory} mandatory, {advisory} advisory violation(s) over {ev.resource_count} "
            f"resources; monthly bill {_money(bill.monthly_usd)} at desired size, {_money(bill.max_monthly_usd)} "
            f"at max size (egress {_money(bill.egress_usd)}); prices as of {bill.price_date or 'n/a'}")


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _delta(value: float | None) -> str:
    return "n/a" if value is None else f"{'+' if value >= 0 else '-'}${abs(value):,.2f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(ev: Evaluation, bill, lock: LockDiff | None, budget: float | None = None,
             prices: str | None = None) -> str:
    """One environment's section of the pull-request comment: the whole bill (the budget rule's), the
    change against the base branch's lock per resource, the price date; ``prices`` names the catalog."""
    mandatory = len(ev.mandatory)
    icon = "❌" if mandatory else "✅"
    lines = [
        f"### {icon} `{ev.stack}` ({ev.environment or 'no environment'}): "
        f"{mandatory} mandatory, {len(ev.violations) - mandatory} advisory",
        "",
        "| monthly bill | USD |",
        "|---|---:|",
        f"| **total, desired size** | **{_money(bill.monthly_usd)}** |",
        f"| total, max size | {_money(bill.max_monthly_usd)} |",
        f"| of which egress | {_money(bill.egress_usd)} |",
    ]
    if budget is not None:
        lines.append(f"| budget | {_money(budget)} |")
    if lock is not None:
        lines += [f"| base branch | {_money(lock.base_usd)} |",
                  f"| **change** | **{_delta(None if lock.base_usd is None else round(bill.monthly_usd - lock.base_usd, 2))}** |"]
    lines += ["", f"_Prices as of {bill.price_date or 'n/a'} (the oldest price used{f'; {prices}' if prices else ''})._"]
    if lock is not None and lock.note:
        lines += ["", f"_{lock.note}_"]
    moved = changes(bill, lock.base_resources if lock is not None else None)
    if moved:
        lines += ["", "<details><summary>Change per resource</summary>", "",
                  "| resource | base $/month | $/month | change |", "|---|---:|---:|---:|"]
        lines += [f"| `{_cell(n)}` | {_money(was)} | {_money(now)} | {_delta(d)} |" for _u, n, was, now, d in moved]
        lines += ["", "</details>"]
    if bill.priced:
        lines += ["", "<details><summary>Bill per resource</summary>", "",
                  "| resource | type | desired $/month | max $/month |", "|---|---|---:|---:|"]
        for p in sorted(bill.priced, key=lambda p: (-p.monthly_usd, p.urn)):
            lines.append(f"| `{_cell(p.name)}` | `{p.type}` | {_money(p.monthly_usd)} | {_money(p.max_monthly_usd)} |")
        lines += ["", "</details>"]
    if bill.unpriced:
        lines += ["", f"_Unpriced, not counted: {', '.join(sorted(p.name for p in bill.unpriced))}_"]
    if ev.violations:
        lines += ["", "| level | policy | resource | message |", "|---|---|---|---|"]
        for v in sorted(ev.violations, key=lambda v: (v.level != "mandatory", v.pack, v.policy, v.urn)):
            lines.append(f"| {v.level} | `{v.policy}` | `{_cell(v.resource)}` | {_cell(v.message)} |")
        violated = sorted({v.policy for v in ev.violations})
        lines += ["", "<details><summary>How to fix</summary>", ""]
        lines += [f"- `{name}`: {_cell(ev.descriptions.get(name, ''))}" for name in violated]
        lines += ["", "</details>"]
    if ev.exemptions:
        lines += ["", "| exempt | policy | resource | reason |", "|---|---|---|---|"]
        lines += [f"| exempt | `{n}` | `{_cell(r)}` | {_cell(why)} |" for _p, n, r, why in ev.exemptions]
    if ev.remediations:
        lines += ["", "Remediated: " + ", ".join(f"`{r.resource}` ({r.policy})" for r in ev.remediations)]
    return "\n".join(lines) + "\n"


def error_markdown(stack: str, code: int, message: str) -> str:
    """The section of an environment whose check could not give a verdict (bad input, the program raised,
    an internal error): ❌ with the error, so it never vanishes from the comment."""
    text = " ".join(message.split())[:1000].replace("`", "'")
    return "\n".join([f"### ❌ `{stack}`: the check could not run (exit {code})", "", "```", text, "```"]) + "\n"


def comment(sections: list[str]) -> str:
    """The whole comment: a marker the workflow finds to update it in place, then each environment."""
    return "\n".join([COMMENT_MARKER, "## newinfra policy check", "", *sections])


def sarif(ev: Evaluation, artifact: str) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per policy, one result per violation, located at the stack's config file."""
    rules = sorted({(v.pack, v.policy) for v in ev.violations})
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "newinfra-check",
                "informationUri": "https://github.com/pulumi/pulumi-policy",
                "rules": [{"id": f"{pack}/{policy}", "name": policy,
                           "shortDescription": {"text": policy},
                           "fullDescription": {"text": ev.descriptions.get(policy, policy)},
                           "help": {"text": ev.descriptions.get(policy, policy)}} for pack, policy in rules],
            }},
            "automationDetails": {"id": f"newinfra-check/{ev.stack}/"},
            "results": [{
                "ruleId": f"{v.pack}/{v.policy}",
                "level": SARIF_LEVEL.get(v.level, "note"),
                "message": {"text": f"{v.resource}: {v.message}"},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": artifact}, "region": {"startLine": 1}},
                    "logicalLocations": [{"fullyQualifiedName": v.urn or ev.stack, "name": v.resource,
                                          "kind": "resource"}],
                }],
                "partialFingerprints": {"newinfraViolation/v1": f"{v.pack}/{v.policy}/{v.urn}"},
            } for v in ev.violations],
        }],
    }
