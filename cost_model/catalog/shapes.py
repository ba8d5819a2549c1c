"""How GCP sells accelerators: which host types carry which GPUs, and what a TPU slice name means.

GCP prices a GPU VM as a host machine type plus its attached GPUs (two rows in the source), and it
allows only certain pairs. These tables are GCP's documented pairs ("GPU machine types" and
"TPU versions" pages of cloud.google.com/compute/docs and cloud.google.com/tpu/docs).
"""

from __future__ import annotations

from newinfra.facts import FAMILIES, TPU_GENERATIONS, family_of

# Accelerator-optimised hosts: host type -> (source accelerator name, GPUs per VM).
GCP_GPU_HOSTS: dict[str, tuple[str, int]] = {
    "a2-highgpu-1g": ("A100", 1),
    "a2-highgpu-2g": ("A100", 2),
    "a2-highgpu-4g": ("A100", 4),
    "a2-highgpu-8g": ("A100", 8),
    "a2-megagpu-16g": ("A100", 16),
    "a2-ultragpu-1g": ("A100-80GB", 1),
    "a2-ultragpu-2g": ("A100-80GB", 2),
    "a2-ultragpu-4g": ("A100-80GB", 4),
    "a2-ultragpu-8g": ("A100-80GB", 8),
    "a3-highgpu-1g": ("H100", 1),
    "a3-highgpu-2g": ("H100", 2),
    "a3-highgpu-4g": ("H100", 4),
    "a3-highgpu-8g": ("H100", 8),
    "a3-megagpu-8g": ("H100-MEGA", 8),
    "a3-ultragpu-8g": ("H200", 8),
    "a4-highgpu-8g": ("B200", 8),
    "g2-standard-4": ("L4", 1),
    "g2-standard-8": ("L4", 1),
    "g2-standard-12": ("L4", 1),
    "g2-standard-16": ("L4", 1),
    "g2-standard-32": ("L4", 1),
    "g2-standard-24": ("L4", 2),
    "g2-standard-48": ("L4", 4),
    "g2-standard-96": ("L4", 8),
}

# GCP's attachment rules for N1 hosts: per GPU model and count, the vCPU and memory (GB) range a host may have
# to take that many GPUs ("GPU machine types", N1 general-purpose: https://cloud.google.com/compute/docs/gpus).
# GCP refuses an instance outside the range, and refuses GPUs on the shared-core N1 types (f1-micro, g1-small).
# The ranges start at 1 vCPU: the floor people would run on is the cost model's host floor (cost_model/hosts.py).
N1_ATTACHMENT: dict[str, dict[int, tuple[tuple[int, int], tuple[int, int]]]] = {
    # model: {GPUs: ((min vCPUs, max vCPUs), (min GB, max GB))}
    "T4": {1: ((1, 48), (1, 312)), 2: ((1, 48), (1, 312)), 4: ((1, 96), (1, 624))},
    "P4": {1: ((1, 24), (1, 156)), 2: ((1, 48), (1, 312)), 4: ((1, 96), (1, 624))},
    "V100": {1: ((1, 12), (1, 78)), 2: ((1, 24), (1, 156)), 4: ((1, 48), (1, 312)), 8: ((1, 96), (1, 624))},
    "P100": {1: ((1, 16), (1, 104)), 2: ((1, 32), (1, 208)), 4: ((1, 64), (1, 208))},
}
N1_SHARED_CORE = ("f1-micro", "g1-small")
# Hosts that take attached GPUs of several models: the GCP families without an accelerator of their own (N1).
N1_GPU_FAMILIES = tuple(sorted(f for (c, f), v in FAMILIES.items() if c == "gcp" and v.accelerator is None))
GIB_PER_GB = 1e9 / 2**30


def n1_attachable(accelerator: str, count: int, host: str, vcpus: float, mem_gib: float) -> bool:
    """Whether GCP attaches `count` x `accelerator` (source name: T4, V100, ...) to N1 host `host`."""
    rule = N1_ATTACHMENT.get(accelerator, {}).get(count)
    if rule is None or host in N1_SHARED_CORE or family_of("gcp", host) not in N1_GPU_FAMILIES:
        return False
    (cpu_lo, cpu_hi), (gb_lo, gb_hi) = rule
    return cpu_lo <= vcpus <= cpu_hi and gb_lo * GIB_PER_GB <= mem_gib <= gb_hi * GIB_PER_GB


def n1_hosts_for(accelerator: str, count: int, hosts: dict[str, tuple[float, float]]) -> list[str]:
    """N1 host types (name -> (vCPUs, memory GiB)) that may carry `count` of `accelerator`."""
    return sorted(name for name, (vcpus, mem_gib) in hosts.items()
                  if n1_attachable(accelerator, count, name, vcpus, mem_gib))


class SliceError(ValueError):
    """A TPU accelerator name we cannot turn into a slice (unknown generation, odd size)."""


def tpu_slice(name: str) -> tuple[str, str, int, str]:
    """'tpu-v5p-16' -> ('tpu-v5p', 'v5p-16', 8 chips, '2x2x2'); raises SliceError with the reason.

    The catalog offers the slices with a documented standard topology (newinfra/facts.py), each of which the
    TPU planner accepts; larger non-standard 3D slices are left to a user's explicit topology."""
    body = name.removeprefix("tpu-")
    generation, _, size = body.rpartition("-")
    facts = TPU_GENERATIONS.get(generation)
    if facts is None or not size.isdigit():
        raise SliceError(f"unknown TPU generation or size in {name!r}")
    chips = int(size) // facts.cores_per_chip_in_name
    topology = facts.standard_topologies.get(chips)
    if topology is None:
        raise SliceError(
            f"{name}: {chips} chips has no standard {generation} topology "
            f"(standard chip counts: {sorted(facts.standard_topologies)})"
        )
    return facts.family, body, chips, topology
