"""The health gate after a deploy: every cluster reachable, and every GPU node's `gpu_validate` report healthy.

The reports are what ansible/playbooks/validate.yml writes on the controller, one JSON per host
(``{"host", "healthy", "failed": [check names], "checks": [{"name", "status", "message"}], "validatedAt", ...}``,
ansible/roles/gpu_validate/module_utils/gpu_health.py). A report counts for a deploy only when it was written
after that deploy finished (``validatedAt``): yesterday's healthy report says nothing about today's nodes. `judge` is pure; `probe_clusters` is the one place
that opens a connection (a TCP connect to each cluster's API endpoint from the stack outputs).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPORT_KEYS = ("healthy", "failed", "checks")
VALIDATE_HINT = "run `ansible-playbook playbooks/validate.yml` against the stack's inventory"


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reasons: tuple[str, ...]  # why it failed, sorted; empty when it passed
    checked: tuple[str, ...]  # what was judged (clusters and hosts), sorted


@dataclass(frozen=True)
class Reachability:
    cluster: str
    reachable: bool
    detail: str


def cluster_endpoints(outputs: dict) -> dict[str, str]:
    """cluster name -> API endpoint URL, from the stack's ``clusters`` output (stacks/program.py)."""
    clusters = outputs.get("clusters") if isinstance(outputs, dict) else None
    found = {}
    for c in clusters if isinstance(clusters, list) else []:
        if isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("endpoint"), str):
            found[c["name"]] = c["endpoint"]
    return dict(sorted(found.items()))


def probe_clusters(outputs: dict, connect: Callable[..., object] = socket.create_connection,
                   timeout_s: float = 10.0) -> list[Reachability]:
    """A TCP connect to each cluster's API endpoint (host, port 443 unless the URL says otherwise)."""
    results = []
    for name, endpoint in cluster_endpoints(outputs).items():
        url = urlsplit(endpoint if "//" in endpoint else f"https://{endpoint}")
        if not url.hostname:
            results.append(Reachability(name, False, f"endpoint {endpoint!r} has no host"))
            continue
        port = url.port or (80 if url.scheme == "http" else 443)
        try:
            conn = connect((url.hostname, port), timeout=timeout_s)
            close = getattr(conn, "close", None)
            if close is not None:
                close()
            results.append(Reachability(name, True, f"{url.hostname}:{port} accepted a connection"))
        except OSError as err:
            results.append(Reachability(name, False, f"{url.hostname}:{port}: {err}"))
    return results


def read_reports(directory: Path) -> dict[str, object]:
    """host -> the parsed report (or the text of why it could not be read), from ``directory/*.json``."""
    reports: dict[str, object] = {}
    for path in sorted(Path(directory).glob("*.json")) if Path(directory).is_dir() else []:
        try:
            reports[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            reports[path.stem] = f"{path}: unreadable ({type(err).__name__}: {err})"
    return reports


def _stale(host: str, report: dict, since: datetime | None) -> str | None:
    """Why ``report`` does not belong to the deploy that finished at ``since``, or None."""
    if since is None:
        return None
    stamp = report.get("validatedAt")
    try:
        when = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        return (f"GPU node {host}: report has no usable validatedAt ({stamp!r}); it cannot be tied to this deploy: "
                f"{VALIDATE_HINT}")
    if when < since:
        return (f"GPU node {host}: report validated at {stamp}, before this deploy finished "
                f"({since.isoformat()}): stale")
    return None


def _report_problem(host: str, report: object, since: datetime | None = None) -> str | None:
    """Why ``report`` fails the gate, or None when the host is healthy and was validated after ``since``."""
    if isinstance(report, str):
        return f"GPU node {host}: {report}"
    if not isinstance(report, dict) or any(k not in report for k in REPORT_KEYS) \
            or not isinstance(report["healthy"], bool) or not isinstance(report["checks"], list):
        return f"GPU node {host}: not a gpu_validate report (needs {', '.join(REPORT_KEYS)})"
    stale = _stale(host, report, since)
    if stale:
        return stale
    failing = [c for c in report["checks"] if isinstance(c, dict) and c.get("status") == "fail"]
    if report["healthy"] and not failing and not report["failed"]:
        return None
    detail = "; ".join(f"{c.get('name')}: {c.get('message')}" for c in failing) or \
        f"failed checks {report['failed']}"
    return f"GPU node {host} is not healthy: {detail}"


def judge(reachability: list[Reachability], reports: dict[str, object], *, gpu_nodes_expected: bool = True,
          reports_dir: str = "the reports directory", since: str | None = None) -> Verdict:
    """Pass only when every cluster answered and every report says healthy and was written after ``since``
    (the deploy's end, ISO 8601 with a zone; None judges reports of any age). No cluster in the outputs is a
    failure (nothing was proven reachable); so is no report when the stack has GPU nodes."""
    after = datetime.fromisoformat(since) if since is not None else None
    reasons = []
    if not reachability:
        reasons.append("no cluster endpoint in the stack outputs: reachability not proven")
    for r in reachability:
        if not r.reachable:
            reasons.append(f"cluster {r.cluster} is not reachable: {r.detail}")
    if gpu_nodes_expected and not reports:
        reasons.append(f"no gpu_validate report in {reports_dir}: {VALIDATE_HINT}")
    for host in sorted(reports):
        problem = _report_problem(host, reports[host], after)
        if problem:
            reasons.append(problem)
    checked = sorted([f"cluster {r.cluster}" for r in reachability] + [f"node {h}" for h in reports])
    return Verdict(not reasons, tuple(sorted(reasons)), tuple(checked))


def gpu_nodes_expected(outputs: dict) -> bool:
    """Whether the stack runs GPU nodes: a node group with a desired size above zero, or any GPU VM pool."""
    if not isinstance(outputs, dict):
        return False
    found = outputs.get("nodeGroups")
    groups: list[Any] = found if isinstance(found, list) else []
    if any(isinstance(g, dict) and isinstance(g.get("desiredSize"), int) and g["desiredSize"] > 0 for g in groups):
        return True
    return bool(outputs.get("gpuVmPools"))
