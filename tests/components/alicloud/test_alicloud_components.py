"""Security-relevant inputs of the Alibaba Cloud components, and their bad inputs."""

from __future__ import annotations

import json

import pulumi
import pulumi_alicloud as alicloud
import pytest
from newinfra.components.alicloud.cluster import GpuCluster
from newinfra.components.alicloud.network import Network
from newinfra.components.alicloud.storage import Storage
from newinfra.components.planning.pools import plan_node_pool

from newinfra.errors import ComponentInputError
from newinfra.offline import run_callable
from newinfra.placement import Placement

TAGS = {"owner": "ml-platform", "cost-center": "cc-1"}
ZONES = ["cn-beijing-h", "cn-beijing-i"]
ACK = "alicloud:cs/managedKubernetes:ManagedKubernetes"
POOL = "alicloud:cs/nodePool:NodePool"


def _opts():
    return pulumi.ResourceOptions(provider=alicloud.Provider("ali-cn-beijing", region="cn-beijing"))


def _pool(kind="training", profile="production", **overrides):
    fields = {"workload": "cn-train", "cloud": "alicloud", "region": "cn-beijing", "zones": ("cn-beijing-i",),
              "instance_type": "ecs.ebmgn7e.32xlarge", "accelerator": "A100-80GB", "accelerators_per_node": 8,
              "nodes": 2, "min_nodes": 1, "max_nodes": 4, "market": "spot"}
    return plan_node_pool(Placement(**{**fields, **overrides}), kind=kind, profile=profile)


@pytest.fixture(scope="module")
def record():
    def body():
        opts = _opts()
        net = Network("net", {"cidr": "10.32.0.0/16", "zones": ZONES, "tags": TAGS}, opts)
        storage = Storage("data", {"tags": TAGS, "classification": "cn-resident", "shared_file_system": {
            "vpc_id": net.vpc_id, "vswitch_id": net.vswitches["cn-beijing-i"], "zone": "cn-beijing-i",
            "vpc_cidr": "10.32.0.0/16", "capacity_gib": 500}}, opts)
        cluster = GpuCluster("ack", {"vswitches": net.vswitches, "kms_key_id": storage.key_id,
                           "security_group_id": net.security_group_id, "classification": "cn-resident",
                           "node_pools": [_pool(), _pool(kind="inference", workload="cn-serve", market="on-demand",
                                                         instance_type="ecs.gn7i-c32g1.8xlarge", accelerator="A10",
                                                         accelerators_per_node=1, zones=tuple(ZONES))],
                           "tags": TAGS}, opts)
        pulumi.export("kubeconfig", cluster.kubeconfig)
    return run_callable(body)


def test_network_two_zones_nat_snat_eip_flow_logs_closed_ingress(record):
    vswitches = record.of_type("alicloud:vpc/switch:Switch")
    assert sorted(v["inputs"]["zoneId"] for v in vswitches) == ZONES
    nat = record.of_type("alicloud:vpc/natGateway:NatGateway")[0]["inputs"]
    assert nat["natType"] == "Enhanced"
    assert record.of_type("alicloud:ecs/eipAddress:EipAddress")
    assert record.of_type("alicloud:ecs/eipAssociation:EipAssociation")[0]["inputs"]["instanceType"] == "Nat"
    snats = record.of_type("alicloud:vpc/snatEntry:SnatEntry")
    assert len(snats) == 2
    flow = record.of_type("alicloud:vpc/flowLog:FlowLog")[0]["inputs"]
    assert flow["resourceType"] == "VPC" and flow["trafficType"] == "All"
    rules = record.of_type("alicloud:ecs/securityGroupRule:SecurityGroupRule")
    ingress = [r["inputs"] for r in rules if r["inputs"]["type"] == "ingress"]
    assert ingress and all(r["cidrIp"] == "10.32.0.0/16" for r in ingress)
    assert all(r["inputs"].get("cidrIp") != "0.0.0.0/0" for r in rules)
    assert all(v["inputs"]["tags"]["cost-center"] == "cc-1" for v in vswitches)


def test_storage_kms_rotation_private_encrypted_versioned_bucket_and_nas(record):
    key = record.of_type("alicloud:kms/key:Key")[0]
    assert key["inputs"]["automaticRotation"] == "Enabled" and key["inputs"]["rotationInterval"] == "7776000s"
    buckets = {b["name"]: b["inputs"] for b in record.of_type("alicloud:oss/bucket:Bucket")}
    assert set(buckets) == {"data-data", "data-logs"}
    key_ids = set()
    for bucket in buckets.values():
        assert bucket["acl"] == "private"
        assert bucket["serverSideEncryptionRule"]["sseAlgorithm"] == "KMS"
        key_ids.add(bucket["serverSideEncryptionRule"]["kmsMasterKeyId"])
        assert bucket["versioning"] == {"status": "Enabled"}
        assert bucket["tags"]["newinfra-data-classification"] == "cn-resident"
    assert len(key_ids) == 1
    data = buckets["data-data"]
    assert data["logging"]["targetBucket"].startswith("data-logs")
    assert data["lifecycleRules"][0]["noncurrentVersionExpirations"] == [{"days": 30}]
    blocks = record.of_type("alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert len(blocks) == 2 and all(b["inputs"]["blockPublicAccess"] is True for b in blocks)
    nas = record.of_type("alicloud:nas/fileSystem:FileSystem")[0]["inputs"]
    assert nas["encryptType"] == 2 and nas["kmsKeyId"] in key_ids
    assert nas["fileSystemType"] == "extreme" and nas["capacity"] == 500
    assert record.of_type("alicloud:nas/accessRule:AccessRule")[0]["inputs"]["sourceCidrIp"] == "10.32.0.0/16"
    assert record.of_type("alicloud:nas/mountTarget:MountTarget")


def test_ack_private_api_server_encrypted_secrets_logs(record):
    ack = record.of_type(ACK)[0]["inputs"]
    assert ack["slbInternetEnabled"] is False
    assert ack["encryptionProviderKey"] == record.of_type("alicloud:nas/fileSystem:FileSystem")[0]["inputs"]["kmsKeyId"]
    assert ack["disableEncryption"] is False and ack["clusterSpec"] == "ack.pro.small"
    assert "apiserver" in ack["controlPlaneLogComponents"]
    assert ack["newNatGateway"] is False and len(ack["vswitchIds"]) == 2
    assert ack["tags"]["newinfra-data-classification"] == "cn-resident"
    kubeconfig = json.loads(record.outputs["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["server"].startswith("https://192.168.")  # intranet only
    assert kubeconfig["users"][0]["user"]["exec"]["command"] == "ack-ram-tool"


def test_gpu_pools_private_encrypted_spot_taints(record):
    pools = {p["inputs"]["nodePoolName"]: p["inputs"] for p in record.of_type(POOL)}
    assert set(pools) == {"test-test-cn-train-spot", "test-test-cn-serve"}  # run_callable: project and stack "test"
    key = record.of_type(ACK)[0]["inputs"]["encryptionProviderKey"]
    for pool in pools.values():
        assert pool["internetMaxBandwidthOut"] == 0
        assert pool["systemDiskEncrypted"] is True and pool["systemDiskKmsKey"] == key
        assert all(d["encrypted"] == "true" and d["kmsKeyId"] == key for d in pool["dataDisks"])
        assert pool["instanceMetadataOptions"] == {"httpTokens": "required"}
        assert pool["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
        assert pool["tags"]["owner"] == "ml-platform"
    train = pools["test-test-cn-train-spot"]
    assert train["instanceTypes"] == ["ecs.ebmgn7e.32xlarge"] and train["spotStrategy"] == "SpotAsPriceGo"
    assert train["scalingConfig"] == {"enable": True, "minSize": 1, "maxSize": 4}  # prod keeps its floor
    assert train["deploymentSetId"]  # multi-node training: low-latency deployment set
    assert {"key": "newinfra.io/market", "value": "spot"} in train["labels"]
    serve = pools["test-test-cn-serve"]
    assert serve["spotStrategy"] == "NoSpot" and "deploymentSetId" not in serve
    assert len(serve["vswitchIds"]) == 2
    sets = record.of_type("alicloud:ecs/ecsDeploymentSet:EcsDeploymentSet")
    assert [s["inputs"]["strategy"] for s in sets] == ["LowLatency"]


def check_refused(body, error, message):
    def run():
        with pytest.raises(error, match=message):
            body()
    record = run_callable(run)
    assert [r["type"] for r in record.resources] == ["pulumi:providers:alicloud"]


VSWITCHES = {"cn-beijing-h": "vsw-h", "cn-beijing-i": "vsw-i"}


@pytest.mark.parametrize(("pool", "extra", "error", "message"), [
    (_pool(instance_type="ecs.g7.8xlarge", accelerator="A10"), {}, ComponentInputError,
     r"instance_type: 'ecs.g7.8xlarge' is family 'g7', not a GPU family"),
    (_pool(instance_type="ecs.gn8v.8xlarge", accelerator="H20"), {}, ComponentInputError,
     r"family 'gn8v' is sold only after a sales ticket; set allow_sales_ticket_types true"),
    (_pool(instance_type="ecs.gn7i-c8g1.2xlarge", accelerator="H100"), {}, ComponentInputError,
     r"accelerator: 'H100' is not offered on Alibaba Cloud"),
    (_pool(market="capacity-block"), {}, ComponentInputError, r"market: 'capacity-block' is not sold on Alibaba"),
    (_pool(zones=("cn-beijing-k",)), {}, ComponentInputError, r"zones: \['cn-beijing-k'\] have no vSwitch"),
    (_pool(), {"vpc_cidr": "172.16.0.0/12"}, ValueError, r"pod_cidr: '172.20.0.0/16' overlaps the VPC's 172.16.0.0/12"),
])
def test_cluster_bad_input(pool, extra, error, message):
    args = {"vswitches": VSWITCHES, "kms_key_id": "key-1", "node_pools": [pool], "tags": TAGS, **extra}
    check_refused(lambda: GpuCluster("ack", args, _opts()), error, message)


def test_cluster_without_a_key_gets_a_rotating_one():
    args = {"vswitches": VSWITCHES, "node_pools": [_pool()], "tags": TAGS}
    record = run_callable(lambda: GpuCluster("ack", args, _opts()))
    key = record.of_type("alicloud:kms/key:Key")[0]
    assert key["inputs"]["automaticRotation"] == "Enabled"
    ack = record.of_type(ACK)[0]["inputs"]
    assert ack["encryptionProviderKey"].startswith("key-")
    assert record.of_type(POOL)[0]["inputs"]["systemDiskKmsKey"] == ack["encryptionProviderKey"]


def test_sales_ticket_type_with_the_flag():
    args = {"vswitches": VSWITCHES, "kms_key_id": "key-1", "tags": TAGS, "allow_sales_ticket_types": True,
            "node_pools": [_pool(instance_type="ecs.gn8v.8xlarge", accelerator="H20")]}
    record = run_callable(lambda: GpuCluster("ack", args, _opts()))
    assert record.of_type(POOL)[0]["inputs"]["instanceTypes"] == ["ecs.gn8v.8xlarge"]


@pytest.mark.parametrize(("body", "message"), [
    (lambda: Network("net", {"cidr": "10.32.0.0/16", "zones": ["cn-beijing-h"], "tags": TAGS}, _opts()),
     r"zones: \['cn-beijing-h'\] — a network needs vSwitches in at least 2 zones"),
    (lambda: Storage("s", {"tags": TAGS, "rotation_interval": "86400s"}, _opts()),
     r"rotation_interval: '86400s' must be seconds like '7776000s', between 604800s"),
    (lambda: Storage("s", {"tags": TAGS, "shared_file_system": {"vpc_id": "v", "vswitch_id": "s",
                                                                "zone": "z", "vpc_cidr": "0.0.0.0/0",
                                                                "capacity_gib": 100}}, _opts()),
     r"vpc_cidr: '0.0.0.0/0' would let anyone mount it"),
    (lambda: Storage("s", {"tags": TAGS, "shared_file_system": {"vpc_id": "v", "vswitch_id": "s", "zone": "z",
                                                                "vpc_cidr": "10.0.0.0/8", "capacity_gib": 50}},
                     _opts()),
     r"capacity_gib: 50 must be an integer from 100 to 262144 GiB"),
])
def test_network_and_storage_bad_input(body, message):
    check_refused(body, ValueError, message)


def test_cross_language_schema_keeps_plans_plain():
    from pulumi.provider.experimental.component import ComponentProvider

    schema = json.loads(ComponentProvider([Network, Storage], "newinfra").schema)
    network = schema["resources"]["newinfra:index:Network"]
    assert {"cidr", "zones", "tags"} <= set(network["requiredInputs"])
    assert network["inputProperties"]["zones"]["plain"] is True
    assert "tags" in schema["resources"]["newinfra:index:Storage"]["requiredInputs"]
