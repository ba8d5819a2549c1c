"""Security-relevant inputs of the GCP components, as the engine would receive them, and their bad inputs."""

from __future__ import annotations

import json

import pulumi
import pulumi_gcp as gcp
import pytest
from newinfra.components.gcp.cluster import GpuCluster
from newinfra.components.gcp.network import Network
from newinfra.components.gcp.storage import Storage
from newinfra.components.gcp.tpu import TpuSlice
from newinfra.components.planning.gcp import IAP_RANGE
from newinfra.components.planning.pools import plan_node_pool

from newinfra.errors import ComponentInputError
from newinfra.offline import run_callable
from newinfra.placement import Placement

TAGS = {"owner": "ml-platform", "cost-center": "CC-1"}
KEY = "projects/p/locations/us-central1/keyRings/ring/cryptoKeys/key"
CLUSTER = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"


def _opts():
    return pulumi.ResourceOptions(provider=gcp.Provider("gcp-us-central1", region="us-central1", project="p"))


def _placement(**overrides):
    fields = {"workload": "train", "cloud": "gcp", "region": "us-central1",
              "zones": ("us-central1-a", "us-central1-b"), "instance_type": "a3-highgpu-8g", "accelerator": "H100",
              "accelerators_per_node": 8, "nodes": 2, "min_nodes": 1, "max_nodes": 4, "market": "spot"}
    return Placement(**{**fields, **overrides})


def _pool(kind="training", profile="development", **overrides):
    return plan_node_pool(_placement(**overrides), kind=kind, profile=profile)


TPU_MULTI = {"workload": "tpu-train", "instance_type": "v5litepod-16", "accelerator": "tpu-v5litepod",
             "accelerators_per_node": 16, "nodes": 1, "min_nodes": 1, "max_nodes": 2, "market": "on-demand",
             "tpu_topology": "4x4", "zones": ("us-central1-a",)}
TPU_SINGLE = {**TPU_MULTI, "workload": "tpu-serve", "instance_type": "v5litepod-8", "accelerators_per_node": 8,
              "tpu_topology": "2x4", "max_nodes": 3}


def _cluster(pools, **extra):
    def body():
        opts = _opts()
        net = Network("net", {"cidr": "10.64.0.0/12", "regions": ["us-central1"]}, opts)
        cluster = GpuCluster("gke", {"location": "us-central1", "network": net.network_id,
                                     "subnetwork": net.subnetworks["us-central1"].id, "kms_key": KEY,
                                     "node_pools": pools, "tags": TAGS, "network_cidr": "10.64.0.0/12", **extra}, opts)
        pulumi.export("kubeconfig", cluster.kubeconfig)
    return run_callable(body)


@pytest.fixture(scope="module")
def cluster_record():
    return _cluster([_pool(), _pool(kind="inference", workload="serve", instance_type="g2-standard-8",
                                    accelerator="L4", accelerators_per_node=1, market="on-demand"),
                     _pool(**TPU_MULTI), _pool(**TPU_SINGLE)], classification="internal")


def _pool_named(record, name):
    """The pool the component named ``name``; its physical name carries run_callable's project and stack."""
    return next(r["inputs"] for r in record.of_type(POOL) if r["inputs"]["name"] == f"test-test-{name}")


def test_network_flow_logs_private_access_nat_and_iap_only_ssh():
    record = run_callable(lambda: Network("net", {"cidr": "10.64.0.0/12", "regions": ["us-east4", "us-central1"]},
                                          _opts()))
    vpc = record.of_type("gcp:compute/network:Network")[0]["inputs"]
    assert vpc["autoCreateSubnetworks"] is False and vpc["routingMode"] == "REGIONAL"
    subnets = record.of_type("gcp:compute/subnetwork:Subnetwork")
    assert sorted(s["inputs"]["region"] for s in subnets) == ["us-central1", "us-east4"]
    for subnet in subnets:
        inputs = subnet["inputs"]
        assert inputs["privateIpGoogleAccess"] is True
        assert inputs["logConfig"]["flowSampling"] == 0.5 and inputs["logConfig"]["metadata"] == "INCLUDE_ALL_METADATA"
        assert [r["rangeName"] for r in inputs["secondaryIpRanges"]] == ["pods", "services"]
    assert len(record.of_type("gcp:compute/router:Router")) == 2
    nats = record.of_type("gcp:compute/routerNat:RouterNat")
    assert len(nats) == 2 and all(n["inputs"]["logConfig"]["enable"] for n in nats)
    firewalls = {f["name"]: f["inputs"] for f in record.of_type("gcp:compute/firewall:Firewall")}
    assert firewalls["net-allow-iap-ssh"]["sourceRanges"] == [IAP_RANGE]
    assert firewalls["net-allow-iap-ssh"]["allows"] == [{"protocol": "tcp", "ports": ["22"]}]
    for rule in firewalls.values():
        assert "0.0.0.0/0" not in rule["sourceRanges"]
        assert all(r.startswith("10.") or r == IAP_RANGE for r in rule["sourceRanges"])


def test_storage_cmek_bucket_never_public_with_versions_lifecycle_and_logs():
    record = run_callable(lambda: Storage("data", {
        "location": "us-central1", "tags": TAGS, "classification": "restricted",
        "shared_file_system": {"network": "projects/p/global/networks/n", "capacity_gib": 2048,
                               "zone": "us-central1-a"}}, _opts()))
    key = record.of_type("gcp:kms/cryptoKey:CryptoKey")[0]["inputs"]
    assert key["rotationPeriod"] == "7776000s" and key["purpose"] == "ENCRYPT_DECRYPT"
    members = {m["inputs"]["member"]: m["inputs"] for m in record.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    gcs_agent = "serviceAccount:service-271828182845@gs-project-accounts.iam.gserviceaccount.com"
    assert members[gcs_agent]["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    key_id = members[gcs_agent]["cryptoKeyId"]
    assert "/keyRings/data-keyring" in key_id and "/cryptoKeys/data-key" in key_id
    assert "serviceAccount:service-271828182845@cloud-filer.iam.gserviceaccount.com" in members
    buckets = {b["name"]: b["inputs"] for b in record.of_type("gcp:storage/bucket:Bucket")}
    for bucket in buckets.values():
        assert bucket["encryption"]["defaultKmsKeyName"] == key_id
        assert bucket["uniformBucketLevelAccess"] is True
        assert bucket["publicAccessPrevention"] == "enforced"
        assert bucket["versioning"] == {"enabled": True}
        assert bucket["labels"]["newinfra-data-classification"] == "restricted"
        assert bucket["labels"]["cost-center"] == "cc-1"
    data = buckets["data-data"]
    assert data["logging"]["logBucket"].startswith("data-logs")
    actions = sorted(r["action"]["type"] for r in data["lifecycleRules"])
    assert actions == ["AbortIncompleteMultipartUpload", "Delete"]
    fs = record.of_type("gcp:filestore/instance:Instance")[0]["inputs"]
    assert fs["kmsKeyName"] == key_id and fs["tier"] == "ZONAL"
    assert fs["fileShares"]["capacityGb"] == 2048


def test_private_cluster_encrypted_secrets_workload_identity_shielded(cluster_record):
    cluster = cluster_record.of_type(CLUSTER)[0]["inputs"]
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert cluster["privateClusterConfig"]["masterIpv4CidrBlock"] == "172.16.0.0/28"
    assert cluster["databaseEncryption"] == {"state": "ENCRYPTED", "keyName": KEY}
    assert cluster["workloadIdentityConfig"]["workloadPool"] == "newinfra-offline.svc.id.goog"
    assert cluster["enableShieldedNodes"] is True and cluster["enableLegacyAbac"] is False
    assert cluster["releaseChannel"] == {"channel": "REGULAR"}
    assert cluster["removeDefaultNodePool"] is True and cluster["initialNodeCount"] == 1
    assert "APISERVER" in cluster["loggingConfig"]["enableComponents"]
    assert cluster["masterAuthorizedNetworksConfig"]["gcpPublicCidrsAccessEnabled"] is False
    assert cluster["resourceLabels"]["newinfra-data-classification"] == "internal"
    # The transient default pool is as locked down as the real ones.
    assert cluster["nodeConfig"]["bootDiskKmsKey"] == KEY
    assert cluster["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    agents = {m["inputs"]["member"] for m in cluster_record.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    assert agents == {"serviceAccount:service-271828182845@container-engine-robot.iam.gserviceaccount.com",
                      "serviceAccount:service-271828182845@compute-system.iam.gserviceaccount.com"}
    kubeconfig = json.loads(cluster_record.outputs["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["server"].startswith("https://10.")
    assert kubeconfig["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    roles = sorted(m["inputs"]["role"] for m in cluster_record.of_type("gcp:projects/iAMMember:IAMMember"))
    assert "roles/editor" not in roles and "roles/logging.logWriter" in roles


def test_every_pool_is_private_shielded_and_encrypted(cluster_record):
    pools = cluster_record.of_type(POOL)
    assert len(pools) == 5  # H100, L4, two one-slice pools for the multi-host TPU, one single-host TPU pool
    sa = cluster_record.of_type("gcp:serviceaccount/account:Account")[0]["inputs"]["accountId"]
    for pool in pools:
        config = pool["inputs"]["nodeConfig"]
        assert config["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
        assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert config["bootDiskKmsKey"] == KEY
        assert config["serviceAccount"].startswith(sa + "@")
        assert pool["inputs"]["networkConfig"] == {"enablePrivateNodes": True}
        assert config["resourceLabels"]["owner"] == "ml-platform"


def test_gpu_pool_accelerators_spot_compact_taints_scale_from_zero(cluster_record):
    train = _pool_named(cluster_record, "train-spot")
    config = train["nodeConfig"]
    assert config["machineType"] == "a3-highgpu-8g"
    assert config["guestAccelerators"] == [{"type": "nvidia-h100-80gb", "count": 8,
                                            "gpuDriverInstallationConfig": {"gpuDriverVersion": "LATEST"}}]
    assert config["spot"] is True
    assert train["placementPolicy"] == {"type": "COMPACT"}
    assert train["nodeLocations"] == ["us-central1-a"]  # compact placement is one zone
    assert config["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    assert config["labels"]["newinfra.io/market"] == "spot"
    assert train["autoscaling"]["totalMinNodeCount"] == 0 and train["autoscaling"]["totalMaxNodeCount"] == 4
    serve = _pool_named(cluster_record, "serve")
    assert "placementPolicy" not in serve and serve["nodeLocations"] == ["us-central1-a", "us-central1-b"]
    assert serve["nodeConfig"]["spot"] is False
    assert serve["nodeConfig"]["guestAccelerators"][0]["type"] == "nvidia-l4"


def test_tpu_pools_carry_the_topology_and_machine_type(cluster_record):
    slices = [_pool_named(cluster_record, f"tpu-train-s{i}") for i in range(2)]
    for pool in slices:
        assert pool["placementPolicy"] == {"type": "COMPACT", "tpuTopology": "4x4"}
        assert pool["nodeConfig"]["machineType"] == "ct5lp-hightpu-4t"
        assert pool["autoscaling"]["totalMaxNodeCount"] == 4  # 16 chips / 4 per host
        assert pool["nodeConfig"]["taints"][0]["key"] == "google.com/tpu"
        assert "guestAccelerators" not in pool["nodeConfig"]
        assert pool["nodeConfig"]["resourceLabels"]["newinfra-tpu-slice"] == "v5litepod-16"
    assert [p["autoscaling"]["totalMinNodeCount"] for p in slices] == [0, 0]  # staging scales to zero
    single = _pool_named(cluster_record, "tpu-serve")
    assert single["placementPolicy"]["tpuTopology"] == "2x4"
    assert single["nodeConfig"]["machineType"] == "ct5lp-hightpu-8t"
    assert single["autoscaling"]["totalMaxNodeCount"] == 3


def test_prod_keeps_its_floor():
    record = _cluster([_pool(profile="production", market="on-demand")])
    pool = record.of_type(POOL)[0]["inputs"]
    assert pool["autoscaling"]["totalMinNodeCount"] == 1 and pool["nodeConfig"]["spot"] is False


def test_a_flex_start_pool_asks_dws_for_nodes_from_zero():
    # GKE flex-start: the flag on the node config, no reservation, scaling from zero anywhere in the zones, no
    # auto-repair, and at most GKE's seven days per VM.
    record = _cluster([_pool(profile="production", market="flex-start")])
    pool = record.of_type(POOL)[0]["inputs"]
    config = pool["nodeConfig"]
    assert config["flexStart"] is True and config["spot"] is False
    assert config["reservationAffinity"] == {"consumeReservationType": "NO_RESERVATION"}
    assert config["maxRunDuration"] == "604800s"
    assert pool["autoscaling"] == {"totalMinNodeCount": 0, "totalMaxNodeCount": pool["autoscaling"]["totalMaxNodeCount"],
                                   "locationPolicy": "ANY"}
    assert pool["initialNodeCount"] == 0 and pool["management"]["autoRepair"] is False


def check_refused(body, error, message):
    """The component raises before registering anything: the record holds only the provider."""
    def run():
        with pytest.raises(error, match=message):
            body()
    record = run_callable(run)
    assert [r["type"] for r in record.resources] == ["pulumi:providers:gcp"]


@pytest.mark.parametrize(("pools", "extra", "error", "message"), [
    ([_pool(accelerator="A10G", instance_type="g5.xlarge", accelerators_per_node=1)], {},
     ComponentInputError, r"accelerator: 'A10G' is not offered on GCP"),
    ([_pool(**{**TPU_MULTI, "tpu_topology": "2x8"})], {},
     ComponentInputError, r"tpu_topology: '2x8' does not match v5litepod-16 \(16 chips\).*\['4x4'\]"),
    ([_pool(**{**TPU_MULTI, "instance_type": "v5litepod-12", "tpu_topology": None})], {},
     ComponentInputError, r"'v5litepod-12' \(12 chips\) is not a v5litepod slice"),
    ([_pool(market="capacity-block")], {}, ComponentInputError, r"market: 'capacity-block' is not sold on GCP"),
    ([_pool()], {"release_channel": "NIGHTLY"}, ComponentInputError, r"release_channel: 'NIGHTLY' is not valid"),
    ([_pool()], {"private_endpoint": False}, ComponentInputError, r"master_authorized_cidrs: required"),
    ([_pool()], {"master_authorized_cidrs": ["0.0.0.0/0"]}, ComponentInputError, r"opens the control plane"),
    ([_pool()], {"master_cidr": "10.64.0.0/28"}, ValueError, r"master_cidr: '10.64.0.0/28' overlaps"),
    ([_pool()], {"tags": {"owner": "x"}}, ValueError, r"tags: missing required keys \['cost-center'\]"),
    ([{**_pool(), "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "Never"}]}], {},
     ValueError, r"taints\[\].effect: 'Never' is not valid"),
])
def test_cluster_bad_input(pools, extra, error, message):
    def body():
        GpuCluster("gke", {"location": "us-central1", "network": "n", "subnetwork": "s", "kms_key": KEY,
                           "node_pools": pools, "tags": TAGS, "network_cidr": "10.64.0.0/12", **extra}, _opts())
    check_refused(body, error, message)


def test_cluster_refuses_an_output_for_the_pools():
    def body():
        GpuCluster("gke", {"location": "us-central1", "network": "n", "subnetwork": "s", "kms_key": KEY,
                           "node_pools": pulumi.Output.from_input([]), "tags": TAGS}, _opts())
    check_refused(body, ComponentInputError, "node_pools: must be a plain value")


def _tpu(**extra):
    args = {"zone": "us-central1-a", "accelerator_type": "v5litepod-8", "network": "n", "subnetwork": "s",
            "tags": TAGS, **extra}
    return TpuSlice("tpu", args, _opts())


def test_tpu_vm_no_external_ip_spot_shielded_encrypted_disk():
    record = run_callable(lambda: _tpu(market="spot", topology="2x4", count=2, kms_key=KEY, data_disk_gib=200,
                                       classification="internal"))
    vms = record.of_type("gcp:tpu/v2Vm:V2Vm")
    assert len(vms) == 2
    for vm in vms:
        inputs = vm["inputs"]
        assert inputs["acceleratorType"] == "v5litepod-8" and "acceleratorConfig" not in inputs
        assert inputs["runtimeVersion"] == "v2-alpha-tpuv5-lite"
        assert inputs["networkConfig"]["enableExternalIps"] is False
        assert inputs["networkConfig"]["subnetwork"] == "s"
        assert inputs["schedulingConfig"] == {"spot": True}
        assert inputs["shieldedInstanceConfig"] == {"enableSecureBoot": True}
        assert inputs["serviceAccount"]["email"].startswith("test-test-tpu-nodes@")
        assert inputs["labels"]["newinfra-data-classification"] == "internal"
        assert inputs["dataDisks"][0]["mode"] == "READ_WRITE"
    disks = record.of_type("gcp:compute/disk:Disk")
    assert len(disks) == 2
    assert all(d["inputs"]["diskEncryptionKey"] == {"kmsKeySelfLink": KEY} for d in disks)
    assert all(d["inputs"]["type"] == "hyperdisk-balanced" for d in disks)
    grants = record.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert [g["inputs"]["member"] for g in grants] == [
        "serviceAccount:service-271828182845@compute-system.iam.gserviceaccount.com"]  # one grant for all disks


def test_tpu_disk_without_a_key_gets_a_rotating_one():
    record = run_callable(lambda: _tpu(data_disk_gib=100))
    key = record.of_type("gcp:kms/cryptoKey:CryptoKey")[0]
    assert key["inputs"]["rotationPeriod"] == "7776000s"
    assert record.of_type("gcp:kms/keyRing:KeyRing")[0]["inputs"]["location"] == "us-central1"
    disk = record.of_type("gcp:compute/disk:Disk")[0]["inputs"]
    assert "/cryptoKeys/tpu-disks-key" in disk["diskEncryptionKey"]["kmsKeySelfLink"]


def test_cluster_without_a_key_gets_a_rotating_one():
    def body():
        GpuCluster("gke", {"location": "us-central1", "network": "n", "subnetwork": "s", "node_pools": [_pool()],
                           "tags": TAGS}, _opts())
    record = run_callable(body)
    assert record.of_type("gcp:kms/cryptoKey:CryptoKey")[0]["inputs"]["rotationPeriod"] == "7776000s"
    cluster = record.of_type(CLUSTER)[0]["inputs"]
    assert "/cryptoKeys/gke-secrets-key" in cluster["databaseEncryption"]["keyName"]
    assert record.of_type(POOL)[0]["inputs"]["nodeConfig"]["bootDiskKmsKey"] == cluster["databaseEncryption"]["keyName"]


@pytest.mark.parametrize(("accelerator_type", "runtime"), [
    ("v5p-8", "v2-alpha-tpuv5"), ("v6e-8", "v2-alpha-tpuv6e"), ("v3-8", "tpu-ubuntu2204-base"),
    ("v2-8", "tpu-ubuntu2204-base")])
def test_tpu_generations(accelerator_type, runtime):
    record = run_callable(lambda: _tpu(accelerator_type=accelerator_type))
    vm = record.of_type("gcp:tpu/v2Vm:V2Vm")[0]["inputs"]
    assert vm["acceleratorType"] == accelerator_type and vm["runtimeVersion"] == runtime
    assert "schedulingConfig" not in vm


def test_tpu_non_standard_topology_goes_through_accelerator_config():
    record = run_callable(lambda: _tpu(accelerator_type="v5p-1024", topology="4x8x16"))
    vm = record.of_type("gcp:tpu/v2Vm:V2Vm")[0]["inputs"]
    assert vm["acceleratorConfig"] == {"type": "V5P", "topology": "4x8x16"} and "acceleratorType" not in vm


def test_tpu_queued_resource():
    record = run_callable(lambda: _tpu(queued=True))
    queued = record.of_type("gcp:tpu/v2QueuedResource:V2QueuedResource")[0]["inputs"]
    node = queued["tpu"]["nodeSpecs"][0]["node"]
    assert node["acceleratorType"] == "v5litepod-8" and node["runtimeVersion"] == "v2-alpha-tpuv5-lite"
    assert node["networkConfig"]["enableExternalIps"] is False
    assert queued["tpu"]["nodeSpecs"][0]["parent"] == "projects/newinfra-offline/locations/us-central1-a"
    assert not record.of_type("gcp:tpu/v2Vm:V2Vm")


@pytest.mark.parametrize(("extra", "error", "message"), [
    ({"topology": "4x2"}, ComponentInputError, r"topology: '4x2' does not match v5litepod-8 \(8 chips\); "
                                             r"valid topologies for v5litepod-8: \['2x4'\]"),
    ({"accelerator_type": "v5p-9"}, ComponentInputError, r"count TensorCores"),
    ({"accelerator_type": "v1-8"}, ComponentInputError, r"'v1-8' is not a TPU type GCP offers"),
    ({"market": "capacity-block"}, ComponentInputError, r"market: 'capacity-block' is not valid for TPU VMs"),
    ({"market": "flex-start"}, ComponentInputError, r"market: 'flex-start' is not buildable for TPU VMs with "
                                                    r"pulumi-gcp's V2QueuedResource \(no provisioning model\)"),
    ({"count": pulumi.Output.from_input(2)}, ComponentInputError, r"count: must be a plain value"),
    ({"queued": True, "market": "spot"}, ComponentInputError, r"cannot be combined with queued=true"),
    ({"queued": True, "accelerator_type": "v5p-1024", "topology": "4x4x32"}, ComponentInputError,
     r"topology: '4x4x32' needs acceleratorConfig"),
])
def test_tpu_bad_input(extra, error, message):
    check_refused(lambda: _tpu(**extra), error, message)


@pytest.mark.parametrize(("extra", "message"), [
    ({"rotation_period": "90d"}, r"rotation_period: '90d' must be seconds"),
    ({"shared_file_system": {"network": "n", "capacity_gib": 1024, "tier": "BASIC_HDD"}},
     r"shared_file_system.tier: 'BASIC_HDD' cannot use a customer-managed key"),
    ({"shared_file_system": {"network": "n", "capacity_gib": 100, "zone": "us-central1-a"}},
     r"capacity_gib: 100 is below the ZONAL minimum of 1024 GiB"),
])
def test_storage_bad_input(extra, message):
    check_refused(lambda: Storage("data", {"location": "us-central1", "tags": TAGS, **extra}, _opts()),
             ComponentInputError, message)


def test_cross_language_schema_keeps_plans_plain_and_wiring_as_inputs():
    from pulumi.provider.experimental.component import ComponentProvider

    schema = json.loads(ComponentProvider([Network, Storage, TpuSlice], "newinfra").schema)
    tpu = schema["resources"]["newinfra:index:TpuSlice"]
    assert {"zone", "acceleratorType", "network", "subnetwork", "tags"} <= set(tpu["requiredInputs"])
    assert tpu["inputProperties"]["acceleratorType"]["plain"] is True  # the slice is planned from it
    assert "plain" not in tpu["inputProperties"]["subnetwork"]  # another component's output
    assert {"location", "tags"} <= set(schema["resources"]["newinfra:index:Storage"]["requiredInputs"])
    assert schema["resources"]["newinfra:index:Network"]["inputProperties"]["regions"]["plain"] is True
