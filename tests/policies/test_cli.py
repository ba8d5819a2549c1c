"""`newinfra check`: the repository's environments, another team's program with planted problems, the
JSON/Markdown/SARIF outputs, the lock diff and the exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from newinfra.policies.report import COMMENT_MARKER
from typer.testing import CliRunner

from newinfra.cli.app import app
from newinfra.cli.check import environments, lock_diff

FIXTURE = Path(__file__).parent / "fixtures" / "other_team"
ROOT = Path(__file__).resolve().parents[2]
cli = CliRunner()

# Planted problem -> the resource that has it (see the fixture's docstring). Nothing else may be reported on a
# resource; the budget overrun is reported on the stack.
PLANTED = {
    ("bucket-customer-managed-encryption", "leaky-images"),
    ("bucket-no-public-access", "leaky-images"),
    ("no-internet-ingress", "ssh-open"),
    ("key-rotation-no-wildcards", "legacy-key"),
    ("hardened-instance-metadata", "imdsv1-nodes"),
    ("data-residency", "eu-faces"),
    ("no-public-node-ips", "tpu-public"),
    ("gpu-multi-node-interconnect", "burst-a3"),
    ("accelerator-scale-to-zero", "burst-a3"),
    ("monthly-budget", "ml"),
}


@pytest.fixture(scope="module")
def other_team(tmp_path_factory):
    out = tmp_path_factory.mktemp("check")
    # The platform maps the team's stack 'ml' to staging; the stack's own newinfra:environment only agrees.
    result = cli.invoke(app, ["check", "--cwd", str(FIXTURE), "--stack", "ml", "--json",
                              "--policy-config", str(FIXTURE / "platform-policy.json"),
                              "--markdown", str(out / "comment.md"), "--sarif", str(out / "check.sarif")])
    return result, out


def test_other_teams_planted_problems_are_reported_on_their_resources(other_team) -> None:
    result, _ = other_team
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert {(v["policy"], v["resource"]) for v in data["violations"]} == PLANTED
    for v in data["violations"]:
        assert set(v) == {"policy", "pack", "level", "urn", "resource", "message"}
        assert v["urn"].endswith(f"::{v['resource']}") or v["resource"] == "ml"
    # staging: data security blocks, budget warns
    levels = {v["policy"]: v["level"] for v in data["violations"]}
    assert levels["monthly-budget"] == "advisory" and levels["no-internet-ingress"] == "mandatory"
    assert data["environment"] == "staging" and data["passed"] is False


def test_markdown_comment_has_verdicts_and_costs(other_team) -> None:
    _, out = other_team
    text = (out / "comment.md").read_text()
    assert text.startswith(COMMENT_MARKER)
    assert "❌ `ml` (staging): 8 mandatory, 2 advisory" in text
    assert "| **total, desired size** | **$" in text and "| total, max size | $" in text
    assert "| budget | $40,000.00 |" in text and "_Prices as of 20" in text
    assert "`ssh-open`" in text
    assert "| `burst-a3` | `gcp:container/nodePool:NodePool` | $" in text
    assert "- `no-internet-ingress`: D11: no ingress from the internet" in text


def test_sarif_has_one_result_per_violation(other_team) -> None:
    result, out = other_team
    sarif = json.loads((out / "check.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    violations = json.loads(result.stdout)["violations"]
    assert len(run["results"]) == len(violations)
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in run["results"]} <= rule_ids
    assert {r["level"] for r in run["results"]} == {"error", "warning"}
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "tests/policies/fixtures/other_team/Pulumi.ml.yaml"


@pytest.mark.parametrize("env", environments())
def test_reference_environments_have_no_mandatory_violation(env) -> None:
    result = cli.invoke(app, ["check", env, "--json", "--base-lock", str(ROOT / "stacks" / "placements" /
                                                                          f"{env}.json")])
    assert result.stdout, result.stderr
    data = json.loads(result.stdout)
    assert [v for v in data["violations"] if v["level"] == "mandatory"] == []
    assert result.exit_code == 0
    if env == "prod":
        assert data["violations"] == []  # prod: budget is mandatory too, so nothing may be reported


@pytest.mark.parametrize(("args", "message"), [
    (["check", "qa"], "ENV: 'qa' is not an environment; valid: ["),
    (["check"], "give ENV (one of"),
    (["check", "dev", "--cwd", "."], "not both"),
    (["check", "--cwd", str(FIXTURE)], "give ENV (one of"),
    (["check", "--cwd", str(FIXTURE), "--stack", "prod"], "Pulumi.prod.yaml does not exist"),
    (["check", "--cwd", str(ROOT / "policies"), "--stack", "ml"], "has no Pulumi.yaml"),
    (["check", "--cwd", str(FIXTURE), "--stack", "ml", "--policy-config", "/nonexistent.json"], "does not exist"),
])
def test_bad_input_exits_2_with_a_message(args, message) -> None:
    result = cli.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_bad_policy_config_values_exit_2(tmp_path) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"newinfra": {"environments": {"ml": "staging"}},
                                  "monthly-budget": {"enforcementLevel": "blocking"}}))
    result = cli.invoke(app, ["check", "--cwd", str(FIXTURE), "--stack", "ml", "--policy-config", str(config)])
    assert result.exit_code == 2
    assert "enforcement level 'blocking' is not valid" in result.stderr


def test_stack_loosening_the_platform_exits_2_naming_the_key() -> None:
    # 'ml' is not mapped by any platform config here, so it gets prod's levels; the stack says staging.
    result = cli.invoke(app, ["check", "--cwd", str(FIXTURE), "--stack", "ml"])
    assert result.exit_code == 2
    assert "newinfra:environment: 'staging' would loosen" in result.stderr


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


def test_lock_diff_against_the_base_branch(tmp_path) -> None:
    lock = tmp_path / "stacks" / "placements" / "dev.json"
    lock.parent.mkdir(parents=True)
    _git(tmp_path, "init", "-q", "-b", "main")
    lock.write_text(json.dumps({"totals": {"monthlyUsd": 3000.0, "hourlyUsd": 4.1}}))
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "base")
    lock.write_text(json.dumps({"totals": {"monthlyUsd": 3450.5, "hourlyUsd": 4.7}}))
    diff = lock_diff(lock, "main", None)
    assert (diff.current_usd, diff.base_usd, diff.delta_usd) == (3450.5, 3000.0, 450.5)
    skipped = lock_diff(lock, None, None)  # no origin/main in this repository
    assert skipped.base_usd is None and "no origin/main" in skipped.note
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"totals": {"monthlyUsd": 3600}}))
    assert lock_diff(lock, None, base).delta_usd == -149.5


def test_check_reads_a_record_and_prints_a_table(tmp_path) -> None:
    from newinfra.offline import Record
    from tests.policies.builders import with_providers
    from tests.policies.test_rules import CASES

    case = next(c for c in CASES if c.policy == "no-internet-ingress")
    Record(project="vision-team", stack="ml", resources=with_providers(case.failing),
           config={"newinfra:environment": "prod"}).write(tmp_path / "ml")
    result = cli.invoke(app, ["check", "--cwd", str(FIXTURE), "--stack", "ml", "--record", str(tmp_path / "ml")])
    assert result.exit_code == 1
    assert "no-internet-ingress" in result.stdout and "FAILED: 1 mandatory" in result.stdout
    missing = cli.invoke(app, ["check", "--cwd", str(FIXTURE), "--stack", "ml", "--record", str(tmp_path / "x")])
    assert missing.exit_code == 2 and "run `newinfra plan` first" in missing.stderr


def test_a_failing_program_exits_4_naming_its_error(tmp_path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: broken\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n")
    (tmp_path / "__main__.py").write_text("raise ValueError('workloads[0].count: -1 is not positive')\n")
    result = cli.invoke(app, ["check", "--cwd", str(tmp_path), "--stack", "dev"])
    assert result.exit_code == 4  # exits.PROGRAM_ERROR: a crash is never read as a verdict or bad input
    assert "__main__.py: ValueError: workloads[0].count: -1 is not positive" in result.stderr
