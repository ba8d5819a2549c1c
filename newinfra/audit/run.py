"""The audit as one function over two records (planned, live): findings, drift, coverage. No I/O here.

Exit status (decided here, documented in README "Audit"): 1 when the packs find a mandatory violation on a
live resource or an accelerator instance no stack manages (spend nobody answers for), 0 otherwise. Missing and
changed resources are reported but do not fail the audit: a plan not yet applied is drift too, and only the
rules say what is unsafe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from newinfra.audit.drift import Drift, drift, unmanaged_accelerators
from newinfra.exits import OK, VIOLATION

NOT_READ_CLOUDS = ("alicloud", "gcp")  # no live reader: said in the report, never silently passed


@dataclass
class AuditResult:
    evaluation: Any  # newinfra.policies.runner.Evaluation over the live record
    drift: list[Drift] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    live_count: int = 0

    @property
    def unmanaged(self) -> list[Drift]:
        return [d for d in self.drift if d.kind == "unmanaged"]

    @property
    def exit_code(self) -> int:
        return VIOLATION if self.evaluation.mandatory or self.unmanaged else OK

    def payload(self) -> dict[str, Any]:
        return {"violations": [v.to_dict() for v in self.evaluation.violations],
                "drift": [d.to_dict() for d in self.drift], "notCovered": self.not_covered,
                "liveResources": self.live_count, "passed": self.exit_code == OK}


def not_covered(planned: Iterable[Mapping[str, Any]]) -> list[str]:
    clouds = {res["type"].split(":", 1)[0] for res in planned}
    return [f"not covered: {c} (no live reader)" for c in NOT_READ_CLOUDS if c in clouds]


def audit(planned: Sequence[Mapping[str, Any]], live: list[dict[str, Any]], config: Mapping[str, Any], *,
          project: str, stack: str, other_stacks_tags: Iterable[Mapping[str, str]] = (),
          policy_config: Mapping[str, Any] | None = None) -> AuditResult:
    from newinfra.policies.runner import evaluate

    ev = evaluate(live, dict(config), project=project, stack=stack, policy_config=policy_config)
    stack_tags = config.get("newinfra:tags") or {}
    found = drift(planned, live, stack_tags) + unmanaged_accelerators(live, [stack_tags, *other_stacks_tags])
    return AuditResult(ev, sorted(found), not_covered(planned), sum(1 for x in live if x.get("custom")
                                                                    and not x["type"].startswith("pulumi:")))
