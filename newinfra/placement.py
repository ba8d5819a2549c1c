"""The one interface between the cost model and the Pulumi program.

A Placement says where one pool of a workload runs: cloud, region, zones, instance type (or TPU slice),
node range and market, with its hourly price. A workload split across markets (``maxSpotShare``) has one
Placement per market. Components read everything here except the prices.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator
from pydantic.alias_generators import to_camel

Cloud = Literal["aws", "gcp", "alicloud"]
Market = Literal["on-demand", "spot", "capacity-block", "reserved", "flex-start"]
RunsOn = Literal["kubernetes", "vm"]
CLOUDS: tuple[str, ...] = ("aws", "gcp", "alicloud")
Int = Annotated[int, Strict()]  # a count as written: true or 2.0 are not node counts


class Placement(BaseModel):
    """Where one pool of a workload runs. Keys are camelCase in files (lock, config), snake_case in code."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, allow_inf_nan=False
    )

    workload: str = Field(min_length=1)
    cloud: Cloud
    region: str = Field(min_length=1)
    # AWS: AZ IDs (use1-az1), resolved to names by the program; GCP and Alibaba: zone names.
    zones: tuple[str, ...] = Field(min_length=1)
    # EC2/GCE/ECS instance type; for a TPU slice the accelerator type such as "v5litepod-8".
    instance_type: str = Field(min_length=1)
    accelerator: str = Field(min_length=1)
    accelerators_per_node: Int = Field(ge=1, le=100_000)
    nodes: Int = Field(ge=0, le=100_000, description="desired node count")
    min_nodes: Int = Field(ge=0, le=100_000)
    max_nodes: Int = Field(ge=1, le=100_000)
    market: Market = "on-demand"
    runs_on: RunsOn = "kubernetes"
    tpu_topology: str | None = None
    # Price of one node per hour in this market; None on a hand-written placement until the cost model prices it.
    node_hourly_usd: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ranges(self) -> Placement:
        if not (self.min_nodes <= self.nodes <= self.max_nodes):
            raise ValueError(
                f"nodes must satisfy minNodes <= nodes <= maxNodes, got "
                f"{self.min_nodes} <= {self.nodes} <= {self.max_nodes}"
            )
        return self

    @property
    def is_tpu(self) -> bool:
        return self.accelerator.startswith("tpu-")

    @property
    def multi_node(self) -> bool:
        return self.max_nodes > 1

    @property
    def hourly_usd(self) -> float:
        """Price per hour of the desired node count."""
        return round(self.nodes * (self.node_hourly_usd or 0.0), 6)

    @property
    def pool_name(self) -> str:
        """Stable name of the pool this placement becomes (workload + market)."""
        return self.workload if self.market == "on-demand" else f"{self.workload}-{self.market}"

    def to_file(self) -> dict:
        return self.model_dump(by_alias=True, mode="json")


# AZ IDs of AWS Local Zones carry a location code: use1-atl2-az1, usw2-lax1-az1 (regular zones: use1-az1). One
# fact for the cost model (opt-in capacity) and the AWS network (Local Zone subnets stay out of the cluster's).
LOCAL_ZONE_ID = re.compile(r"^[a-z]+[0-9]-[a-z]{3}[0-9]+-az[0-9]+$")


def is_local_zone(cloud: str, zone: str) -> bool:
    return cloud == "aws" and bool(LOCAL_ZONE_ID.match(zone))
