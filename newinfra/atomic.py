"""Writes that never tear: a reader (or a crash) sees the old content or the new, never a mix or an empty file.

A file is written to a unique temp file in its own directory (same file system, so the rename is atomic),
fsynced, then renamed over the target. A directory of files (a plan record) is built as a sibling temp
directory and swapped in by two renames; `read_dir_target` lets readers find the complete copy even in the
instant between the two renames. `file_lock` serialises read-modify-write cycles (`place`) across processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

# The test hook: a process that writes a record pauses here (seconds) with the temp copy half written, so a
# test can SIGKILL it mid-write deterministically. Unset in normal use.
PAUSE_ENV = "NEWINFRA_TEST_PAUSE_MID_WRITE"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically and durably."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _pause_mid_write() -> None:
    delay = os.environ.get(PAUSE_ENV)
    if delay:
        import time

        time.sleep(float(delay))


def replace_dir(target: Path, files: dict[str, str]) -> list[Path]:
    """Make ``target`` a directory holding exactly ``files`` (name -> text), swapped in as a whole.

    The new copy is written and fsynced in a sibling temp directory; the old directory is renamed aside and
    the new one renamed into place, then the old one removed. A crash leaves either the old directory, or the
    new one, or (between the two renames) the complete new copy beside the old one under ``.<name>.old``:
    `read_dir_target` finds a complete copy in every case. A target holding other files is refused (ValueError).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        if not target.is_dir() or target.is_symlink():
            raise ValueError(f"{target}: exists and is not a directory; give another output directory")
        others = sorted(p.name for p in target.iterdir() if p.name not in files)
        if others:
            raise ValueError(f"{target}: holds other files ({', '.join(others[:3])}): the record replaces its "
                             "directory as a whole, give an empty or record-only directory")
    new = Path(tempfile.mkdtemp(prefix=f".{target.name}.new.", dir=target.parent))
    try:
        for i, (name, text) in enumerate(sorted(files.items())):
            with open(new / name, "w", encoding="utf-8") as f:
                f.write(text)
                if i == 0:
                    f.flush()
                    _pause_mid_write()
                f.flush()
                os.fsync(f.fileno())
        os.chmod(new, 0o755)
        _fsync_dir(new)
        old = target.parent / f".{target.name}.old"
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            os.replace(target, old)
        os.replace(new, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return [target / name for name in sorted(files)]


def read_dir_target(target: Path) -> Path:
    """The complete copy of a directory `replace_dir` writes: ``target``, or, when a writer was killed between
    its two renames, the old copy it had moved aside."""
    target = Path(target)
    old = target.parent / f".{target.name}.old"
    if not target.exists() and old.is_dir():
        return old
    return target


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if missing), held for the block; blocks until free.
    The lock file stays (removing it would let a third process lock a different inode)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
