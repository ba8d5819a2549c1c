"""Every command's --help works and --version prints the package's version. The commands are found by
walking the click tree typer builds, so a new command is covered without editing this file."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from newinfra import __version__
from newinfra.cli.app import app


def command_paths() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = [()]

    def walk(cmd, prefix: tuple[str, ...]) -> None:  # typer's click (vendored or not): a group has .commands
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            paths.append((*prefix, name))
            walk(sub, (*prefix, name))

    walk(root, ())
    return paths


def test_the_walk_finds_every_registered_command() -> None:
    found = {p[0] for p in command_paths() if p}
    assert {"catalog", "check", "inventory", "place", "plan"} <= found


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "newinfra")
def test_help_works(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Usage:" in result.output
    assert result.exception is None


def test_place_help_shows_the_exclude_syntax_literally() -> None:
    result = CliRunner().invoke(app, ["place", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "CLOUD/REGION[/ZONE][:TYPE]" in result.output


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"newinfra {__version__}\n"


@pytest.mark.parametrize("args", [["catalog", "--accelerator", "h100"], ["catalog", "--excluded"]],
                         ids=["offers", "excluded"])
def test_tables_fit_a_100_column_terminal(args: list[str]) -> None:
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "newinfra", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"}, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) <= 100
