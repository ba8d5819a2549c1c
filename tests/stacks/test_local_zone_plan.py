"""Issue 14, part 2, to the end: a placement in an AWS Local Zone (allowLocalZones: true) plans. The network gives
the Local Zone a private subnet of its own routed through the region's NAT; the EKS cluster keeps its subnets in
the region's zones (EKS places no interface in a Local Zone subnet); the node groups run on the Local Zone's
subnet, without a cluster placement group (Local Zones have none)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from newinfra.cli.app import app
from newinfra.placement import is_local_zone
from tests.paths import REPO_ROOT


def test_a_local_zone_placement_plans_with_its_own_subnet(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy2(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(REPO_ROOT / "stacks", root / "stacks",
                    ignore=shutil.ignore_patterns("__pycache__", ".*.lock", "deployments"))
    config = root / "stacks" / "Pulumi.dev.yaml"
    text = config.read_text()
    # dev's pretrain as 16 x H100: the cheapest offer is a p5 in Atlanta's Local Zone once Local Zones are allowed
    text = text.replace("      accelerator: A100\n      count: 16\n", "      accelerator: H100\n      count: 16\n", 1)
    config.write_text(text.replace("  newinfra:workloads:\n", "  newinfra:allowLocalZones: true\n  newinfra:workloads:\n", 1))
    monkeypatch.chdir(root)
    runner = CliRunner()
    assert runner.invoke(app, ["place", "dev"]).exit_code == 0
    lock = json.loads((root / "stacks" / "placements" / "dev.json").read_text())
    zones = {z for p in lock["workloads"]["pretrain"]["placements"] for z in p["zones"]}
    assert zones and all(is_local_zone("aws", z) for z in zones), zones
    (zone,) = zones

    done = runner.invoke(app, ["plan", "dev", "--out", str(tmp_path / "record"), "--json"])
    assert done.exit_code == 0, done.output
    resources = json.loads((tmp_path / "record" / "resources.json").read_text())
    of = lambda t: [r for r in resources if r["type"] == t]  # noqa: E731
    subnets = {r["name"]: r for r in of("aws:ec2/subnet:Subnet")}
    local = [r for r in subnets.values() if r["inputs"]["availabilityZoneId"] == zone]
    assert [r["name"] for r in local] == [f"aws-us-east-1-private-{zone}"]  # private only
    # the record keeps inputs, not the subnets' ids: the cluster takes the region's private subnets (one per
    # regular zone), the Local Zone's node groups one subnet that is none of them
    (cluster,) = of("aws:eks/cluster:Cluster")
    regular = [r for r in subnets.values() if r["name"].startswith("aws-us-east-1-private-") and r not in local]
    cluster_subnets = set(cluster["inputs"]["vpcConfig"]["subnetIds"])
    assert len(cluster_subnets) == len(regular) >= 2
    groups = [r for r in of("aws:eks/nodeGroup:NodeGroup") if "pretrain" in r["name"]]
    assert groups and len({s for g in groups for s in g["inputs"]["subnetIds"]}) == 1
    assert not {s for g in groups for s in g["inputs"]["subnetIds"]} & cluster_subnets
    assert not of("aws:ec2/placementGroup:PlacementGroup")
    routes = {r["name"]: r["inputs"] for r in of("aws:ec2/routeTableAssociation:RouteTableAssociation")}
    assert f"aws-us-east-1-private-{zone}" in routes  # routed out through the region's NAT
