"""No traceback reaches a user: an unexpected exception in any command is one line and exit 5
(INTERNAL_ERROR); a damaged record is bad input (2); the program's own crash is 4; only `check` exits 1."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newinfra import exits
from newinfra.cli.app import app, guarded
from newinfra.record import Record
from tests.paths import REPO_ROOT


def test_an_unexpected_exception_is_one_line_and_exit_5(monkeypatch, capsys) -> None:
    def boom() -> None:
        raise KeyError("surprise")

    import typer

    monkeypatch.delenv("NEWINFRA_DEBUG", raising=False)
    with pytest.raises(typer.Exit) as exit_:
        guarded("plan", boom)()
    assert exit_.value.exit_code == exits.INTERNAL_ERROR == 5
    assert capsys.readouterr().err == "newinfra plan: internal error: KeyError: 'surprise' (please report)\n"


def test_newinfra_debug_keeps_the_traceback(monkeypatch) -> None:
    def boom() -> None:
        raise KeyError("surprise")

    monkeypatch.setenv("NEWINFRA_DEBUG", "1")
    with pytest.raises(KeyError):
        guarded("plan", boom)()


def test_every_registered_command_is_guarded() -> None:
    for info in app.registered_commands:
        assert getattr(info.callback, "__wrapped__", None) is not None, info.name


def test_no_command_exits_1_except_check() -> None:
    """A literal exit 1 (or VIOLATION) anywhere in the CLI outside check.py would read as a verdict. `up` gives
    verdicts too: its preflight is check's, and a failed health gate is one."""
    for path in sorted((REPO_ROOT / "newinfra" / "cli").glob("*.py")):
        if path.name in ("check.py", "exits.py", "up.py"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "Exit", "exit"):
                for arg in node.args:
                    assert not (isinstance(arg, ast.Constant) and arg.value == 1), f"{path.name}:{node.lineno}"
            if isinstance(node, ast.Name):
                assert node.id != "VIOLATION", f"{path.name}:{node.lineno}"


@pytest.fixture
def record(tmp_path: Path) -> Path:
    out = tmp_path / "dev"
    Record("newinfra", "dev", [], {}, {}).write(out)
    return out


@pytest.mark.parametrize("damage", [
    ("resources.json", b""),
    ("resources.json", b'[{"urn": "x", "ty'),
    ("resources.json", b"\xff\xfe not utf-8"),
    ("resources.json", b'{"not": "a list"}'),
    ("config.json", b"[1, 2"),
    ("outputs.json", b"[]"),
    ("config.json", b"[]"),
], ids=["empty", "truncated", "not-utf8", "object", "config-truncated", "outputs-list", "config-list"])
def test_check_on_a_damaged_record_is_exit_2_with_a_message(record: Path, damage, monkeypatch) -> None:
    name, data = damage
    (record / name).write_bytes(data)
    monkeypatch.chdir(REPO_ROOT)
    result = CliRunner().invoke(app, ["check", "dev", "--record", str(record)])
    assert result.exit_code == exits.BAD_INPUT, result.output + repr(result.exception)
    assert "--record" in result.output and "damaged" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("content", [None, "", "{", "[]", '{"gpuVmPools": 3}'],
                         ids=["missing", "empty", "truncated", "list", "bad-pools"])
def test_inventory_on_damaged_or_missing_outputs_is_exit_2(tmp_path: Path, content) -> None:
    outputs = tmp_path / "outputs.json"
    if content is not None:
        outputs.write_text(content)
    result = CliRunner().invoke(app, ["inventory", "dev", "--outputs", str(outputs)])
    assert result.exit_code == exits.BAD_INPUT, result.output
    assert str(outputs) in result.output


def test_check_writes_an_error_section_for_the_pull_request(record: Path, tmp_path: Path, monkeypatch) -> None:
    (record / "resources.json").write_text("")
    monkeypatch.chdir(REPO_ROOT)
    md = tmp_path / "dev.md"
    result = CliRunner().invoke(app, ["check", "dev", "--record", str(record), "--markdown", str(md)])
    assert result.exit_code == exits.BAD_INPUT
    text = md.read_text()
    assert text.startswith("<!-- newinfra-check -->\n## newinfra policy check\n\n### ❌ `dev`: the check could not "
                           "run (exit 2)\n")
    assert "damaged" in text


def test_check_comment_names_the_price_date(tmp_path: Path, monkeypatch) -> None:
    from newinfra.cost_model.catalog import load_catalog

    monkeypatch.chdir(REPO_ROOT)
    out = tmp_path / "dev"
    assert CliRunner().invoke(app, ["plan", "dev", "--out", str(out), "--json"]).exit_code == 0
    md = tmp_path / "dev.md"
    result = CliRunner().invoke(app, ["check", "dev", "--record", str(out), "--markdown", str(md),
                                      "--base-lock", str(REPO_ROOT / "stacks" / "placements" / "dev.json")])
    assert result.exit_code in (exits.OK, exits.VIOLATION), result.output
    cat = load_catalog()
    date = json.loads((REPO_ROOT / "stacks" / "placements" / "dev.json").read_text())["priceDate"]
    assert f"_Prices as of {date} (the oldest price used; accelerator catalog {cat.version})._" in md.read_text()
    json.loads((out / "outputs.json").read_text())


def test_plan_leaves_no_event_loop_for_the_collector(tmp_path: Path) -> None:
    """The SDK's worker-thread event loops are closed at exit: no 'unclosed event loop' ResourceWarning and
    no 'Exception ignored in BaseEventLoop.__del__' (Invalid file descriptor: -1)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-W", "always::ResourceWarning", "-m", "newinfra", "plan", "dev",
                           "--json", "--out", str(tmp_path / "dev")], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "unclosed event loop" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr


@pytest.mark.parametrize("command", [["check"], ["plan"]])
def test_a_crashing_program_is_exit_4_not_a_verdict(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: broken\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n")
    (tmp_path / "__main__.py").write_text("raise KeyError('the program has a bug')\n")
    result = CliRunner().invoke(app, [*command, "--cwd", str(tmp_path), "--stack", "dev",
                                      *(["--out", str(tmp_path / "out")] if command == ["plan"] else [])])
    assert result.exit_code == exits.PROGRAM_ERROR, result.output
    assert "KeyError" in result.output and "the program has a bug" in result.output
    assert not (tmp_path / "out").exists()
