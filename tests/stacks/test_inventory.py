"""The Ansible inventory built from stack outputs (gpuVmPools), offline and with AWS scaling groups (moto)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws
from typer.testing import CliRunner

from newinfra.cli.app import app
from newinfra.cli.inventory import (
    GROUP_KINDS,
    InventoryError,
    aws_asg_resolver,
    build_inventory,
    group_name,
    instance_family,
    pools_from_outputs,
    to_script_json,
)

REPO = Path(__file__).resolve().parents[2]


def pool(**overrides) -> dict:
    base = {"name": "train", "cloud": "aws", "region": "us-east-1", "instanceType": "p5.48xlarge",
            "accelerator": "H100", "expectedAccelerators": 8, "driverBranch": "580", "fabricManager": True,
            "efa": True, "os": "ubuntu-24.04", "hosts": [],
            "group": {"kind": "aws-asg", "name": "train-asg", "region": "us-east-1"}}
    return {**base, **overrides}


OUTPUTS = {"gpuVmPools": [
    pool(),
    pool(name="infer", cloud="gcp", region="us-central1", instanceType="g2-standard-48", accelerator="L4",
         expectedAccelerators=4, fabricManager=False, efa=False,
         hosts=[{"name": "infer-b", "privateIp": "10.8.0.12"}, {"name": "infer-a", "privateIp": "10.8.0.11"}],
         group={"kind": "gcp-mig", "name": "infer-mig", "region": "us-central1"}),
    pool(name="a100", cloud="alicloud", region="cn-beijing", instanceType="ecs.gn7e-c16g1.32xlarge",
         accelerator="A100", efa=False, hosts=[{"name": "gn7e-1", "privateIp": "192.168.3.4"}],
         group={"kind": "alicloud-ess", "name": "a100-ess", "region": "cn-beijing"}),
]}


def test_groups_by_cloud_pool_family_and_accelerator_with_host_vars() -> None:
    inv = build_inventory(OUTPUTS)
    children = inv["all"]["children"]
    assert sorted(children["gpu"]["children"]) == ["cloud_alicloud", "cloud_aws", "cloud_gcp"]
    assert list(children["cloud_gcp"]["children"]) == ["pool_gcp_infer"]
    infer = children["pool_gcp_infer"]["hosts"]
    assert list(infer) == ["infer-a", "infer-b"]  # sorted
    assert infer["infer-a"] == {
        "ansible_host": "10.8.0.11", "expected_accelerators": 4, "nvidia_driver_branch": "580",
        "fabric_manager_enabled": False, "efa_enabled": False, "instance_type": "g2-standard-48",
        "accelerator": "L4", "cloud": "gcp", "region": "us-central1", "pool": "infer", "os_image": "ubuntu-24.04"}
    assert list(children["family_gcp_g2_standard"]["hosts"]) == ["infer-a", "infer-b"]
    assert list(children["family_alicloud_gn7e"]["hosts"]) == ["gn7e-1"]
    assert list(children["accelerator_a100"]["hosts"]) == ["gn7e-1"]
    # The AWS pool is a scaling group: its hosts are unknown offline and said so.
    assert children["pool_aws_train"]["hosts"] == {}
    assert inv["all"]["vars"]["newinfra_unresolved_groups"] == [
        {"pool": "train", "kind": "aws-asg", "name": "train-asg", "region": "us-east-1"}]


def test_output_is_deterministic() -> None:
    shuffled = {"gpuVmPools": list(reversed(OUTPUTS["gpuVmPools"]))}
    assert json.dumps(build_inventory(shuffled)) == json.dumps(build_inventory(OUTPUTS))


@pytest.mark.parametrize(("cloud", "instance_type", "family"), [
    ("aws", "p5.48xlarge", "p5"), ("aws", "p4de.24xlarge", "p4de"), ("gcp", "a3-highgpu-8g", "a3-highgpu"),
    ("gcp", "a3-megagpu-8g", "a3-megagpu"), ("alicloud", "ecs.gn7e-c16g1.32xlarge", "gn7e"),
])
def test_instance_family_matches_the_catalog_naming(cloud: str, instance_type: str, family: str) -> None:
    assert instance_family(cloud, instance_type) == family


@pytest.mark.parametrize(("change", "message"), [
    ({"expectedAccelerators": None}, "gpuVmPools[0].expectedAccelerators: None is not a int"),
    ({"expectedAccelerators": 0}, "gpuVmPools[0].expectedAccelerators: 0 must be >= 1"),
    ({"driverBranch": "r580"}, "gpuVmPools[0].driverBranch: 'r580' is not a driver branch"),
    ({"cloud": "azure"}, "gpuVmPools[0].cloud: 'azure', valid: alicloud, aws, gcp"),
    ({"hosts": [{"name": "x"}]}, "gpuVmPools[0].hosts[0]: needs name and privateIp"),
    ({"group": {"kind": "gcp-mig", "name": "g"}}, "gpuVmPools[0].group:"),
])
def test_bad_pool_names_the_key(change: dict, message: str) -> None:
    with pytest.raises(InventoryError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        pools_from_outputs({"gpuVmPools": [pool(**change)]})


def test_missing_key_is_named() -> None:
    broken = pool()
    del broken["expectedAccelerators"]
    with pytest.raises(InventoryError, match=r"gpuVmPools\[0\]\.expectedAccelerators: missing"):
        build_inventory({"gpuVmPools": [broken]})


@given(st.lists(st.tuples(st.sampled_from(["aws", "gcp", "alicloud"]), st.integers(1, 16),
                          st.lists(st.integers(1, 250), max_size=4, unique=True)), max_size=5))
def test_every_host_lands_in_gpu_and_its_pool_with_its_count(specs: list) -> None:
    types = {"aws": "p5.48xlarge", "gcp": "a3-highgpu-8g", "alicloud": "ecs.gn7e-c16g1.32xlarge"}
    kinds = {"aws": "aws-asg", "gcp": "gcp-mig", "alicloud": "alicloud-ess"}
    pools = [pool(name=f"p{i}", cloud=c, instanceType=types[c], expectedAccelerators=n,
                  hosts=[{"name": f"p{i}-h{h}", "privateIp": f"10.0.{i}.{h}"} for h in hosts],
                  group={"kind": kinds[c], "name": f"g{i}", "region": "r"})
             for i, (c, n, hosts) in enumerate(specs)]
    script = to_script_json(build_inventory({"gpuVmPools": pools}))
    for p in pools:
        for host in p["hosts"]:
            assert host["name"] in script[f"pool_{p['cloud']}_{p['name']}"]["hosts"]
            assert script["_meta"]["hostvars"][host["name"]]["expected_accelerators"] == p["expectedAccelerators"]


@mock_aws
def test_aws_scaling_group_hosts_are_resolved_with_boto3() -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]
    ec2.create_launch_template(LaunchTemplateName="train", LaunchTemplateData={
        "ImageId": "ami-12c6146b", "InstanceType": "p5.48xlarge",
        "MetadataOptions": {"HttpTokens": "required"}})
    autoscaling = boto3.client("autoscaling", region_name="us-east-1")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="train-asg", LaunchTemplate={"LaunchTemplateName": "train"}, MinSize=2, MaxSize=4,
        DesiredCapacity=3, VPCZoneIdentifier=subnet["SubnetId"])
    # An instance of another group must not leak in.
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="other", LaunchTemplate={"LaunchTemplateName": "train"}, MinSize=1, MaxSize=1,
        DesiredCapacity=1, VPCZoneIdentifier=subnet["SubnetId"])

    resolver = aws_asg_resolver(lambda region: boto3.client("ec2", region_name=region))
    inv = build_inventory({"gpuVmPools": [pool()]}, {"aws-asg": resolver})
    hosts = inv["all"]["children"]["pool_aws_train"]["hosts"]
    asg = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["train-asg"])["AutoScalingGroups"][0]
    assert sorted(hosts) == sorted(i["InstanceId"] for i in asg["Instances"]) and len(hosts) == 3
    assert all(h["ansible_host"].startswith("10.20.1.") and h["expected_accelerators"] == 8 for h in hosts.values())
    assert "vars" not in inv["all"]  # nothing left unresolved
    assert sorted(inv["all"]["children"]["family_aws_p5"]["hosts"]) == sorted(hosts)


def test_cli_prints_the_inventory_and_exits_2_without_a_plan(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    missing = runner.invoke(app, ["inventory", "dev"])
    assert missing.exit_code == 2 and "run `newinfra plan dev` first" in missing.output
    (tmp_path / "build" / "dev").mkdir(parents=True)
    (tmp_path / "build" / "dev" / "outputs.json").write_text(json.dumps(OUTPUTS))
    result = runner.invoke(app, ["inventory", "dev", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == build_inventory(OUTPUTS)
    (tmp_path / "build" / "dev" / "outputs.json").write_text(json.dumps({"gpuVmPools": [pool(driverBranch=5)]}))
    bad = runner.invoke(app, ["inventory", "dev"])
    assert bad.exit_code == 2 and "gpuVmPools[0].driverBranch: 5 is not a str" in bad.output


def test_ansible_inventory_script_feeds_ansible_inventory(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS))
    env = {"NEWINFRA_OUTPUTS": str(outputs), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    listed = subprocess.run([sys.executable, str(REPO / "ansible" / "stack_inventory.py"), "--list"],
                            capture_output=True, text=True, env=env, check=True)
    assert json.loads(listed.stdout) == to_script_json(build_inventory(OUTPUTS))
    graph = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i",
                            str(REPO / "ansible" / "stack_inventory.py"), "--host", "gn7e-1"],
                           capture_output=True, text=True, env=env, check=True)
    assert json.loads(graph.stdout)["nvidia_driver_branch"] == "580"


@pytest.mark.parametrize(("cloud", "instance_type", "family"), [
    ("alicloud", "ecs.ebmgn7e.32xlarge", "ebmgn7e"), ("alicloud", "ecs.ebmgn7ix.32xlarge", "ebmgn7ix"),
    ("alicloud", "ecs.gn7i-c8g1.2xlarge", "gn7i"), ("aws", "p6-b300.48xlarge", "p6-b300"),
    ("gcp", "n1-standard-8", "n1-standard"),
])
def test_regression_inventory_takes_every_type_the_components_take(cloud: str, instance_type: str,
                                                                   family: str) -> None:
    """Bug: the inventory's own family pattern rejected bare-metal Alibaba types (ecs.ebmgn7e.32xlarge) that the
    components accept; now both read newinfra/facts.py's one rule."""
    from newinfra.components.planning.vm_pool import instance_family as vm_pool_family

    assert instance_family(cloud, instance_type) == vm_pool_family(cloud, instance_type) == family
    hosts = [{"name": "node-1", "privateIp": "10.0.0.5"}]
    entry = pool(cloud=cloud, instanceType=instance_type, hosts=hosts,
                 group={"kind": GROUP_KINDS[cloud], "name": "g", "region": "r"})
    inventory = build_inventory({"gpuVmPools": [entry]})
    assert list(inventory["all"]["children"][group_name("family", cloud, family)]["hosts"]) == ["node-1"]


def test_reference_records_cover_every_vm(tmp_path: Path, monkeypatch) -> None:
    """Plan the reference stacks: staging's TPU VM is a `tpu` host with its chips; dev and prod have no VMs
    outside Kubernetes, and the command says so instead of printing an empty inventory silently."""
    monkeypatch.chdir(REPO)
    runner = CliRunner()
    hosts = {}
    for env in ("dev", "staging", "prod"):
        out = tmp_path / env
        assert runner.invoke(app, ["plan", env, "--out", str(out), "--json"]).exit_code == 0
        outputs = json.loads((out / "outputs.json").read_text())
        result = runner.invoke(app, ["inventory", env, "--json", "--outputs", str(out / "outputs.json")])
        assert result.exit_code == 0, result.output
        script = to_script_json(json.loads(result.stdout))
        hosts[env] = sorted(script.get("tpu", {}).get("children", []))
        vms = len(outputs.get("gpuVmPools", [])) + sum(len(s["nodes"]) for s in outputs.get("tpuSlices", []))
        tpu_hosts = [h for g in hosts[env] for h in script[g]["hosts"]]
        assert len(tpu_hosts) >= sum(len(s["nodes"]) for s in outputs.get("tpuSlices", []))
        if vms == 0:
            assert "no GPU VM pools or TPU VMs" in result.stderr
    assert hosts["staging"], "staging's TPU VM is missing from the inventory"
    (group,) = hosts["staging"]
    inv = json.loads(runner.invoke(app, ["inventory", "staging", "--json", "--outputs",
                                         str(tmp_path / "staging" / "outputs.json")]).stdout)
    (host,) = inv["all"]["children"][group]["hosts"].values()
    assert host["accelerator_type"] == "v5litepod-8" and host["expected_accelerators"] == 8


def test_a_multi_host_slice_lists_each_worker() -> None:
    outputs = {"tpuSlices": [{"zone": "us-central2-b", "acceleratorType": "v4-32", "topology": "2x2x4",
                              "market": "on-demand", "count": 1, "region": "us-central2",
                              "nodes": ["projects/p/locations/us-central2-b/nodes/big"]}]}
    inv = build_inventory(outputs)
    (group,) = inv["all"]["children"]["tpu"]["children"]
    hosts = inv["all"]["children"][group]["hosts"]
    assert sorted(hosts) == ["big-w0", "big-w1", "big-w2", "big-w3"]
    assert {h["expected_accelerators"] for h in hosts.values()} == {4}


@pytest.mark.parametrize("bad, message", [
    ({"tpuSlices": {}}, "tpuSlices: expected a list"),
    ({"tpuSlices": [{"zone": "z"}]}, "tpuSlices[0].acceleratorType"),
    ({"tpuSlices": [{"zone": "us-central1-a", "acceleratorType": "v9-3", "topology": "1x1", "market": "spot",
                     "nodes": ["n"]}]}, "tpuSlices[0]"),
])
def test_bad_tpu_slices_name_the_key(bad: dict, message: str) -> None:
    with pytest.raises(InventoryError, match=re.escape(message)):
        build_inventory(bad)
