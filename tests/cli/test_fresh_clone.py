"""The README's quickstart on a fresh clone (tests/fresh_clone.sh): an empty pip cache and no debootstrap on
PATH at the start. Slow (it installs every dependency from the network), so only `make test` runs it; it runs
`make install` and `make plan ENV=dev`, not the whole `make test` (FULL=1 tests/fresh_clone.sh does that)."""

import shutil
import subprocess

import pytest

from tests.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "tests" / "fresh_clone.sh"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None or shutil.which("make") is None, reason="needs git and make")
def test_fresh_clone_installs_and_plans_dev() -> None:
    done = subprocess.run([str(SCRIPT), str(REPO_ROOT)], capture_output=True, text=True, timeout=1800,
                          check=False)
    if done.returncode == 2 and "debootstrap is on PATH" in done.stderr:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "+ make install\n" in done.stdout and "+ make plan ENV=dev\n" in done.stdout
    assert done.stdout.rstrip().endswith("fresh_clone: ok")
