"""The stale-catalog warning names a command that works as written, and each command prints it once."""

from __future__ import annotations

import datetime as dt
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from newinfra.cost_model.catalog import build, load_catalog
from newinfra.cost_model.catalog.loader import stale_message

from tests.paths import REPO_ROOT

REFERENCE = build.find_reference(REPO_ROOT)


def hint(cwd: Path, monkeypatch) -> list[str]:
    monkeypatch.chdir(cwd)
    cat = load_catalog()
    message = stale_message(cat, today=cat.as_of + dt.timedelta(days=1000))
    assert message is not None
    commands = re.findall(r"`([^`]+)`", message)
    assert len(commands) == 1, message
    return shlex.split(commands[0])


@pytest.mark.skipif(REFERENCE is None, reason="needs shared/reference/catalog above the checkout")
def test_the_printed_command_rebuilds_the_catalog(tmp_path: Path, monkeypatch) -> None:
    command = hint(REPO_ROOT, monkeypatch)
    assert command[1:] == ["-m", "newinfra.cost_model.catalog.build"]
    out = tmp_path / "data"
    done = subprocess.run([*command, "--out", str(out)], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in build.DATA_DIR.iterdir())


def test_the_printed_python_runs_from_elsewhere_too(tmp_path: Path, monkeypatch) -> None:
    python = hint(tmp_path, monkeypatch)[0]
    assert Path(python).is_absolute() and Path(python).samefile(sys.executable)


def test_without_reference_data_the_build_says_what_to_pass(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "newinfra.cost_model.catalog.build", "--out", str(tmp_path / "o")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "--source: no shared/reference/catalog in" in done.stderr and "pass --source DIR" in done.stderr
    assert not (tmp_path / "o").exists()


def test_find_reference_walks_up(tmp_path: Path) -> None:
    (tmp_path / "shared" / "reference" / "catalog" / "aws").mkdir(parents=True)
    deep = tmp_path / "wt" / "checkout"
    deep.mkdir(parents=True)
    assert build.find_reference(deep) == tmp_path / "shared" / "reference" / "catalog"


@pytest.mark.parametrize("args", [["place", "dev", "--json"], ["check", "dev", "--json"],
                                  ["plan", "dev", "--json", "--out", "{tmp}/dev"]],
                         ids=["place", "check", "plan"])
def test_each_command_prints_the_warning_at_most_once(args: list[str], tmp_path: Path) -> None:
    """In a subprocess, as a user runs it (the loader's log line and its Python warning must not both show)."""
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if argv[0] == "place":  # on a copy: place may rewrite the lock
        import shutil

        for name in ("Pulumi.yaml", "stacks"):
            src = REPO_ROOT / name
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, tmp_path / name)
        cwd = tmp_path
    else:
        cwd = REPO_ROOT
    done = subprocess.run([sys.executable, "-m", "newinfra", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("days old") <= 1, done.stderr
