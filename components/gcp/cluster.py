"""newinfra:gcp:GpuCluster — a private GKE cluster with KMS-encrypted secrets, Workload Identity and shielded
nodes, and one node pool per placement: GPU pools with guest accelerators and driver installation, TPU pools
with the slice's topology."""

import math
from typing import NotRequired, TypedDict

import pulumi
import pulumi_gcp as gcp
from newinfra.components.gcp.identity import grant_key_to_agents, node_service_account
from newinfra.components.gcp.keys import rotating_key
from newinfra.components.physical import physical
from newinfra.components.plain import require_plain
from newinfra.components.planning.gcp import (
    GPU_DRIVER_VERSIONS,
    gcp_accelerator_type,
    gcp_labels,
    gke_taint_effect,
    private_block,
)
from newinfra.components.planning.guards import spot_kubelet_config
from newinfra.components.planning.kubeconfigs import exec_kubeconfig
from newinfra.components.planning.pools import NodePoolArgs, accelerator_vendor, pool_classification
from newinfra.components.planning.serving_controllers import GKE_GATEWAY_CHANNEL
from newinfra.components.planning.tags import checked_classification
from newinfra.components.planning.tpu import TpuSlicePlan, plan_gke_tpu_slice
from newinfra.components.tokens import python_token, with_other_form

from newinfra.cidrs import judge
from newinfra.errors import ComponentInputError, input_path

RELEASE_CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED")
# "reserved": standard VMs, which consume a matching automatic reservation (GCE's default reservation affinity);
# "flex-start": Dynamic Workload Scheduler's flex-start VMs (GKE "About flex-start": no reservation, nodes from
# zero, run at most seven days, no auto-repair)
GCP_MARKETS = ("on-demand", "spot", "reserved", "flex-start")
FLEX_START_MAX_RUN = f"{7 * 24 * 3600}s"  # GKE's limit for a flex-start VM; the cost model refuses longer runs
# Control-plane logs the cluster ships to Cloud Logging (APISERVER carries the audit trail).
LOG_COMPONENTS = ["APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "SYSTEM_COMPONENTS", "WORKLOADS"]
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


class GpuClusterArgs(TypedDict):
    location: str  # region: a regional control plane survives a zone outage
    network: pulumi.Input[str]  # VPC network id
    subnetwork: pulumi.Input[str]  # subnetwork id in that region, with the pods/services secondary ranges
    node_pools: list[NodePoolArgs]
    tags: dict[str, str]
    classification: NotRequired[str]
    # Crypto key for Kubernetes secrets and node boot disks, in the cluster's region; without one the
    # cluster creates a rotating key of its own.
    kms_key: NotRequired[pulumi.Input[str]]
    pods_range_name: NotRequired[str]
    services_range_name: NotRequired[str]
    master_cidr: NotRequired[str]  # /28 for the control plane's private endpoint
    network_cidr: NotRequired[str]  # the network's block, to refuse an overlapping master_cidr
    private_endpoint: NotRequired[bool]  # default true: the API server has no public address
    master_authorized_cidrs: NotRequired[list[str]]  # who may reach the endpoint
    release_channel: NotRequired[str]
    gpu_driver_version: NotRequired[str]  # LATEST (default), DEFAULT, INSTALLATION_DISABLED
    deletion_protection: NotRequired[bool]
    # the Gateway API (standard channel) for an InferenceService's Gateway and HTTPRoute; off unless asked
    gateway_api: NotRequired[bool]


class GpuCluster(pulumi.ComponentResource):
    TYPE = python_token("GcpGpuCluster")
    cluster_name: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    ca_certificate: pulumi.Output[str]
    node_service_account: pulumi.Output[str]
    node_pool_names: pulumi.Output[list[str]]
    kubeconfig: pulumi.Output[str]  # exec plugin (gke-gcloud-auth-plugin): no credential inside

    def __init__(self, name: str, args: GpuClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        location = require_plain(args, "location")
        pools = list(require_plain(args, "node_pools"))
        tags = dict(require_plain(args, "tags"))
        classification = checked_classification(args.get("classification"))
        labels = gcp_labels(tags, classification)
        channel = _choice(args.get("release_channel", "REGULAR"), RELEASE_CHANNELS, "release_channel")
        driver = _choice(args.get("gpu_driver_version", "LATEST"), GPU_DRIVER_VERSIONS, "gpu_driver_version")
        master_cidr = private_block(args.get("master_cidr", "172.16.0.0/28"), 28, "master_cidr",
                                    outside=args.get("network_cidr", "0.0.0.0/32"))
        private_endpoint = bool(args.get("private_endpoint", True))
        authorized = _authorized_cidrs(list(args.get("master_authorized_cidrs") or []), private_endpoint)
        # Every pool is checked before anything is created.
        shapes, pool_labels = [], []
        for i, pool in enumerate(pools):
            with input_path(f"node_pools[{i}]"):
                shapes.append(_pool_shape(pool, driver))
                # A pool's nodes carry its own workload's data classification (else the cluster's).
                pool_labels.append(gcp_labels(tags, pool_classification(pool, classification)))
        for key in ("network", "subnetwork"):
            if not args.get(key):
                raise ComponentInputError(key, "required argument is missing")

        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)
        project = gcp.organizations.get_project_output(opts=pulumi.InvokeOutputOptions(parent=self))
        kms_key = args.get("kms_key") or rotating_key(f"{name}-secrets", location, labels, self).id
        grants = grant_key_to_agents(name, kms_key, project.number, ["gke", "compute"], self)
        account, roles = node_service_account(name, project.project_id, self)
        node_security = {
            "service_account": account.email,
            "oauth_scopes": [CLOUD_PLATFORM_SCOPE],  # access is decided by IAM roles, not scopes
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
            "workload_metadata_config": {"mode": "GKE_METADATA"},
            "boot_disk_kms_key": kms_key,
            "metadata": {"disable-legacy-endpoints": "true"},
            "resource_labels": labels,
        }

        cluster = gcp.container.Cluster(
            f"{name}-gke",
            location=location, network=args["network"], subnetwork=args["subnetwork"],
            networking_mode="VPC_NATIVE",
            ip_allocation_policy={"cluster_secondary_range_name": args.get("pods_range_name", "pods"),
                                  "services_secondary_range_name": args.get("services_range_name", "services")},
            # GKE cannot start without a pool: a one-node default pool, removed once the cluster exists.
            remove_default_node_pool=True, initial_node_count=1, node_config=node_security,
            private_cluster_config={"enable_private_nodes": True, "enable_private_endpoint": private_endpoint,
                                    "master_ipv4_cidr_block": master_cidr,
                                    "master_global_access_config": {"enabled": False}},
            master_authorized_networks_config={
                "cidr_blocks": [{"cidr_block": c, "display_name": f"authorized-{i}"} for i, c in enumerate(authorized)],
                "gcp_public_cidrs_access_enabled": False},
            database_encryption={"state": "ENCRYPTED", "key_name": kms_key},
            workload_identity_config={"workload_pool": project.project_id.apply(lambda p: f"{p}.svc.id.goog")},
            enable_shielded_nodes=True, enable_legacy_abac=False,
            release_channel={"channel": channel},
            logging_config={"enable_components": LOG_COMPONENTS},
            monitoring_config={"enable_components": ["SYSTEM_COMPONENTS", "APISERVER"]},
            datapath_provider="ADVANCED_DATAPATH",  # Dataplane V2: network policies enforced
            addons_config={"gcs_fuse_csi_driver_config": {"enabled": True}},  # datasets mounted from GCS
            resource_labels=labels,
            deletion_protection=bool(args.get("deletion_protection", True)),
            **({"gateway_api_config": {"channel": GKE_GATEWAY_CHANNEL}} if args.get("gateway_api") else {}),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*grants, *roles]))

        pool_names = []
        for pool, shape, own_labels in zip(pools, shapes, pool_labels, strict=True):
            for pool_name, autoscaling, zones, initial in shape.instances(pool):
                node_config = {**node_security, **shape.node_config, "resource_labels": own_labels}
                if shape.tpu:  # the slice a host belongs to: what a price book keys TPU prices on
                    node_config["resource_labels"] = {**own_labels,
                                                      "newinfra-tpu-slice": shape.tpu.accelerator_type}
                node_pool = gcp.container.NodePool(
                    f"{name}-{pool_name}", name=physical("gcp:container:node-pool", pool_name),
                    cluster=cluster.id, location=location,
                    node_locations=zones, autoscaling=autoscaling,
                    initial_node_count=math.ceil(initial / len(zones)),
                    node_config=node_config, placement_policy=shape.placement,
                    # a flex-start VM is not repaired (it is replaced by a new request, not recreated in place)
                    management={"auto_repair": pool["market"] != "flex-start", "auto_upgrade": True},
                    network_config={"enable_private_nodes": True},
                    opts=child)
                pool_names.append(node_pool.name)

        self.cluster_name = cluster.name
        self.cluster_id = cluster.id
        self.endpoint = cluster.endpoint
        self.ca_certificate = cluster.master_auth.apply(lambda m: m.cluster_ca_certificate or "")
        self.kubeconfig = pulumi.Output.all(cluster.name, self.endpoint, self.ca_certificate).apply(
            lambda a: exec_kubeconfig("gcp", a[0], a[1], a[2]))
        self.node_service_account = account.email
        self.node_pool_names = pulumi.Output.all(*pool_names)
        self.register_outputs({"clusterName": self.cluster_name, "endpoint": self.endpoint,
                               "nodePoolNames": self.node_pool_names, "kubeconfig": self.kubeconfig})


class _PoolShape:
    """What one placement becomes on GKE: node config additions, placement policy, pool instances."""

    def __init__(self, node_config: dict, placement: dict | None, tpu: TpuSlicePlan | None) -> None:
        self.node_config = node_config
        self.placement = placement
        self.tpu = tpu

    def instances(self, pool: NodePoolArgs) -> list[tuple[str, dict, list[str], int]]:
        """(pool name, autoscaling, zones, initial node count) per GKE node pool."""
        # Compact placement and TPU slices need one zone; other pools spread over the placement's zones.
        zones = list(pool["zones"][:1]) if self.placement else list(pool["zones"])
        location_policy = "ANY" if pool["market"] in ("spot", "flex-start") else "BALANCED"
        if self.tpu is None or self.tpu.hosts == 1:
            if pool["market"] == "flex-start":  # flex-start nodes are requested from zero when pods wait
                scaling = {"total_min_node_count": 0, "total_max_node_count": pool["max_size"],
                           "location_policy": location_policy}
                return [(pool["name"], scaling, zones, 0)]
            scaling = {"total_min_node_count": pool["min_size"], "total_max_node_count": pool["max_size"],
                       "location_policy": location_policy}
            return [(pool["name"], scaling, zones, pool["desired_size"])]
        # A multi-host slice is all-or-nothing: one pool per slice that scales between 0 and all its hosts.
        hosts = self.tpu.hosts
        return [
            (f"{pool['name'][:36]}-s{i}",
             {"total_min_node_count": hosts if i < pool["min_size"] else 0, "total_max_node_count": hosts,
              "location_policy": "ANY"},
             zones, hosts if i < pool["desired_size"] else 0)
            for i in range(pool["max_size"])
        ]


def _pool_shape(pool: NodePoolArgs, driver: str) -> _PoolShape:
    if pool["market"] not in GCP_MARKETS:
        raise ComponentInputError("market", f"{pool['market']!r} is not sold on GCP; valid: {list(GCP_MARKETS)}")
    if not pool["zones"]:
        raise ComponentInputError("zones", "at least one zone is needed")
    spot = pool["market"] == "spot"
    flex = {"flex_start": True, "max_run_duration": FLEX_START_MAX_RUN,
            "reservation_affinity": {"consume_reservation_type": "NO_RESERVATION"}} \
        if pool["market"] == "flex-start" else {}
    scheduling = {
        "spot": spot,
        **flex,
        # Graceful node shutdown in the 30 s a Spot VM gets between preemption notice and shutdown.
        **({"kubelet_config": spot_kubelet_config()} if spot else {}),
        "labels": dict(sorted(pool["labels"].items())),
        "taints": [{"key": t["key"], "value": t["value"], "effect": gke_taint_effect(t["effect"])}
                   for t in pool["taints"]],
    }
    if accelerator_vendor(pool["accelerator"]) == "tpu":
        tpu = plan_gke_tpu_slice(pool["instance_type"], pool.get("tpu_topology"))
        return _PoolShape({**scheduling, "machine_type": tpu.gke_machine_type},
                          {"type": "COMPACT", "tpu_topology": tpu.topology}, tpu)
    accelerator_type = gcp_accelerator_type(pool["accelerator"], pool["instance_type"])
    node_config = {
        **scheduling,
        "machine_type": pool["instance_type"],
        "guest_accelerators": [{"type": accelerator_type, "count": pool["accelerators_per_node"],
                                "gpu_driver_installation_config": {"gpu_driver_version": driver}}],
        "gvnic": {"enabled": True},  # A3/A2 high-bandwidth networking needs gVNIC
    }
    placement = {"type": "COMPACT"} if pool["compact"] else None
    return _PoolShape(node_config, placement, None)


def _choice(value: str, valid: tuple[str, ...], key: str) -> str:
    if value not in valid:
        raise ComponentInputError(key, f"{value!r} is not valid; valid: {list(valid)}")
    return value


def _authorized_cidrs(cidrs: list[str], private_endpoint: bool) -> list[str]:
    j = judge(cidrs)
    if j.invalid or j.open:
        what = f"{list(j.invalid)} are not CIDRs" if j.invalid else f"{j.describe()} opens the control plane to " \
            "the internet"
        raise ComponentInputError("master_authorized_cidrs", f"{what}; list your networks instead")
    if not private_endpoint and not cidrs:
        raise ComponentInputError("master_authorized_cidrs", "required when private_endpoint is false (who may "
                                "reach the public endpoint)")
    return sorted(cidrs)
