"""The pull-request workflow runs the offline check for every environment and previews with both packs."""

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "pull-request.yml"


def _steps(job: dict) -> str:
    return "\n".join(str(s.get("run", "")) + str(s.get("uses", "")) + str(s.get("with", "")) for s in job["steps"])


def test_check_job_covers_every_environment_and_publishes_results() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    steps = _steps(doc["jobs"]["check"])
    assert "for file in stacks/Pulumi.*.yaml" in steps
    for flag in ("newinfra check", "--markdown", "--sarif", "--base-ref"):
        assert flag in steps
    assert "<!-- newinfra-check -->" in steps and "updateComment" in steps  # one comment, updated in place
    assert "github/codeql-action/upload-sarif" in steps
    assert doc["permissions"]["security-events"] == "write"


def test_preview_job_runs_both_packs_only_with_credentials() -> None:
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["preview"]
    assert job["if"] == "vars.NEWINFRA_PREVIEW == 'true'"
    assert job["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    steps = _steps(job)
    assert "--policy-pack policies/data_security --policy-pack policies/budget" in steps
