"""`newinfra plan dev`: the walking skeleton's promises, checked on the record it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT


def _plan(out: Path, seed: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run([sys.executable, "-m", "newinfra", "plan", "dev", "--out", str(out), "--json"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    runs = [_plan(a, "1"), _plan(b, "2")]
    for run in runs:
        assert run.returncode == 0, run.stderr
    return a, b, json.loads(runs[0].stdout)


def test_two_runs_are_byte_identical(two_runs):
    a, b, _ = two_runs
    for name in ("resources.json", "outputs.json", "config.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_record_holds_the_secure_skeleton(two_runs):
    a, _, summary = two_runs
    resources = json.loads((a / "resources.json").read_text())
    assert resources == sorted(resources, key=lambda r: r["urn"])
    by_type: dict[str, list[dict]] = {}
    for r in resources:
        by_type.setdefault(r["type"], []).append(r["inputs"])
        assert set(r) == {"type", "name", "urn", "parent", "provider", "inputs", "custom", "dependencies",
                          "propertyDependencies"}
    (eks,) = [c for c in by_type["aws:eks/cluster:Cluster"] if c["name"] == "newinfra-dev-aws-us-east-1-gpu"]
    assert eks["encryptionConfig"]["resources"] == ["secrets"]
    assert eks["vpcConfig"]["endpointPrivateAccess"] and not eks["vpcConfig"]["endpointPublicAccess"]
    gpu_amis = {g["amiType"] for g in by_type["aws:eks/nodeGroup:NodeGroup"]}
    assert gpu_amis <= {"AL2023_x86_64_NVIDIA", "AL2023_x86_64_NEURON", "BOTTLEROCKET_x86_64_NVIDIA"}
    for lt in by_type["aws:ec2/launchTemplate:LaunchTemplate"]:
        assert lt["metadataOptions"]["httpTokens"] == "required"
        assert all(m["ebs"]["encrypted"] == "true" for m in lt["blockDeviceMappings"])
    assert by_type["aws:ec2/flowLog:FlowLog"]
    sse = by_type["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"]
    assert any(s["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms" for s in sse)
    for block in by_type["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"]:
        assert block["blockPublicAcls"] and block["blockPublicPolicy"]
        assert block["ignorePublicAcls"] and block["restrictPublicBuckets"]
    assert all(k["enableKeyRotation"] for k in by_type["aws:kms/key:Key"])
    providers = by_type["pulumi:providers:aws"]
    assert all(json.loads(p["defaultTags"])["tags"]["cost-center"] == "cc-4120" for p in providers)
    assert {g["market"] for g in summary["nodeGroups"]} >= {"spot"}


def test_outputs_hide_the_kubeconfig(two_runs):
    a, _, _ = two_runs
    outputs = json.loads((a / "outputs.json").read_text())
    assert outputs["kubeconfigs"] == "[secret]"
    assert outputs["clusters"] and outputs["buckets"] and outputs["nodeGroups"]


def test_up_refuses_a_stale_lock_and_names_the_command():
    from newinfra.config import ConfigError
    from newinfra.offline import read_stack_config, run_program
    from newinfra.offline.engine import ProgramError

    config = read_stack_config(REPO_ROOT, "dev")
    config["newinfra:monthlyBudgetUsd"] = config["newinfra:monthlyBudgetUsd"] + 500  # the request changed
    with pytest.raises(ProgramError, match=r"stale placement lock: .*run `newinfra place dev`") as info:
        run_program(REPO_ROOT, "dev", config=config, preview=False)
    assert isinstance(info.value.__cause__, ConfigError)
