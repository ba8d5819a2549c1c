"""Compute pools of a record, whatever the cloud: node groups, node pools, TPU VMs, VM groups, instances.

In the cost model, below the policies: the price book (cost_model.pricebook) and the policy packs both read
pools from here.

One table says, per resource type, where the instance type, node counts and market live. The budget and
GPU rules read ``Pool``s, never the raw inputs, so a new pool type is one table entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from newinfra.cost_model.catalog import prices

from newinfra.links import Index
from newinfra.props import (
    KIND_LABELS,
    WORKLOAD_TAGS,
    cloud_of,
    get,
    items,
    labels_of,
    provider_props,
    region_of,
)

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ALI_SPOT = ("SpotWithPriceLimit", "SpotAsPriceGo")
# Family prefixes that carry accelerators, for types the catalog does not price (new or CPU-less sizes).
ACCELERATOR_PREFIXES = {
    "aws": ("p2.", "p3", "p4", "p5", "p6", "g4", "g5", "g6", "g7", "gr6", "trn", "inf", "dl1", "dl2"),
    "gcp": ("a2-", "a3-", "a4-", "g2-", "g4-", "ct", "tpu"),
    "alicloud": ("ecs.gn", "ecs.ebmgn", "ecs.sgn", "ecs.vgn"),
}


@dataclass(frozen=True)
class Pool:
    urn: str
    name: str
    resource_type: str
    cloud: str
    region: str | None
    instance_types: tuple[str, ...]
    min_nodes: int
    desired_nodes: int
    max_nodes: int
    spot: bool
    guest_accelerator: str | None = None  # GCP: GPUs attached to a general-purpose host
    guest_count: int | None = None
    tpu: bool = False
    workload: str | None = None  # newinfra.io/workload tag/label: whose hoursPerMonth the pool runs
    kind: str | None = None  # newinfra.io/kind node label: training, inference, batch (None: unknown)
    zones: tuple[str, ...] = ()  # where its nodes may land (catalog zone names: AWS AZ IDs); (): not known

    @property
    def instance_type(self) -> str | None:
        return self.instance_types[0] if self.instance_types else None

    def price(self, book: prices.PriceBook | None = None) -> prices.NodePrice | None:
        """The dearest of the pool's instance types in its zones (the region's dearest zone when its zones are
        not known or the catalog has no offer there); None: the catalog has none."""
        book = book or prices.book()
        found = [p for t in self.instance_types if self.region
                 and (p := book.node(self.cloud, self.region, t, self.guest_accelerator, self.guest_count,
                                     self.zones))]
        if not found:
            return None
        return max(found, key=lambda p: (p.hourly(self.spot) or 0.0))

    def accelerators_per_node(self, book: prices.PriceBook | None = None) -> int:
        price = self.price(book)
        if price is not None:
            return price.accelerators_per_node
        return self.guest_count or 0

    def accelerated(self, book: prices.PriceBook | None = None) -> bool:
        if self.tpu or self.guest_count or self.accelerators_per_node(book):
            return True
        return any(t.startswith(ACCELERATOR_PREFIXES.get(self.cloud, ())) for t in self.instance_types)

    def is_tpu(self, book: prices.PriceBook | None = None) -> bool:
        price = self.price(book)
        return self.tpu or (price is not None and price.is_tpu)


def _n(value: Any, default: int = 0) -> int:
    return int(value) if isinstance(value, int | float) else default


def _tprops(template: Any) -> Any:
    return template.props if template is not None else {}


def _eks_node_group(r: Any, template: Any) -> dict:
    p = r.props
    types = items(get(p, "instanceTypes")) or items(get(_tprops(template), "instanceType"))
    lo, hi = _n(get(p, "scalingConfig.minSize")), _n(get(p, "scalingConfig.maxSize"), 1)
    return dict(instance_types=types, min_nodes=lo, desired_nodes=_n(get(p, "scalingConfig.desiredSize"), lo),
                max_nodes=hi, spot=get(p, "capacityType") == "SPOT")


def _asg(r: Any, template: Any) -> dict:
    p = r.props
    overrides = [get(o, "instanceType") for o in items(get(p, "mixedInstancesPolicy.launchTemplate.overrides"))]
    types = [t for t in overrides if t] or items(get(_tprops(template), "instanceType"))
    on_demand_pct = get(p, "mixedInstancesPolicy.instancesDistribution.onDemandPercentageAboveBaseCapacity")
    spot = on_demand_pct == 0 or get(_tprops(template), "instanceMarketOptions.marketType") == "spot"
    lo = _n(get(p, "minSize"))
    return dict(instance_types=types, min_nodes=lo, desired_nodes=_n(get(p, "desiredCapacity"), lo),
                max_nodes=_n(get(p, "maxSize"), 1), spot=spot)


def _ec2(r: Any, _lt) -> dict:
    p = r.props
    return dict(instance_types=items(get(p, "instanceType")), min_nodes=1, desired_nodes=1, max_nodes=1,
                spot=get(p, "instanceMarketOptions.marketType") == "spot")


def _gke_pool(r: Any, _lt) -> dict:
    p = r.props
    zones = max(len(items(get(p, "nodeLocations"))), 1)
    if get(p, "autoscaling") is not None:
        total_lo, total_hi = get(p, "autoscaling.totalMinNodeCount"), get(p, "autoscaling.totalMaxNodeCount")
        lo = _n(total_lo) if total_lo is not None else _n(get(p, "autoscaling.minNodeCount")) * zones
        hi = _n(total_hi) if total_hi is not None else _n(get(p, "autoscaling.maxNodeCount"), 1) * zones
    else:
        lo = hi = _n(get(p, "nodeCount"), _n(get(p, "initialNodeCount"), 1)) * zones
    desired = _n(get(p, "nodeCount"), _n(get(p, "initialNodeCount"), lo // zones)) * zones
    guest = items(get(p, "nodeConfig.guestAccelerators"))
    return dict(instance_types=items(get(p, "nodeConfig.machineType")), min_nodes=lo,
                desired_nodes=min(max(desired, lo), hi), max_nodes=hi,
                spot=get(p, "nodeConfig.spot") is True or get(p, "nodeConfig.preemptible") is True,
                **_guest(guest))


def _guest(guest: list[Any]) -> dict:
    if not guest:
        return {}
    return dict(guest_accelerator=prices.gcp_accelerator_name(get(guest[0], "type")),
                guest_count=_n(get(guest[0], "count"), 1))


def _tpu_vm(r: Any, _lt) -> dict:
    p = r.props
    spot = get(p, "schedulingConfig.preemptible") is True or get(p, "schedulingConfig.spot") is True
    return dict(instance_types=items(get(p, "acceleratorType")), min_nodes=1, desired_nodes=1, max_nodes=1,
                spot=spot, tpu=True)


def _gce(r: Any, _lt) -> dict:
    p = r.props
    spot = get(p, "scheduling.preemptible") is True or get(p, "scheduling.provisioningModel") == "SPOT"
    return dict(instance_types=items(get(p, "machineType")), min_nodes=1, desired_nodes=1, max_nodes=1,
                spot=spot, **_guest(items(get(p, "guestAccelerators"))))


def _ack_pool(r: Any, _lt) -> dict:
    p = r.props
    desired = _n(get(p, "desiredSize"), _n(get(p, "nodeCount")))
    lo, hi = desired, max(desired, 1)
    if get(p, "scalingConfig.enable") is True:
        lo, hi = _n(get(p, "scalingConfig.minSize")), _n(get(p, "scalingConfig.maxSize"), 1)
    return dict(instance_types=items(get(p, "instanceTypes")), min_nodes=lo,
                desired_nodes=min(max(desired, lo), hi), max_nodes=hi, spot=get(p, "spotStrategy") in ALI_SPOT)


def _mig(r: Any, template: Any) -> dict:
    t = _tprops(template)
    size = _n(get(r.props, "targetSize"), 1)
    spot = get(t, "scheduling.preemptible") is True or get(t, "scheduling.provisioningModel") == "SPOT"
    return dict(instance_types=items(get(t, "machineType")), min_nodes=size, desired_nodes=size, max_nodes=max(size, 1),
                spot=spot, **_guest(items(get(t, "guestAccelerators"))))


def _tpu_queued(r: Any, _template: Any) -> dict:
    types = [get(n, "node.acceleratorType") for n in items(get(r.props, "tpu.nodeSpecs"))]
    count = max(len(types), 1)
    spot = get(r.props, "spot") is not None
    return dict(instance_types=types, min_nodes=count, desired_nodes=count, max_nodes=count, spot=spot, tpu=True)


def _ess_group(r: Any, config: Any) -> dict:
    p, c = r.props, _tprops(config)
    lo = _n(get(p, "minSize"))
    hi = max(_n(get(p, "maxSize"), 1), lo)
    types = items(get(c, "instanceTypes")) or items(get(c, "instanceType"))
    return dict(instance_types=types, min_nodes=lo, desired_nodes=min(max(_n(get(p, "desiredCapacity"), lo), lo), hi),
                max_nodes=hi, spot=get(c, "spotStrategy") in ALI_SPOT)


def _ecs(r: Any, _lt) -> dict:
    p = r.props
    return dict(instance_types=items(get(p, "instanceType")), min_nodes=1, desired_nodes=1, max_nodes=1,
                spot=get(p, "spotStrategy") in ALI_SPOT)


EXTRACT: dict[str, Callable[[Any, dict[str, Any] | None], dict]] = {
    "aws:eks/nodeGroup:NodeGroup": _eks_node_group,
    "aws:autoscaling/group:Group": _asg,
    "aws:ec2/instance:Instance": _ec2,
    "gcp:container/nodePool:NodePool": _gke_pool,
    "gcp:tpu/v2Vm:V2Vm": _tpu_vm,
    "gcp:compute/instance:Instance": _gce,
    "alicloud:cs/nodePool:NodePool": _ack_pool,
    "alicloud:ecs/instance:Instance": _ecs,
    "gcp:compute/instanceGroupManager:InstanceGroupManager": _mig,
    "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager": _mig,
    "gcp:tpu/v2QueuedResource:V2QueuedResource": _tpu_queued,
    "alicloud:ess/scalingGroup:ScalingGroup": _ess_group,
}
POOL_TYPES = tuple(EXTRACT)
GCE_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
ESS_CONFIG = "alicloud:ess/scalingConfiguration:ScalingConfiguration"
TEMPLATE_TYPES = (LAUNCH_TEMPLATE, GCE_TEMPLATE, ESS_CONFIG)
TYPES = (*POOL_TYPES, *TEMPLATE_TYPES)


# Pool type -> (template type, input paths of the pool that name its template).
TEMPLATE_LINKS = {
    "aws:eks/nodeGroup:NodeGroup": (LAUNCH_TEMPLATE, ("launchTemplate.id", "launchTemplate.name")),
    "aws:autoscaling/group:Group": (LAUNCH_TEMPLATE, (
        "launchTemplate.id", "launchTemplate.name",
        "mixedInstancesPolicy.launchTemplate.launchTemplateSpecification.launchTemplateId",
        "mixedInstancesPolicy.launchTemplate.launchTemplateSpecification.launchTemplateName")),
    "gcp:compute/instanceGroupManager:InstanceGroupManager": (GCE_TEMPLATE, ("versions.instanceTemplate",)),
    "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager": (GCE_TEMPLATE, ("versions.instanceTemplate",)),
}


def launch_templates(resources: list[Any]) -> dict[str, Any]:
    """Pool URN -> the template it launches from: AWS launch template, GCE instance template, or the
    Alibaba scaling configuration that names the scaling group."""
    by_type: dict[str, list[Any]] = {}
    for r in resources:
        by_type.setdefault(r.resource_type, []).append(r)
    indexes = {t: Index(by_type.get(t, [])) for t in (LAUNCH_TEMPLATE, GCE_TEMPLATE)}
    out: dict[str, Any] = {}
    for pool_type, (template_type, keys) in TEMPLATE_LINKS.items():
        for r in by_type.get(pool_type, []):
            for key in keys:
                hits = indexes[template_type].resolve(r, key)
                if hits:
                    out[r.urn] = hits[0]
                    break
    groups = Index(by_type.get("alicloud:ess/scalingGroup:ScalingGroup", []))
    for urn, configs in groups.referrers(by_type.get(ESS_CONFIG, []), "scalingGroupId").items():
        out[urn] = configs[0]
    return out


def _node_labels(props: Any) -> dict[str, str]:
    """Kubernetes node labels of a pool: EKS ``labels`` (a map), GKE ``nodeConfig.labels``, ACK ``labels``
    (a list of {key, value})."""
    out: dict[str, str] = {}
    for found in (get(props, "nodeConfig.labels"), get(props, "labels")):
        if isinstance(found, Mapping):
            out.update({str(k): str(found[k]) for k in found})
        else:
            out.update({str(get(x, "key")): str(get(x, "value")) for x in items(found) if get(x, "key")})
    return out


def _first(labels: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((labels[k] for k in keys if labels.get(k)), None)


# Pool type -> (inputs naming its zones, inputs naming its subnets / vswitches). A subnet's zone is its
# `availabilityZoneId` (AWS: the catalog's AZ IDs) or `zoneId` (Alibaba vswitch).
ZONE_INPUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "aws:eks/nodeGroup:NodeGroup": ((), ("subnetIds",)),
    "aws:autoscaling/group:Group": ((), ("vpcZoneIdentifiers",)),
    "aws:ec2/instance:Instance": (("availabilityZoneId",), ("subnetId",)),
    "gcp:container/nodePool:NodePool": (("nodeLocations",), ()),
    "gcp:tpu/v2Vm:V2Vm": (("zone",), ()),
    "gcp:compute/instance:Instance": (("zone",), ()),
    "gcp:compute/instanceGroupManager:InstanceGroupManager": (("zone",), ()),
    "alicloud:cs/nodePool:NodePool": ((), ("vswitchIds",)),
    "alicloud:ecs/instance:Instance": (("availabilityZone",), ("vswitchId",)),
    "alicloud:ess/scalingGroup:ScalingGroup": ((), ("vswitchIds",)),
}
SUBNET_ZONE_KEYS = ("availabilityZoneId", "zoneId")


def pool_zones(r: Any) -> tuple[str, ...]:
    """The zones a pool's nodes may land in, from its own inputs or from the subnets it names: the subnets its
    input depends on (the engine's property dependencies), narrowed to those whose id the input holds where
    the id is the offline engine's (a real preview's ids are unknown: then every subnet it depends on)."""
    from newinfra.record import offline_id

    zone_keys, subnet_keys = ZONE_INPUTS.get(r.resource_type, ((), ()))
    for key in zone_keys:
        found = [str(z) for z in items(get(r.props, key)) if isinstance(z, str) and z]
        if found:
            return tuple(sorted(set(found)))
    deps = getattr(r, "property_dependencies", None) or {}
    for key in subnet_keys:
        subnets = [d for d in deps.get(key, ()) if any(get(d.props, k) for k in SUBNET_ZONE_KEYS)]
        named = {str(v) for v in items(get(r.props, key))}
        exact = [d for d in subnets if offline_id(d.resource_type, d.urn) in named]
        zones = {str(next(get(d.props, k) for k in SUBNET_ZONE_KEYS if get(d.props, k))) for d in exact or subnets}
        if zones:
            return tuple(sorted(zones))
    return ()


def pools(resources: Iterable[Any]) -> list[Pool]:
    """Every compute pool among ``resources``, sorted by URN."""
    resources = list(resources)
    templates = launch_templates(resources)
    found = []
    for r in resources:
        extract = EXTRACT.get(r.resource_type)
        if extract is None:
            continue
        fields = extract(r, templates.get(r.urn))
        fields["instance_types"] = tuple(str(t) for t in fields["instance_types"] if t)
        provider = provider_props(r)
        labels = {**labels_of(r.resource_type, r.props, provider), **_node_labels(r.props)}
        found.append(Pool(urn=r.urn, name=r.name, resource_type=r.resource_type,
                          cloud=cloud_of(r.resource_type) or "", region=region_of(r.resource_type, r.props, provider),
                          workload=_first(labels, WORKLOAD_TAGS), kind=_first(labels, KIND_LABELS),
                          zones=pool_zones(r), **fields))
    return sorted(found, key=lambda p: p.urn)

