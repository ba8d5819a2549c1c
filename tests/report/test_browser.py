"""Issue 17: the prod report opened in headless Chromium (Debian's `chromium`), offline. Chromium's own log
(--enable-logging=stderr --v=0) carries every console message as `:CONSOLE:`; any one fails the test, and a
planted console.error proves the check sees them. The screenshot lands in build/report-prod.png.

Why no DevTools client: playwright would need its own browser download (not allowed here) or a version match
with Debian's chromium; the log needs nothing but the browser."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from newinfra.cli.app import app
from tests.paths import REPO_ROOT

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CONSOLE = re.compile(r":CONSOLE[:(]")


def _open(page, screenshot, size="1400,4000") -> tuple[list[str], str]:
    """Render ``page`` headless (load, then up to 5 s of virtual time for anything pending), save a screenshot;
    (console messages, Chromium's log)."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium, or `make setup`)")
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
                           f"--window-size={size}", f"--screenshot={screenshot}", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [line for line in proc.stderr.splitlines() if CONSOLE.search(line)], proc.stderr


def test_the_console_check_sees_errors(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<!doctype html><html><body><script>console.error('planted')</script></body></html>")
    messages, _ = _open(page, tmp_path / "bad.png", "400,300")
    assert any("planted" in m for m in messages)


def test_prod_report_renders_without_console_errors(prod_record_dir, needs_dot, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    page, shot = REPO_ROOT / "build/report-prod.html", REPO_ROOT / "build/report-prod.png"
    res = CliRunner().invoke(app, ["report", "prod", "--record", str(prod_record_dir), "--out", str(page)])
    assert res.exit_code == 0, res.output
    shot.unlink(missing_ok=True)
    messages, log = _open(page, shot)
    assert messages == [], messages
    assert shot.is_file() and shot.stat().st_size > 50_000, log[-1000:]  # a rendered page, not a blank one
