"""A lock that breaks the stack's config (here: written before a served workload was added) is the user's input:
`newinfra cost` and `newinfra check` say so in one line naming the lock, exit 2, as `newinfra plan` does —
not exit 5 "internal error ... please report" (the program's ConfigError surfaced as ProgramFailed)."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from newinfra.cli.app import app
from tests.paths import REPO_ROOT
from tests.stacks.test_bad_inputs import assert_one_line, cli_error


def test_cost_with_a_lock_missing_a_served_workload_is_exit_2_naming_the_lock(tmp_path, monkeypatch):
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(REPO_ROOT / "stacks", tmp_path / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    lock_path = tmp_path / "stacks" / "placements" / "prod.json"
    lock = json.loads(lock_path.read_text())
    del lock["workloads"]["search-serve"]  # a lock written before the service's workload was added
    lock_path.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    monkeypatch.chdir(tmp_path)
    for command in ("cost", "check"):
        result = CliRunner().invoke(app, [command, "prod"])
        assert result.exit_code == 2, (command, result.output)
        message = cli_error(result.output).splitlines()[-1]
        assert_one_line(message, "placements/prod.json", "search-serve", "newinfra place prod")
        assert "internal error" not in result.output
