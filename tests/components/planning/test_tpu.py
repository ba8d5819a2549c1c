"""TPU slice planning: chips from the slice name, topology checks, hosts and machine types."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from newinfra.components.planning.tpu import (
    GENERATIONS,
    parse_accelerator_type,
    plan_gke_tpu_slice,
    plan_tpu_slice,
    valid_topologies,
)

from newinfra.errors import ComponentInputError


@pytest.mark.parametrize(("accelerator_type", "chips", "topology", "hosts", "machine", "runtime"), [
    ("v5litepod-8", 8, "2x4", 1, "ct5lp-hightpu-8t", "v2-alpha-tpuv5-lite"),
    ("v5litepod-4", 4, "2x2", 1, "ct5lp-hightpu-4t", "v2-alpha-tpuv5-lite"),
    ("v5litepod-16", 16, "4x4", 4, "ct5lp-hightpu-4t", "v2-alpha-tpuv5-lite"),
    ("v5p-8", 4, "2x2x1", 1, "ct5p-hightpu-4t", "v2-alpha-tpuv5"),  # v5p names count TensorCores
    ("v5p-128", 64, "4x4x4", 16, "ct5p-hightpu-4t", "v2-alpha-tpuv5"),
    ("v6e-8", 8, "2x4", 1, "ct6e-standard-8t", "v2-alpha-tpuv6e"),  # v6e names count chips
    ("v6e-256", 256, "16x16", 64, "ct6e-standard-4t", "v2-alpha-tpuv6e"),
    # TPU v3 (GCP "TPU v3" page): v3-8 is one host of 4 chips; v3-32 ... v3-2048 are 2D-torus slices.
    ("v3-8", 4, "2x2", 1, "ct3-hightpu-4t", "tpu-ubuntu2204-base"),
    ("v3-32", 16, "4x4", 4, "ct3p-hightpu-4t", "tpu-ubuntu2204-base"),
    ("v3-64", 32, "4x8", 8, "ct3p-hightpu-4t", "tpu-ubuntu2204-base"),
    ("v3-2048", 1024, "32x32", 256, "ct3p-hightpu-4t", "tpu-ubuntu2204-base"),
    ("v2-8", 4, "2x2", 1, None, "tpu-ubuntu2204-base"),  # v2: TPU VMs only
    ("v2-512", 256, "16x16", 64, None, "tpu-ubuntu2204-base"),
])
def test_standard_slices(accelerator_type, chips, topology, hosts, machine, runtime):
    plan = plan_tpu_slice(accelerator_type)
    assert (plan.chips, plan.topology, plan.hosts, plan.gke_machine_type, plan.runtime_version) == \
        (chips, topology, hosts, machine, runtime)
    assert plan_tpu_slice(accelerator_type, topology) == plan


def test_wrong_topology_names_the_valid_ones():
    with pytest.raises(ComponentInputError, match=r"tpu_topology: '4x4' does not match v5litepod-8 \(8 chips\).*\['2x4'\]"):
        plan_tpu_slice("v5litepod-8", "4x4")
    with pytest.raises(ComponentInputError, match=r"'2x2x2' does not match v5p-8 \(4 chips\).*\['2x2x1'\]"):
        plan_tpu_slice("v5p-8", "2x2x2")


@pytest.mark.parametrize(("accelerator_type", "message"), [
    ("v7x-8", r"instance_type: 'v7x-8' is not a TPU type GCP offers"),
    ("v5litepod-12", r"'v5litepod-12' \(12 chips\) is not a v5litepod slice GCP offers; valid: \['v5litepod-1'"),
    ("v5p-9", r"v5p sizes count TensorCores \(2 per chip\)"),
    ("v5p-200", r"'v5p-200' \(100 chips\) is not a v5p slice"),
    ("v6e-512", r"'v6e-512' \(512 chips\) is not a v6e slice"),
    ("v3-16", r"'v3-16' \(8 chips\) is not a v3 slice GCP offers; valid: \['v3-8', 'v3-32'"),
    ("v3-4096", r"'v3-4096' \(2048 chips\) is not a v3 slice"),
    ("v2-64", r"'v2-64' \(32 chips\) is not a v2 slice"),
    ("a3-highgpu-8g", r"is not a TPU type"),
])
def test_slices_gcp_does_not_offer(accelerator_type, message):
    with pytest.raises(ComponentInputError, match=message):
        plan_tpu_slice(accelerator_type)


@given(st.sampled_from(sorted(GENERATIONS)), st.integers(min_value=1, max_value=9000))
def test_every_valid_topology_multiplies_out_to_the_chips(generation_name, chips):
    generation = GENERATIONS[generation_name]
    topologies = valid_topologies(generation, chips)
    for topology in topologies:
        dims = [int(d) for d in topology.split("x")]
        assert len(dims) == generation.dims
        assert math.prod(dims) == chips
    if topologies:
        plan = plan_tpu_slice(f"{generation.name}-{chips * generation.cores_per_chip_in_name}", topologies[-1])
        assert plan.hosts * max(generation.chips_per_host, 1) >= chips or plan.hosts == 1
        assert plan.topology == topologies[-1]


@given(st.sampled_from(sorted(GENERATIONS)), st.integers(min_value=1, max_value=9000))
def test_names_count_chips_or_cores(generation_name, size):
    generation = GENERATIONS[generation_name]
    name = f"{generation.name}-{size}"
    if size % generation.cores_per_chip_in_name:
        with pytest.raises(ComponentInputError):
            parse_accelerator_type(name)
    else:
        assert parse_accelerator_type(name) == (generation, size // generation.cores_per_chip_in_name)


def test_large_3d_slices_are_whole_cubes():
    assert valid_topologies(GENERATIONS["v5p"], 512) == ["8x8x8", "4x8x16", "4x4x32"]
    assert all(int(d) % 4 == 0 for t in valid_topologies(GENERATIONS["v5p"], 1024) for d in t.split("x"))
    # The documented standard topology comes first: what GCP provisions for the bare type name.
    assert valid_topologies(GENERATIONS["v5p"], 1024)[0] == "8x8x16"


def test_regression_the_planner_takes_tpu_v3_that_the_catalog_offers():
    """Bug: `solve` placed tpu-v3-8 while plan_tpu_slice refused v3-8 (place succeeded, plan failed)."""
    plan = plan_tpu_slice("v3-8")
    assert (plan.generation, plan.chips, plan.topology, plan.hosts) == ("v3", 4, "2x2", 1)
    assert plan_gke_tpu_slice("v3-8").gke_machine_type == "ct3-hightpu-4t"


def test_gke_refuses_generations_without_node_pools():
    with pytest.raises(ComponentInputError, match=r"instance_type: 'v2-8': GKE has no TPU v2 node pools; run it as a TPU "
                                               r"VM \(runsOn: vm\) or use a generation GKE offers: \['v3', 'v4'"):
        plan_gke_tpu_slice("v2-8")
