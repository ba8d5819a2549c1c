"""staging (GCP GPUs + TPU) and prod (AWS + GCP + Alibaba) plan offline with what the issue promises."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from newinfra.offline import run_program
from tests.paths import REPO_ROOT


@pytest.fixture(scope="module")
def staging():
    return run_program(REPO_ROOT, "staging")


@pytest.fixture(scope="module")
def prod():
    return run_program(REPO_ROOT, "prod")


def _inputs(record, type_token):
    return [r["inputs"] for r in record.of_type(type_token)]


def test_staging_private_gke_with_gpu_pool_tpu_bucket_and_flow_logs(staging):
    (cluster,) = _inputs(staging, "gcp:container/cluster:Cluster")
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert cluster["databaseEncryption"]["state"] == "ENCRYPTED" and cluster["databaseEncryption"]["keyName"]
    pools = _inputs(staging, "gcp:container/nodePool:NodePool")
    gpu_pools = [p for p in pools if p["nodeConfig"].get("guestAccelerators")]
    assert gpu_pools and gpu_pools[0]["nodeConfig"]["guestAccelerators"][0]["gpuDriverInstallationConfig"]
    assert gpu_pools[0]["nodeConfig"]["labels"]["gke-no-default-nvidia-gpu-device-plugin"] == "true"
    tpus = _inputs(staging, "gcp:tpu/v2Vm:V2Vm")
    assert tpus and tpus[0]["acceleratorType"] == "v5litepod-8"
    assert tpus[0]["networkConfig"]["enableExternalIps"] is False
    buckets = _inputs(staging, "gcp:storage/bucket:Bucket")
    assert buckets and all(b["publicAccessPrevention"] == "enforced" for b in buckets)
    subnets = _inputs(staging, "gcp:compute/subnetwork:Subnetwork")
    assert subnets and all(s["logConfig"] for s in subnets)


def test_prod_three_clouds_gpu_layer_everywhere(prod):
    assert prod.of_type("aws:eks/cluster:Cluster")
    assert prod.of_type("gcp:container/cluster:Cluster")
    (ack,) = _inputs(prod, "alicloud:cs/managedKubernetes:ManagedKubernetes")
    assert ack["slbInternetEnabled"] is False and ack["encryptionProviderKey"]
    ack_pools = _inputs(prod, "alicloud:cs/nodePool:NodePool")
    assert ack_pools and all(t.startswith(("ecs.gn", "ecs.ebmgn")) for p in ack_pools for t in p["instanceTypes"])
    assert prod.of_type("alicloud:oss/bucket:Bucket")
    releases = [r["chart"] for r in _inputs(prod, "kubernetes:helm.sh/v3:Release")]
    assert releases.count("gpu-operator") == 3  # one per cluster, whatever its cloud
    assert len(prod.of_type("kubernetes:scheduling.k8s.io/v1:PriorityClass")) == 9
    rules = _inputs(prod, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    exprs = json.dumps(rules)
    assert "DCGM_FI_DEV_XID_ERRORS" in exprs and "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL" in exprs


def test_prod_keeps_its_floor_and_tags_everything(prod):
    groups = _inputs(prod, "aws:eks/nodeGroup:NodeGroup")
    assert all(g["scalingConfig"]["minSize"] > 0 for g in groups)  # prod: no scale-to-zero
    assert all(g["tags"]["cost-center"] == "cc-4120" for g in groups)


@pytest.mark.parametrize("env, absent", [("staging", ("pulumi_aws", "pulumi_alicloud")),
                                         ("dev", ("pulumi_gcp", "pulumi_alicloud"))])
def test_a_stack_imports_only_the_clouds_it_uses(env, absent):
    code = ("import sys; from newinfra.offline import run_program; from tests.paths import REPO_ROOT; "
            f"run_program(REPO_ROOT, {env!r}); "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(absent)!r}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
