"""One schema for every cloud's offers. An offer is one instance type (or TPU slice) in one zone."""

from __future__ import annotations

from dataclasses import dataclass


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
        """Instance family: p5, g6e, a3-highgpu, gn7i; TPU: the generation (tpu-v5litepod)."""
        if self.cloud == "alicloud":
            return self.instance_type.split(".")[1].split("-")[0]
        if self.cloud == "gcp":
            return self.instance_type.rsplit("-", 1)[0] if not self.accelerator.startswith("tpu-") \
                else self.accelerator
        return self.instance_type.split(".")[0]
