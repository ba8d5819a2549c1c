"""GPU VM pools on the three clouds under the offline engine: the security-relevant inputs and the
inventory each pool exports."""

import pulumi
import pytest

from newinfra.errors import ComponentInputError
from newinfra.offline import run_callable
from newinfra.record import UNKNOWN

TAGS = {"owner": "ml-platform", "cost-center": "cc-42"}
INVENTORY_KEYS = {"name", "cloud", "region", "instanceType", "accelerator", "expectedAccelerators",
                  "driverBranch", "fabricManager", "efa", "os", "hosts", "group"}


def spec(**overrides):
    values = {"name": "train", "workload": "train", "instance_type": "p5.48xlarge", "accelerator": "H100",
              "accelerators_per_node": 8, "zones": ["use1-az4", "use1-az6"], "min_size": 0, "max_size": 4,
              "desired_size": 2, "market": "on-demand", "compact": True, "kind": "training"}
    values.update(overrides)
    return values


# --- AWS ----------------------------------------------------------------------------------------------

def aws_pool(pool=None, **extra):
    import pulumi_aws as aws
    from newinfra.components.aws.vm_pool import GpuVmPool

    def body():
        provider = aws.Provider("aws-us-east-1", region="us-east-1")
        component = GpuVmPool("fleet", {
            "pool": pool or spec(), "region": "us-east-1", "vpc_id": "vpc-0abc",
            "subnet_ids": ["subnet-a", "subnet-b"], "kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/k1",
            "tags": TAGS, **extra}, pulumi.ResourceOptions(provider=provider))
        pulumi.export("inventory", component.inventory)
        pulumi.export("role", component.role_name)

    return run_callable(body)


def test_aws_launch_template_is_locked_down():
    record = aws_pool()
    lt = record.of_type("aws:ec2/launchTemplate:LaunchTemplate")[0]["inputs"]
    assert lt["metadataOptions"]["httpTokens"] == "required"
    assert lt["metadataOptions"]["httpPutResponseHopLimit"] == 1
    ebs = lt["blockDeviceMappings"][0]["ebs"]
    assert (ebs["encrypted"], ebs["volumeType"], ebs["kmsKeyId"]) == (
        "true", "gp3", "arn:aws:kms:us-east-1:111122223333:key/k1")
    nics = lt["networkInterfaces"]
    assert len(nics) == 32 and {n["interfaceType"] for n in nics} == {"efa"}
    assert {n["associatePublicIpAddress"] for n in nics} == {"false"}
    # The Deep Learning AMI's SSM parameter is not among moto's public parameters: unknown offline, as
    # a preview shows a value not yet known (never an invented AMI id).
    assert lt["imageId"] == UNKNOWN
    assert {t["resourceType"] for t in lt["tagSpecifications"]} == {"instance", "network-interface", "volume"}
    assert all(t["tags"]["owner"] == "ml-platform" for t in lt["tagSpecifications"])


def test_aws_hosts_get_ssm_not_ssh_and_only_pool_members_get_in():
    record = aws_pool()
    sg = record.of_type("aws:ec2/securityGroup:SecurityGroup")[0]["inputs"]
    assert all(rule.get("self") and not rule.get("cidrBlocks") for rule in sg["ingress"])
    attachment = record.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")[0]["inputs"]
    assert attachment["policyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    role = record.of_type("aws:iam/role:Role")[0]["inputs"]
    assert "ec2.amazonaws.com" in role["assumeRolePolicy"]
    assert record.outputs["role"].startswith("fleet-host-")  # exported for dataset policies


def test_aws_multi_node_training_uses_a_cluster_placement_group_in_one_subnet():
    record = aws_pool()
    pg = record.of_type("aws:ec2/placementGroup:PlacementGroup")[0]["inputs"]
    group = record.of_type("aws:autoscaling/group:Group")[0]["inputs"]
    assert pg["strategy"] == "cluster" and group["placementGroup"] == pg["name"]
    assert group["vpcZoneIdentifiers"] == ["subnet-a"]
    assert (group["minSize"], group["desiredCapacity"], group["maxSize"]) == (0, 2, 4)
    assert {"key": "cost-center", "value": "cc-42", "propagateAtLaunch": True} in group["tags"]
    assert {"key": "newinfra.io/kind", "value": "training", "propagateAtLaunch": True} in group["tags"]
    assert "launchTemplate" in group and "mixedInstancesPolicy" not in group


def test_aws_spot_pool_uses_a_mixed_instances_policy_with_no_on_demand():
    record = aws_pool(spec(market="spot", compact=False, instance_type="g6.xlarge", accelerator="L4",
                           accelerators_per_node=1, kind="batch"))
    group = record.of_type("aws:autoscaling/group:Group")[0]["inputs"]
    distribution = group["mixedInstancesPolicy"]["instancesDistribution"]
    assert distribution["onDemandPercentageAboveBaseCapacity"] == 0
    assert distribution["spotAllocationStrategy"] == "capacity-optimized"
    assert group["vpcZoneIdentifiers"] == ["subnet-a", "subnet-b"]
    assert not record.of_type("aws:ec2/placementGroup:PlacementGroup")
    nics = record.of_type("aws:ec2/launchTemplate:LaunchTemplate")[0]["inputs"]["networkInterfaces"]
    assert len(nics) == 1 and "interfaceType" not in nics[0]


def test_aws_inventory_export_shape():
    inv = aws_pool(classification="internal").outputs["inventory"]
    assert set(inv) == INVENTORY_KEYS
    assert inv == {**inv, "cloud": "aws", "region": "us-east-1", "instanceType": "p5.48xlarge",
                   "expectedAccelerators": 8, "driverBranch": "580", "fabricManager": True, "efa": True,
                   "hosts": [], "group": {"kind": "aws-asg", "name": "test-test-fleet", "region": "us-east-1"}}


@pytest.mark.parametrize(("extra", "message"), [
    ({"metadata_hop_limit": 3}, "metadata_hop_limit: 3 is not valid"),
    ({"root_volume_gb": 20}, "root_volume_gb"),
    ({"tags": {"owner": "ml"}}, "cost-center"),
])
def test_aws_bad_args_fail_before_any_resource(extra, message):
    with pytest.raises(Exception, match=message) as info:
        aws_pool(**extra)
    assert isinstance(info.value, ValueError) or message in str(info.value)


# --- GCP ----------------------------------------------------------------------------------------------

def gcp_pool(pool, **extra):
    import pulumi_gcp as gcp
    from newinfra.components.gcp.vm_pool import GpuVmPool

    def body():
        provider = gcp.Provider("gcp-us-central1", region="us-central1", project="p")
        component = GpuVmPool("fleet", {
            "pool": pool, "region": "us-central1", "subnetwork": "projects/p/regions/us-central1/subnetworks/nodes",
            "kms_key_id": "projects/p/locations/us-central1/keyRings/r/cryptoKeys/disks", "tags": TAGS, **extra},
            pulumi.ResourceOptions(provider=provider))
        pulumi.export("inventory", component.inventory)

    return run_callable(body)


def gcp_spec(**overrides):
    return spec(**{"instance_type": "a3-highgpu-8g", "zones": ["us-central1-a", "us-central1-c"], **overrides})


def test_gcp_template_is_private_shielded_and_cmek():
    record = gcp_pool(gcp_spec(), classification="internal")
    tpl = record.of_type("gcp:compute/instanceTemplate:InstanceTemplate")[0]["inputs"]
    assert tpl["networkInterfaces"] == [{"subnetwork": "projects/p/regions/us-central1/subnetworks/nodes",
                                         "nicType": "GVNIC"}]  # no accessConfigs: no external IP
    assert tpl["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableVtpm": True,
                                             "enableIntegrityMonitoring": True}
    assert tpl["disks"][0]["diskEncryptionKey"]["kmsKeySelfLink"].endswith("/cryptoKeys/disks")
    assert tpl["scheduling"]["onHostMaintenance"] == "TERMINATE"
    assert tpl["metadata"] == {"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE"}
    assert "guestAccelerators" not in tpl  # the A3 machine type carries its GPUs
    assert tpl["labels"]["newinfra-data-classification"] == "internal"
    assert tpl["labels"]["cost-center"] == "cc-42"
    # its own service account, not the project's default compute account
    assert tpl["serviceAccount"]["email"].startswith("test-test-fleet-vm@")


def test_gcp_compact_training_is_a_zonal_group_with_a_compact_policy():
    record = gcp_pool(gcp_spec())
    policy = record.of_type("gcp:compute/resourcePolicy:ResourcePolicy")[0]["inputs"]
    assert policy["groupPlacementPolicy"] == {"collocation": "COLLOCATED"}
    tpl = record.of_type("gcp:compute/instanceTemplate:InstanceTemplate")[0]["inputs"]
    assert "fleet-compact" in tpl["resourcePolicies"]
    group = record.of_type("gcp:compute/instanceGroupManager:InstanceGroupManager")[0]["inputs"]
    assert (group["zone"], group["targetSize"]) == ("us-central1-a", 2)


def test_gcp_spot_n1_pool_attaches_gpus_and_spreads_over_zones():
    record = gcp_pool(gcp_spec(instance_type="n1-standard-16", accelerator="T4", accelerators_per_node=4,
                               market="spot", compact=False, kind="inference"))
    tpl = record.of_type("gcp:compute/instanceTemplate:InstanceTemplate")[0]["inputs"]
    assert tpl["guestAccelerators"] == [{"type": "nvidia-tesla-t4", "count": 4}]
    assert tpl["scheduling"]["provisioningModel"] == "SPOT" and tpl["scheduling"]["preemptible"] is True
    group = record.of_type("gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager")[0]["inputs"]
    assert group["distributionPolicyZones"] == ["us-central1-a", "us-central1-c"]
    assert group["updatePolicy"]["instanceRedistributionType"] == "NONE"
    inv = record.outputs["inventory"]
    assert set(inv) == INVENTORY_KEYS and inv["group"]["kind"] == "gcp-mig"
    assert (inv["fabricManager"], inv["efa"], inv["os"]) == (False, False, "ubuntu-22.04")


def test_gcp_flex_start_pool_runs_dws_vms_with_a_bounded_run():
    # Compute Engine flex-start: FLEX_START provisioning needs no automatic restart, deletion at the end of the
    # run and a maximum run duration (the SDK's documented requirements); AWS pools do not take the market.
    record = gcp_pool(gcp_spec(market="flex-start", compact=False))
    scheduling = record.of_type("gcp:compute/instanceTemplate:InstanceTemplate")[0]["inputs"]["scheduling"]
    assert scheduling["provisioningModel"] == "FLEX_START" and scheduling["automaticRestart"] is False
    assert scheduling["instanceTerminationAction"] == "DELETE"
    assert scheduling["maxRunDuration"] == {"seconds": 604800} and "preemptible" not in scheduling
    with pytest.raises(ComponentInputError, match=r"pool.market: 'flex-start' is not valid for a VM pool"):
        aws_pool(spec(market="flex-start"))


@pytest.mark.parametrize(("pool", "extra", "message"), [
    (gcp_spec(instance_type="n1-standard-16", accelerator="T4", accelerators_per_node=3), {}, "valid: \\[1, 2, 4, 8\\]"),
    (gcp_spec(instance_type="n1-standard-16", accelerator="A10G"), {}, "not offered on GCP"),
    (gcp_spec(), {"source_image": "projects/x/global/images/y"}, "give both"),
])
def test_gcp_bad_args_fail_clearly(pool, extra, message):
    with pytest.raises(Exception, match=message):
        gcp_pool(pool, **extra)


# --- Alibaba Cloud ------------------------------------------------------------------------------------

def alicloud_pool(pool, **extra):
    import pulumi_alicloud as alicloud
    from newinfra.components.alicloud.vm_pool import GpuVmPool

    def body():
        provider = alicloud.Provider("alicloud-cn-beijing", region="cn-beijing")
        component = GpuVmPool("fleet", {
            "pool": pool, "region": "cn-beijing", "vpc_id": "vpc-1", "vswitch_ids": ["vsw-h", "vsw-i"],
            "kms_key_id": "key-disks", "image_id": "ubuntu_22_04_x64_20G_alibase_20250101.vhd",
            "os": "ubuntu-22.04", "tags": TAGS, **extra}, pulumi.ResourceOptions(provider=provider))
        pulumi.export("inventory", component.inventory)

    return run_callable(body)


def ali_spec(**overrides):
    return spec(**{"instance_type": "ecs.gn7i-c32g1.8xlarge", "accelerator": "A10", "accelerators_per_node": 1,
                   "zones": ["cn-beijing-h", "cn-beijing-i"], "compact": False, **overrides})


def test_alicloud_hosts_have_no_public_ip_and_encrypted_disks():
    record = alicloud_pool(ali_spec(market="spot"), classification="cn-resident")
    config = record.of_type("alicloud:ess/scalingConfiguration:ScalingConfiguration")[0]["inputs"]
    assert config["internetMaxBandwidthOut"] == 0
    assert (config["systemDiskEncrypted"], config["systemDiskKmsKeyId"]) == (True, "key-disks")
    assert config["spotStrategy"] == "SpotAsPriceGo"
    assert (config["active"], config["enable"]) == (True, True)
    assert config["tags"]["newinfra-data-classification"] == "cn-resident"
    group = record.of_type("alicloud:ess/scalingGroup:ScalingGroup")[0]["inputs"]
    assert group["multiAzPolicy"] == "COST_OPTIMIZED" and group["onDemandPercentageAboveBaseCapacity"] == 0
    assert group["vswitchIds"] == ["vsw-h", "vsw-i"]
    sg = record.of_type("alicloud:ecs/securityGroup:SecurityGroup")[0]["inputs"]
    assert sg["innerAccessPolicy"] == "Accept"
    assert not record.of_type("alicloud:ecs/securityGroupRule:SecurityGroupRule")  # nothing else gets in
    inv = record.outputs["inventory"]
    assert set(inv) == INVENTORY_KEYS and inv["group"] == {"kind": "alicloud-ess", "name": "test-test-fleet",
                                                           "region": "cn-beijing"}


def test_alicloud_on_demand_pool_never_asks_for_spot():
    config = alicloud_pool(ali_spec()).of_type("alicloud:ess/scalingConfiguration:ScalingConfiguration")[0]
    assert config["inputs"]["spotStrategy"] == "NoSpot"


@pytest.mark.parametrize(("pool", "extra", "message"), [
    (ali_spec(instance_type="ecs.gn8v.8xlarge", accelerator="H100"), {}, "sales ticket"),
    (ali_spec(), {"system_disk_category": "cloud"}, "system_disk_category"),
    (ali_spec(), {"image_id": ""}, "image_id and os"),
])
def test_alicloud_bad_args_fail_clearly(pool, extra, message):
    with pytest.raises(ComponentInputError, match=message):
        alicloud_pool(pool, **extra)


def test_aws_pool_from_a_node_pool_plan_with_subnets_by_zone_and_its_own_key():
    """The program's call: a NodePoolArgs as the spec, the network's subnet map, no key, no region."""
    import pulumi_aws as aws
    from newinfra.components.aws.vm_pool import GpuVmPool
    from newinfra.components.planning.pools import plan_node_pool

    from newinfra.placement import Placement

    placement = Placement(workload="pretrain", cloud="aws", region="us-west-2", zones=("usw2-az2",),
                          instance_type="p4d.24xlarge", accelerator="A100", accelerators_per_node=8, nodes=2,
                          min_nodes=0, max_nodes=2, runs_on="vm", node_hourly_usd=21.96)
    pool = plan_node_pool(placement, kind="training", profile="production")

    def body():
        provider = aws.Provider("aws-us-west-2", region="us-west-2")
        component = GpuVmPool("fleet", {
            "pool": pool, "vpc_id": "vpc-1", "tags": TAGS,
            "subnet_by_zone": {"usw2-az1": "subnet-1", "usw2-az2": "subnet-2"}}, pulumi.ResourceOptions(provider=provider))
        pulumi.export("inventory", component.inventory)

    record = run_callable(body)
    group = record.of_type("aws:autoscaling/group:Group")[0]["inputs"]
    assert group["vpcZoneIdentifiers"] == ["subnet-2"]
    assert group["protectFromScaleIn"] is True  # the kind came from the node pool's label
    key = record.of_type("aws:kms/key:Key")[0]["inputs"]
    assert key["enableKeyRotation"] is True
    assert "AWSServiceRoleForAutoScaling" in key["policy"] and "kms:GrantIsForAWSResource" in key["policy"]
    lt = record.of_type("aws:ec2/launchTemplate:LaunchTemplate")[0]["inputs"]
    assert lt["blockDeviceMappings"][0]["ebs"]["kmsKeyId"].startswith("arn:aws:kms:us-west-2:")
    assert len(lt["networkInterfaces"]) == 4  # p4d: four EFA interfaces
    assert record.outputs["inventory"]["region"] == "us-west-2"


def test_aws_pool_needs_exactly_one_way_to_name_its_subnets():
    with pytest.raises(ComponentInputError, match="give exactly one"):
        aws_pool(subnet_by_zone={"use1-az4": "subnet-x"})


def test_gcp_pool_without_a_key_creates_one_compute_may_use():
    import pulumi_gcp as gcp
    from newinfra.components.gcp.vm_pool import GpuVmPool

    def body():
        provider = gcp.Provider("gcp-us-central1", region="us-central1", project="p")
        GpuVmPool("fleet", {"pool": gcp_spec(compact=False, zones=["us-central1-a"]), "region": "us-central1",
                            "subnetwork": "projects/p/regions/us-central1/subnetworks/nodes", "tags": TAGS},
                  pulumi.ResourceOptions(provider=provider))

    record = run_callable(body)
    key = record.of_type("gcp:kms/cryptoKey:CryptoKey")[0]["inputs"]
    assert key["rotationPeriod"] == "7776000s"
    member = record.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")[0]["inputs"]
    assert member["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert member["member"].endswith("@compute-system.iam.gserviceaccount.com")
    tpl = record.of_type("gcp:compute/instanceTemplate:InstanceTemplate")[0]["inputs"]
    assert tpl["disks"][0]["diskEncryptionKey"]["kmsKeySelfLink"].endswith("/cryptoKeys/test-test-fleet-disks")


def test_alicloud_pool_without_a_key_creates_a_rotating_one():
    import pulumi_alicloud as alicloud
    from newinfra.components.alicloud.vm_pool import GpuVmPool

    def body():
        provider = alicloud.Provider("alicloud-cn-beijing", region="cn-beijing")
        GpuVmPool("fleet", {"pool": ali_spec(), "region": "cn-beijing", "vpc_id": "vpc-1", "vswitch_ids": ["vsw-h"],
                            "image_id": "ubuntu_22_04_x64_20G_alibase_20250101.vhd", "os": "ubuntu-22.04",
                            "tags": TAGS}, pulumi.ResourceOptions(provider=provider))

    record = run_callable(body)
    key = record.of_type("alicloud:kms/key:Key")[0]
    assert key["inputs"]["automaticRotation"] == "Enabled"
    config = record.of_type("alicloud:ess/scalingConfiguration:ScalingConfiguration")[0]["inputs"]
    assert config["systemDiskKmsKeyId"].startswith("key-")
