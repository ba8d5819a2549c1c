"""Pure helpers under the rules: pool extraction, the cost estimate, links between resources, the
taggable-types table, regions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from newinfra.cost_model.catalog import prices
from newinfra.cost_model.catalog.schema import Offer
from newinfra.cost_model.hours import workload_hours
from newinfra.cost_model.record_pools import pools
from newinfra.policies.rules.budget.taggable import scan, taggable
from newinfra.policies.rules.common import region_of, zone_to_region

from newinfra.links import Index


def resource(type_token: str, name: str, props: dict, region: str = "us-east-1", parent: str | None = None):
    return SimpleNamespace(resource_type=type_token, name=name, urn=f"urn:pulumi:s::p::{type_token}::{name}",
                           props=props, provider=SimpleNamespace(props={"region": region}), parent=None,
                           opts=SimpleNamespace(parent=parent), property_dependencies={})


def offer(itype: str, zone: str, on_demand: float, spot: float | None, per_node: int = 8) -> Offer:
    # Prices as in the reference catalog rows for p4d.24xlarge in us-east-1 (two zones differ on spot).
    return Offer("aws", "us-east-1", zone, itype, "A100", per_node, 40.0, 96.0, 1152.0, True, True, None,
                 on_demand, spot, "aws", "2025-01-01")


BOOK = prices.PriceBook([offer("p4d.24xlarge", "use1-az1", 21.96, 2.47), offer("p4d.24xlarge", "use1-az2", 21.96,
                                                                                8.19)])


def test_price_book_takes_the_dearest_zone_of_a_region() -> None:
    price = BOOK.node("aws", "us-east-1", "p4d.24xlarge")
    assert (price.on_demand_usd, price.spot_usd, price.accelerators_per_node) == (21.96, 8.19, 8)
    assert BOOK.node("aws", "us-west-2", "p4d.24xlarge") is None
    assert BOOK.regions_of("aws", "p4d.24xlarge") == {"us-east-1"}


@settings(max_examples=60, deadline=None)
@given(lo=st.integers(0, 20), extra=st.integers(0, 20), desired_at=st.floats(0, 1), spot=st.booleans(),
       hours=st.floats(1, 744))
def test_estimate_brackets_the_expected_cost(lo, extra, desired_at, spot, hours) -> None:
    hi = max(lo + extra, 1)
    desired = lo + round((hi - lo) * desired_at)
    ng = resource("aws:eks/nodeGroup:NodeGroup", "train", {
        "instanceTypes": ["p4d.24xlarge"], "capacityType": "SPOT" if spot else "ON_DEMAND",
        "scalingConfig": {"minSize": lo, "desiredSize": desired, "maxSize": hi}})
    [pool] = pools([ng])
    assert (pool.min_nodes, pool.desired_nodes, pool.max_nodes, pool.spot) == (lo, desired, hi, spot)
    assert pool.price(BOOK).hourly(spot) == (8.19 if spot else 21.96)  # no zone known: the dearest zone


def test_pool_hours_follow_its_workload() -> None:
    ng = resource("aws:eks/nodeGroup:NodeGroup", "train", {
        "instanceTypes": ["p4d.24xlarge"], "tags": {"newinfra.io/workload": "pretrain"},
        "scalingConfig": {"minSize": 0, "desiredSize": 1, "maxSize": 2}})
    hours = workload_hours([{"name": "pretrain", "hoursPerMonth": 160}, {"name": "serve"}])
    assert hours == {"pretrain": 160.0, "serve": 730.0}
    assert pools([ng])[0].workload == "pretrain"


def test_a_pool_is_priced_in_the_zone_its_subnet_is_in() -> None:
    """The node group names one subnet by the id the offline engine gave it; its property dependencies list
    every private subnet of the network. The pool is priced in that subnet's zone, not the dearest zone."""
    from newinfra.record import offline_id

    subnets = [resource("aws:ec2/subnet:Subnet", f"private-{z}", {"availabilityZoneId": z})
               for z in ("use1-az1", "use1-az2")]
    ng = resource("aws:eks/nodeGroup:NodeGroup", "train", {
        "instanceTypes": ["p4d.24xlarge"], "capacityType": "SPOT",
        "subnetIds": [offline_id("aws:ec2/subnet:Subnet", subnets[0].urn)],
        "scalingConfig": {"minSize": 0, "desiredSize": 1, "maxSize": 2}})
    ng.property_dependencies = {"subnetIds": subnets}
    [pool] = pools([ng, *subnets])
    assert pool.zones == ("use1-az1",)
    assert pool.price(BOOK).spot_usd == 2.47  # use1-az1's spot price; the region's dearest zone is 8.19
    ng.props["subnetIds"] = ["subnet-from-a-real-preview"]  # ids unknown: every subnet it depends on
    [pool] = pools([ng, *subnets])
    assert pool.zones == ("use1-az1", "use1-az2") and pool.price(BOOK).spot_usd == 8.19
    gke = resource("gcp:container/nodePool:NodePool", "g", {"nodeLocations": ["us-east4-a"]})
    assert pools([gke])[0].zones == ("us-east4-a",)


def test_a_zone_the_catalog_does_not_offer_falls_back_to_the_dearest_zone() -> None:
    assert BOOK.node("aws", "us-east-1", "p4d.24xlarge", zones=("use1-az9",)).spot_usd == 8.19
    assert BOOK.node("aws", "us-east-1", "p4d.24xlarge", zones=("use1-az1",)).spot_usd == 2.47


def test_node_group_reads_its_instance_type_from_the_launch_template() -> None:
    lt = resource("aws:ec2/launchTemplate:LaunchTemplate", "gpu-lt", {"name": "gpu-lt-a1b2c3d",
                                                                       "instanceType": "p4d.24xlarge"})
    ng = resource("aws:eks/nodeGroup:NodeGroup", "gpu", {"launchTemplate": {"name": "gpu-lt-a1b2c3d"},
                                                         "scalingConfig": {"minSize": 0, "maxSize": 1}})
    [pool] = pools([lt, ng])
    assert pool.instance_types == ("p4d.24xlarge",)


def test_gke_pool_counts_nodes_in_every_zone() -> None:
    np = resource("gcp:container/nodePool:NodePool", "p", {
        "nodeLocations": ["us-central1-a", "us-central1-b"], "autoscaling": {"minNodeCount": 1, "maxNodeCount": 3},
        "nodeConfig": {"machineType": "g2-standard-8", "spot": True}})
    [pool] = pools([np])
    assert (pool.min_nodes, pool.max_nodes, pool.spot) == (2, 6, True)


def test_links_by_property_dependency_name_autoname_and_scoped_id() -> None:
    bucket = resource("aws:s3/bucket:Bucket", "data", {})
    other = resource("aws:s3/bucket:Bucket", "other", {"bucket": "other-bkt"})
    index = Index([bucket, other])
    assert index.resolve(resource("x:y:Z", "v", {"bucket": "data-0a1b2c3"}), "bucket") == [bucket]
    assert index.resolve(resource("x:y:Z", "v", {"bucket": "other-bkt"}), "bucket") == [other]
    assert index.resolve(resource("x:y:Z", "v", {"bucket": "data-zzzzzzz"}), "bucket") == []
    dep = resource("x:y:Z", "v", {"bucket": "whatever"})
    dep.property_dependencies = {"bucket": [other]}
    assert index.resolve(dep, "bucket") == [other]
    vpc = resource("aws:ec2/vpc:Vpc", "net", {}, parent="urn:component")
    log = resource("aws:ec2/flowLog:FlowLog", "log", {"vpcId": "vpc-0123456789abcdef0"}, parent="urn:component")
    assert Index([vpc]).resolve(log, "vpcId") == [vpc]
    stray = resource("aws:ec2/flowLog:FlowLog", "log", {"vpcId": "vpc-0123456789abcdef0"}, parent="urn:elsewhere")
    assert Index([vpc]).resolve(stray, "vpcId") == []


@pytest.mark.parametrize(("props", "provider", "expected"), [
    ({"location": "EUROPE-WEST4"}, {}, "europe-west4"),
    ({"zone": "us-central1-a"}, {}, "us-central1"),
    ({}, {"region": "cn-hangzhou"}, "cn-hangzhou"),
    ({"region": "eu-west-1"}, {"region": "us-east-1"}, "eu-west-1"),
])
def test_region_of(props, provider, expected) -> None:
    assert region_of("gcp:storage/bucket:Bucket", props, provider) == expected


@given(st.from_regex(r"[a-z]{2,6}-[a-z]{3,9}[0-9]", fullmatch=True), st.sampled_from("abcdfh"))
def test_zone_to_region_strips_only_the_zone_letter(region, letter) -> None:
    assert zone_to_region(f"{region}-{letter}") == region
    assert zone_to_region(region) == region


def test_taggable_table_covers_the_installed_provider_sdks() -> None:
    # The table is generated from the newest SDKs of the tested ranges (pyproject); an older SDK in the range
    # lacks some of its types, never has one the table misses. Regenerate: python -m newinfra.policies.rules.budget.taggable
    table = taggable()
    missing = {token: key for token, key in scan().items() if table.get(token) != key}
    assert not missing, f"taggable.json lags the installed SDKs: {sorted(missing)[:5]}"
    assert table["aws:eks/nodeGroup:NodeGroup"] == "tags"
    assert table["gcp:container/cluster:Cluster"] == "resourceLabels"
    assert table["gcp:container/nodePool:NodePool"] == "nodeConfig.resourceLabels"
    assert "aws:s3/bucketVersioning:BucketVersioning" not in table  # takes no tags


def test_vm_groups_read_their_templates() -> None:
    tpl = resource("gcp:compute/instanceTemplate:InstanceTemplate", "vm-tpl", {
        "machineType": "g2-standard-8", "scheduling": {"provisioningModel": "SPOT", "preemptible": True}})
    mig = resource("gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager", "vm-mig", {
        "region": "us-central1", "targetSize": 3,
        "versions": [{"instanceTemplate": "projects/p/global/instanceTemplates/vm-tpl-0a1b2c3"}]})
    group = resource("alicloud:ess/scalingGroup:ScalingGroup", "ess", {"minSize": 0, "maxSize": 4,
                                                                         "desiredCapacity": 2}, parent="urn:c")
    config = resource("alicloud:ess/scalingConfiguration:ScalingConfiguration", "ess-config", {
        "scalingGroupId": "scalin-0123456789abcdef0123", "instanceType": "ecs.gn7i-c8g1.2xlarge",
        "spotStrategy": "SpotAsPriceGo"}, parent="urn:c")
    queued = resource("gcp:tpu/v2QueuedResource:V2QueuedResource", "slice", {
        "zone": "us-central1-a", "tpu": {"nodeSpecs": [{"node": {"acceleratorType": "v5litepod-8"}}]}})
    found = {p.name: p for p in pools([tpl, mig, group, config, queued])}
    assert (found["vm-mig"].instance_types, found["vm-mig"].max_nodes, found["vm-mig"].spot) == (
        ("g2-standard-8",), 3, True)
    assert (found["ess"].instance_types, found["ess"].desired_nodes, found["ess"].max_nodes, found["ess"].spot) == (
        ("ecs.gn7i-c8g1.2xlarge",), 2, 4, True)
    assert (found["slice"].instance_types, found["slice"].tpu, found["slice"].region) == (
        ("v5litepod-8",), True, "us-central1")


def test_pool_kind_from_eks_map_and_ack_list_labels() -> None:
    eks = resource("aws:eks/nodeGroup:NodeGroup", "a", {"instanceTypes": ["g6.xlarge"],
                                                        "labels": {"newinfra.io/kind": "inference"}})
    ack = resource("alicloud:cs/nodePool:NodePool", "b", {"instanceTypes": ["ecs.gn7i-c8g1.2xlarge"], "labels": [
        {"key": "newinfra.io/kind", "value": "training"}, {"key": "newinfra.io/workload", "value": "rank"}]})
    found = {p.name: p for p in pools([eks, ack])}
    assert (found["a"].kind, found["b"].kind, found["b"].workload) == ("inference", "training", "rank")


def test_an_id_picks_the_template_named_like_the_pool_when_a_component_has_several() -> None:
    lts = [resource("aws:ec2/launchTemplate:LaunchTemplate", n, {"instanceType": t}, parent="urn:gpu")
           for n, t in (("train", "p5.48xlarge"), ("train-spot", "p4d.24xlarge"))]
    ng = resource("aws:eks/nodeGroup:NodeGroup", "train-spot", {"launchTemplate": {"id": "lt-0123456789abcdef"},
                                                                "scalingConfig": {"maxSize": 2}}, parent="urn:gpu")
    [pool] = pools([*lts, ng])
    assert pool.instance_types == ("p4d.24xlarge",)
