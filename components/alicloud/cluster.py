"""newinfra:alicloud:GpuCluster — ACK Pro managed Kubernetes with no internet-facing API server, KMS-encrypted
secrets and control-plane logs; one GPU node pool per placement on gn/ebmgn types, private and encrypted."""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
from newinfra.components.alicloud.keys import rotating_key
from newinfra.components.physical import physical
from newinfra.components.plain import require_plain
from newinfra.components.planning.alicloud import check_cluster_cidrs, check_gpu_instance_type
from newinfra.components.planning.kubeconfigs import exec_kubeconfig
from newinfra.components.planning.pools import NodePoolArgs, pool_classification
from newinfra.components.planning.tags import checked_classification, with_cost_tags
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError, input_path

# market -> ECS spot strategy
SPOT_STRATEGIES: dict[str, str] = {"on-demand": "NoSpot", "spot": "SpotAsPriceGo"}
CONTROL_PLANE_LOGS = ["apiserver", "kcm", "scheduler", "ccm"]
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class GpuClusterArgs(TypedDict):
    # zone -> vSwitch id (Network.vswitches): pools go to the vSwitches of their placement's zones
    vswitches: dict[str, pulumi.Input[str]]
    # KMS key for secrets and node disks; without one the cluster creates a rotating key of its own.
    kms_key_id: NotRequired[pulumi.Input[str]]
    node_pools: list[NodePoolArgs]
    tags: dict[str, str]
    classification: NotRequired[str]
    security_group_id: NotRequired[pulumi.Input[str]]
    pod_cidr: NotRequired[str]
    service_cidr: NotRequired[str]
    vpc_cidr: NotRequired[str]  # the Network's block, to refuse overlapping pod/service ranges
    kubernetes_version: NotRequired[str]
    allow_sales_ticket_types: NotRequired[bool]  # gn8v, gn8is, ebmgn8v, gn7s once a ticket is granted
    system_disk_gib: NotRequired[int]
    data_disk_gib: NotRequired[int]  # container images and scratch
    deletion_protection: NotRequired[bool]


class GpuCluster(pulumi.ComponentResource):
    TYPE = python_token("AlicloudGpuCluster")
    cluster_id: pulumi.Output[str]
    api_server_intranet: pulumi.Output[str]
    node_pool_ids: pulumi.Output[list[str]]
    kubeconfig: pulumi.Output[str]  # exec plugin (ack-ram-tool): short-lived certificates, none stored

    def __init__(self, name: str, args: GpuClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        vswitches = dict(require_plain(args, "vswitches"))
        if not vswitches:
            raise ComponentInputError("vswitches", "at least one zone -> vSwitch id is needed")
        pools = list(require_plain(args, "node_pools"))
        plain_tags = dict(require_plain(args, "tags"))
        classification = checked_classification(args.get("classification"))
        tags = with_cost_tags(plain_tags, classification)
        pod_cidr, service_cidr = check_cluster_cidrs(args.get("pod_cidr", "172.20.0.0/16"),
                                                     args.get("service_cidr", "172.21.0.0/20"), args.get("vpc_cidr"))
        allow_tickets = bool(args.get("allow_sales_ticket_types", False))
        pool_tags = []
        for i, pool in enumerate(pools):  # every pool is checked before anything is created
            with input_path(f"node_pools[{i}]"):
                _check_pool(pool, vswitches, allow_tickets)
                # A pool's nodes carry its own workload's data classification (else the cluster's).
                pool_tags.append(with_cost_tags(plain_tags, pool_classification(pool, classification)))
        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)
        key = args.get("kms_key_id") or rotating_key(
            f"{name}-secrets", f"newinfra {name}: Kubernetes secrets and node disks", tags, self).id

        cluster = alicloud.cs.ManagedKubernetes(
            f"{name}-ack", name=physical("alicloud:cs:cluster", name),
            cluster_spec="ack.pro.small",  # secrets encryption needs ACK Pro
            vswitch_ids=[vswitches[z] for z in sorted(vswitches)],
            new_nat_gateway=False,  # egress through the Network's NAT gateway
            slb_internet_enabled=False,  # the API server has no internet-facing load balancer
            encryption_provider_key=key, disable_encryption=False,
            control_plane_log_components=CONTROL_PLANE_LOGS, control_plane_log_ttl="30",
            audit_log_config={"enabled": True},
            enable_rrsa=True,  # pods get RAM roles through OIDC, not the node's role
            pod_cidr=pod_cidr, service_cidr=service_cidr,
            proxy_mode="ipvs", security_group_id=args.get("security_group_id"),
            is_enterprise_security_group=None if args.get("security_group_id") else True,
            version=args.get("kubernetes_version"),
            deletion_protection=bool(args.get("deletion_protection", True)),
            tags=tags, opts=child)

        pool_ids = []
        for pool, own_tags in zip(pools, pool_tags, strict=True):
            deployment_set = None
            if pool["compact"]:
                # Multi-node training: keep the nodes close in the network.
                deployment_set = alicloud.ecs.EcsDeploymentSet(
                    f"{name}-{pool['name']}", strategy="LowLatency",
                    deployment_set_name=physical("alicloud:ecs:deployment-set", f"{name}-{pool['name']}"),
                    opts=child).id
            data_disk = {"category": "cloud_essd", "size": int(args.get("data_disk_gib", 500)),
                         "encrypted": "true", "kms_key_id": key, "performance_level": "PL1"}
            node_pool = alicloud.cs.NodePool(
                f"{name}-{pool['name']}", node_pool_name=physical("alicloud:cs:node-pool", pool["name"]),
                cluster_id=cluster.id,
                vswitch_ids=[vswitches[z] for z in pool["zones"]],
                instance_types=[pool["instance_type"]],
                scaling_config={"enable": True, "min_size": pool["min_size"], "max_size": pool["max_size"]},
                instance_charge_type="PostPaid", spot_strategy=SPOT_STRATEGIES[pool["market"]],
                internet_max_bandwidth_out=0,  # no public IP per node; egress through NAT
                system_disk_category="cloud_essd", system_disk_size=int(args.get("system_disk_gib", 200)),
                system_disk_encrypted=True, system_disk_kms_key=key, data_disks=[data_disk],
                image_type="AliyunLinux3", runtime_name="containerd",
                instance_metadata_options={"http_tokens": "required"},  # hardened metadata access
                security_group_ids=[args["security_group_id"]] if args.get("security_group_id") else None,
                deployment_set_id=deployment_set,
                labels=[{"key": k, "value": v} for k, v in sorted(pool["labels"].items())],
                taints=[{"key": t["key"], "value": t["value"], "effect": t["effect"]} for t in pool["taints"]],
                management={"enable": True, "auto_repair": True},
                tags=own_tags, opts=child)
            pool_ids.append(node_pool.id)

        self.cluster_id = cluster.id
        self.api_server_intranet = cluster.connections.apply(
            lambda conns: next((c.api_server_intranet for c in conns or [] if c.api_server_intranet), ""))
        # The attribute is deprecated upstream in favour of the cs.getClusterCredential invoke (which the offline
        # engine does not answer) but still carries the cluster CA; pulumi.get reads it without the warning.
        authorities = pulumi.get(cluster, "certificate_authorities")
        ca = authorities.apply(
            lambda cas: next((c.cluster_cert for c in cas or [] if c.cluster_cert), ""))
        self.kubeconfig = pulumi.Output.all(cluster.id, self.api_server_intranet, ca).apply(
            lambda a: exec_kubeconfig("alicloud", f"{name}-ack", a[1], a[2], ("--cluster-id", a[0])))
        self.node_pool_ids = pulumi.Output.all(*pool_ids)
        self.register_outputs({"clusterId": self.cluster_id, "nodePoolIds": self.node_pool_ids,
                               "kubeconfig": self.kubeconfig})


def _check_pool(pool: NodePoolArgs, vswitches: dict[str, str], allow_tickets: bool) -> None:
    if pool["market"] not in SPOT_STRATEGIES:
        raise ComponentInputError("market", f"{pool['market']!r} is not sold on Alibaba Cloud; valid: "
                                f"{sorted(SPOT_STRATEGIES)}")
    check_gpu_instance_type(pool["instance_type"], pool["accelerator"], allow_sales_ticket_types=allow_tickets)
    missing = [z for z in pool["zones"] if z not in vswitches]
    if missing or not pool["zones"]:
        raise ComponentInputError("zones", f"{missing or pool['zones']} have no vSwitch; zones with one: "
                                f"{sorted(vswitches)}")
    bad = [t["effect"] for t in pool["taints"] if t["effect"] not in TAINT_EFFECTS]
    if bad:
        raise ComponentInputError("taints", f"effects {bad} are not valid; valid: {list(TAINT_EFFECTS)}")
