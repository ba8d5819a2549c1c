"""Hosts people would run on (host floors, GCP N1 attachment rules) and opt-in capacity (Local Zones, opt-in
regions): what the catalog offers, what the solver may choose, and the errors a user sees."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from newinfra.cost_model.catalog.opt_in import OPT_IN_REGIONS, allowed, opt_in_reason
from newinfra.cost_model.catalog.shapes import N1_ATTACHMENT, N1_GPU_FAMILIES, n1_attachable
from newinfra.cost_model.hosts import DEFAULT_FLOOR, HOST_FLOORS, default_floor, floor_for, meets_floor
from newinfra.cost_model.lock import request_hash, still_valid
from newinfra.cost_model.model import Infeasible, solve
from newinfra.cost_model.request import PlacementRequest

from newinfra.config import ConfigError, parse_config
from newinfra.placement import LOCAL_ZONE_ID
from tests.paths import REPO_ROOT


def request(workload: dict, **top) -> PlacementRequest:
    return PlacementRequest.model_validate({"workloads": [{"name": "w", "kind": "training", **workload}], **top})


def offer_of(catalog, p):
    return next(o for o in catalog.offers_for(p.accelerator) if (o.cloud, o.region, o.zone, o.instance_type,
                o.accelerators_per_node) == (p.cloud, p.region, p.zones[0], p.instance_type, p.accelerators_per_node))


# --- the floor table ----------------------------------------------------------------------------------------


def test_floor_table_covers_every_accelerator_once_with_a_reason(full_catalog):
    rows = [a for f in HOST_FLOORS for a in f.accelerators]
    assert len(rows) == len(set(rows)), "an accelerator in two rows"
    gpus = {a for a in full_catalog.accelerators if not a.startswith("tpu-")}
    assert set(rows) == gpus, f"no row: {sorted(gpus - set(rows))}; no such accelerator: {sorted(set(rows) - gpus)}"
    assert all(f.vcpus >= 4 and f.memory_gib > 0 and len(f.reason) > 20 for f in (*HOST_FLOORS, DEFAULT_FLOOR))
    assert default_floor("tpu-v5litepod") is None and default_floor("new-chip") is DEFAULT_FLOOR


@pytest.mark.parametrize(("cloud", "itype", "accel"), [
    ("aws", "g4dn.xlarge", "T4"), ("gcp", "a2-highgpu-1g", "A100"), ("aws", "g6.xlarge", "L4"),
    ("gcp", "g2-standard-4", "L4"), ("aws", "inf1.xlarge", "Inferentia"), ("aws", "g5g.xlarge", "T4g"),
    ("alicloud", "ecs.gn6i-c4g1.xlarge", "T4"), ("aws", "p3.2xlarge", "V100"), ("gcp", "n1-standard-4", "T4"),
])
def test_the_clouds_own_smallest_gpu_shapes_meet_the_defaults(full_catalog, cloud, itype, accel):
    offer = next(o for o in full_catalog.offers_for(accel) if (o.cloud, o.instance_type) == (cloud, itype)
                 and o.accelerators_per_node == 1)
    assert meets_floor(offer, default_floor(accel) and (default_floor(accel).vcpus, default_floor(accel).memory_gib))


def test_eight_v100_on_n1_standard_1_is_below_the_floor_and_a_workload_may_lower_it(full_catalog):
    tiny = next(o for o in full_catalog.offers_for("V100") if o.instance_type == "n1-standard-1"
                and o.accelerators_per_node == 8)
    w = request({"accelerator": "V100", "count": 8}).workloads[0]
    assert not meets_floor(tiny, floor_for(w, "V100"))
    lowered = request({"accelerator": "V100", "count": 8, "cpusPerAccelerator": 0.125,
                       "memoryGbPerAccelerator": 0.46}).workloads[0]
    assert floor_for(lowered, "V100") == (0.125, 0.46) and meets_floor(tiny, floor_for(lowered, "V100"))


# --- GCP N1 attachment rules -------------------------------------------------------------------------------


def test_every_gcp_n1_offer_satisfies_the_attachment_table(full_catalog):
    n1 = [o for o in full_catalog.offers if o.cloud == "gcp" and o.family in N1_GPU_FAMILIES]
    assert len(n1) > 1000
    bad = [o for o in n1 if not n1_attachable(o.accelerator, o.accelerators_per_node, o.instance_type, o.vcpus,
                                              o.memory_gib)]
    assert not bad, bad[:3]
    assert {(o.accelerator, o.accelerators_per_node) for o in n1} <= \
        {(a, n) for a, counts in N1_ATTACHMENT.items() for n in counts}


@pytest.mark.parametrize(("accel", "count", "host", "vcpus", "gib", "ok"), [
    ("V100", 1, "n1-standard-16", 16, 60, False),  # 1 x V100 takes at most 12 vCPUs
    ("V100", 8, "n1-standard-96", 96, 360, True),
    ("V100", 8, "n1-standard-1", 1, 3.75, True),  # GCP allows it: the host floor is what refuses it
    ("P100", 4, "n1-highmem-32", 32, 208, False),  # 4 x P100 takes at most 208 GB (193.7 GiB)
    ("T4", 3, "n1-standard-8", 8, 30, False),  # no 3-GPU count
    ("T4", 1, "g1-small", 1, 1.7, False),  # shared-core N1 takes no GPU
    ("L4", 1, "n1-standard-4", 4, 15, False),  # L4 only on G2
])
def test_attachment_table_cases(accel, count, host, vcpus, gib, ok):
    assert n1_attachable(accel, count, host, vcpus, gib) is ok


# --- the solver never chooses below the floor ----------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["T4", "V100", "P100", "P4", "L4", "A10G", "A100", "tpu-v5litepod"]),
       st.sampled_from([1, 2, 4, 8]), st.booleans(), st.sampled_from([None, 2.0, 6.0, 12.0]),
       st.sampled_from([None, 8.0, 40.0]), st.sampled_from([("aws",), ("gcp",), ("aws", "gcp", "alicloud")]))
def test_no_offer_below_the_floor_is_ever_chosen(full_catalog, accel, count, spot, cpus, mem, clouds):
    w = {"accelerator": accel, "count": count, "spot": spot}
    if not accel.startswith("tpu-"):
        w.update({k: v for k, v in (("cpusPerAccelerator", cpus), ("memoryGbPerAccelerator", mem)) if v})
    req = request(w, allowedClouds=list(clouds))
    floor = floor_for(req.workloads[0], full_catalog.normalise_accelerator(accel))
    try:
        sol = solve(req, full_catalog)
    except Infeasible as err:
        if floor is not None and "no offer meets the host floor" in str(err):
            assert "hostFloor" in err.families
        return
    for p in sol.plans[0].placements:
        assert meets_floor(offer_of(full_catalog, p), floor), p


def test_v100_x8_on_gcp_lands_on_a_host_with_four_vcpus_per_gpu(full_catalog):
    chosen = solve(request({"accelerator": "V100", "count": 8, "perNode": 8}, allowedClouds=["gcp"]), full_catalog)
    (p,) = chosen.plans[0].placements
    assert offer_of(full_catalog, p).vcpus >= 32
    lowered = solve(request({"accelerator": "V100", "count": 8, "perNode": 8, "cpusPerAccelerator": 0.125,
                             "memoryGbPerAccelerator": 0.4}, allowedClouds=["gcp"]), full_catalog)
    assert lowered.monthly_usd < chosen.monthly_usd  # the floor costs money: lowering it is the user's call


def test_a_floor_no_offer_meets_is_infeasible_with_the_reason(full_catalog):
    with pytest.raises(Infeasible) as err:
        solve(request({"accelerator": "L4", "count": 2, "cpusPerAccelerator": 500}), full_catalog)
    assert "workload 'w': no offer meets the host floor of 500 vCPUs and 16 GiB per accelerator " \
           "(from cpusPerAccelerator)" in str(err.value)
    assert err.value.families == ("hostFloor",)


# --- opt-in capacity ------------------------------------------------------------------------------------------


def test_opt_in_predicate():
    assert opt_in_reason("aws", "us-east-1", "use1-az1") is None
    assert "Local Zone" in opt_in_reason("aws", "us-east-1", "use1-atl2-az1")
    assert "opt-in region" in opt_in_reason("aws", "me-south-1", "mes1-az1")
    assert opt_in_reason("gcp", "me-south-1", "me-south-1-a") is None  # only AWS regions need an opt-in
    assert not allowed("aws", "us-east-1", "use1-atl2-az1", False, ())
    assert allowed("aws", "us-east-1", "use1-atl2-az1", True, ())
    assert not allowed("aws", "me-south-1", "mes1-az1", True, ())
    assert allowed("aws", "me-south-1", "mes1-az1", False, ("me-south-1",))
    assert LOCAL_ZONE_ID.match("usw2-lax1-az2") and not LOCAL_ZONE_ID.match("usw2-az2")


def test_a_local_zone_offer_is_picked_only_when_allowed(full_catalog):
    ask = {"accelerator": "H100", "count": 16, "perNode": 8, "spot": True}
    default = solve(request(ask, allowedClouds=["aws"]), full_catalog)
    assert not any(LOCAL_ZONE_ID.match(p.zones[0]) for p in default.plans[0].placements)
    opted = solve(request(ask, allowedClouds=["aws"], allowLocalZones=True), full_catalog)
    (p,) = opted.plans[0].placements
    assert (p.zones, p.instance_type, p.market, p.node_hourly_usd) == \
        (("use1-atl2-az1",), "p5.48xlarge", "spot", 10.2397)
    assert opted.monthly_usd < default.monthly_usd
    # a lock made with the opt-in is no longer valid once the config drops it
    w = request(ask, allowedClouds=["aws"]).workloads[0]
    assert still_valid(w, opted.plans[0].placements, request(ask, allowedClouds=["aws"]), full_catalog, ()) is None
    assert still_valid(w, opted.plans[0].placements, request(ask, allowedClouds=["aws"], allowLocalZones=True),
                       full_catalog, ()) is not None


def test_an_opt_in_region_is_used_only_when_listed(catalog_of, l4):
    catalog = catalog_of([l4("aws", "us-east-1", "use1-az1", "g6.xlarge", 1.0, None),
                          l4("aws", "me-south-1", "mes1-az1", "g6.xlarge", 0.6, None)])
    ask = {"accelerator": "L4", "count": 1}
    assert solve(request(ask), catalog).plans[0].placements[0].region == "us-east-1"
    assert solve(request(ask, optInRegions=["me-south-1"]), catalog).plans[0].placements[0].region == "me-south-1"
    only = catalog_of([l4("aws", "me-south-1", "mes1-az1", "g6.xlarge", 0.6, None)])
    with pytest.raises(Infeasible) as err:
        solve(request(ask), only)
    assert "only in opt-in capacity" in str(err.value) and err.value.families == ("optIn",)


def test_catalog_excluded_lists_opt_in_capacity(full_catalog):
    from typer.testing import CliRunner

    from newinfra.cli.app import app

    out = CliRunner().invoke(app, ["catalog", "--excluded", "--json", "--cloud", "aws"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout[out.stdout.index("{"):])["excluded"]
    opt_in = [r for r in rows if r["scope"] == "opt-in"]
    assert {(r["zone"], r["instanceType"]) for r in opt_in} >= {("use1-atl2-az1", "p5.48xlarge")}
    assert all(r["reason"].startswith("opt-in: ") for r in opt_in)
    assert {r["region"] for r in opt_in} & OPT_IN_REGIONS["aws"]


# --- bad input and lock hashes ------------------------------------------------------------------------------


def dev_raw() -> dict:
    config = yaml.safe_load((REPO_ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    return {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in config.items() if k.startswith("newinfra:")}


@pytest.mark.parametrize(("change", "fragments"), [
    ({"cpusPerAccelerator": 0}, ["newinfra:workloads[0].cpusPerAccelerator: 0 is not valid",
                                 "greater than 0"]),
    ({"memoryGbPerAccelerator": -4}, ["newinfra:workloads[0].memoryGbPerAccelerator: -4 is not valid",
                                      "greater than 0"]),
    ({"cpusPerAccelerator": True}, ["newinfra:workloads[0].cpusPerAccelerator: True is not valid",
                                    "is a boolean, not a number"]),
    ({"cpusPerAccelerator": "many"}, ["newinfra:workloads[0].cpusPerAccelerator: 'many' is not valid"]),
    ({"accelerator": "tpu-v5litepod-8", "count": 8, "perNode": 8, "cpusPerAccelerator": 8},
     ["newinfra:workloads[0].cpusPerAccelerator: 8 does not apply to tpu-v5litepod"]),
])
def test_bad_floor_is_refused_naming_file_key_value_and_valid(change, fragments):
    raw = dev_raw()
    raw["workloads"][0].update(change)
    with pytest.raises(ConfigError) as err:
        parse_config(raw, "Pulumi.dev.yaml")
    message = str(err.value)
    assert all(line.startswith("Pulumi.dev.yaml: ") for line in message.splitlines()), message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize(("regions", "fragment"), [
    (["mars-1"], "optInRegions[0]: 'mars-1' is not valid: not an opt-in region; valid: af-south-1, ap-east-1"),
    (["me-south-1", "us-east-1"], "optInRegions[1]: 'us-east-1' is not valid: not an opt-in region"),
    (["me-south1"], "did you mean me-south-1?"),
])
def test_unknown_opt_in_region_lists_the_valid_ones(regions, fragment):
    raw = dev_raw()
    raw["optInRegions"] = regions
    with pytest.raises(ConfigError) as err:
        parse_config(raw, "Pulumi.dev.yaml")
    assert str(err.value).startswith("Pulumi.dev.yaml: newinfra:optInRegions") and fragment in str(err.value)
    assert len(str(err.value).splitlines()) == 1 and "['" not in str(err.value)


def test_allow_local_zones_must_be_a_boolean():
    raw = dev_raw()
    raw["allowLocalZones"] = "sometimes"
    with pytest.raises(ConfigError, match=r"newinfra:allowLocalZones: 'sometimes' is not valid"):
        parse_config(raw, "Pulumi.dev.yaml")


def test_a_pinned_placement_follows_the_same_rules():
    from newinfra.cost_model.catalog import load_catalog
    from newinfra.cost_model.validate import RequestError, check_request

    pin = {"workload": "w", "cloud": "aws", "region": "us-east-1", "zones": ["use1-atl2-az1"],
           "instanceType": "p5.48xlarge", "accelerator": "H100", "acceleratorsPerNode": 8, "nodes": 1,
           "minNodes": 0, "maxNodes": 1, "market": "on-demand", "nodeHourlyUsd": 55.04}
    ask = {"accelerator": "H100", "count": 8, "perNode": 8, "placement": [pin]}
    with pytest.raises(RequestError, match=r"workloads\[0\]\.placement\[0\]: aws/us-east-1/use1-atl2-az1 is "
                                           r"opt-in: use1-atl2-az1 is a Local Zone"):
        check_request(request(ask, allowedClouds=["aws"]), load_catalog())
    check_request(request(ask, allowedClouds=["aws"], allowLocalZones=True), load_catalog())
    with pytest.raises(RequestError, match=r"p5.48xlarge has 24 vCPUs and 256 GiB per accelerator, below the host "
                                           r"floor of 32 vCPUs and 16 GiB"):
        check_request(request({**ask, "cpusPerAccelerator": 32}, allowedClouds=["aws"], allowLocalZones=True),
                      load_catalog())


def test_new_keys_left_at_their_defaults_keep_the_lock_hash():
    base = request({"accelerator": "L4", "count": 1})
    same = request({"accelerator": "L4", "count": 1}, allowLocalZones=False, optInRegions=[])
    assert request_hash(base) == request_hash(same)
    assert request_hash(base) != request_hash(request({"accelerator": "L4", "count": 1}, allowLocalZones=True))
    assert request_hash(base) != request_hash(request({"accelerator": "L4", "count": 1, "cpusPerAccelerator": 8}))
