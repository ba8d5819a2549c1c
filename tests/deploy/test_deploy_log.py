"""The deployment log: round trip, damage named by file:line with the bytes untouched, and the choice of the
last deploy that passed its gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newinfra.deploy.log import (
    LogError,
    NoGoodDeploy,
    append_deploy,
    append_gate,
    last_good,
    load_blob,
    log_path,
    read_log,
    sha256,
)

RECORD = "a" * 64


def _deploy(path: Path, n: int, verdict: str | None, **kw):
    d = append_deploy(path, time=f"2026-01-0{n}T00:00:00+00:00", kind=kw.get("kind", "up"), commit=f"c{n}",
                      config_text=f"config {n}\n", lock_text=f'{{"lock": {n}}}\n', record_sha256=RECORD,
                      rollback_of=kw.get("rollback_of"))
    if verdict is not None:
        append_gate(path, d.id, time=f"2026-01-0{n}T00:10:00+00:00", passed=verdict == "passed",
                    reasons=[] if verdict == "passed" else [f"node {n} unhealthy"])
    return d


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return log_path(tmp_path / "stacks", "dev")


def test_round_trip(path: Path) -> None:
    _deploy(path, 1, "passed")
    _deploy(path, 2, "failed")
    _deploy(path, 3, None, kind="rollback", rollback_of=1)
    deploys = read_log(path)
    assert [(d.id, d.kind, d.verdict, d.rollback_of) for d in deploys] == [
        (1, "up", "passed", None), (2, "up", "failed", None), (3, "rollback", "none", 1)]
    assert deploys[1].reasons == ("node 2 unhealthy",)
    assert deploys[0].config_sha256 == sha256("config 1\n")
    assert load_blob(path, deploys[0].lock_sha256) == '{"lock": 1}\n'
    lines = path.read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["deploy", "gate", "deploy", "gate", "deploy"]
    assert path.parent.name == "deployments"


def test_a_failed_gate_after_deploy_n_selects_deploy_n_minus_1(path: Path) -> None:
    for n in (1, 2):
        _deploy(path, n, "passed")
    _deploy(path, 3, "failed")
    chosen = last_good(read_log(path))
    assert chosen.id == 2
    assert load_blob(path, chosen.config_sha256) == "config 2\n"
    assert load_blob(path, chosen.lock_sha256) == '{"lock": 2}\n'


def test_a_deploy_that_never_passed_a_gate_is_never_chosen(path: Path) -> None:
    _deploy(path, 1, "passed")
    _deploy(path, 2, None)  # never gated
    _deploy(path, 3, "failed")
    assert last_good(read_log(path)).id == 1


def test_no_passed_deploy_is_no_choice(path: Path) -> None:
    _deploy(path, 1, None)
    _deploy(path, 2, "failed")
    with pytest.raises(NoGoodDeploy, match=r"no deploy passed its health gate \(1: none, 2: failed\)"):
        last_good(read_log(path))
    with pytest.raises(NoGoodDeploy):
        last_good([])


DAMAGE = {
    "truncated": (lambda b: b[:-20], "truncated line"),
    "not json": (lambda b: b.replace(b'"event": "gate"', b'"event": "gate', 1), "not a JSON object"),
    "skipped id": (lambda b: b.replace(b'"id": 2', b'"id": 7', 1), "deploy id is 7; valid: 2"),
    "unknown verdict": (lambda b: b.replace(b'"verdict": "failed"', b'"verdict": "ok"', 1), "verdict is 'ok'"),
    "gate of nothing": (lambda b: b + b'{"deploy": 9, "event": "gate", "reasons": [], "time": "t", '
                        b'"verdict": "passed"}\n', "gate for deploy 9"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damage_names_the_line_and_the_log_is_never_rewritten(path: Path, damage: str) -> None:
    _deploy(path, 1, "passed")
    _deploy(path, 2, "failed")
    edit, message = DAMAGE[damage]
    path.write_bytes(edit(path.read_bytes()))
    before = path.read_bytes()
    lines = before.split(b"\n")
    with pytest.raises(LogError, match=message) as err:
        read_log(path)
    line = int(str(err.value).split(f"{path}:", 1)[1].split(":", 1)[0])
    assert 1 <= line <= len(lines)
    for append in (lambda: _deploy(path, 3, None), lambda: append_gate(path, 1, time="t", passed=True, reasons=[])):
        with pytest.raises(LogError):
            append()
        assert path.read_bytes() == before


def test_the_truncated_line_is_the_last_one(path: Path) -> None:
    _deploy(path, 1, "passed")
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(LogError, match=rf"{path}:2: truncated line"):
        read_log(path)


def test_a_second_verdict_for_a_deploy_is_refused(path: Path) -> None:
    _deploy(path, 1, "passed")
    with pytest.raises(LogError, match="already has a gate verdict"):
        append_gate(path, 1, time="t", passed=False, reasons=["x"])


def test_an_edited_blob_is_refused(path: Path) -> None:
    d = _deploy(path, 1, "passed")
    (path.parent / "blobs" / d.config_sha256).write_text("edited\n")
    with pytest.raises(LogError, match="it was edited"):
        load_blob(path, d.config_sha256)
