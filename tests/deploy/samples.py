"""gpu_validate reports in the shape ansible/playbooks/validate.yml writes (one JSON per host), built on the
role's own check list so a renamed check shows up here."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from tests.paths import REPO_ROOT

_SPEC = importlib.util.spec_from_file_location(
    "newinfra_test_gpu_health", REPO_ROOT / "ansible" / "roles" / "gpu_validate" / "module_utils" / "gpu_health.py")
health = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(health)


def report(host: str, failing: dict[str, str] | None = None) -> dict:
    """A host's report: every check passes except ``failing`` (check name -> message)."""
    failing = failing or {}
    checks = [{"name": name, "status": "fail" if name in failing else "pass",
               "message": failing.get(name, f"{name} ok")} for name in health.CHECK_NAMES]
    failed = [c["name"] for c in checks if c["status"] == "fail"]
    return {"host": host, "healthy": not failed, "failed": failed, "checks": checks,
            "facts": {"source": "nvml"}, "expect": {"expected_count": 8}}


def write_reports(directory: Path, reports: list[dict]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for r in reports:
        (directory / f"{r['host']}.json").write_text(json.dumps(r, indent=4, sort_keys=True) + "\n")
    return directory
