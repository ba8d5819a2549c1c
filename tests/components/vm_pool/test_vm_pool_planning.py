"""Pure VM-pool planning: host facts from the family table, EFA layout, specs, the inventory contract."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from newinfra.components.planning.vm_pool import (
    AWS_IMAGES,
    GROUP_KINDS,
    aws_image,
    check_spec,
    efa_network_interfaces,
    host_facts,
    instance_family,
    inventory,
    require_cost_tags,
    vm_pool_spec,
)

from newinfra.errors import ComponentInputError
from newinfra.facts import FAMILIES
from newinfra.placement import Placement

INVENTORY_KEYS = {"name", "cloud", "region", "instanceType", "accelerator", "expectedAccelerators",
                  "driverBranch", "fabricManager", "efa", "os", "hosts", "group"}


def placement(**overrides) -> Placement:
    values = dict(workload="train", cloud="aws", region="us-east-1", zones=("use1-az4",),
                  instance_type="p5.48xlarge", accelerator="H100", accelerators_per_node=8, nodes=2,
                  min_nodes=1, max_nodes=4, market="on-demand", runs_on="vm", node_hourly_usd=98.3)
    values.update(overrides)
    return Placement(**values)


@pytest.mark.parametrize(("cloud", "instance_type", "family"), [
    ("aws", "p5.48xlarge", "p5"), ("aws", "p6-b200.48xlarge", "p6-b200"),
    ("gcp", "a3-highgpu-8g", "a3-highgpu"), ("gcp", "n1-standard-16", "n1-standard"),
    ("alicloud", "ecs.gn7i-c32g1.8xlarge", "gn7i"), ("alicloud", "ecs.ebmgn7e.32xlarge", "ebmgn7e"),
])
def test_instance_family_matches_the_catalog_rule(cloud, instance_type, family):
    assert instance_family(cloud, instance_type) == family
    assert (cloud, family) in FAMILIES


def test_p5_needs_fabric_manager_and_32_efa_interfaces():
    facts = host_facts("aws", "p5.48xlarge", "H100", 8)
    assert (facts.driver_branch, facts.fabric_manager, facts.efa, facts.efa_interfaces) == ("580", True, True, 32)


def test_small_hosts_need_neither_fabric_manager_nor_efa():
    facts = host_facts("aws", "g6.xlarge", "L4", 1)
    assert (facts.fabric_manager, facts.efa) == (False, False)


def test_n1_takes_its_driver_branch_from_the_attached_gpu():
    assert host_facts("gcp", "n1-standard-16", "T4", 4).driver_branch == "580"


@pytest.mark.parametrize(("cloud", "instance_type", "accelerator", "message"), [
    ("aws", "x9.large", "H100", r"\(family 'x9'\) is not in the aws instance-family table"),
    ("alicloud", "ecs.gn8v.8xlarge", "H100", "sales ticket"),
    ("aws", "p5.48xlarge", "A100", "does not match instance_type"),
    ("gcp", "v5litepod-8", "tpu-v5litepod", "TpuSlice"),
    ("alicloud", "gn7i-c32g1.8xlarge", "A10", "not an ECS instance type"),
    ("azure", "nd96", "H100", "cloud: 'azure' is not valid"),
])
def test_bad_hosts_fail_clearly(cloud, instance_type, accelerator, message):
    with pytest.raises(ComponentInputError, match=message):
        host_facts(cloud, instance_type, accelerator, 8)


@given(st.integers(min_value=0, max_value=32))
def test_efa_interfaces_one_per_card_primary_on_device_0(count):
    nics = efa_network_interfaces(count)
    assert [n["network_card_index"] for n in nics] == list(range(count))
    assert all(n["interface_type"] == "efa" for n in nics)
    assert [n["device_index"] for n in nics] == [0] + [1] * (count - 1) if count else nics == []


def test_aws_images_come_from_ssm_deep_learning_amis():
    parameter, os_name = aws_image("p5.48xlarge")
    assert parameter.startswith("/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver")
    assert os_name == "ubuntu-22.04"
    assert aws_image("g5g.xlarge")[0] == AWS_IMAGES["AL2023_ARM_64_NVIDIA"][0]
    with pytest.raises(ComponentInputError, match="has no GPU host image"):
        aws_image("f1.2xlarge")


def test_spec_from_a_vm_placement_keeps_sizes_and_compacts_multi_node_training():
    spec = vm_pool_spec(placement(), kind="training", profile="development")
    assert (spec["min_size"], spec["desired_size"], spec["max_size"], spec["compact"]) == (0, 2, 4, True)
    assert vm_pool_spec(placement(), kind="inference", profile="production")["compact"] is False
    with pytest.raises(ComponentInputError, match="runs_on: 'kubernetes' for placement"):
        vm_pool_spec(placement(runs_on="kubernetes"), kind="training", profile="development")


@pytest.mark.parametrize(("change", "message"), [
    ({"market": "capacity-block"}, "pool.market"),
    ({"zones": []}, "pool.zones"),
    ({"desired_size": 9}, "pool: sizes must satisfy"),
    ({"name": "Bad_Name"}, "pool.name"),
])
def test_bad_specs_fail_clearly(change, message):
    spec = {**vm_pool_spec(placement(), kind="training", profile="development"), **change}
    with pytest.raises(ComponentInputError, match=message):
        check_spec(spec)


def test_cost_tags_are_required():
    with pytest.raises(ComponentInputError, match=r"missing required keys \['cost-center'\]"):
        require_cost_tags({"owner": "ml"})


@pytest.mark.parametrize("cloud", sorted(GROUP_KINDS))
def test_inventory_matches_the_ansible_contract(cloud):
    spec = vm_pool_spec(placement(), kind="training", profile="production")
    facts = host_facts("aws", "p5.48xlarge", "H100", 8)
    inv = inventory(cloud=cloud, region="r1", spec=spec, facts=facts, os="ubuntu-22.04", group_name="g")
    assert set(inv) == INVENTORY_KEYS
    assert inv["hosts"] == [] and inv["expectedAccelerators"] == 8
    assert inv["group"] == {"kind": GROUP_KINDS[cloud], "name": "g", "region": "r1"}
    assert isinstance(inv["fabricManager"], bool) and isinstance(inv["efa"], bool)
