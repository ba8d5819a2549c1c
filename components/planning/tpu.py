"""Pure TPU slice planning: chips, topology, hosts, machine types and runtime per generation.

Slice names count chips for v5e/v6e (v5litepod-8 = 8 chips) and TensorCores for v4/v5p (v5p-8 = 4 chips,
two cores each). A slice's topology must multiply out to its chips and be one GCP provisions.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

from newinfra.errors import ComponentInputError


@dataclass(frozen=True)
class TpuGeneration:
    name: str  # the prefix of accelerator types: v5litepod, v5p, v6e
    cores_per_chip_in_name: int  # 1: the name counts chips; 2: it counts TensorCores
    dims: int  # 2D torus (v5e, v6e) or 3D (v4, v5p)
    max_chips: int
    runtime_version: str  # the TPU VM software version for this generation
    single_host_machines: dict[int, str]  # chips -> GKE machine type for slices on one host
    multi_host_machine: str  # GKE machine type of each host of a larger slice
    chips_per_host: int  # on multi-host slices
    gke_accelerator: str  # GKE's node label cloud.google.com/gke-tpu-accelerator
    secure_boot: bool  # shieldedInstanceConfig.enableSecureBoot accepted


# 2D generations: the topologies GCP provisions, by chip count.
TOPOLOGIES_2D: dict[int, str] = {
    1: "1x1", 4: "2x2", 8: "2x4", 16: "4x4", 32: "4x8", 64: "8x8", 128: "8x16", 256: "16x16",
}
# 3D generations below a full 4x4x4 cube: the documented shapes; above it every dimension is a multiple of 4.
SMALL_TOPOLOGIES_3D: dict[int, str] = {4: "2x2x1", 8: "2x2x2", 16: "2x2x4", 32: "2x4x4"}

GENERATIONS: dict[str, TpuGeneration] = {
    g.name: g
    for g in (
        TpuGeneration("v4", 2, 3, 4096, "tpu-ubuntu2204-base", {4: "ct4p-hightpu-4t"}, "ct4p-hightpu-4t", 4,
                      "tpu-v4-podslice", True),
        TpuGeneration("v5litepod", 1, 2, 256, "v2-alpha-tpuv5-lite",
                      {1: "ct5lp-hightpu-1t", 4: "ct5lp-hightpu-4t", 8: "ct5lp-hightpu-8t"}, "ct5lp-hightpu-4t",
                      4, "tpu-v5-lite-podslice", True),
        TpuGeneration("v5p", 2, 3, 8960, "v2-alpha-tpuv5", {4: "ct5p-hightpu-4t"}, "ct5p-hightpu-4t", 4,
                      "tpu-v5p-slice", True),
        TpuGeneration("v6e", 1, 2, 256, "v2-alpha-tpuv6e",
                      {1: "ct6e-standard-1t", 4: "ct6e-standard-4t", 8: "ct6e-standard-8t"}, "ct6e-standard-4t",
                      4, "tpu-v6e-slice", True),
    )
}


@dataclass(frozen=True)
class TpuSlicePlan:
    accelerator_type: str  # v5litepod-8
    generation: str
    chips: int
    topology: str
    hosts: int
    gke_machine_type: str
    runtime_version: str
    default_topology: str  # the first of the valid ones: what GCP provisions for the bare type name


def parse_accelerator_type(accelerator_type: str, key: str = "instance_type") -> tuple[TpuGeneration, int]:
    match = re.fullmatch(r"(v\w+?)-(\d+)", accelerator_type or "")
    generation = GENERATIONS.get(match.group(1)) if match else None
    if generation is None or match is None:
        raise ComponentInputError(
            key, f"{accelerator_type!r} is not a TPU type GCP offers; valid: "
            f"<generation>-<size> with generation in {sorted(GENERATIONS)} (e.g. v5litepod-8, v5p-8, v6e-8)"
        )
    count = int(match.group(2))
    if count % generation.cores_per_chip_in_name:
        raise ComponentInputError(
            key, f"{accelerator_type!r}: {generation.name} sizes count TensorCores "
            f"({generation.cores_per_chip_in_name} per chip), so the size must be even"
        )
    return generation, count // generation.cores_per_chip_in_name


def valid_topologies(generation: TpuGeneration, chips: int) -> list[str]:
    """Every topology GCP provisions for this many chips of a generation (empty: no such slice)."""
    if chips > generation.max_chips:
        return []
    if generation.dims == 2:
        return [TOPOLOGIES_2D[chips]] if chips in TOPOLOGIES_2D else []
    if chips in SMALL_TOPOLOGIES_3D:
        return [SMALL_TOPOLOGIES_3D[chips]]
    if chips % 64:
        return []
    # A <= B <= C, each a multiple of 4: the slice is whole 4x4x4 cubes wired as a torus.
    quads = chips // 64
    shapes = {
        tuple(sorted((4 * a, 4 * b, 4 * c)))
        for a, b in itertools.product(range(1, quads + 1), repeat=2)
        if quads % (a * b) == 0
        for c in (quads // (a * b),)
    }
    return ["x".join(map(str, s)) for s in sorted(shapes, key=lambda s: (max(s), s))]


def _slice_sizes(generation: TpuGeneration) -> list[str]:
    sizes = TOPOLOGIES_2D if generation.dims == 2 else SMALL_TOPOLOGIES_3D
    examples = [f"{generation.name}-{chips * generation.cores_per_chip_in_name}" for chips in sorted(sizes)]
    return examples if generation.dims == 2 else [*examples, f"{generation.name}-<128 x k>"]


def plan_tpu_slice(accelerator_type: str, topology: str | None = None,
                   keys: tuple[str, str] = ("instance_type", "tpu_topology")) -> TpuSlicePlan:
    """Check a slice and its topology; derive hosts, machine type and runtime version.

    ``keys`` name the two arguments in errors: a node pool's (the default) or a TpuSlice's.
    """
    type_key, topology_key = keys
    generation, chips = parse_accelerator_type(accelerator_type, type_key)
    valid = valid_topologies(generation, chips)
    if not valid:
        raise ComponentInputError(
            type_key, f"{accelerator_type!r} ({chips} chips) is not a {generation.name} slice GCP offers; "
            f"valid: {_slice_sizes(generation)}"
        )
    chosen = topology or valid[0]
    if chosen not in valid:
        raise ComponentInputError(
            topology_key, f"{chosen!r} does not match {accelerator_type} ({chips} chips); "
            f"valid topologies for {accelerator_type}: {valid}"
        )
    single = generation.single_host_machines.get(chips)
    hosts = 1 if single else math.ceil(chips / generation.chips_per_host)
    return TpuSlicePlan(
        accelerator_type=accelerator_type,
        generation=generation.name,
        chips=chips,
        topology=chosen,
        hosts=hosts,
        gke_machine_type=single or generation.multi_host_machine,
        runtime_version=generation.runtime_version,
        default_topology=valid[0],
    )
