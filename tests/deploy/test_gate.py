"""The health gate's verdicts on recorded gpu_validate reports and on cluster reachability."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newinfra.deploy.gate import (
    Reachability,
    cluster_endpoints,
    gpu_nodes_expected,
    judge,
    probe_clusters,
    read_reports,
)
from tests.deploy.samples import health, report, write_reports

OUTPUTS = {"clusters": [{"name": "b", "endpoint": "https://b.eks.example.com"},
                        {"name": "a", "endpoint": "https://a.example.com:8443"}],
           "nodeGroups": [{"pool": "p", "desiredSize": 2}], "gpuVmPools": []}
UP = [Reachability("a", True, "ok")]


def test_the_samples_carry_the_roles_checks() -> None:
    assert [c["name"] for c in report("h")["checks"]] == list(health.CHECK_NAMES)


def test_healthy_nodes_and_a_reachable_cluster_pass(tmp_path: Path) -> None:
    reports = read_reports(write_reports(tmp_path, [report("node-1"), report("node-2")]))
    verdict = judge(UP, reports)
    assert verdict.passed and verdict.reasons == ()
    assert verdict.checked == ("cluster a", "node node-1", "node node-2")


def test_an_unhealthy_node_fails_with_its_check_and_message(tmp_path: Path) -> None:
    reports = read_reports(write_reports(tmp_path, [
        report("node-1"), report("node-2", {"ecc_uncorrectable": "GPU 3: 2 uncorrectable ECC errors",
                                            "xid": "GPU 3: XID 79 (fell off the bus)"})]))
    verdict = judge(UP, reports)
    assert not verdict.passed
    assert verdict.reasons == ("GPU node node-2 is not healthy: ecc_uncorrectable: GPU 3: 2 uncorrectable ECC "
                               "errors; xid: GPU 3: XID 79 (fell off the bus)",)


def test_an_unreachable_cluster_fails() -> None:
    verdict = judge([Reachability("a", False, "a:443: timed out")], {"n": report("n")})
    assert verdict.reasons == ("cluster a is not reachable: a:443: timed out",)


def test_nothing_proven_is_not_a_pass(tmp_path: Path) -> None:
    verdict = judge([], read_reports(tmp_path / "missing"), reports_dir="build/gpu_validate")
    assert not verdict.passed
    assert verdict.reasons == (
        "no cluster endpoint in the stack outputs: reachability not proven",
        "no gpu_validate report in build/gpu_validate: run `ansible-playbook playbooks/validate.yml` against "
        "the stack's inventory")
    assert judge(UP, {}, gpu_nodes_expected=False).passed  # a stack without GPU nodes needs no report


@pytest.mark.parametrize("content", ["{\"healthy\": tr", json.dumps({"host": "n"}), json.dumps([1])])
def test_a_damaged_report_fails_the_gate(tmp_path: Path, content: str) -> None:
    (tmp_path / "node-9.json").write_text(content)
    verdict = judge(UP, read_reports(tmp_path))
    assert not verdict.passed
    assert len(verdict.reasons) == 1 and verdict.reasons[0].startswith("GPU node node-9: ")


def test_healthy_true_with_a_failing_check_is_not_trusted() -> None:
    r = report("n", {"nvlink": "link 3 down"})
    r["healthy"], r["failed"] = True, []
    assert judge(UP, {"n": r}).reasons == ("GPU node n is not healthy: nvlink: link 3 down",)


def test_probe_connects_to_each_endpoint() -> None:
    seen = []

    def connect(address, timeout):
        seen.append(address)
        if address[0] == "b.eks.example.com":
            raise TimeoutError("timed out")
        return None

    assert cluster_endpoints(OUTPUTS) == {"a": "https://a.example.com:8443", "b": "https://b.eks.example.com"}
    result = probe_clusters(OUTPUTS, connect=connect)
    assert seen == [("a.example.com", 8443), ("b.eks.example.com", 443)]
    assert [(r.cluster, r.reachable) for r in result] == [("a", True), ("b", False)]
    assert result[1].detail == "b.eks.example.com:443: timed out"


def test_gpu_nodes_expected() -> None:
    assert gpu_nodes_expected(OUTPUTS)
    assert not gpu_nodes_expected({"nodeGroups": [{"desiredSize": 0}], "gpuVmPools": []})
    assert gpu_nodes_expected({"nodeGroups": [], "gpuVmPools": [{"name": "vm"}]})
