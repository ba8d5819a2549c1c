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

# N1 hosts take T4/V100/P4/P100 in fixed counts, each count capping the host's vCPUs and memory (GB).
N1_GPU_LIMITS: dict[str, dict[int, tuple[int, int]]] = {
    "T4": {1: (48, 312), 2: (48, 312), 4: (96, 624)},
    "P4": {1: (24, 156), 2: (48, 312), 4: (96, 624)},
    "V100": {1: (12, 78), 2: (24, 156), 4: (48, 312), 8: (96, 624)},
    "P100": {1: (16, 104), 2: (32, 208), 4: (64, 208)},
}
# Hosts that take attached GPUs of several models: the GCP families without an accelerator of their own (N1).
N1_GPU_FAMILIES = tuple(sorted(f for (c, f), v in FAMILIES.items() if c == "gcp" and v.accelerator is None))


def n1_hosts_for(accelerator: str, count: int, hosts: dict[str, tuple[float, float]]) -> list[str]:
    """N1 host types (name -> (vCPUs, memory GiB)) that may carry `count` of `accelerator`."""
    limit = N1_GPU_LIMITS.get(accelerator, {}).get(count)
    if limit is None:
        return []
    max_vcpus, max_gb = limit
    gib_per_gb = 1e9 / 2**30
    return sorted(
        name for name, (vcpus, mem_gib) in hosts.items()
        if family_of("gcp", name) in N1_GPU_FAMILIES and vcpus <= max_vcpus and mem_gib <= max_gb * gib_per_gb
    )


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
