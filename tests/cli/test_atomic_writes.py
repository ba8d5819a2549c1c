"""Writes that never tear (newinfra.atomic): locks and records are replaced whole, `place` holds a file lock,
and a `plan` killed mid-write leaves the previous record complete."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from newinfra.atomic import PAUSE_ENV, file_lock, read_dir_target, replace_dir, write_text
from newinfra.record import Record, load_record
from tests.paths import REPO_ROOT

NEWINFRA = [sys.executable, "-m", "newinfra"]


def test_write_text_replaces_whole_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "dev.json"
    write_text(target, "old\n")
    write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["dev.json"]


def test_replace_dir_swaps_the_whole_directory(tmp_path: Path) -> None:
    out = tmp_path / "dev"
    replace_dir(out, {"a.json": "1\n", "b.json": "1\n"})
    replace_dir(out, {"a.json": "2\n", "b.json": "2\n"})
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a.json": "2\n", "b.json": "2\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev"]  # no temp or old copies left


def test_replace_dir_refuses_a_directory_with_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds other files"):
        replace_dir(tmp_path, {"a.json": "1\n"})
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_reader_finds_the_old_copy_between_the_two_renames(tmp_path: Path) -> None:
    out = tmp_path / "dev"
    Record("p", "dev", [{"urn": "u", "type": "t"}]).write(out)
    os.replace(out, tmp_path / ".dev.old")  # the instant after the first rename
    assert read_dir_target(out) == tmp_path / ".dev.old"
    assert load_record(out).resources == [{"urn": "u", "type": "t"}]
    assert load_record(out).stack == "dev"


def test_file_lock_serialises(tmp_path: Path) -> None:
    lock = tmp_path / ".dev.json.lock"
    events: list[str] = []

    def second() -> None:
        with file_lock(lock):
            events.append("second")

    with file_lock(lock):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        events.append("first done")
    thread.join(5)
    assert events == ["first done", "second"]


def project_copy(tmp_path: Path) -> Path:
    """The files `place` and `plan` read, copied so the tests never touch the repository's own."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy2(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    # Only what git tracks: a checkout's own `place` leaves its flock files (.ENV.json.lock) and caches behind.
    shutil.copytree(REPO_ROOT / "stacks", root / "stacks", ignore=shutil.ignore_patterns("__pycache__", ".*.lock"))
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return project_copy(tmp_path_factory.mktemp("atomic"))


def test_two_places_at_once_both_succeed_and_the_lock_is_whole(project: Path) -> None:
    lock = project / "stacks" / "placements" / "dev.json"
    original = lock.read_text()
    lock.unlink()  # both must solve and write
    env = {**os.environ, "CI": "1"}
    procs = [subprocess.Popen([*NEWINFRA, "place", "dev", "--json"], cwd=project, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    results = [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]
    for code, _, err in results:
        assert code == 0, err
    written = sorted(json.loads(out)["lockWritten"] for _, out, _ in results)
    assert written == [False, True]  # the second waited for the first and found its lock current
    assert json.loads(lock.read_text())["workloads"]
    assert lock.read_text() == original
    leftovers = sorted(p.name for p in lock.parent.iterdir() if p.name.startswith(".") or p.suffix == ".tmp")
    assert leftovers == [".dev.json.lock"]


def test_plan_killed_mid_write_leaves_the_old_record_whole(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "dev"
    Record("newinfra", "dev", [{"urn": "old", "type": "t"}], {"old": True}, {"k": "v"}).write(out)
    before = {p.name: p.read_text() for p in out.iterdir()}
    env = {**os.environ, "CI": "1", PAUSE_ENV: "60"}
    proc = subprocess.Popen([*NEWINFRA, "plan", "dev", "--out", str(out), "--json"], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not list(tmp_path.glob(".dev.new.*/*")):  # the temp copy has its first file: mid-write
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "plan never started writing"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert {p.name: p.read_text() for p in read_dir_target(out).iterdir()} == before
    assert load_record(out).resources == [{"urn": "old", "type": "t"}]
