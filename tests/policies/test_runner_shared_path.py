"""The runner's shared path (each resource deserialised once, the same PolicyResources' properties handed to
every policy) gives exactly what pulumi-policy's own Analyze / AnalyzeStack give: every violation with its
message and level, every not-applicable reason, exemption and remediation. Judged on real records (the
reference stacks and the evasion program) and on every rule's failing and passing fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from newinfra.policies import runner
from newinfra.policies.config import read_policy_config
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from newinfra.offline import run_program
from tests.policies.builders import PROJECT, STACK, res, with_providers
from tests.policies.test_coverage_rules import CASES as COVERAGE_CASES
from tests.policies.test_rules import CASES, launch_template

ROOT = Path(__file__).resolve().parents[2]
EVASIONS = Path(__file__).parent / "fixtures" / "evasions"


def _outcome(ev: runner.Evaluation) -> tuple:
    return ev.violations, ev.not_applicable, ev.exemptions, ev.remediations, ev.levels


def _both(resources, config, **kwargs) -> tuple[tuple, tuple]:
    shared = runner.evaluate(resources, config, **kwargs)
    engine = runner.evaluate(resources, config, engine_path=True, **kwargs)
    return _outcome(shared), _outcome(engine)


@pytest.fixture(scope="module")
def records():
    out = {env: run_program(ROOT, env) for env in ("dev", "staging", "prod")}
    out["evasions"] = run_program(EVASIONS, "ml")
    return out


@pytest.mark.parametrize("name", ["dev", "staging", "prod", "evasions"])
def test_shared_path_equals_the_engine_on_real_records(records, name) -> None:
    record = records[name]
    policy_config = read_policy_config(EVASIONS / "platform-policy.json") if name == "evasions" else None
    shared, engine = _both(record.resources, record.config, project=record.project, stack=record.stack,
                           policy_config=policy_config)
    assert shared == engine
    if name == "evasions":
        assert len(shared[0]) >= 14  # the planted resources are reported (test_coverage_program)


def _fixture_resources() -> list[dict]:
    """Every rule's failing and passing fixtures, made unique so they coexist in one stack (stack rules
    then join across them, as they would in a large program)."""
    resources = [r for c in [*CASES, *COVERAGE_CASES] for r in c.failing + c.passing]
    return [{**r, "urn": f"{r['urn']}-{i}", "name": f"{r['name']}-{i}"} for i, r in enumerate(resources)]


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_shared_path_equals_the_engine_on_every_rule_fixture(environment) -> None:
    resources = with_providers(_fixture_resources())
    shared, engine = _both(resources, {"newinfra:monthlyBudgetUsd": 1000}, project=PROJECT, stack=STACK,
                           environment=environment)
    assert shared == engine
    assert len(shared[0]) > 150 and shared[1]  # violations and not-applicable reasons both compared


def test_shared_path_equals_the_engine_on_unknowns_remediation_levels_and_config() -> None:
    unknowns = [res("aws:ec2/securityGroup:SecurityGroup", "unknown-sg",  # a resource policy reads it
                    {"ingress": [{"fromPort": 22, "toPort": 22, "cidrBlocks": UNKNOWN_STRING_VALUE}]}),
                res("gcp:storage/bucket:Bucket", "unknown-bucket",  # a stack policy reads it
                    {"location": "US-CENTRAL1", "encryption": UNKNOWN_STRING_VALUE})]
    fixable = launch_template("fixable", metadataOptions={"httpTokens": "optional"})
    web = res("aws:ec2/securityGroup:SecurityGroup", "web",
              {"ingress": [{"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"]}]})
    resources = with_providers([*unknowns, fixable, web, *_fixture_resources()[:60]])
    policy_config = {"all": "advisory", "hardened-instance-metadata": "remediate",
                     "vpc-flow-logs": {"enforcementLevel": "disabled"},
                     "monthly-budget": {"monthlyBudgetUsd": 10},
                     "no-internet-ingress": {"enforcementLevel": "mandatory", "allowedPorts": [22]}}
    shared, engine = _both(resources, {}, project=PROJECT, stack=STACK, environment="prod",
                           policy_config=policy_config)
    assert shared == engine
    violations, _, _, remediations, _ = shared
    assert [r.resource for r in remediations] == ["fixable"]
    unknown = {v.policy for v in violations if "can't be known during preview" in v.message}
    assert {"no-internet-ingress", "bucket-customer-managed-encryption"} <= unknown
    assert {v.level for v in violations} == {"advisory", "mandatory"}
    assert [v.resource for v in violations if v.level == "mandatory"] == ["web"]


def test_the_shared_path_runs_in_forked_workers_too(monkeypatch) -> None:
    monkeypatch.setattr(runner, "PARALLEL_FROM", 0)
    resources = with_providers(_fixture_resources())
    one = runner.evaluate(resources, {}, project=PROJECT, stack=STACK, environment="dev", workers=1)
    two = runner.evaluate(resources, {}, project=PROJECT, stack=STACK, environment="dev", workers=2,
                          engine_path=True)
    assert _outcome(one) == _outcome(two)

