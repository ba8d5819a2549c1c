"""newinfra:gcp:Network — a custom-mode VPC: one subnetwork per region with GKE ranges, flow logs and
Private Google Access, Cloud NAT for egress, SSH only through Identity-Aware Proxy."""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_gcp as gcp
from newinfra.components.plain import require_plain
from newinfra.components.planning.gcp import IAP_RANGE, plan_subnetworks
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError

PODS_RANGE = "pods"
SERVICES_RANGE = "services"


class NetworkArgs(TypedDict):
    cidr: str  # private block split over the regions (nodes, pods, services per region)
    regions: list[str]
    # Regions that serve through an internal Gateway (gke-l7-rilb): each gets a proxy-only subnet.
    proxy_only_regions: NotRequired[list[str]]
    # Share of flows sampled into the flow logs (0 < x <= 1).
    flow_log_sampling: NotRequired[float]
    # Networks, subnetworks, routers and firewall rules take no labels; accepted so every cloud's
    # Network has the same arguments.
    tags: NotRequired[dict[str, str]]


class Network(pulumi.ComponentResource):
    TYPE = python_token("GcpNetwork")
    network_id: pulumi.Output[str]
    network_self_link: pulumi.Output[str]
    # region -> subnetwork id
    subnetwork_ids: pulumi.Output[dict[str, str]]
    pods_range_name: pulumi.Output[str]
    services_range_name: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        cidr = require_plain(args, "cidr")
        regions = require_plain(args, "regions")
        sampling = float(args.get("flow_log_sampling", 0.5))
        if not 0 < sampling <= 1:
            raise ComponentInputError("flow_log_sampling", f"{sampling} must be in (0, 1]")
        plans = plan_subnetworks(cidr, list(regions), list(args.get("proxy_only_regions") or []))
        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)

        network = gcp.compute.Network(f"{name}-vpc", auto_create_subnetworks=False, routing_mode="REGIONAL",
                                      description=f"newinfra {name}", opts=child)
        self.cidr = cidr
        self.subnetworks: dict[str, gcp.compute.Subnetwork] = {}
        for plan in plans:
            subnet = gcp.compute.Subnetwork(
                f"{name}-{plan.region}", network=network.id, region=plan.region, ip_cidr_range=plan.nodes,
                private_ip_google_access=True,
                secondary_ip_ranges=[{"range_name": PODS_RANGE, "ip_cidr_range": plan.pods},
                                     {"range_name": SERVICES_RANGE, "ip_cidr_range": plan.services}],
                log_config={"aggregation_interval": "INTERVAL_5_SEC", "flow_sampling": sampling,
                            "metadata": "INCLUDE_ALL_METADATA"},
                opts=child)
            self.subnetworks[plan.region] = subnet
            if plan.proxy_only is not None:
                # The internal Gateway's Envoy proxies take their addresses here; GCP records no flow logs
                # for a proxy-only subnet (the load balancer's own logging covers its traffic).
                gcp.compute.Subnetwork(
                    f"{name}-{plan.region}-proxy-only", network=network.id, region=plan.region,
                    ip_cidr_range=plan.proxy_only, purpose="REGIONAL_MANAGED_PROXY", role="ACTIVE", opts=child)
            # Nodes have no external IPs: Cloud NAT is their only way out (image pulls, pip, NGC).
            router = gcp.compute.Router(f"{name}-router-{plan.region}", network=network.id,
                                        region=plan.region, opts=child)
            gcp.compute.RouterNat(
                f"{name}-nat-{plan.region}", router=router.name, region=plan.region,
                nat_ip_allocate_option="AUTO_ONLY", source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
                subnetworks=[{"name": subnet.id, "source_ip_ranges_to_nats": ["ALL_IP_RANGES"]}],
                log_config={"enable": True, "filter": "ERRORS_ONLY"}, opts=child)

        internal = sorted({cidr, *(p.pods for p in plans), *(p.services for p in plans)})
        proxies = sorted(p.proxy_only for p in plans if p.proxy_only is not None)
        if proxies:
            # The proxies reach the backends (the pods) from their own subnet (GKE Gateway's documented rule).
            gcp.compute.Firewall(
                f"{name}-allow-proxy-only", network=network.id, direction="INGRESS", priority=1000,
                source_ranges=proxies, allows=[{"protocol": "tcp"}],
                description="internal L7 load balancer proxies to their backends",
                log_config={"metadata": "INCLUDE_ALL_METADATA"}, opts=child)
        gcp.compute.Firewall(
            f"{name}-allow-iap-ssh", network=network.id, direction="INGRESS", priority=1000,
            source_ranges=[IAP_RANGE], allows=[{"protocol": "tcp", "ports": ["22"]}],
            description="SSH only through Identity-Aware Proxy TCP forwarding",
            log_config={"metadata": "INCLUDE_ALL_METADATA"}, opts=child)
        # Multi-host TPU slices and NCCL across nodes talk on arbitrary ports inside the network.
        gcp.compute.Firewall(
            f"{name}-allow-internal", network=network.id, direction="INGRESS", priority=1000,
            source_ranges=internal,
            allows=[{"protocol": "tcp"}, {"protocol": "udp"}, {"protocol": "icmp"}],
            description="traffic between nodes, pods and services of this network",
            log_config={"metadata": "INCLUDE_ALL_METADATA"}, opts=child)

        self.network_id = network.id
        self.network_self_link = network.self_link
        self.subnetwork_ids = pulumi.Output.all(**{r: s.id for r, s in self.subnetworks.items()})
        self.pods_range_name = pulumi.Output.from_input(PODS_RANGE)
        self.services_range_name = pulumi.Output.from_input(SERVICES_RANGE)
        self.register_outputs({"networkId": self.network_id, "subnetworkIds": self.subnetwork_ids})
