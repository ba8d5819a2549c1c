"""One schema for every cloud's offers. An offer is one instance type (or TPU slice) in one zone."""

from __future__ import annotations

from dataclasses import dataclass

from newinfra.facts import family_of


@dataclass(frozen=True, slots=True, order=True)
class Offer:
    cloud: str  # aws | gcp | alicloud
    region: str
    zone: str  # AWS: AZ ID (use1-az1); GCP: zone name; Alibaba: zone id or "" when the source has none
    instance_type: str  # EC2/GCE/ECS type; TPU: the accelerator type, e.g. "v5litepod-8"
    accelerator: str  # normalised name: H100, A100-80GB, L4, T4, A10G, tpu-v5litepod, ...
    accelerators_per_node: int  # GPUs per VM; TPU: chips per slice
    accelerator_memory_gib: float | None
    vcpus: float | None
    memory_gib: float | None
    efa: bool  # AWS Elastic Fabric Adapter
    nvlink: bool  # NVLink / NVSwitch between the node's GPUs
    tpu_topology: str | None  # e.g. "2x4" for TPU slices
    on_demand_usd: float | None  # USD per node-hour (GCP GPU VMs: host + accelerators)
    spot_usd: float | None  # USD per node-hour, None when the source has no real spot price
    source: str
    as_of: str  # ISO date or catalog version of the source

    @property
    def family(self) -> str:
        """Instance family: p5, g6e, a3-highgpu, gn7i; TPU: the generation (tpu-v5litepod); newinfra/facts.py."""
        return family_of(self.cloud, self.instance_type)


@dataclass(frozen=True, slots=True, order=True)
class Exclusion:
    """A source row left out of the offers (scope "offer"), or only its spot price dropped ("spot")."""

    cloud: str
    region: str
    zone: str
    instance_type: str
    scope: str  # offer | spot | duplicate
    reason: str


@dataclass(frozen=True, slots=True)
class InstanceFacts:
    """What an instance type (or TPU slice) is, without prices, and where it is offered."""

    cloud: str
    instance_type: str
    accelerator: str
    accelerators_per_node: int
    accelerator_memory_gib: float | None  # per accelerator
    vcpus: float | None
    memory_gib: float | None
    efa: bool
    nvlink: bool
    tpu_topology: str | None
    zones: tuple[tuple[str, tuple[str, ...]], ...]  # (region, zones offered there), sorted

    def zones_in(self, region: str) -> tuple[str, ...]:
        return dict(self.zones).get(region, ())

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(r for r, _ in self.zones)
