"""Serving in the prod reference stack, checked on its offline record: each inference service's pods can land
in two zones or more, and losing any one zone's nodes leaves a replica schedulable — judged from the planned
pods' affinity, tolerations and GPU requests against the planned node pools' labels, taints and zones. Bad
serving config is one line and exit 2, nothing written."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
import yaml
from newinfra.components.planning.serving import pool_admits, schedulable_without_zone
from newinfra.cost_model.catalog import load_catalog
from typer.testing import CliRunner

from newinfra.cli.app import app
from newinfra.offline import run_program
from newinfra.record import offline_id
from tests.paths import REPO_ROOT
from tests.stacks.test_bad_inputs import make_project

CATALOG = load_catalog()
EFFECT = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


@pytest.fixture(scope="module")
def prod():
    return run_program(REPO_ROOT, "prod")


def planned_pools(record) -> list[dict[str, Any]]:
    """Every accelerator node pool of the record as the scheduler would see its nodes: labels, taints, zones,
    GPUs per node and whether it can hold a node at all."""
    zone_of_subnet = {offline_id(r["type"], r["urn"]): r["inputs"]["availabilityZoneId"]
                      for r in record.of_type("aws:ec2/subnet:Subnet")}
    out = []
    for g in record.of_type("aws:eks/nodeGroup:NodeGroup"):
        i = g["inputs"]
        per_node = next(o.accelerators_per_node for o in CATALOG.offers
                        if (o.cloud, o.instance_type) == ("aws", i["instanceTypes"][0]))
        out.append({"name": g["name"], "labels": i.get("labels") or {}, "zones": sorted({zone_of_subnet[s]
                                                                                        for s in i["subnetIds"]}),
                    "taints": [{**t, "effect": EFFECT[t["effect"]]} for t in i.get("taints") or []],
                    "accelerators_per_node": per_node,
                    "max_size": i["scalingConfig"]["maxSize"]})
    for p in record.of_type("gcp:container/nodePool:NodePool"):
        i = p["inputs"]
        config = i["nodeConfig"]
        out.append({"name": p["name"], "labels": config.get("labels") or {}, "zones": sorted(i["nodeLocations"]),
                    "taints": [{**t, "effect": EFFECT[t["effect"]]} for t in config.get("taints") or []],
                    "accelerators_per_node": sum(a["count"] for a in config.get("guestAccelerators") or []),
                    "max_size": i["autoscaling"].get("totalMaxNodeCount", 0)})
    return out


def served_pods(record) -> dict[str, dict[str, Any]]:
    return {d["name"]: d["inputs"]["spec"]["template"]["spec"] for d in record.of_type("kubernetes:apps/v1:Deployment")
            if d["inputs"]["spec"]["template"]["spec"].get("topologySpreadConstraints")}


def test_prod_serves_on_aws_and_gcp_behind_each_clouds_load_balancer(prod):
    services = {r["name"] for r in prod.of_type("newinfra:k8s:InferenceService")}
    assert services == {"aws-us-east-2-search-serve", "gcp-us-east4-chat-serve"}
    (ingress,) = prod.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    assert ingress["inputs"]["metadata"]["annotations"]["alb.ingress.kubernetes.io/scheme"] == "internal"
    (gateway,) = prod.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")
    assert gateway["inputs"]["spec"]["gatewayClassName"] == "gke-l7-rilb"
    # an internal Gateway's proxies need the region's proxy-only subnet (and a firewall rule to the pods)
    subnets = [r["inputs"] for r in prod.of_type("gcp:compute/subnetwork:Subnetwork")]
    (proxy,) = [s for s in subnets if s.get("purpose") == "REGIONAL_MANAGED_PROXY"]
    assert proxy["role"] == "ACTIVE" and proxy["region"] == "us-east4"
    (regular,) = [s for s in subnets if s.get("purpose") != "REGIONAL_MANAGED_PROXY"]
    services = next(r["ipCidrRange"] for r in regular["secondaryIpRanges"] if r["rangeName"] == "services")
    assert not ipaddress.ip_network(proxy["ipCidrRange"]).overlaps(ipaddress.ip_network(services))
    rules = {r["name"]: r["inputs"] for r in prod.of_type("gcp:compute/firewall:Firewall")}
    assert any(r["sourceRanges"] == [proxy["ipCidrRange"]] for r in rules.values())
    assert len(prod.of_type("kubernetes:policy/v1:PodDisruptionBudget")) == 2
    assert len(prod.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject")) == 2


def test_every_served_replica_can_land_in_two_zones(prod):
    pools, pods = planned_pools(prod), served_pods(prod)
    assert len(pods) == 5  # chat: base, burst, canary; search: base, burst
    for name, pod in pods.items():
        zones = {z for p in pools if p["max_size"] >= 1 and pool_admits(pod, p) for z in p["zones"]}
        assert len(zones) >= 2, (name, zones)


def test_losing_any_one_zone_leaves_every_service_schedulable(prod):
    pools, pods = planned_pools(prod), served_pods(prod)
    for name, pod in pods.items():
        admitting = [p for p in pools if pool_admits(pod, p)]
        assert admitting, name
        for lost in sorted({z for p in admitting for z in p["zones"]}):
            assert schedulable_without_zone(pod, pools, lost), (name, lost)


def test_the_prod_lock_keeps_each_inference_workload_in_two_zones():
    lock = json.loads((REPO_ROOT / "stacks/placements/prod.json").read_text())
    for name in ("chat-serve", "search-serve"):
        for p in lock["workloads"][name]["placements"]:
            assert len(p["zones"]) == 2, (name, p["zones"])
    assert lock["workloads"]["pretrain"]["placements"][0]["zones"] == ["use2-az1"]  # training stays in one zone


PROD_TEXT = (REPO_ROOT / "stacks" / "Pulumi.prod.yaml").read_text()


def _prod_with(change) -> str:
    doc = yaml.safe_load(PROD_TEXT)
    change(doc["config"])
    doc["config"]["newinfra:environment"] = "dev"  # make_project writes the dev stack
    return yaml.safe_dump(doc)


def _public(config):
    config["newinfra:services"][0]["exposure"]["public"] = True


def _zero_floor(config):
    next(w for w in config["newinfra:workloads"] if w["name"] == "chat-serve")["nodes"]["min"] = 0


def _training(config):
    config["newinfra:services"][0]["workload"] = "pretrain"


@pytest.mark.parametrize(("change", "fragments"), [
    (_public, ("newinfra:services[0].exposure.allowedCidrs", "public: true", "allow-list")),
    (_zero_floor, ("newinfra:services[0].workload", "0 replicas", "production")),
    (_training, ("newinfra:services[0].workload", "'pretrain'", "valid: chat-serve, cn-rank, search-serve")),
])
def test_bad_serving_config_is_one_line_exit_2_and_nothing_written(tmp_path, monkeypatch, change, fragments):
    make_project(tmp_path, _prod_with(change))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", "dev", "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if not ln.startswith(("note: ", "warning: "))]
    assert len(lines) == 1, result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not out.exists()
