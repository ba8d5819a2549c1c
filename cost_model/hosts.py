"""Host floors: the least vCPUs and memory per accelerator a host must have for the cost model to place on it.

GCP attaches a T4 or V100 to any N1 host down to n1-standard-1 (1 vCPU, 3.75 GB), so the cheapest offer for
8 x V100 is a host no one would train on: the data loader, the NCCL proxies and the driver starve the GPUs.
The defaults are what the clouds' own smallest GPU shapes give per accelerator (g4dn.xlarge: 4 vCPUs, 16 GiB
per T4; a2-highgpu-1g: 12 vCPUs, 85 GB per A100), never below 4 vCPUs per accelerator. A workload may set its
own floor (`cpusPerAccelerator`, `memoryGbPerAccelerator`), lower or higher. TPU slices have no row: their
host is fixed by the slice (the catalog lists no host size for them), so no floor applies there.

Memory is compared with the catalog's `memoryGiB` column (GCP lists its GB figures there as they are).
"""

from __future__ import annotations

from dataclasses import dataclass

from newinfra.cost_model.catalog.opt_in import allowed, opt_in_reason
from newinfra.cost_model.catalog.schema import Offer
from newinfra.cost_model.request import PlacementRequest, Workload
from newinfra.cost_model.spread import zones_of


@dataclass(frozen=True)
class HostFloor:
    accelerators: tuple[str, ...]  # canonical catalog names
    vcpus: float  # per accelerator
    memory_gib: float  # per accelerator
    reason: str


# One row per group of accelerators; every non-TPU accelerator of the catalog has a row (a test checks it).
HOST_FLOORS: tuple[HostFloor, ...] = (
    HostFloor(("P100", "P4", "T4", "V100"), 4, 15,
              "g4dn.xlarge (4 vCPUs, 16 GiB per T4), Alibaba gn6i-c4g1.xlarge (4 vCPUs, 15 GiB) and GCP's "
              "n1-standard-4 (4 vCPUs, 15 GB) are the smallest hosts built for these GPUs; GCP also attaches "
              "them to n1-standard-1 and n1-highcpu-2, which starve them"),
    HostFloor(("A10", "A10G", "GA107", "Inferentia2", "L4", "L40S", "Radeon Pro V520"), 4, 16,
              "g5.xlarge, g6.xlarge, g6e.xlarge, g4ad.xlarge, inf2.xlarge and g2-standard-4: 4 vCPUs and "
              "16 GiB per device is the smallest shape each cloud builds"),
    HostFloor(("Inferentia", "T4g"), 4, 8,
              "inf1.xlarge and g5g.xlarge give 4 vCPUs and 8 GiB per device: the leanest shapes any cloud "
              "sells, and what these devices are built for"),
    HostFloor(("A100", "A100-80GB", "B200", "B300", "Gaudi HL-205", "H100", "H200", "RTXPRO6000S", "Trainium",
               "V100-32GB", "VU47P", "VU9P"), 4, 16,
              "sold only on large fixed hosts (a2-highgpu-1g: 12 vCPUs, 85 GB per A100; p5.48xlarge: 24 "
              "vCPUs, 256 GiB per H100): the floor guards only a live catalog's odd rows"),
)
# An accelerator without a row (a new name in a live catalog): the leanest floor of the table.
DEFAULT_FLOOR = HostFloor((), 4, 8, "no row for this accelerator: the table's leanest floor (inf1.xlarge)")

_BY_ACCELERATOR = {a: f for f in HOST_FLOORS for a in f.accelerators}


def default_floor(accelerator: str) -> HostFloor | None:
    """The table's floor for a canonical accelerator name; None for TPU slices (a fixed host)."""
    if accelerator.startswith("tpu-"):
        return None
    return _BY_ACCELERATOR.get(accelerator, DEFAULT_FLOOR)


def floor_for(w: Workload, accelerator: str) -> tuple[float, float] | None:
    """(vCPUs, GiB) per accelerator a host of workload `w` needs: its own values, else the table's."""
    default = default_floor(accelerator)
    if default is None:
        return None
    cpus = default.vcpus if w.cpus_per_accelerator is None else w.cpus_per_accelerator
    mem = default.memory_gib if w.memory_gb_per_accelerator is None else w.memory_gb_per_accelerator
    return float(cpus), float(mem)


def meets_floor(offer: Offer, floor: tuple[float, float] | None) -> bool:
    """Whether the offer's host has at least the floor per accelerator (no floor or no host size: yes)."""
    if floor is None or offer.vcpus is None or offer.memory_gib is None:
        return True
    n = offer.accelerators_per_node
    return offer.vcpus / n >= floor[0] - 1e-9 and offer.memory_gib / n >= floor[1] - 1e-9


def describe(w: Workload, floor: tuple[float, float]) -> str:
    """'4 vCPUs and 15 GiB per accelerator (the default for T4)' or with the workload's keys named."""
    own = [k for k, v in (("cpusPerAccelerator", w.cpus_per_accelerator),
                          ("memoryGbPerAccelerator", w.memory_gb_per_accelerator)) if v is not None]
    source = f"from {' and '.join(own)}" if own else "the default, cost_model/hosts.py"
    return f"{floor[0]:g} vCPUs and {floor[1]:g} GiB per accelerator ({source})"


def placement_problem(w: Workload, accelerator: str, offer: Offer, request: PlacementRequest) -> str | None:
    """Why the cost model would not place `w` on this offer: below its host floor, or opt-in capacity the request
    does not allow (None: it would). The lock check and pinned placements use it; the candidates apply the same
    two rules column-wise."""
    floor = floor_for(w, accelerator)
    if not meets_floor(offer, floor):
        assert floor is not None and offer.vcpus is not None and offer.memory_gib is not None
        n = offer.accelerators_per_node
        return (f"{offer.instance_type} has {offer.vcpus / n:g} vCPUs and {offer.memory_gib / n:g} GiB per "
                f"accelerator, below the host floor of {describe(w, floor)}")
    if not all(allowed(offer.cloud, offer.region, zone, request.allow_local_zones, request.opt_in_regions)
               for zone in zones_of(offer.zone)):  # a region-level offer (cost_model/spread.py): every zone
        return f"{offer.cloud}/{offer.region}/{offer.zone} is {opt_in_reason(offer.cloud, offer.region, offer.zone)}"
    return None
