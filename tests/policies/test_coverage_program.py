"""A real program written to slip past the packs (tests/policies/fixtures/evasions), run offline by
`newinfra check`: every ``planted-*`` resource is reported by the rule meant for it, no ``clean-*`` one is."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from newinfra.cli.app import app

FIXTURE = Path(__file__).parent / "fixtures" / "evasions"
PLANTED = {
    ("accelerator-requests-no-public-ip", "planted-spot"),
    ("accelerator-requests-no-public-ip", "planted-lc"),
    ("accelerator-eip-not-public", "planted-eip"),
    ("bucket-no-public-access", "planted-foreign-policy"),
    ("iam-no-public-trust", "planted-open-role"),
    ("iam-no-wildcard-permissions", "planted-admin"),
    ("database-no-public-access", "planted-db"),
    ("load-balancer-tls-and-logs", "planted-http"),
    ("kubernetes-workload-security", "planted-agent"),
    ("kubernetes-workload-security", "planted-patch"),
    ("kubernetes-workload-security", "planted-rc"),
    ("kubernetes-service-exposure", "planted-ui"),
    ("kubernetes-rendered-manifests", "planted-yaml"),
    ("kubernetes-rendered-manifests", "planted-chart"),
}


def test_every_planted_evasion_is_caught_and_nothing_clean_is_reported() -> None:
    # The platform team maps the stack to its environment; the stack's own newinfra:environment may only tighten.
    result = CliRunner().invoke(app, ["check", "--cwd", str(FIXTURE), "--stack", "ml", "--json", "--policy-config",
                                      str(FIXTURE / "platform-policy.json")])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    found = {(v["policy"], v["resource"]) for v in data["violations"]
             if v["pack"] == "newinfra-data-security" and v["level"] == "mandatory"}
    assert found == PLANTED
    by_resource = {v["resource"]: v["message"] for v in data["violations"] if v["policy"] == "kubernetes-rendered-manifests"}
    assert "object Pod kube-system/debug (kubernetes-workload-security)" in by_resource["planted-yaml"]
    http = next(v["message"] for v in data["violations"] if v["resource"] == "planted-http")
    assert "plain HTTP on port 80 " in http
