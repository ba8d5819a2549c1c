"""The contract every hosted component keeps, in both forms (Python class and component provider class):

- a bad argument raises ComponentInputError (the SDK's InputPropertyError) naming the property path and
  the bad value, before anything is registered — not even the component itself;
- each form registers with an alias to the other form's type, so moving a stack between them replaces
  nothing.
"""

from __future__ import annotations

import pulumi
import pulumi_alicloud as alicloud
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pytest
from newinfra.components import __main__ as provider_host
from newinfra.components.planning.pools import plan_node_pool
from newinfra.components.tokens import OTHER_FORM, PYTHON_TOKENS, provider_token, python_token

from newinfra.errors import ComponentInputError
from newinfra.offline import run_callable
from newinfra.offline.engine import RecordingMonitor
from newinfra.placement import Placement

TAGS = {"owner": "ml-platform", "cost-center": "cc-1"}
GCP_KEY = "projects/p/locations/us-central1/keyRings/ring/cryptoKeys/key"
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"


def _node_pool(cloud, **fields):
    return plan_node_pool(Placement(cloud=cloud, workload="train", nodes=2, min_nodes=1, max_nodes=4, market="spot",
                                    node_hourly_usd=1.0, **fields), kind="training", profile="production")


def aws_pool(**overrides):
    return _node_pool("aws", region="us-east-1", zones=("use1-az4",), instance_type="p5.48xlarge",
                      accelerator="H100", accelerators_per_node=8, **overrides)


def gcp_pool(**overrides):
    return _node_pool("gcp", region="us-central1", zones=("us-central1-a",), instance_type="a3-highgpu-8g",
                      accelerator="H100", accelerators_per_node=8, **overrides)


def ali_pool(**overrides):
    return _node_pool("alicloud", region="cn-beijing", zones=("cn-beijing-i",),
                      instance_type="ecs.ebmgn7e.32xlarge", accelerator="A100-80GB", accelerators_per_node=8,
                      **overrides)


def vm_spec(**overrides):
    return {"name": "train", "workload": "train", "instance_type": "p5.48xlarge", "accelerator": "H100",
            "accelerators_per_node": 8, "zones": ["use1-az4"], "min_size": 0, "max_size": 4,
            "desired_size": 2, "market": "on-demand", "compact": True, "kind": "training", **overrides}


GCP_VM = {"instance_type": "a3-highgpu-8g", "zones": ["us-central1-a"]}
ALI_VM = {"instance_type": "ecs.gn7i-c32g1.8xlarge", "accelerator": "A10", "accelerators_per_node": 1,
          "zones": ["cn-beijing-i"], "compact": False}
TEAMS = [{"name": "vision", "gpus": 16}]
WORKLOADS = [{"name": "train", "kind": "training", "priority": 800}]
ACM_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"

# hosted class name -> (provider factory, valid args)
VALID = {
    "AwsNetwork": ("aws", lambda: {"cidr": "10.0.0.0/16", "zone_ids": ["use1-az4"], "tags": TAGS}),
    "AwsStorage": ("aws", lambda: {"dataset": "imagenet", "classification": "internal", "tags": TAGS}),
    "AwsGpuCluster": ("aws", lambda: {"vpc_id": "vpc-1", "subnet_ids": ["subnet-1"],
                                      "subnet_by_zone": {"use1-az4": "subnet-1"}, "node_pools": [aws_pool()],
                                      "tags": TAGS}),
    "AwsGpuVmPool": ("aws", lambda: {"pool": vm_spec(), "region": "us-east-1", "vpc_id": "vpc-1",
                                     "subnet_ids": ["subnet-1"], "kms_key_arn": "arn:aws:kms:us-east-1:1:key/k",
                                     "tags": TAGS}),
    "GcpNetwork": ("gcp", lambda: {"cidr": "10.64.0.0/12", "regions": ["us-central1"]}),
    "GcpStorage": ("gcp", lambda: {"location": "us-central1", "tags": TAGS}),
    "GcpGpuCluster": ("gcp", lambda: {"location": "us-central1", "network": "n", "subnetwork": "s",
                                      "kms_key": GCP_KEY, "node_pools": [gcp_pool()], "tags": TAGS,
                                      "network_cidr": "10.64.0.0/12"}),
    "GcpGpuVmPool": ("gcp", lambda: {"pool": vm_spec(**GCP_VM), "region": "us-central1", "subnetwork": "s",
                                     "kms_key_id": GCP_KEY, "tags": TAGS}),
    "GcpTpuSlice": ("gcp", lambda: {"zone": "us-central1-a", "accelerator_type": "v5litepod-8", "network": "n",
                                    "subnetwork": "s", "tags": TAGS}),
    "AlicloudNetwork": ("alicloud", lambda: {"cidr": "10.0.0.0/16", "zones": ["cn-beijing-h", "cn-beijing-i"],
                                             "tags": TAGS}),
    "AlicloudStorage": ("alicloud", lambda: {"tags": TAGS}),
    "AlicloudGpuCluster": ("alicloud", lambda: {"vswitches": {"cn-beijing-i": "vsw-i"}, "kms_key_id": "key-1",
                                                "node_pools": [ali_pool()], "tags": TAGS}),
    "AlicloudGpuVmPool": ("alicloud", lambda: {"pool": vm_spec(**ALI_VM), "region": "cn-beijing",
                                               "vpc_id": "vpc-1", "vswitch_ids": ["vsw-i"], "kms_key_id": "key-1",
                                               "image_id": "ubuntu_22_04_x64_20G_alibase_20250101.vhd",
                                               "os": "ubuntu-22.04", "tags": TAGS}),
    "AwsBudgetGuard": ("aws", lambda: {"budget_usd": 12000.0, "thresholds": [{"percent": 80}],
                                       "recipients": ["ops@example.com"], "scope": {"environment": "dev"},
                                       "profile": "development", "tags": TAGS,
                                       "stop_gpu": {"percent": 100, "roles": ["gpu-nodes"]}}),
    "AwsInterruptionQueue": ("aws", lambda: {"cluster_name": "newinfra-dev-gpu", "tags": TAGS}),
    "GcpBudgetGuard": ("gcp", lambda: {"billing_account": "01A2B3-C4D5E6-F7A8B9", "budget_usd": 30000.0,
                                       "thresholds": [{"percent": 80}], "recipients": ["ops@example.com"],
                                       "scope": {"environment": "staging"}, "region": "us-central1"}),
    "GpuPlatform": ("kubernetes", lambda: {"cloud": "aws", "node_pools": [aws_pool()], "teams": TEAMS,
                                           "workloads": WORKLOADS}),
    "AwsDatasetCache": ("aws", lambda: {"dataset": "corpus", "size_gb": 3000, "classification": "internal",
                                        "region": "us-east-1", "residency": {"internal": ["us-*"]},
                                        "bucket_name": "corpus-data", "key_arn": "arn:aws:kms:us-east-1:1:key/k",
                                        "tags": TAGS, "vpc_id": "vpc-1", "vpc_cidr": "10.0.0.0/16",
                                        "subnet_id": "subnet-1"}),
    "GcpDatasetCache": ("gcp", lambda: {"dataset": "tokens", "size_gb": 800, "classification": "internal",
                                        "region": "us-central1", "residency": {"internal": ["us-*"]},
                                        "bucket_name": "tokens-data", "kubeconfig": KUBECONFIG}),
    "InferenceService": ("kubernetes", lambda: {
        "cloud": "aws", "profile": "development", "workload": "train", "namespace": "vision",
        "image": "vllm/vllm-openai:v0.10.1", "accelerators_per_replica_node": 8, "min_replicas": 0,
        "max_replicas": 2, "priority_class": "newinfra-default", "node_pools": [aws_pool()],
        "exposure": {"tls_certificate": ACM_CERT}, "tags": TAGS}),
}

# hosted class name -> (argument overrides, property path, the bad value as the message shows it)
BAD = {
    "AwsNetwork": ({"cidr": "8.8.0.0/16"}, "cidr", "'8.8.0.0/16'"),
    "AwsStorage": ({"shared_file_system": {"vpc_id": "vpc-1", "vpc_cidr": "10.0.0.0/16", "subnet_id": "subnet-1",
                                           "capacity_gib": 1000}}, "shared_file_system.capacity_gib", "1000"),
    "AwsGpuCluster": ({"node_pools": [aws_pool(), {**aws_pool(), "name": "cpu", "instance_type": "m5.large"}]},
                      "node_pools[1].instance_type", "'m5.large'"),
    "AwsGpuVmPool": ({"pool": vm_spec(instance_type="m5.large")}, "pool.instance_type", "'m5.large'"),
    "GcpNetwork": ({"flow_log_sampling": 2}, "flow_log_sampling", "2.0"),
    "GcpStorage": ({"shared_file_system": {"network": "n", "capacity_gib": 1024, "tier": "BASIC_HDD"}},
                   "shared_file_system.tier", "'BASIC_HDD'"),
    "GcpGpuCluster": ({"node_pools": [gcp_pool(), {**gcp_pool(), "name": "block", "market": "capacity-block"}]},
                      "node_pools[1].market", "'capacity-block'"),
    "GcpGpuVmPool": ({"boot_disk_gb": 10}, "boot_disk_gb", "10"),
    "GcpTpuSlice": ({"topology": "4x2"}, "topology", "'4x2'"),
    "AlicloudNetwork": ({"zones": ["cn-beijing-h"]}, "zones", "['cn-beijing-h']"),
    "AlicloudStorage": ({"rotation_interval": "1s"}, "rotation_interval", "'1s'"),
    "AlicloudGpuCluster": ({"node_pools": [{**ali_pool(), "instance_type": "ecs.g7.8xlarge"}]},
                           "node_pools[0].instance_type", "'ecs.g7.8xlarge'"),
    "AlicloudGpuVmPool": ({"system_disk_gb": 10}, "system_disk_gb", "10"),
    "AwsBudgetGuard": ({"thresholds": [{"percent": 80}, {"percent": 250}]}, "thresholds[1].percent", "250"),
    "AwsInterruptionQueue": ({"cluster_name": ""}, "cluster_name", "''"),
    "GcpBudgetGuard": ({"recipients": []}, "recipients", "[]"),
    # DcgmAlerts is the platform's last child: its thresholds used to fail after the others existed.
    "GpuPlatform": ({"alert_thresholds": {"idle_minutes": 1}}, "alert_thresholds.idle_minutes", "1"),
    "AwsDatasetCache": ({"cache": {"associations": [{"path": f"/p{i}", "prefix": f"p{i}/"} for i in range(9)]}},
                        "cache.associations", "9 data repository associations"),
    "GcpDatasetCache": ({"region": "europe-west4"}, "cache.region", "'europe-west4'"),
    "InferenceService": ({"exposure": {"tls_certificate": ACM_CERT, "allowed_cidrs": ["0.0.0.0/0"]}},
                         "exposure.allowed_cidrs[0]", "'0.0.0.0/0'"),
}

PYTHON_CLASSES = {
    "AwsNetwork": "aws.network.Network", "AwsStorage": "aws.storage.Storage",
    "AwsGpuCluster": "aws.cluster.GpuCluster", "AwsGpuVmPool": "aws.vm_pool.GpuVmPool",
    "AwsBudgetGuard": "aws.guards.BudgetGuard", "AwsInterruptionQueue": "aws.guards.InterruptionQueue",
    "GcpBudgetGuard": "gcp.guards.BudgetGuard",
    "GcpNetwork": "gcp.network.Network", "GcpStorage": "gcp.storage.Storage",
    "GcpGpuCluster": "gcp.cluster.GpuCluster", "GcpGpuVmPool": "gcp.vm_pool.GpuVmPool",
    "GcpTpuSlice": "gcp.tpu.TpuSlice", "AlicloudNetwork": "alicloud.network.Network",
    "AlicloudStorage": "alicloud.storage.Storage", "AlicloudGpuCluster": "alicloud.cluster.GpuCluster",
    "AlicloudGpuVmPool": "alicloud.vm_pool.GpuVmPool", "GpuPlatform": "k8s.platform.GpuPlatform",
    "AwsDatasetCache": "aws.dataset_cache.DatasetCache", "GcpDatasetCache": "gcp.dataset_cache.DatasetCache",
    "InferenceService": "k8s.serving.InferenceService",
}


def python_class(hosted: str) -> type[pulumi.ComponentResource]:
    import importlib

    module, cls = PYTHON_CLASSES[hosted].rsplit(".", 1)
    return getattr(importlib.import_module(f"newinfra.components.{module}"), cls)


def _opts(cloud: str) -> pulumi.ResourceOptions:
    if cloud == "aws":
        return pulumi.ResourceOptions(provider=aws.Provider("use1", region="us-east-1"))
    if cloud == "gcp":
        return pulumi.ResourceOptions(provider=gcp.Provider("usc1", region="us-central1", project="p"))
    if cloud == "alicloud":
        return pulumi.ResourceOptions(provider=alicloud.Provider("bj", region="cn-beijing"))
    return pulumi.ResourceOptions(providers=[k8s.Provider("cluster", kubeconfig=KUBECONFIG)])


def test_the_tables_cover_every_hosted_component():
    hosted = {cls.__name__ for cls in provider_host.HOSTED}
    assert hosted == set(PYTHON_TOKENS) == set(VALID) == set(BAD) == set(PYTHON_CLASSES)


@pytest.mark.parametrize("hosted", sorted(PYTHON_TOKENS))
def test_both_forms_take_their_token_from_the_one_table(hosted):
    provider_cls = getattr(provider_host, hosted)
    assert python_class(hosted).TYPE == python_token(hosted)
    assert provider_cls.TYPE == provider_token(hosted) == f"newinfra:index:{hosted}"
    assert OTHER_FORM[python_token(hosted)] == provider_token(hosted)
    assert OTHER_FORM[provider_token(hosted)] == python_token(hosted)


@pytest.mark.parametrize("form", ["python", "provider"])
@pytest.mark.parametrize("hosted", sorted(BAD))
def test_a_bad_argument_fails_with_its_path_before_anything_is_registered(hosted, form):
    cloud, valid = VALID[hosted]
    overrides, path, shown = BAD[hosted]
    cls = python_class(hosted) if form == "python" else getattr(provider_host, hosted)
    raised: list[ComponentInputError] = []

    def body():
        with pytest.raises(ComponentInputError) as info:
            cls("bad", {**valid(), **overrides}, _opts(cloud))
        raised.append(info.value)

    record = run_callable(body)
    error = raised[0]
    assert isinstance(error, pulumi.InputPropertyError) and isinstance(error, ValueError)
    assert error.property_path == path
    assert str(error) == f"{path}: {error.reason}"
    assert shown in error.reason
    # Only the test's own provider: neither the component nor any child was registered.
    assert [r["type"] for r in record.resources if not r["type"].startswith("pulumi:providers:")] == []


@pytest.fixture
def received(monkeypatch):
    """What the monitor receives: (type, name) -> the types of the registration's alias specs."""
    seen: dict[tuple[str, str], list[str]] = {}
    register = RecordingMonitor.RegisterResource

    def spy(self, request):
        seen[(request.type, request.name)] = [a.spec.type for a in request.aliases if a.HasField("spec")]
        return register(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", spy)
    return seen


@pytest.mark.parametrize("form", ["python", "provider"])
@pytest.mark.parametrize("hosted", sorted(VALID))
def test_each_form_registers_with_the_other_form_as_alias(hosted, form, received):
    cloud, valid = VALID[hosted]
    cls = python_class(hosted) if form == "python" else getattr(provider_host, hosted)
    mine, other = ((python_token(hosted), provider_token(hosted)) if form == "python"
                   else (provider_token(hosted), python_token(hosted)))
    user_alias = pulumi.Alias(name="old-name")
    record = run_callable(lambda: cls("it", valid(), pulumi.ResourceOptions.merge(
        _opts(cloud), pulumi.ResourceOptions(aliases=[user_alias]))))
    assert record.of_type(mine) and not record.of_type(other)
    assert other in received[(mine, "it")]  # the user's own alias is kept beside it
    assert "" in received[(mine, "it")] and len(received[(mine, "it")]) == 2
