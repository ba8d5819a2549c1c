"""What it costs each month to open a region, whatever the workloads there cost: the Kubernetes control
plane, the NAT gateways of the environment's profile, the dataset's shared file system.

Each such cost is a *charge* the stack pays once however many workloads share it; the solver has one
binary "open" column per charge, forced to 1 by any workload placed where it needs the charge, so it
consolidates workloads where one control plane and one NAT are cheaper than a better GPU price elsewhere.

The resources are the ones stacks/clouds/<cloud>.py creates when a region has placements, priced by the
price book's own pricing functions (``pricebook.bill.price_one``: the functions ``newinfra cost`` runs over
the record), so there is no second copy of any price. A charge the book cannot price is named unpriced in
the explanation and costs the solver nothing (never a guessed number).
"""

from __future__ import annotations

from dataclasses import dataclass

from newinfra.cost_model.request import PlacementRequest, Workload
from newinfra.cost_model.spread import zone_key, zones_of

# (type, inputs) of what a region's network, cluster and shared file system create, per cloud, in the inputs
# the components give them (components/{aws,gcp,alicloud}/{network,cluster,storage}.py).
CLUSTER = {
    "aws": (("aws:eks/cluster:Cluster", {}),),
    "gcp": (("gcp:container/cluster:Cluster", {"removeDefaultNodePool": True, "initialNodeCount": 1}),),
    "alicloud": (("alicloud:cs/managedKubernetes:ManagedKubernetes", {"clusterSpec": "ack.pro.small"}),),
}
NAT = {  # one gateway (AWS: with its Elastic IP) per zone under nat_per_zone on AWS, else one per region
    "aws": (("aws:ec2/natGateway:NatGateway", {}), ("aws:ec2/eip:Eip", {"domain": "vpc"})),
    "gcp": (("gcp:compute/routerNat:RouterNat", {}),),
    "alicloud": (("alicloud:vpc/natGateway:NatGateway", {"natType": "Enhanced", "paymentType": "PayAsYouGo",
                                                        "internetChargeType": "PayByLcu"}),
                 ("alicloud:ecs/eipAddress:EipAddress", {"internetChargeType": "PayByTraffic",
                                                         "paymentType": "PayAsYouGo"})),
}
NAT_PER_ZONE_CLOUDS = ("aws",)  # GCP Cloud NAT and the Alibaba enhanced NAT are regional


def shared_fs(cloud: str, size_gb: float) -> tuple[tuple[str, dict], ...]:
    """The shared file system stacks/clouds/<cloud>.py gives a dataset with sharedFileSystem."""
    if cloud == "aws":
        return (("aws:fsx/lustreFileSystem:LustreFileSystem",
                 {"storageCapacity": 1200, "deploymentType": "PERSISTENT_2", "perUnitStorageThroughput": 250}),)
    if cloud == "gcp":
        return (("gcp:filestore/instance:Instance",
                 {"tier": "ZONAL", "fileShares": [{"capacityGb": max(1024, int(size_gb))}]}),)
    return (("alicloud:nas/fileSystem:FileSystem", {"storageType": "standard", "capacity": int(size_gb)}),)


@dataclass(frozen=True)
class Charge:
    key: tuple[str, ...]  # ("cluster"|"nat"|"fs", cloud, region[, zone or dataset])
    what: str
    monthly_usd: float  # the priced part
    unpriced: tuple[str, ...] = ()  # why a part has no price

    @property
    def region(self) -> tuple[str, str]:
        return self.key[1], self.key[2]


class OpenCosts:
    """The charges a workload needs in a zone, priced once per key. ``request.profile`` None: the request
    prices no region (a bare request file asks about accelerators only)."""

    def __init__(self, request: PlacementRequest):
        from newinfra.components.planning.profile import behaviour

        self.request = request
        self.enabled = request.profile is not None
        self.nat_per_zone = self.enabled and behaviour(request.profile).nat_per_zone
        self._charges: dict[tuple[str, ...], Charge] = {}

    def charges(self, w: Workload, cloud: str, region: str, zone: str) -> tuple[Charge, ...]:
        if not self.enabled:
            return ()
        out = []
        if w.runs_on == "kubernetes":
            out.append(self._charge(("cluster", cloud, region), "control plane", CLUSTER.get(cloud, ()), cloud, region))
        # a pool spread over zones ("a+b", cost_model/spread.py) needs a gateway in each of them
        for one in zones_of(zone) if self.nat_per_zone and cloud in NAT_PER_ZONE_CLOUDS else (None,):
            nat_key = ("nat", cloud, region, one) if one is not None else ("nat", cloud, region)
            out.append(self._charge(nat_key, "NAT" + (f" in {one}" if one is not None else ""), NAT.get(cloud, ()),
                                    cloud, region))
        ds = self.request.dataset(w.dataset)
        if ds is not None and ds.shared_file_system:
            out.append(self._charge(("fs", cloud, region, ds.name), f"shared file system of {ds.name}",
                                    shared_fs(cloud, ds.size_gb), cloud, region))
        return tuple(out)

    def _charge(self, key, what, resources, cloud, region) -> Charge:
        if key not in self._charges:
            self._charges[key] = price_resources(key, what, resources, cloud, region)
        return self._charges[key]


def price_resources(key, what: str, resources, cloud: str, region: str) -> Charge:
    from newinfra.cost_model.pricebook.bill import Unpriced, price_one

    usd, why = 0.0, []
    for rtype, props in resources:
        try:
            usd += sum(line.monthly_usd for line in price_one(rtype, props, cloud, region))
        except Unpriced as err:
            why.append(f"{rtype.rsplit(':', 1)[-1]}: {err}")
        except KeyError:
            why.append(f"{rtype}: no pricing function")
    return Charge(tuple(key), what, round(usd, 6), tuple(why))


def opened(request: PlacementRequest, plans) -> tuple[Charge, ...]:
    """The charges a set of workload plans opens (each once), sorted by key: what the bill adds to the
    workloads' own cost."""
    costs = OpenCosts(request)
    found: dict[tuple[str, ...], Charge] = {}
    by_name = {w.name: w for w in request.workloads}
    for plan in plans:
        w = by_name.get(plan.workload)
        if w is None:
            continue
        for p in plan.placements:
            for ch in costs.charges(w, p.cloud, p.region, zone_key(p.zones)):
                found[ch.key] = ch
    return tuple(found[k] for k in sorted(found))
