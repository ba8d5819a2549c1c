"""Security-relevant inputs of the AWS components, as the engine would receive them."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest
from newinfra.components.aws.cluster import GpuCluster, ami_type
from newinfra.components.aws.network import Network
from newinfra.components.aws.storage import Storage
from newinfra.components.planning.pools import plan_node_pool

from newinfra.errors import ComponentInputError
from newinfra.offline import run_callable
from newinfra.placement import Placement

TAGS = {"owner": "ml-platform", "cost-center": "cc-1"}


def _provider():
    return pulumi.ResourceOptions(provider=aws.Provider("use1", region="us-east-1"))


def _pool(instance_type="p5.48xlarge", accel="H100", per_node=8, market="spot", nodes=2, kind="training",
          profile="development"):
    placement = Placement(workload="train", cloud="aws", region="us-east-1", zones=("use1-az4",),
                          instance_type=instance_type, accelerator=accel, accelerators_per_node=per_node,
                          nodes=nodes, min_nodes=1, max_nodes=nodes, market=market)
    return plan_node_pool(placement, kind=kind, profile=profile)


def _cluster_record(pools, **extra):
    def body():
        opts = _provider()
        net = Network("net", {"cidr": "10.0.0.0/16", "zone_ids": ["use1-az4"], "tags": TAGS}, opts)
        GpuCluster("gpu", {"vpc_id": net.vpc_id, "subnet_ids": net.private_subnet_ids,
                           "subnet_by_zone": net.private_subnet_by_zone, "node_pools": pools, "tags": TAGS,
                           **extra}, opts)
    return run_callable(body)


@pytest.fixture(scope="module")
def network_record():
    return run_callable(lambda: Network("net", {"cidr": "10.0.0.0/16", "zone_ids": ["use1-az4"],
                                                "nat_per_zone": True, "tags": TAGS}, _provider()))


def test_network_private_nodes_flow_logs_and_endpoint(network_record):
    subnets = network_record.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 4  # two zones (topped up from one) x private/public
    assert all(s["inputs"]["mapPublicIpOnLaunch"] is False for s in subnets)
    assert {s["inputs"]["availabilityZoneId"] for s in subnets} == {"use1-az1", "use1-az4"}  # sorted AZ IDs top up
    flow = network_record.of_type("aws:ec2/flowLog:FlowLog")
    assert flow and flow[0]["inputs"]["trafficType"] == "ALL"
    assert network_record.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")[0]["inputs"]["vpcEndpointType"] == "Gateway"
    default_sg = network_record.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")[0]["inputs"]
    assert default_sg["ingress"] == [] and default_sg["egress"] == []
    assert len(network_record.of_type("aws:ec2/natGateway:NatGateway")) == 2  # nat_per_zone
    assert all(r["parent"] for r in network_record.resources if r["custom"] and "providers" not in r["type"])


def test_network_one_nat_outside_prod():
    record = run_callable(lambda: Network("net", {"cidr": "10.1.0.0/16", "zone_ids": [], "tags": TAGS},
                                          _provider()))
    assert len(record.of_type("aws:ec2/natGateway:NatGateway")) == 1


def test_storage_bucket_kms_public_block_versioning_lifecycle():
    record = run_callable(lambda: Storage("ds", {"dataset": "tokens", "classification": "internal",
                                                 "tags": TAGS}, _provider()))
    key = record.of_type("aws:kms/key:Key")[0]["inputs"]
    assert key["enableKeyRotation"] is True
    policy = json.loads(key["policy"])
    principals = [s["Principal"] for s in policy["Statement"]]
    assert all(p != "*" and p.get("AWS") != "*" for p in principals)
    sse = {r["name"]: r["inputs"] for r in record.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")}
    data_rule = sse["ds-data"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert data_rule["sseAlgorithm"] == "aws:kms" and data_rule["kmsMasterKeyId"].startswith("arn:aws:kms:")
    for block in record.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"):
        assert all(block["inputs"][flag] is True for flag in
                   ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert all(v["inputs"]["versioningConfiguration"]["status"] == "Enabled"
               for v in record.of_type("aws:s3/bucketVersioning:BucketVersioning"))
    assert record.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert record.of_type("aws:s3/bucketLogging:BucketLogging")[0]["inputs"]["targetPrefix"] == "s3/"
    bucket = next(b for b in record.of_type("aws:s3/bucket:Bucket") if b["name"] == "ds-data")
    assert bucket["inputs"]["tags"]["newinfra-data-classification"] == "internal"
    assert not record.of_type("aws:fsx/lustreFileSystem:LustreFileSystem")


def test_storage_lustre_encrypted_and_linked():
    record = run_callable(lambda: Storage("ds", {
        "dataset": "tokens", "classification": "internal", "tags": TAGS,
        "shared_file_system": {"vpc_id": "vpc-1", "vpc_cidr": "10.0.0.0/16", "subnet_id": "subnet-1"}},
        _provider()))
    fs = record.of_type("aws:fsx/lustreFileSystem:LustreFileSystem")[0]["inputs"]
    assert fs["kmsKeyId"].startswith("arn:aws:kms:us-east-1:")
    link = record.of_type("aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation")[0]["inputs"]
    assert link["dataRepositoryPath"].startswith("s3://ds-data-")
    for rule in record.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        assert rule["inputs"]["cidrIpv4"] == "10.0.0.0/16"


def test_storage_rejects_bad_lustre_size():
    with pytest.raises(ComponentInputError, match="capacity_gib: 1000 .* 1200, 2400"):
        run_callable(lambda: Storage("ds", {"dataset": "t", "classification": "c", "shared_file_system": {
            "vpc_id": "v", "vpc_cidr": "10.0.0.0/16", "subnet_id": "s", "capacity_gib": 1000}}, _provider()))


@pytest.fixture(scope="module")
def cluster_record():
    return _cluster_record([_pool(), _pool("g6.xlarge", "L4", 1, "on-demand", 1, "inference")])


def test_eks_private_encrypted_logged(cluster_record):
    eks = cluster_record.of_type("aws:eks/cluster:Cluster")[0]["inputs"]
    assert eks["vpcConfig"]["endpointPrivateAccess"] is True
    assert eks["vpcConfig"]["endpointPublicAccess"] is False
    assert eks["encryptionConfig"]["resources"] == ["secrets"]
    assert eks["encryptionConfig"]["provider"]["keyArn"].startswith("arn:aws:kms:")
    assert set(eks["enabledClusterLogTypes"]) >= {"api", "audit", "authenticator"}


def test_launch_templates_imdsv2_encrypted_no_public_ip(cluster_record):
    templates = cluster_record.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert len(templates) == 2
    for lt in templates:
        inputs = lt["inputs"]
        assert inputs["metadataOptions"]["httpTokens"] == "required"
        assert inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
        ebs = inputs["blockDeviceMappings"][0]["ebs"]
        assert ebs["encrypted"] == "true" and ebs["volumeType"] == "gp3" and ebs["kmsKeyId"]
        assert all(ni["associatePublicIpAddress"] == "false" for ni in inputs["networkInterfaces"])


def test_efa_and_placement_group_for_multi_node_training(cluster_record):
    p5 = next(lt for lt in cluster_record.of_type("aws:ec2/launchTemplate:LaunchTemplate")
              if lt["name"].endswith("train-spot"))["inputs"]
    assert len(p5["networkInterfaces"]) == 32
    assert {ni["interfaceType"] for ni in p5["networkInterfaces"]} == {"efa"}
    assert p5["placement"]["groupName"]
    groups = cluster_record.of_type("aws:ec2/placementGroup:PlacementGroup")
    assert [g["inputs"]["strategy"] for g in groups] == ["cluster"]
    efa_rules = cluster_record.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert efa_rules and all("cidrIpv4" not in r["inputs"] for r in efa_rules)


def test_node_groups_taints_labels_capacity_scale_to_zero(cluster_record):
    groups = {g["name"]: g["inputs"] for g in cluster_record.of_type("aws:eks/nodeGroup:NodeGroup")}
    train = groups["gpu-train-spot"]
    assert train["amiType"] == "AL2023_x86_64_NVIDIA"
    assert train["capacityType"] == "SPOT"
    assert train["taints"] == [{"effect": "NO_SCHEDULE", "key": "nvidia.com/gpu", "value": "present"}]
    assert train["labels"]["newinfra.io/market"] == "spot"
    assert train["scalingConfig"]["minSize"] == 0
    assert len(train["subnetIds"]) == 1  # multi-node training stays in one zone
    assert groups["gpu-train"]["capacityType"] == "ON_DEMAND"


def test_prod_keeps_the_floor_and_neuron_and_bottlerocket_ami_types():
    pool = _pool(profile="production")
    assert pool["min_size"] == 1
    assert ami_type("trn1.32xlarge", "al2023") == "AL2023_x86_64_NEURON"
    assert ami_type("g6.xlarge", "bottlerocket") == "BOTTLEROCKET_x86_64_NVIDIA"
    with pytest.raises(ComponentInputError, match="no accelerated EKS AMI"):
        ami_type("m5.large", "al2023")


def test_capacity_block_needs_its_offering_and_gets_a_reservation():
    pool = _pool(market="capacity-block")
    with pytest.raises(ComponentInputError, match="capacity_block_offerings: pool 'train-capacity-block'"):
        _cluster_record([pool])
    record = _cluster_record([pool], capacity_block_offerings={pool["name"]: "cb-0123456789abcdef"})
    assert record.of_type("aws:ec2/capacityBlockReservation:CapacityBlockReservation")
    lt = record.of_type("aws:ec2/launchTemplate:LaunchTemplate")[0]["inputs"]
    assert lt["instanceMarketOptions"]["marketType"] == "capacity-block"
    assert "placement" not in lt
    assert record.of_type("aws:eks/nodeGroup:NodeGroup")[0]["inputs"]["capacityType"] == "CAPACITY_BLOCK"


def test_public_endpoint_only_with_explicit_cidrs():
    record = _cluster_record([_pool()], public_access_cidrs=["203.0.113.0/24"])
    vpc = record.of_type("aws:eks/cluster:Cluster")[0]["inputs"]["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    with pytest.raises(ComponentInputError, match="open the API"):
        _cluster_record([_pool()], public_access_cidrs=["0.0.0.0/0"])


def test_regression_eks_p6_b300_training_gets_efa_and_a_placement_group():
    """Bug: EKS pools on p6-b300 (EFA on every size, no per-size count listed) got no EFA interfaces and no
    placement group, while the AWS VM pool gave the same type EFA; the interconnect rule flagged the result."""
    from newinfra.components.planning.vm_pool import host_facts
    from newinfra.policies.packs import pack
    from newinfra.policies.runner import evaluate

    record = _cluster_record([_pool("p6-b300.48xlarge", "B300")])
    template = record.of_type("aws:ec2/launchTemplate:LaunchTemplate")[0]["inputs"]
    interfaces = template["networkInterfaces"]
    vm_pool_interfaces = host_facts("aws", "p6-b300.48xlarge", "B300", 8).efa_interfaces
    assert len(interfaces) == vm_pool_interfaces >= 1  # the node group and the VM pool read one fact
    assert {ni["interfaceType"] for ni in interfaces} == {"efa"}
    assert template["placement"]["groupName"]
    assert [g["inputs"]["strategy"] for g in record.of_type("aws:ec2/placementGroup:PlacementGroup")] == ["cluster"]
    evaluation = evaluate(record.resources, {}, project="test", stack="dev", environment="dev",
                          selected=[pack("data_security")])
    assert [v.message for v in evaluation.violations if v.policy == "gpu-multi-node-interconnect"] == []
