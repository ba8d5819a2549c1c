"""Compute carries its data classification: the clusters of every cloud tag the cluster with theirs and each
node pool (node group, launch template) with its own workload's, through the one tag rule; a bad
classification fails before anything is registered."""

from __future__ import annotations

import pulumi
import pulumi_alicloud as alicloud
import pulumi_aws as aws
import pulumi_gcp as gcp
import pytest
from newinfra.components.alicloud.cluster import GpuCluster as AliCluster
from newinfra.components.aws.cluster import GpuCluster as AwsCluster
from newinfra.components.gcp.cluster import GpuCluster as GcpCluster
from newinfra.components.planning.tags import (
    CLASSIFICATION_KEY,
    checked_classification,
    strictest_classification,
    with_classification,
    with_cost_tags,
)

from newinfra.errors import ComponentInputError
from newinfra.offline import run_callable
from tests.components.test_contract import GCP_KEY, TAGS, ali_pool, aws_pool, gcp_pool

RESIDENCY = {"internal": ["us-east-1"], "cn-resident": ["cn-*"], "restricted": ["us-east-1", "eu-west-1"],
             "public": ["*"]}


# --- the tag rule --------------------------------------------------------------------------------------
def test_classification_is_added_under_the_one_key():
    assert with_classification({"a": "1"}, "internal") == {"a": "1", CLASSIFICATION_KEY: "internal"}
    assert with_classification({"a": "1"}, None) == {"a": "1"}
    assert with_cost_tags(TAGS, "internal")[CLASSIFICATION_KEY] == "internal"


@pytest.mark.parametrize("bad", ["", " internal", "x" * 129, 5, ["internal"]])
def test_a_bad_classification_names_the_argument_and_the_value(bad):
    with pytest.raises(ComponentInputError, match=r"^classification: .* is not a data classification; give the "
                                                  r"dataset's classification"):
        checked_classification(bad)
    with pytest.raises(ComponentInputError, match="^classification: "):
        with_cost_tags(TAGS, bad)


@pytest.mark.parametrize(("found", "region", "expected"), [
    ([], "us-east-1", None),
    ([None, None], "us-east-1", None),
    (["internal", None, "internal"], "eu-west-1", "internal"),  # shared: kept whatever the region
    # the one whose residency the region breaks, so the rule reports the cluster as it would that data alone
    (["public", "internal"], "eu-west-1", "internal"),
    (["cn-resident", "internal"], "cn-beijing", "internal"),
    (["cn-resident", "internal"], "us-east-1", "cn-resident"),
    # all allowed: the narrowest (no "*", fewest patterns), then by name
    (["public", "restricted", "internal"], "us-east-1", "internal"),
    (["public", "restricted"], "us-east-1", "restricted"),
    (["unlisted", "internal"], "us-east-1", "internal"),  # no residency entry: as broad as "*"
])
def test_strictest_classification(found, region, expected):
    assert strictest_classification(found, region, RESIDENCY) == expected
    assert strictest_classification(list(reversed(found)), region, RESIDENCY) == expected


# --- the clusters ------------------------------------------------------------------------------------
def _aws(args):
    return AwsCluster("gpu", {"vpc_id": "vpc-1", "subnet_ids": ["subnet-1"], "subnet_by_zone": {"use1-az4": "subnet-1"},
                              "tags": TAGS, **args}, pulumi.ResourceOptions(provider=aws.Provider("use1", region="us-east-1")))


def _gcp(args):
    return GcpCluster("gpu", {"location": "us-central1", "network": "n", "subnetwork": "s", "kms_key": GCP_KEY,
                              "network_cidr": "10.64.0.0/12", "tags": TAGS, **args},
                      pulumi.ResourceOptions(provider=gcp.Provider("usc1", region="us-central1", project="p")))


def _ali(args):
    return AliCluster("gpu", {"vswitches": {"cn-beijing-i": "vsw-i"}, "kms_key_id": "key-1", "tags": TAGS, **args},
                      pulumi.ResourceOptions(provider=alicloud.Provider("bj", region="cn-beijing")))


def _classes(record, type_token, path="tags"):
    out = {}
    for r in record.of_type(type_token):
        value = r["inputs"]
        for part in path.split("."):
            value = value.get(part) or {}
        out[r["name"]] = value.get(CLASSIFICATION_KEY)
    return out


def test_aws_cluster_node_groups_and_launch_templates_carry_classification():
    pools = [{**aws_pool(), "name": "train", "classification": "restricted"}, {**aws_pool(), "name": "serve"}]
    record = run_callable(lambda: _aws({"node_pools": pools, "classification": "internal"}))
    assert _classes(record, "aws:eks/cluster:Cluster") == {"gpu-eks": "internal"}
    # a pool with its own classification carries it; one without carries the cluster's
    assert _classes(record, "aws:eks/nodeGroup:NodeGroup") == {"gpu-train": "restricted", "gpu-serve": "internal"}
    templates = record.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert {t["name"]: t["inputs"]["tags"][CLASSIFICATION_KEY] for t in templates} == {
        "gpu-train": "restricted", "gpu-serve": "internal"}
    for t in templates:  # the instances and volumes launched from it say so too
        assert {s["tags"][CLASSIFICATION_KEY] for s in t["inputs"]["tagSpecifications"]} == \
            {t["inputs"]["tags"][CLASSIFICATION_KEY]}
    # what is not data-bearing stays as it was
    assert _classes(record, "aws:kms/key:Key") == {"gpu-secrets": None}


def test_aws_cluster_without_classification_tags_nothing():
    record = run_callable(lambda: _aws({"node_pools": [aws_pool()]}))
    assert set(_classes(record, "aws:eks/nodeGroup:NodeGroup").values()) == {None}
    assert _classes(record, "aws:eks/cluster:Cluster") == {"gpu-eks": None}


def test_gcp_node_pools_carry_their_own_classification():
    pools = [{**gcp_pool(), "name": "train", "classification": "restricted"}, {**gcp_pool(), "name": "serve"}]
    record = run_callable(lambda: _gcp({"node_pools": pools, "classification": "internal"}))
    assert _classes(record, "gcp:container/cluster:Cluster", "resourceLabels") == {"gpu-gke": "internal"}
    assert _classes(record, "gcp:container/nodePool:NodePool", "nodeConfig.resourceLabels") == {
        "gpu-train": "restricted", "gpu-serve": "internal"}


def test_alicloud_node_pools_carry_their_own_classification():
    pools = [{**ali_pool(), "name": "train", "classification": "cn-resident"}, {**ali_pool(), "name": "serve"}]
    record = run_callable(lambda: _ali({"node_pools": pools}))
    assert _classes(record, "alicloud:cs/managedKubernetes:ManagedKubernetes") == {"gpu-ack": None}
    assert _classes(record, "alicloud:cs/nodePool:NodePool") == {"gpu-train": "cn-resident", "gpu-serve": None}


@pytest.mark.parametrize(("build", "pool"), [(_aws, aws_pool), (_gcp, gcp_pool), (_ali, ali_pool)],
                         ids=["aws", "gcp", "alicloud"])
@pytest.mark.parametrize(("args", "path"), [
    ({"classification": ""}, "classification"),
    ({"pool_classification": 7}, "node_pools[1].classification"),
])
def test_a_bad_classification_fails_before_anything_is_registered(build, pool, args, path):
    pools = [pool(), {**pool(), "name": "second"}]
    args = dict(args)
    if "pool_classification" in args:
        pools[1]["classification"] = args.pop("pool_classification")
    raised = []

    def body():
        with pytest.raises(ComponentInputError) as info:
            build({"node_pools": pools, **args})
        raised.append(info.value)

    record = run_callable(body)
    assert raised[0].property_path == path
    assert [r["type"] for r in record.resources if not r["type"].startswith("pulumi:providers:")] == []
