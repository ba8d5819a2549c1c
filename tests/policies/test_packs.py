"""Each pack's __main__.py constructs its PolicyPack with all its policies (PolicyPack intercepted, so no
server starts), and what the analyzer would announce to the CLI (GetAnalyzerInfo) is well formed."""

from __future__ import annotations

import runpy
from pathlib import Path

import pulumi_policy
import pytest
import yaml
from newinfra.policies.packs import BUDGET, DATA_SECURITY, pack, packs
from newinfra.policies.rules import budget, data_security
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer

POLICIES_DIR = Path(__file__).resolve().parents[2] / "policies"


class Captured(Exception):
    """Raised instead of starting the analyzer server."""

    def __init__(self, kwargs: dict) -> None:
        super().__init__("PolicyPack intercepted")
        self.kwargs = kwargs


def _intercept(**kwargs):
    raise Captured(kwargs)


def run_main(directory: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setattr(pulumi_policy, "PolicyPack", _intercept)
    with pytest.raises(Captured) as caught:
        runpy.run_path(str(POLICIES_DIR / directory / "__main__.py"), run_name="__main__")
    return caught.value.kwargs


@pytest.mark.parametrize(("directory", "name", "rules"), [
    ("data_security", DATA_SECURITY, data_security.POLICIES),
    ("budget", BUDGET, budget.POLICIES),
])
def test_pack_main_constructs_the_pack_with_all_policies(directory, name, rules, monkeypatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    monkeypatch.delenv("PULUMI_STACK", raising=False)
    kwargs = run_main(directory, monkeypatch)
    assert kwargs["name"] == name
    assert [p.name for p in kwargs["policies"]] == [p.name for p in rules]
    assert all(isinstance(p, ResourceValidationPolicy | StackValidationPolicy) for p in kwargs["policies"])
    assert kwargs["enforcement_level"] == EnforcementLevel.MANDATORY  # unknown environment: prod's levels


@pytest.mark.parametrize(("env_vars", "expected"), [
    ({"PULUMI_STACK": "dev"}, EnforcementLevel.ADVISORY),
    ({"PULUMI_STACK": "prod"}, EnforcementLevel.MANDATORY),
    ({"PULUMI_STACK": "team-a", "PULUMI_CONFIG": '{"newinfra:environment": "staging"}'}, EnforcementLevel.ADVISORY),
])
def test_budget_pack_level_follows_the_checked_stack(env_vars, expected, monkeypatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    for k, v in env_vars.items():
        monkeypatch.setenv(k, v)
    assert run_main("budget", monkeypatch)["enforcement_level"] == expected
    assert run_main("data_security", monkeypatch)["enforcement_level"] == EnforcementLevel.MANDATORY


@pytest.mark.parametrize("directory", ["data_security", "budget"])
def test_pulumi_policy_yaml_runs_python_from_the_project_venv(directory) -> None:
    doc = yaml.safe_load((POLICIES_DIR / directory / "PulumiPolicy.yaml").read_text())
    assert doc["runtime"]["name"] == "python"
    venv = (POLICIES_DIR / directory / doc["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == POLICIES_DIR.parent / ".venv"


@pytest.mark.parametrize("p", packs(), ids=lambda p: p.name)
def test_analyzer_info_describes_every_policy(p) -> None:
    servicer = _PolicyAnalyzerServicer(p.name, "0.1.0", list(p.policies), EnforcementLevel.ADVISORY)
    info = servicer.GetAnalyzerInfo(None, None)
    assert [i.name for i in info.policies] == [x.name for x in p.policies]
    for policy, described in zip(p.policies, info.policies, strict=True):
        assert len(policy.description) > 60, policy.name  # says what is wrong and how to fix it
        assert "Fix:" in policy.description, policy.name
        if policy.config_schema:
            assert set(described.configSchema.properties) == set(policy.config_schema.properties)


def test_policy_names_are_unique_across_packs() -> None:
    names = [x.name for p in packs() for x in p.policies]
    assert len(names) == len(set(names))


def test_unknown_pack_names_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="newinfra-budget"):
        pack("costs")


def test_readme_lists_every_policy_with_its_settings() -> None:
    readme = (POLICIES_DIR / "README.md").read_text()
    for p in packs():
        for policy in p.policies:
            row = next((line for line in readme.splitlines() if line.startswith(f"| `{policy.name}` |")), None)
            assert row is not None, policy.name
            for setting in (policy.config_schema.properties if policy.config_schema else {}):
                assert f"`{setting}`" in row, (policy.name, setting)


def test_readme_says_what_each_rule_judges_in_the_rules_own_words() -> None:
    """The README's "what it asks" column is each rule's description, word for word, so neither lags."""
    readme = (POLICIES_DIR / "README.md").read_text()
    for p in packs():
        for policy in p.policies:
            row = next(line for line in readme.splitlines() if line.startswith(f"| `{policy.name}` |"))
            assert row.split(" | ")[2] == policy.description, policy.name
