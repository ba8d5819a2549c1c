"""What the cost model is asked: workloads, datasets, residency, quotas, budget.

The same keys appear under ``newinfra:`` in ``stacks/Pulumi.<env>.yaml`` and at the top of a standalone
request file (``python -m newinfra.cost_model solve REQUEST.yaml``). Structural checks live here (pydantic);
checks that need the catalog (known accelerators and instance types) live in ``newinfra.cost_model.validate``.
"""

from __future__ import annotations

import fnmatch
import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from newinfra.facts import TPU_GENERATIONS, TPU_SLICE
from newinfra.placement import CLOUDS, Cloud, Placement

HOURS_PER_MONTH = 730.0
MAX_HOURS = 744.0  # the longest month: no workload runs more hours in one
def tpu_slice_chips(accelerator: str) -> int | None:
    """Chips in a slice-qualified TPU name (tpu-v5p-16 -> 8), None for any other accelerator name. Whether a
    name counts chips or TensorCores is the generation's fact (newinfra/facts.py)."""
    match = TPU_SLICE.match(accelerator.lower())
    generation = TPU_GENERATIONS.get(match[1]) if match else None
    if match is None or generation is None:
        return None
    return max(1, int(match[2]) // generation.cores_per_chip_in_name)


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"{value} is a boolean, not a number; write a number")
    return value


# Whole numbers as written (true, 1e30 or "8" are not counts); numbers finite (Model: allow_inf_nan=False)
# and never booleans. Maxima sit far above any real stack so that a typo cannot reach the optimizer.
Int = Annotated[int, Strict()]
Number = Annotated[float, BeforeValidator(_not_bool)]
MAX_ACCELERATORS = 1_000_000
MAX_NODES = 100_000


def _opt_in_region(name: str) -> str:
    from newinfra.cost_model.catalog.opt_in import valid_opt_in_regions

    from newinfra.inputs import did_you_mean, listing

    valid = valid_opt_in_regions()
    if name not in valid:
        raise ValueError(f"not an opt-in region{did_you_mean(name, valid)}; valid: {listing(valid)} (other "
                         f"regions need no opt-in)")
    return name


OptInRegion = Annotated[str, AfterValidator(_opt_in_region)]


class Model(BaseModel):
    """camelCase keys in files, snake_case in code, unknown keys rejected, numbers finite."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True,
                              allow_inf_nan=False)


class NodeRange(Model):
    min: Int = Field(ge=0, le=MAX_NODES)
    max: Int = Field(ge=1, le=MAX_NODES)

    @model_validator(mode="after")
    def _ordered(self) -> NodeRange:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class CacheAssociation(Model):
    path: str = Field(min_length=1)  # where the bytes appear in the file system, e.g. /corpus
    prefix: str = ""  # S3 key prefix under the dataset's bucket ("" = the whole bucket)


class DatasetCacheSpec(Model):
    """`cache` of a dataset: a copy next to its GPUs (components/planning/dataset_cache.py checks the values
    against the cloud; the placement ignores it)."""

    # aws: fsx | mountpoint (default by size); gcp: gcsfuse; alicloud: none (README: Dataset caches)
    kind: Literal["fsx", "mountpoint", "gcsfuse"] | None = None
    region: str | None = Field(default=None, min_length=1)  # default: the region of the GPUs that read it
    associations: tuple[CacheAssociation, ...] = ()  # fsx: at most 8
    throughput_per_tib: Int = 125  # fsx PERSISTENT_2 tier
    local_cache_gb: Number | None = Field(default=None, gt=0)  # mountpoint / gcsfuse: per node
    metadata_ttl_s: Int | None = Field(default=None, ge=0)

    def as_plan_spec(self) -> dict[str, Any]:
        spec = self.model_dump(exclude_none=True, exclude={"region"})
        spec["associations"] = [a.model_dump() for a in self.associations]
        return spec


class Dataset(Model):
    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    size_gb: Number = Field(gt=0, le=1e9)
    classification: str = Field(min_length=1)
    home_cloud: Cloud
    home_region: str = Field(min_length=1)
    # How much of the dataset is read per month by its workloads (GB); egress is priced on this.
    monthly_read_gb: Number | None = Field(default=None, ge=0, le=1e12)
    shared_file_system: bool = False
    cache: DatasetCacheSpec | None = None

    @property
    def read_gb(self) -> float:
        return self.size_gb if self.monthly_read_gb is None else self.monthly_read_gb


class Workload(Model):
    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]{0,30}$")
    kind: Literal["training", "inference", "batch"]
    # One accelerator, or (`accelerators`) the acceptable ones with their speed relative to each other; exactly
    # one of the two. The cost model picks the cheapest per unit of work (`variant`).
    accelerator: str | None = Field(default=None, min_length=1)
    accelerators: dict[str, Number] | None = None
    count: Int = Field(gt=0, le=MAX_ACCELERATORS, description="total accelerators")
    per_node: Int | None = Field(default=None, gt=0, le=MAX_ACCELERATORS, description="accelerators each node holds")
    nodes: NodeRange | None = None
    spot: bool = False
    max_spot_share: Number | None = Field(default=None, ge=0, le=1)
    priority: Int = Field(default=0, ge=0, le=1000)
    dataset: str | None = None
    hours_per_month: Number = Field(default=HOURS_PER_MONTH, gt=0, le=MAX_HOURS)
    runs_on: Literal["kubernetes", "vm"] = "kubernetes"
    team: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    # Host floor per accelerator (cost_model/hosts.py holds the defaults): only hosts with at least this many
    # vCPUs and GiB of memory per accelerator are placed. TPU slices have a fixed host: no floor applies.
    cpus_per_accelerator: Number | None = Field(default=None, gt=0, le=1024)
    memory_gb_per_accelerator: Number | None = Field(default=None, gt=0, le=16384)
    # The longest wait for capacity the workload accepts: flex-start with a longer expected wait is not used.
    max_start_delay_hours: Number | None = Field(default=None, ge=0, le=744)
    # The latest the workload may start (ISO 8601 with a zone): a Capacity Block that starts later is not used.
    # A date, not a wait, so the same config gives the same plan whenever `place` runs.
    start_by: str | None = None
    # EC2 Capacity Block offering to reserve when a placement's market is capacity-block (AWS only).
    capacity_block_offering_id: str | None = Field(default=None, pattern=r"^cb-[0-9a-f]{8,32}$")
    # Until (or instead of) the cost model: an explicit placement for this workload's pools.
    placement: tuple[Placement, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _slice_sets_per_node(cls, data: Any) -> Any:
        """`accelerator: tpu-v5litepod-8` asks for slices of 8 chips: perNode is the slice's chip count."""
        if not isinstance(data, dict) or not isinstance(data.get("accelerator"), str):
            return data
        chips = tpu_slice_chips(data["accelerator"])
        per_node = data.get("perNode", data.get("per_node"))
        if chips is None:
            return data
        if per_node is None:
            return {**data, "perNode": chips}
        if per_node != chips:
            raise ValueError(f"perNode ({per_node}) contradicts accelerator {data['accelerator']!r}, a slice of "
                             f"{chips} chips; leave perNode out or set it to {chips}")
        return data

    @field_validator("start_by")
    @classmethod
    def _start_by_is_a_time(cls, value: str | None) -> str | None:
        if value is not None:
            instant(value, "startBy")
        return value

    @field_validator("accelerators")
    @classmethod
    def _speeds(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("an empty set accepts no accelerator; valid: at least one accelerator with its relative "
                             "speed, e.g. {H100: 1.0, A100-80GB: 0.55} (or accelerator: H100)")
        for name, speed in v.items():
            if not name:
                raise ValueError("an accelerator name is empty; valid: names such as H100, A100-80GB, L40S")
            if not 0 < speed <= 1000:
                raise ValueError(f"{name}: relative speed {speed:g} is not valid; valid: a number > 0 and <= 1000 "
                                 f"(e.g. 1.0 for the reference accelerator, 0.5 for one half as fast)")
            if tpu_slice_chips(name) is not None:
                raise ValueError(f"{name}: a TPU slice name fixes perNode and cannot be one of several "
                                 f"accelerators; valid here: accelerator names without a slice size")
        return dict(sorted(v.items()))

    @model_validator(mode="after")
    def _shape(self) -> Workload:
        if (self.accelerator is None) == (self.accelerators is None):
            raise ValueError("give exactly one of accelerator (one type) and accelerators (acceptable types with "
                             "relative speed, e.g. {H100: 1.0, A100-80GB: 0.55})"
                             + ("; both are set" if self.accelerator is not None else "; neither is set"))
        if self.per_node is not None and self.count % self.per_node:
            raise ValueError(
                f"perNode ({self.per_node}) must divide count ({self.count}); "
                f"valid perNode values: {', '.join(str(d) for d in range(1, self.count + 1) if self.count % d == 0)}"
            )
        if self.accelerators is not None and self.placement is not None:
            raise ValueError("placement pins one accelerator; with a written placement use accelerator, not "
                             "accelerators")
        if self.max_spot_share is not None and not self.spot and self.max_spot_share > 0:
            raise ValueError("maxSpotShare > 0 needs spot: true")
        return self

    @property
    def choices(self) -> tuple[tuple[str, float], ...]:
        """(accelerator as written, relative speed) per acceptable accelerator, sorted by name."""
        if self.accelerators is not None:
            return tuple(self.accelerators.items())
        return ((self.accelerator or "", 1.0),)

    def variant(self, accelerator: str, speed: float) -> Workload:
        """This workload on one accelerator of relative speed ``speed``: the same work in other units.

        Training and batch keep their accelerator count and run hoursPerMonth / speed hours; past 744 hours
        (a month cannot hold more) the hours stay at 744 and the count grows instead, to ceil(count x hours /
        (speed x 744)) rounded up to a whole number of perNode nodes. Inference keeps its hours and serves
        with ceil(count / speed) accelerators (throughput scales with speed), likewise rounded to perNode.
        A single `accelerator` is its own variant (speed 1)."""
        count, hours = self.count, self.hours_per_month
        if self.kind == "inference":
            count = math.ceil(count / speed - 1e-9)
        elif hours / speed <= MAX_HOURS + 1e-9:
            hours = hours / speed
        else:
            count = math.ceil(count * hours / (speed * MAX_HOURS) - 1e-9)
            hours = MAX_HOURS
        if self.per_node:
            count = -(-count // self.per_node) * self.per_node
        if self.accelerators is None and count == self.count and hours == self.hours_per_month:
            return self
        return self.model_copy(update={"accelerator": accelerator, "accelerators": None, "count": count,
                                       "hours_per_month": round(hours, 9)})

    @property
    def spot_share_cap(self) -> float:
        """Largest share of nodes that may run on spot: 0 (on-demand only) … 1 (any share)."""
        if not self.spot:
            return 0.0
        return 1.0 if self.max_spot_share is None else self.max_spot_share


def variant_for(w: Workload, accelerator: str, normalise) -> Workload:
    """``w`` as it runs on ``accelerator`` (a catalog name; ``normalise`` maps the names written in
    `accelerators` to catalog names): count and hours of that variant. ``w`` itself for a single accelerator."""
    if w.accelerators is None:
        return w
    for name, speed in w.choices:
        if normalise(name) == accelerator:
            return w.variant(accelerator, speed)
    raise ValueError(f"{accelerator} is not one of the workload's accelerators {[n for n, _ in w.choices]}")


class Quota(Model):
    cloud: Cloud
    region: str = Field(min_length=1)
    # AWS: vCPU class (P, G, VT, Inf, Trn, DL, F); GCP: accelerator (H100, L4, tpu-v5litepod);
    # Alibaba: instance family (gn7i, ebmgn7e).
    family: str = Field(min_length=1)
    market: Literal["on-demand", "spot", "any"] = "any"
    limit: Number = Field(ge=0, le=1e9, description="in the unit the cloud counts: AWS vCPUs, GCP GPUs/TPU chips")


class SpotMarket(Model):
    """Spot's expected restart overhead (cost_model/markets.py): interruptions per node and day per instance
    family (p5, g6e, a3-highgpu, gn7i, tpu-v5litepod; "*": any other) and the hours each one costs."""

    interruptions_per_day: dict[str, Number] = Field(default_factory=dict)
    restart_hours: Number = Field(default=0.0, ge=0, le=744)

    @field_validator("interruptions_per_day")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        for family, rate in v.items():
            if not family or not 0 <= rate <= 24:
                raise ValueError(f"{family or '(empty)'}: {rate:g} is not valid; valid: an instance family (or *) "
                                 f"with 0 <= interruptions per day <= 24")
        return dict(sorted(v.items()))


class FlexStart(Model):
    """GCP Dynamic Workload Scheduler flex-start (GPU VMs, and TPUs through queued resources): capacity granted
    after a wait, for a bounded run. Its price is the user's (no DWS price is in the reference data): a share
    of the on-demand price; left out, the market is not offered."""

    price_factor: Number | None = Field(default=None, gt=0, le=1, description="share of the on-demand price")
    max_run_hours: Number = Field(default=168.0, gt=0, le=744)  # GCP: a flex-start VM runs at most 7 days
    start_delay_hours: Number = Field(default=0.0, ge=0, le=744, description="expected wait for capacity")


class Markets(Model):
    spot: SpotMarket = Field(default_factory=SpotMarket)
    flex_start: FlexStart = Field(default_factory=FlexStart)


class Reservation(Model):
    """Capacity the user already pays for (an EC2 capacity reservation, a GCE reservation, a committed node):
    free to place up to `count` nodes; what it costs is counted once, as fixed."""

    cloud: Cloud
    region: str = Field(min_length=1)
    zone: str | None = Field(default=None, min_length=1)
    instance_type: str = Field(min_length=1)
    count: Int = Field(gt=0, le=MAX_NODES)


class CapacityBlock(Model):
    """An AWS EC2 Capacity Block bought (or offered): `count` instances for `durationHours` from `start` at
    `hourlyPriceUsd` per instance-hour. A workload runs on it only when its hours fit the duration."""

    region: str = Field(min_length=1)
    instance_type: str = Field(min_length=1)
    count: Int = Field(gt=0, le=MAX_NODES)
    hourly_price_usd: Number = Field(gt=0, le=10_000)
    duration_hours: Number = Field(gt=0, le=744, description="hours the block lasts (AWS sells 1-182 days)")
    start: str = Field(min_length=1, description="when the block starts, as the offering says (ISO 8601)")

    @field_validator("start")
    @classmethod
    def _start_is_a_time(cls, value: str) -> str:
        instant(value, "start")
        return value

    @model_validator(mode="before")
    @classmethod
    def _has_duration(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("durationHours", data.get("duration_hours")) is None:
            raise ValueError("durationHours: a Capacity Block without a duration cannot be priced or fitted; valid: "
                             "the hours the block lasts within the month, > 0 and <= 744")
        return data


def instant(value: str, key: str) -> datetime:
    """An ISO 8601 time with its zone (2026-12-07T11:30:00Z), or a ValueError naming the key."""
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        when = None
    if when is None or when.tzinfo is None:
        raise ValueError(f"{key}: {value!r} is not an ISO 8601 time with a zone; valid: e.g. 2026-12-07T11:30:00Z")
    return when


class PlacementRequest(Model):
    """Everything the optimizer needs. Extra stack keys are added by ``newinfra.config``."""

    allowed_clouds: tuple[Cloud, ...] = Field(default=CLOUDS, min_length=1)
    workloads: tuple[Workload, ...] = Field(min_length=1)
    datasets: tuple[Dataset, ...] = ()
    # classification -> region patterns (fnmatch), e.g. {"cn-resident": ["cn-*"], "internal": ["us-*"]}
    data_residency: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    quotas: tuple[Quota, ...] = ()
    monthly_budget_usd: Number | None = Field(default=None, gt=0, le=1e10)
    # production | development (components/planning/profile.py): the NAT gateways a region needs. Set, the
    # solver pays what opening a region costs (control plane, NAT, shared file system: cost_model/open_costs.py);
    # None (a bare request file): accelerators, egress only.
    profile: Literal["production", "development"] | None = None
    # Capacity only accounts that opted in may use (cost_model/catalog/opt_in.py): placed only when allowed.
    allow_local_zones: bool = False
    opt_in_regions: tuple[OptInRegion, ...] = ()
    # What markets cost beyond their price (cost_model/markets.py); default: no spot penalty, no flex-start
    markets: Markets = Field(default_factory=Markets)
    reservations: tuple[Reservation, ...] = ()
    capacity_blocks: tuple[CapacityBlock, ...] = ()

    @field_validator("opt_in_regions")
    @classmethod
    def _sorted_opt_in_regions(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(v)))

    @field_validator("allowed_clouds")
    @classmethod
    def _unique_clouds(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(v)))

    @model_validator(mode="after")
    def _references(self) -> PlacementRequest:
        from newinfra.inputs import did_you_mean, echo, listing

        for key, names in (("workloads", [w.name for w in self.workloads]),
                           ("datasets", [d.name for d in self.datasets])):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{key}: names must be unique; repeated: {listing(dupes)}")
        known = {d.name for d in self.datasets}
        for i, w in enumerate(self.workloads):
            if w.dataset is not None and w.dataset not in known:
                raise ValueError(f"workloads[{i}].dataset: {echo(w.dataset)} is not a dataset"
                                 f"{did_you_mean(w.dataset, known)}; valid: {listing(known)}")
        for d in self.datasets:
            if self.data_residency and d.classification not in self.data_residency:
                raise ValueError(
                    f"datasets[{d.name}].classification: {echo(d.classification)} has no dataResidency entry"
                    f"{did_you_mean(d.classification, self.data_residency)}; valid: {listing(self.data_residency)}"
                )
        return self

    def dataset(self, name: str | None) -> Dataset | None:
        return next((d for d in self.datasets if d.name == name), None)

    def allowed_regions(self, workload: Workload) -> tuple[str, ...] | None:
        """Region patterns a workload may run in (its dataset's classification), None = anywhere."""
        ds = self.dataset(workload.dataset)
        if ds is None or ds.classification not in self.data_residency:
            return None
        return self.data_residency[ds.classification]

    def region_allowed(self, workload: Workload, region: str) -> bool:
        patterns = self.allowed_regions(workload)
        return patterns is None or any(fnmatch.fnmatchcase(region, p) for p in patterns)
