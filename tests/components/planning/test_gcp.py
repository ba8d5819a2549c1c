"""GCP planning: accelerator names, labels, subnetwork ranges."""

from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from newinfra.components.planning.gcp import (
    GCP_ACCELERATOR_TYPES,
    gcp_accelerator_type,
    gcp_labels,
    gke_taint_effect,
    plan_subnetworks,
    private_block,
)

from newinfra.errors import ComponentInputError


@pytest.mark.parametrize(("ours", "machine", "gcp"), [
    ("H100", "a3-highgpu-8g", "nvidia-h100-80gb"),
    ("H100", "a3-megagpu-8g", "nvidia-h100-mega-80gb"),  # the machine family decides the name
    ("A100-80GB", "a2-ultragpu-8g", "nvidia-a100-80gb"),
    ("A100", "a2-highgpu-1g", "nvidia-tesla-a100"),
    ("L4", "g2-standard-8", "nvidia-l4"),
    ("T4", "n1-standard-8", "nvidia-tesla-t4"),
    ("V100", "n1-standard-8", "nvidia-tesla-v100"),
    ("H200", "a3-ultragpu-8g", "nvidia-h200-141gb"),
    ("B200", "a4-highgpu-8g", "nvidia-b200"),
    ("nvidia-l4", "g2-standard-4", "nvidia-l4"),  # GCP's own name passes through
])
def test_accelerator_names(ours, machine, gcp):
    assert gcp_accelerator_type(ours, machine) == gcp


@pytest.mark.parametrize("accelerator", ["A10G", "Trainium", "L40S", "A10", "tpu-v5litepod"])
def test_accelerator_gcp_does_not_offer(accelerator):
    with pytest.raises(ComponentInputError, match=rf"accelerator: '{accelerator}' is not offered on GCP; valid: \["):
        gcp_accelerator_type(accelerator, "n1-standard-8")


def test_every_gcp_name_is_distinct():
    assert len(set(GCP_ACCELERATOR_TYPES.values())) == len(GCP_ACCELERATOR_TYPES)


def test_labels_are_lowercase_and_carry_classification():
    labels = gcp_labels({"owner": "ML Platform", "cost-center": "CC-42", "Team": "x/y"}, "cn-resident")
    assert labels == {"cost-center": "cc-42", "newinfra-data-classification": "cn-resident",
                      "owner": "ml-platform", "team": "x-y"}


def test_labels_need_the_cost_keys():
    with pytest.raises(ComponentInputError, match=r"tags: missing required keys \['cost-center'\]"):
        gcp_labels({"owner": "me"})


def test_taint_effects():
    assert gke_taint_effect("NoSchedule") == "NO_SCHEDULE"
    with pytest.raises(ComponentInputError, match="'Never' is not valid"):
        gke_taint_effect("Never")


@given(st.lists(st.sampled_from(["us-central1", "us-east4", "europe-west4", "asia-southeast1", "us-west1"]),
                min_size=1, max_size=5, unique=True))
def test_subnetwork_ranges_never_overlap(regions):
    plans = plan_subnetworks("10.64.0.0/10", regions)
    assert [p.region for p in plans] == sorted(regions)
    blocks = [ipaddress.ip_network(b) for p in plans for b in (p.nodes, p.pods, p.services)]
    for i, a in enumerate(blocks):
        assert a.subnet_of(ipaddress.ip_network("10.64.0.0/10"))
        assert not any(a.overlaps(b) for b in blocks[i + 1:])
    assert all(ipaddress.ip_network(p.pods).num_addresses == 2 * ipaddress.ip_network(p.nodes).num_addresses
               for p in plans)


@pytest.mark.parametrize(("cidr", "message"), [
    ("8.8.0.0/16", "must be a private IPv4 range"),
    ("10.0.0.1/16", "is not a network address"),
    ("10.0.0.0/24", "too small"),
])
def test_bad_network_blocks(cidr, message):
    with pytest.raises(ComponentInputError, match=message):
        plan_subnetworks(cidr, ["us-central1"])


def test_control_plane_block():
    assert private_block("172.16.0.0/28", 28, "master_cidr", outside="10.64.0.0/12") == "172.16.0.0/28"
    with pytest.raises(ComponentInputError, match="master_cidr: '10.64.0.16/28' overlaps the network's range"):
        private_block("10.64.0.16/28", 28, "master_cidr", outside="10.64.0.0/12")
    with pytest.raises(ComponentInputError, match="must be a private IPv4 /28"):
        private_block("172.16.0.0/24", 28, "master_cidr", outside="10.64.0.0/12")


@given(st.dictionaries(st.from_regex(r"x[A-Za-z0-9 ._/-]{0,80}", fullmatch=True),  # no clash with the cost keys
                       st.text(max_size=90), max_size=5))
def test_labels_always_fit_gcp_rules(extra):
    labels = gcp_labels({"owner": "Team A", "cost-center": "CC 1", **extra}, "Restricted/EU")
    for key, value in labels.items():
        assert re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", key), key
        assert re.fullmatch(r"[a-z0-9_-]{0,63}", value), value
    assert labels["newinfra-data-classification"] == "restricted-eu"


@given(st.sampled_from(["10.0.0.0/12", "10.64.0.0/14", "172.16.0.0/16"]),
       st.lists(st.sampled_from(["us-central1", "us-east4", "europe-west4"]), min_size=1, max_size=3, unique=True),
       st.data())
def test_proxy_only_subnets_sit_in_their_region_s_block_apart_from_every_other_range(cidr, regions, data):
    proxy = data.draw(st.lists(st.sampled_from(regions), unique=True))
    plans = plan_subnetworks(cidr, regions, proxy)
    ranges = [ipaddress.ip_network(r) for p in plans for r in (p.nodes, p.pods, p.services, p.proxy_only) if r]
    assert all(not a.overlaps(b) for i, a in enumerate(ranges) for b in ranges[i + 1:])
    assert all(r.subnet_of(ipaddress.ip_network(cidr)) for r in ranges)
    plain = {p.region: p for p in plan_subnetworks(cidr, regions)}
    for p in plans:
        assert (p.proxy_only is not None) == (p.region in proxy)
        assert (p.nodes, p.pods) == (plain[p.region].nodes, plain[p.region].pods)  # only services gives way
        if p.proxy_only:
            assert ipaddress.ip_network(p.proxy_only).prefixlen >= 23  # Google's recommended /23 at most
            assert ipaddress.ip_network(p.services).subnet_of(ipaddress.ip_network(plain[p.region].services))


def test_a_proxy_only_region_outside_the_network_is_refused():
    with pytest.raises(ComponentInputError, match="proxy_only_regions"):
        plan_subnetworks("10.0.0.0/16", ["us-east4"], ["us-central1"])
