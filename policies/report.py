"""What `newinfra check` prints and writes: the JSON verdicts, a terminal table, a pull-request comment
(verdicts, monthly cost and its change against the base branch's lock) and SARIF for code scanning."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from newinfra.policies.rules.budget.estimate import Estimate, estimate, workload_hours
from newinfra.policies.rules.common import get
from newinfra.policies.runner import Evaluation

from newinfra.record_pools import pools

COMMENT_MARKER = "<!-- newinfra-check -->"
SARIF_LEVEL = {"mandatory": "error", "advisory": "warning", "remediate": "note"}


class _Resource:
    """A record entry seen the way rules see a PolicyResource (for the estimate outside a policy)."""

    def __init__(self, r: Mapping[str, Any], by_urn: Mapping[str, Mapping[str, Any]]) -> None:
        self.resource_type, self.props, self.urn, self.name = r["type"], r.get("inputs") or {}, r["urn"], r["name"]
        self.parent, self.opts, self.property_dependencies = None, None, {}
        provider = by_urn.get((r.get("provider") or "").rsplit("::", 1)[0])
        self.provider = _Provider(provider.get("inputs") or {}) if provider else None


class _Provider:
    def __init__(self, props: Mapping[str, Any]) -> None:
        self.props = props


def cost_estimate(resources: list[Mapping[str, Any]], stack_config: Mapping[str, Any]) -> Estimate:
    """The same estimate the monthly-budget policy makes, for reports."""
    from newinfra.policies.config import stack_value

    by_urn = {r["urn"]: r for r in resources}
    views = {r["urn"]: _Resource(r, by_urn) for r in resources}
    for r in resources:  # the engine's property dependencies, as a stack policy sees them
        views[r["urn"]].property_dependencies = {
            k: [views[u] for u in urns if u in views] for k, urns in (r.get("propertyDependencies") or {}).items()}
    return estimate(pools(list(views.values())), workload_hours=workload_hours(stack_value(stack_config, "workloads")))


@dataclass(frozen=True)
class LockDiff:
    """Monthly total of the placement lock here and on the base branch (None where there is none)."""

    current_usd: float | None
    base_usd: float | None
    note: str = ""

    @property
    def delta_usd(self) -> float | None:
        if self.current_usd is None or self.base_usd is None:
            return None
        return round(self.current_usd - self.base_usd, 2)


def lock_total(doc: Mapping[str, Any] | None) -> float | None:
    value = get(doc or {}, "totals.monthlyUsd")
    return float(value) if isinstance(value, int | float) else None


def payload(ev: Evaluation, est: Estimate, lock: LockDiff | None = None) -> dict[str, Any]:
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
        "cost": est.to_dict(),
        "lock": None if lock is None else {"monthlyUsd": lock.current_usd, "baseMonthlyUsd": lock.base_usd,
                                           "deltaUsd": lock.delta_usd, "note": lock.note},
    }


def dumps(data: Any) -> str:
    """Stable JSON: every dict here is built in a fixed order ("violations" first), so no key sorting."""
    return json.dumps(data, indent=2) + "\n"


def table(ev: Evaluation, est: Estimate):
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


def summary(ev: Evaluation, est: Estimate) -> str:
    mandatory, advisory = len(ev.mandatory), len(ev.violations) - len(ev.mandatory)
    verdict = "FAILED" if mandatory else "passed"
    return (f"{verdict}: {mandatory} mandatory, {advisory} advisory violation(s) over {ev.resource_count} "
            f"resources; estimated monthly compute ${est.max_usd:,.2f} at max size, ${est.desired_usd:,.2f} at "
            "desired size")


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _delta(value: float | None) -> str:
    return "n/a" if value is None else f"{'+' if value >= 0 else '-'}${abs(value):,.2f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(ev: Evaluation, est: Estimate, lock: LockDiff | None, budget: float | None = None,
             prices: str | None = None) -> str:
    """One environment's section of the pull-request comment; ``prices`` names the catalog and its date."""
    mandatory = len(ev.mandatory)
    icon = "❌" if mandatory else "✅"
    lines = [
        f"### {icon} `{ev.stack}` ({ev.environment or 'no environment'}): "
        f"{mandatory} mandatory, {len(ev.violations) - mandatory} advisory",
        "",
        "| monthly cost | USD |",
        "|---|---:|",
        f"| estimate, max size | {_money(est.max_usd)} |",
        f"| estimate, desired size | {_money(est.desired_usd)} |",
    ]
    if budget is not None:
        lines.append(f"| budget | {_money(budget)} |")
    if lock is not None:
        lines += [f"| placement lock | {_money(lock.current_usd)} |",
                  f"| base branch lock | {_money(lock.base_usd)} |",
                  f"| **change** | **{_delta(lock.delta_usd)}** |"]
    if lock is not None and lock.note:
        lines += ["", f"_{lock.note}_"]
    if est.pools:
        lines += ["", "<details><summary>Compute pools</summary>", "",
                  "| pool | type | market | nodes (min/desired/max) | $/node-hour | max $/month | desired $/month |",
                  "|---|---|---|---|---:|---:|---:|"]
        for c in sorted(est.pools, key=lambda c: c.pool.name):
            p = c.pool
            lines.append(f"| `{_cell(p.name)}` | {p.cloud} {p.region or '?'} {p.instance_type or '?'} | "
                         f"{'spot' if p.spot else 'on-demand'} | {p.min_nodes}/{p.desired_nodes}/{p.max_nodes} | "
                         f"{_money(c.hourly_usd)} | {_money(c.monthly(p.max_nodes))} | "
                         f"{_money(c.monthly(p.desired_nodes))} |")
        lines += ["", "</details>"]
    if prices:
        lines += ["", f"_Prices: {prices}_"]
    if est.unpriced:
        lines += ["", f"_Not priced (no catalog offer): {', '.join(sorted(c.pool.name for c in est.unpriced))}_"]
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
