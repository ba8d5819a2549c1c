"""GKE: the cluster management fee, the default node pool of a cluster that keeps it, node pools."""

from __future__ import annotations

import re

from newinfra.cost_model.pricebook.bill import Line
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.pricing._compute import node_lines, node_price

from newinfra.props import get, items

DEFAULT_MACHINE = "e2-medium"  # GKE's default node machine type when nodeConfig names none
REGIONAL_ZONES = 3  # a regional cluster without nodeLocations runs nodes in three zones
ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")


def default_pool(props):
    """The cluster's default pool as a newinfra.cost_model.record_pools.Pool, or None when it is removed (Autopilot:
    no nodes of its own)."""
    from newinfra.cost_model.record_pools import Pool

    if get(props, "removeDefaultNodePool") is True or get(props, "enableAutopilot") is True:
        return None
    location = str(get(props, "location", ""))
    zones = len(items(get(props, "nodeLocations"))) or (1 if ZONE.match(location) else REGIONAL_ZONES)
    nodes = int(get(props, "initialNodeCount", 1)) * zones
    spot = get(props, "nodeConfig.spot") is True or get(props, "nodeConfig.preemptible") is True
    return Pool(urn="", name="default-pool", resource_type="gcp:container/nodePool:NodePool", cloud="gcp",
                region=None, instance_types=(str(get(props, "nodeConfig.machineType", DEFAULT_MACHINE)),),
                min_nodes=nodes, desired_nodes=nodes, max_nodes=nodes, spot=spot)


def _cluster(props, ctx) -> list[Line]:
    lines = [Line("GKE cluster management fee", ctx.hours, "cluster-hour", ctx.service("gcp.gke.cluster",
                                                                                    "the GKE cluster fee"))]
    pool = default_pool(props)
    if pool is not None:
        itype, price = node_price(ctx, pool)
        lines.append(Line(f"default pool: {itype}, {pool.desired_nodes} node(s) x {ctx.hours:g} h",
                          pool.desired_nodes * ctx.hours, "node-hour", price))
    return lines


PRICERS = {
    "gcp:container/cluster:Cluster": Pricer(_cluster),
    "gcp:container/nodePool:NodePool": Pricer(node_lines),
}
