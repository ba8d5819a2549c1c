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


def test_actions_are_current_with_a_pip_cache() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    uses = [s["uses"] for job in doc["jobs"].values() for s in job["steps"] if "uses" in s]
    assert "github/codeql-action/upload-sarif@v4" in uses
    assert "pulumi/actions@v6" in uses and not any(u.startswith("pulumi/setup-pulumi") for u in uses)
    for job in doc["jobs"].values():
        setup = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")]
        assert setup and all(s["with"]["cache"] == "pip" for s in setup)


def _check_script() -> str:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["check"]["steps"]
    return next(s["run"] for s in steps if s.get("id") == "check")


FAKE_NEWINFRA = """#!/usr/bin/env bash
# dev: a verdict (writes its section, exit 1); staging: bad input before writing anything (exit 2);
# prod: passes (exit 0)
env=$2; md=$6
case "$env" in
  dev) printf '<!-- newinfra-check -->\\n## newinfra policy check\\n\\n### ❌ `dev`: 1 mandatory\\n' > "$md"; exit 1;;
  staging) echo "newinfra check: stacks/Pulumi.staging.yaml: newinfra:budget: 'x' is not a number" >&2; exit 2;;
  prod) printf '<!-- newinfra-check -->\\n## newinfra policy check\\n\\n### ✅ `prod`: 0 mandatory\\n' > "$md"; exit 0;;
esac
"""


def test_an_environment_that_errors_shows_in_the_comment(tmp_path) -> None:
    """Run the job's script with a stand-in newinfra: the environment whose check exits 2 without writing
    its section still appears, with ❌ and its error, and the step's status is that exit code."""
    import os
    import shutil
    import subprocess

    if shutil.which("bash") is None:
        import pytest

        pytest.skip("needs bash")
    (tmp_path / "stacks").mkdir()
    for env in ("dev", "prod", "staging"):
        (tmp_path / "stacks" / f"Pulumi.{env}.yaml").write_text("config: {}\n")
    fake = tmp_path / ".venv" / "bin" / "newinfra"
    fake.parent.mkdir(parents=True)
    fake.write_text(FAKE_NEWINFRA)
    fake.chmod(0o755)
    output = tmp_path / "github_output"
    done = subprocess.run(["bash", "-e", "-c", _check_script()], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "BASE_REF": "origin/main", "GITHUB_OUTPUT": str(output)},
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    comment = (tmp_path / "build" / "check" / "comment.md").read_text()
    assert comment.startswith("<!-- newinfra-check -->\n## newinfra policy check\n")
    assert "### ❌ `dev`: 1 mandatory" in comment and "### ✅ `prod`" in comment
    assert "### ❌ `staging`: the check could not run (exit 2)" in comment
    assert "newinfra:budget: 'x' is not a number" in comment
    assert output.read_text() == "status=2\n"
