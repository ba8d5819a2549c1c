"""Issue 17, bad input: one line naming the file and the mismatch, exit 2, no file written."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from newinfra.cli.app import app
from tests.paths import REPO_ROOT


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)


def _copy(src, dst, **meta):
    shutil.copytree(src, dst)
    config = json.loads((dst / "config.json").read_text())
    config.update(meta)
    (dst / "config.json").write_text(json.dumps(config))
    return dst


def _run(*args):
    res = CliRunner().invoke(app, ["report", *map(str, args)])
    return res.exit_code, res.stderr.strip().splitlines()


def test_writes_the_page(prod_record_dir, tmp_path, needs_dot):
    out = tmp_path / "r.html"
    code, _ = _run("prod", "--record", prod_record_dir, "--out", out,
                   "--base-lock", REPO_ROOT / "stacks/placements/prod.json")
    assert code == 0 and out.read_text().startswith("<!doctype html>")
    assert "Against the base branch" in out.read_text()


def test_record_of_another_stack_than_the_lock(prod_record_dir, tmp_path):
    record = _copy(prod_record_dir, tmp_path / "rec", stack="dev")
    out = tmp_path / "r.html"
    code, err = _run("prod", "--record", record, "--out", out)
    assert code == 2 and len(err) == 1 and not out.exists()
    assert "stacks/placements/prod.json" in err[0] and "stack 'prod'" in err[0] and "stack 'dev'" in err[0]
    assert str(record) in err[0]


def test_lock_of_another_stack(prod_record_dir, tmp_path):
    out = tmp_path / "r.html"
    code, err = _run("prod", "--record", prod_record_dir, "--lock", REPO_ROOT / "stacks/placements/dev.json",
                     "--out", out)
    assert code == 2 and len(err) == 1 and not out.exists()
    assert "dev.json: is the lock of stack 'dev'" in err[0] and "stack 'prod'" in err[0]


def test_base_record_of_another_project(prod_record_dir, tmp_path):
    base = _copy(prod_record_dir, tmp_path / "base", project="someone-else")
    out = tmp_path / "r.html"
    code, err = _run("prod", "--record", prod_record_dir, "--base-record", base, "--out", out)
    assert code == 2 and len(err) == 1 and not out.exists()
    assert f"--base-record: {base} is a record of project 'someone-else', not 'newinfra'" in err[0]


def test_unwritable_output(prod_record_dir, tmp_path, needs_dot):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = blocker / "r.html"  # its folder is a file: no user can write there, root included
    code, err = _run("prod", "--record", prod_record_dir, "--out", out)
    assert code == 2 and len(err) == 1 and err[0].startswith(f"newinfra report: --out: {out}: cannot write")
    assert blocker.read_text() == "x" and not list(tmp_path.glob("**/.r.html.*"))


def test_no_dot_is_a_clear_exit_2(prod_record_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` here
    out = tmp_path / "r.html"
    code, err = _run("prod", "--record", prod_record_dir, "--out", out)
    assert code == 2 and not out.exists()
    assert err[-1] == ("newinfra report: newinfra report needs Graphviz's `dot` on PATH to lay out the resource "
                       "graph: install it (`apt-get install graphviz`, or `make setup`)")
