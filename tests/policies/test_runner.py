"""The offline runner: the pulumi-policy pin, the CLI's config steps, enforcement per environment,
remediations, and that dispatching by resource type changes nothing."""

from __future__ import annotations

import json

import pytest
from newinfra.policies import runner
from newinfra.policies.config import PolicyConfigError, read_policy_config, resolve, stack_defaults
from newinfra.policies.packs import BUDGET, DATA_SECURITY, pack
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.version import VERSION

from tests.policies.builders import check, flagged, res
from tests.policies.test_rules import CASES, launch_template, node_group


def test_pulumi_policy_is_the_pinned_version_with_the_private_analyzer() -> None:
    assert VERSION.startswith(runner.PINNED_POLICY_SDK)
    for method in ("Configure", "Analyze", "AnalyzeStack", "Remediate"):
        assert callable(getattr(_PolicyAnalyzerServicer, method))


def test_other_pulumi_policy_versions_are_refused(monkeypatch) -> None:
    monkeypatch.setattr(runner, "POLICY_SDK_VERSION", "1.22.0")
    with pytest.raises(RuntimeError, match="1.21"):
        runner.check_pin()


@pytest.mark.parametrize(("environment", "budget_level"), [("prod", "mandatory"), ("staging", "advisory"),
                                                           ("dev", "advisory"), ("team-x", "mandatory")])
def test_enforcement_per_environment(environment, budget_level) -> None:
    bad = [node_group("g", "p5.48xlarge", 1, 1, 2, capacityType="ON_DEMAND", taints=[])]
    ev = check(bad, config={"newinfra:monthlyBudgetUsd": 100}, environment=environment)
    levels = {(v.pack, v.policy): v.level for v in ev.violations}
    assert levels[(BUDGET, "monthly-budget")] == budget_level
    assert levels[(DATA_SECURITY, "accelerator-node-taints")] == "mandatory"
    assert ev.passed is False


def test_policy_config_overrides_levels_all_first_then_per_policy() -> None:
    bad = [node_group("g", "p5.48xlarge", 1, 1, 2, capacityType="ON_DEMAND", taints=[])]
    ev = check(bad, config={"newinfra:monthlyBudgetUsd": 100}, environment="prod",
               policy_config={"all": "advisory", "accelerator-node-taints": {"enforcementLevel": "disabled"}})
    assert "accelerator-node-taints" not in {v.policy for v in ev.violations}
    assert {v.level for v in ev.violations} == {"advisory"}
    assert ev.passed


def test_remediation_runs_before_analysis_as_the_cli_applies_it() -> None:
    lt = launch_template("lt", metadataOptions={"httpTokens": "optional"})
    ev = check([lt], packs=("data_security",), policy_config={"hardened-instance-metadata": "remediate"})
    assert [(r.policy, r.resource) for r in ev.remediations] == [("hardened-instance-metadata", "lt")]
    assert "hardened-instance-metadata" not in {v.policy for v in ev.violations}
    plain = check([lt], packs=("data_security",))
    assert flagged(plain, "hardened-instance-metadata") == {"lt"}


def test_stack_defaults_come_from_the_stack_config() -> None:
    cfg = {"newinfra:monthlyBudgetUsd": 12000, "newinfra:dataResidency": json.dumps({"internal": ["us-*"]}),
           "newinfra:workloads": [{"name": "pretrain", "hoursPerMonth": 160}, {"name": "serve"}]}
    defaults = stack_defaults(cfg, "dev")
    assert defaults["monthly-budget"] == {"monthlyBudgetUsd": 12000,
                                          "workloadHours": {"pretrain": 160.0, "serve": 730.0}}
    assert defaults["data-residency"] == {"residency": {"internal": ["us-*"]}}
    assert defaults["minimum-spot-share"] == {"environment": "dev"}


def test_resolve_fills_schema_defaults_under_stack_and_user_values() -> None:
    settings = resolve(pack(BUDGET), "dev", {"monthly-budget": {"monthlyBudgetUsd": 10}},
                       {"monthly-budget": {"basis": "desired"}, "minimum-spot-share": "mandatory"})
    assert settings["monthly-budget"].properties == {"basis": "desired", "hoursPerMonth": 730.0,
                                                     "monthlyBudgetUsd": 10}
    assert settings["monthly-budget"].level == EnforcementLevel.ADVISORY
    assert settings["minimum-spot-share"].level == EnforcementLevel.MANDATORY


@pytest.mark.parametrize(("user", "message"), [
    ({"all": "strict"}, r"'all': enforcement level 'strict' is not valid; valid: \['advisory', 'disabled'"),
    ({"monthly-budget": {"basis": "average"}}, r"monthly-budget, key basis: 'average' is not one of"),
    ({"monthly-budget": {"monthlyBudgetUsd": -5}}, r"key monthlyBudgetUsd: -5 is less than or equal to"),
    ({"monthly-budget": {"budget": 5}}, r"Additional properties are not allowed \('budget'"),
    ({"vpc-flow-logs": {"x": 1}}, r"'vpc-flow-logs': the policy takes no properties"),
    ({"monthly-budget": 5}, r"expected a level or an object, got 5"),
])
def test_bad_policy_config_is_refused_with_the_key_and_valid_values(user, message) -> None:
    with pytest.raises(PolicyConfigError, match=message):
        for p in (pack(BUDGET), pack(DATA_SECURITY)):
            resolve(p, "dev", {}, user)


def test_unknown_policy_names_are_refused(tmp_path) -> None:
    with pytest.raises(PolicyConfigError, match=r"'no-such-policy' names no policy; valid: 'all', 'newinfra' or one of"):
        check([], policy_config={"no-such-policy": "advisory"})
    with pytest.raises(PolicyConfigError, match=r"'kubernetes-no-privileged-pods' no longer exists: .*"
                                                r"kubernetes-workload-security's.*exemptWorkloads \['ns/\*'\]"):
        check([], policy_config={"kubernetes-no-privileged-pods": {"exemptNamespaces": ["gpu-operator"]}})
    bad = tmp_path / "p.json"
    bad.write_text("{not json")
    with pytest.raises(PolicyConfigError, match="is not JSON"):
        read_policy_config(bad)
    with pytest.raises(PolicyConfigError, match="does not exist"):
        read_policy_config(tmp_path / "missing.json")


def test_type_dispatch_gives_the_same_verdicts_as_sending_every_resource_to_every_policy(monkeypatch) -> None:
    resources = [r for c in CASES for r in c.failing + c.passing]
    unique = list({r["urn"] + str(i): {**r, "urn": f"{r['urn']}-{i}", "name": f"{r['name']}-{i}"}
                   for i, r in enumerate(resources)}.values())
    fast = check(unique, config={"newinfra:monthlyBudgetUsd": 1000})
    monkeypatch.setattr(runner, "_wants", lambda policy, t: True)
    slow = check(unique, config={"newinfra:monthlyBudgetUsd": 1000})
    assert fast.violations == slow.violations
    assert len(fast.violations) > 100


def test_results_are_sorted_and_repeatable() -> None:
    resources = [r for c in CASES[:20] for r in c.failing]
    unique = list({r["urn"]: r for r in resources}.values())
    first, second = check(unique), check(list(reversed(unique)))
    assert first.violations == second.violations == sorted(first.violations)


def test_unknown_values_during_preview_are_advisory_diagnostics() -> None:
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    lt = res("aws:ec2/launchTemplate:LaunchTemplate", "lt", {"metadataOptions": {"httpTokens": UNKNOWN_STRING_VALUE}})
    ev = check([lt], packs=("data_security",))
    found = [v for v in ev.violations if v.policy == "hardened-instance-metadata"]
    assert [v.level for v in found] == ["advisory"]
    assert "can't be known during preview" in found[0].message


def test_forked_workers_give_the_same_verdicts(monkeypatch) -> None:
    resources = [r for c in CASES for r in c.failing]
    unique = list({r["urn"]: r for r in resources}.values())
    one = check(unique, config={"newinfra:monthlyBudgetUsd": 1000})
    monkeypatch.setattr(runner, "PARALLEL_FROM", 0)
    two = evaluate_with_workers(unique, 2)
    assert two.violations == one.violations and two.not_applicable == one.not_applicable


def evaluate_with_workers(resources, workers):
    from tests.policies.builders import PROJECT, STACK, with_providers

    return runner.evaluate(with_providers(resources), {"newinfra:monthlyBudgetUsd": 1000}, project=PROJECT,
                           stack=STACK, environment="dev", workers=workers)


def test_property_dependencies_in_a_record_link_resources_exactly() -> None:
    vpcs = [res("aws:ec2/vpc:Vpc", n, {"cidrBlock": c}) for n, c in (("a", "10.0.0.0/16"), ("b", "10.1.0.0/16"))]
    log = res("aws:ec2/flowLog:FlowLog", "log", {"vpcId": "vpc-0f0e0d0c0b0a09080", "trafficType": "ALL"})
    assert flagged(check([*vpcs, log], packs=("data_security",)), "vpc-flow-logs") == {"a", "b"}  # ambiguous id
    linked = {**log, "propertyDependencies": {"vpcId": [vpcs[1]["urn"]]}, "dependencies": [vpcs[1]["urn"]]}
    assert flagged(check([*vpcs, linked], packs=("data_security",)), "vpc-flow-logs") == {"a"}
