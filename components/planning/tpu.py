"""Pure TPU slice planning: chips, topology, hosts, machine types and runtime per generation.

Slice names count chips for v5e/v6e (v5litepod-8 = 8 chips) and TensorCores for v2/v3/v4/v5p (v5p-8 = 4 chips,
two cores each). A slice's topology must multiply out to its chips and be one GCP provisions. v2 and v3 run
as TPU VMs; GKE has node pools from v3 on (``plan_gke_tpu_slice`` refuses v2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from newinfra.errors import ComponentInputError
from newinfra.facts import TPU_GENERATIONS, TPU_TYPE, TpuGeneration, tpu_topologies

# The generations, their sizes, topologies, hosts and GKE machines are hardware facts (newinfra/facts.py).
GENERATIONS = TPU_GENERATIONS


@dataclass(frozen=True)
class TpuSlicePlan:
    accelerator_type: str  # v5litepod-8
    generation: str
    chips: int
    topology: str
    hosts: int
    gke_machine_type: str | None  # None: GKE has no node pools for this generation (v2: TPU VMs only)
    runtime_version: str
    default_topology: str  # the first of the valid ones: what GCP provisions for the bare type name


def parse_accelerator_type(accelerator_type: str, key: str = "instance_type") -> tuple[TpuGeneration, int]:
    match = TPU_TYPE.match(accelerator_type if isinstance(accelerator_type, str) else "")
    generation = GENERATIONS.get(match.group(1)) if match else None
    if generation is None or match is None:
        raise ComponentInputError(
            key, f"{accelerator_type!r} is not a TPU type GCP offers; valid: "
            f"<generation>-<size> with generation in {sorted(GENERATIONS)} (e.g. v3-8, v5litepod-8, v5p-8, v6e-8)"
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
    return tpu_topologies(generation, chips)


def _slice_sizes(generation: TpuGeneration) -> list[str]:
    sizes = generation.standard_topologies if generation.dims == 2 else \
        [c for c in generation.standard_topologies if c < 64]
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
    single = chips in generation.single_host_chips
    hosts = 1 if single else math.ceil(chips / generation.chips_per_host)
    gke = generation.gke_single_host_machines.get(chips) if single else generation.gke_multi_host_machine
    return TpuSlicePlan(
        accelerator_type=accelerator_type,
        generation=generation.name,
        chips=chips,
        topology=chosen,
        hosts=hosts,
        gke_machine_type=gke,
        runtime_version=generation.runtime_version,
        default_topology=valid[0],
    )


def plan_gke_tpu_slice(accelerator_type: str, topology: str | None = None) -> TpuSlicePlan:
    """A slice for a GKE TPU node pool: as ``plan_tpu_slice``, refusing generations GKE does not run."""
    plan = plan_tpu_slice(accelerator_type, topology)
    if plan.gke_machine_type is None:
        gke = sorted(g.name for g in GENERATIONS.values() if g.gke_multi_host_machine)
        raise ComponentInputError(
            "instance_type", f"{accelerator_type!r}: GKE has no TPU {plan.generation} node pools; run it as a TPU "
            f"VM (runsOn: vm) or use a generation GKE offers: {gke}")
    return plan
