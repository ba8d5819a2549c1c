"""newinfra:aws:GpuCluster — EKS with encrypted secrets, a private endpoint, and one managed node group per pool."""


import json
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
from newinfra.components.aws.iam import service_role
from newinfra.components.aws.kms import KeyArgs, create_key
from newinfra.components.physical import physical
from newinfra.components.plain import require_plain
from newinfra.components.planning.guards import NTH_MANAGED_TAG
from newinfra.components.planning.pools import NodePoolArgs, pool_classification
from newinfra.components.planning.tags import checked_classification, with_classification
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError, input_path
from newinfra.facts import FamilyNameError, instance_facts
from newinfra.facts import efa_interfaces as family_efa_interfaces
from newinfra.placement import is_local_zone

EKS_VERSION = "1.33"
CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
# "reserved": on-demand instances, which consume a matching open capacity reservation without being told to
CAPACITY_TYPE = {"on-demand": "ON_DEMAND", "spot": "SPOT", "capacity-block": "CAPACITY_BLOCK", "reserved": "ON_DEMAND"}
TAINT_EFFECT = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}
# Node image family -> the AL2023 AMI type the families table names -> the AMI type to use.
AMI_TYPES = {
    "al2023": {},
    "bottlerocket": {"AL2023_x86_64_NVIDIA": "BOTTLEROCKET_x86_64_NVIDIA",
                     "AL2023_ARM_64_NVIDIA": "BOTTLEROCKET_ARM_64_NVIDIA"},
}
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy",
                 "AmazonSSMManagedInstanceCore")
ROOT_VOLUME_GIB = 200


class GpuClusterArgs(TypedDict):
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[pulumi.Input[str]]]
    # AZ ID -> private subnet: pools pinned to zones (multi-node training: one zone) use these.
    subnet_by_zone: pulumi.Input[dict[str, pulumi.Input[str]]]
    node_pools: list[NodePoolArgs]
    version: NotRequired[str]
    # A public API endpoint exists only when CIDRs are given (never 0.0.0.0/0).
    public_access_cidrs: NotRequired[list[str]]
    node_image: NotRequired[str]  # al2023 | bottlerocket
    # pool name -> Capacity Block offering id, for pools whose market is capacity-block
    capacity_block_offerings: NotRequired[dict[str, str]]
    tags: NotRequired[dict[str, str]]
    # The data classification of the cluster's workloads (newinfra-data-classification on the cluster, and on
    # node groups and their launch templates unless a pool names its own).
    classification: NotRequired[str]


def ami_type(instance_type: str, node_image: str) -> str:
    """The EKS AMI type from the families table; Bottlerocket where it has an accelerated variant."""
    try:
        facts = instance_facts("aws", instance_type)
    except FamilyNameError:
        facts = None
    if facts is None or facts.eks_ami_type is None:
        raise ComponentInputError("instance_type", f"{instance_type!r} has no accelerated EKS AMI (NVIDIA or Neuron)")
    if node_image not in AMI_TYPES:
        raise ComponentInputError("node_image", f"{node_image!r} is not valid; valid: {sorted(AMI_TYPES)}")
    return AMI_TYPES[node_image].get(facts.eks_ami_type, facts.eks_ami_type)


def efa_interfaces(instance_type: str) -> int:
    """EFA interfaces per node: the same answer the VM pools get (newinfra/facts.py)."""
    return family_efa_interfaces("aws", instance_type)


def _check_pools(pools: list[NodePoolArgs], node_image: str, offerings: dict[str, str]) -> None:
    names = [p["name"] for p in pools]
    if len(set(names)) != len(names):
        raise ComponentInputError("node_pools", f"names must be unique, got {sorted(names)}")
    for i, pool in enumerate(pools):
        with input_path(f"node_pools[{i}]"):
            ami_type(pool["instance_type"], node_image)
            pool_classification(pool, None)
        if pool["market"] not in CAPACITY_TYPE:
            raise ComponentInputError(f"node_pools[{i}].market", f"{pool['market']!r} is not valid; "
                                      f"valid: {sorted(CAPACITY_TYPE)}")
        if pool["market"] == "capacity-block" and pool["name"] not in offerings:
            raise ComponentInputError("capacity_block_offerings", f"pool {pool['name']!r} runs on a Capacity Block "
                                      "and needs its offering id (ec2 describe-capacity-block-offerings)")


class GpuCluster(pulumi.ComponentResource):
    TYPE = python_token("AwsGpuCluster")
    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    node_groups: pulumi.Output[list[str]]
    node_group_arns: pulumi.Output[list[str]]
    node_role_name: pulumi.Output[str]  # the nodes' instance role (a budget's stop action denies through it)

    def __init__(self, name: str, args: GpuClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        pools: list[NodePoolArgs] = require_plain(args, "node_pools")
        node_image = args.get("node_image", "al2023")
        offerings = dict(args.get("capacity_block_offerings") or {})
        public_cidrs = list(args.get("public_access_cidrs") or [])
        if any(c.endswith("/0") for c in public_cidrs):
            raise ComponentInputError("public_access_cidrs", f"{public_cidrs} would open the API to the internet")
        _check_pools(pools, node_image, offerings)
        tags = dict(args.get("tags") or {})
        classification = checked_classification(args.get("classification"))
        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)

        key = create_key(self, f"{name}-secrets", KeyArgs(description=f"EKS {name} secrets", tags=tags))
        cluster_role = service_role(self, f"{name}-cluster", "eks.amazonaws.com", tags, ("AmazonEKSClusterPolicy",))
        node_role = service_role(self, f"{name}-node", "ec2.amazonaws.com", tags, NODE_POLICIES)
        cluster_name = physical("aws:eks:cluster", name)
        # EKS writes control-plane logs to this exact group; created here to set retention and tags.
        aws.cloudwatch.LogGroup(f"{name}-control-plane", name=f"/aws/eks/{cluster_name}/cluster",
                                retention_in_days=365, tags=tags, opts=child)
        cluster = aws.eks.Cluster(
            f"{name}-eks", name=cluster_name, version=args.get("version", EKS_VERSION),
            role_arn=cluster_role.arn,
            vpc_config={
                "subnet_ids": args["subnet_ids"],
                "endpoint_private_access": True,
                "endpoint_public_access": bool(public_cidrs),
                **({"public_access_cidrs": public_cidrs} if public_cidrs else {}),
            },
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=CONTROL_PLANE_LOGS,
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            tags=with_classification(tags, classification), opts=child)
        cluster_sg = cluster.vpc_config.apply(lambda c: c.cluster_security_group_id)
        # Pod Identity's agent: how in-cluster controllers (the node termination handler) get their IAM role
        # without an OIDC provider; pinned by EKS to the cluster's version.
        aws.eks.Addon(f"{name}-pod-identity", cluster_name=cluster.name, addon_name="eks-pod-identity-agent",
                      resolve_conflicts_on_create="OVERWRITE", tags=tags, opts=child)

        efa_sg = None
        if any(efa_interfaces(p["instance_type"]) for p in pools):
            efa_sg = _efa_security_group(self, name, args["vpc_id"], tags)

        groups = []
        for pool in sorted(pools, key=lambda p: p["name"]):
            pool_tags = with_classification(tags, pool_classification(pool, classification))
            groups.append(self._node_group(name, pool, cluster, node_role, key, cluster_sg, efa_sg,
                                           node_image, offerings, args["subnet_by_zone"], pool_tags))

        self.cluster_name = cluster.name
        self.endpoint = cluster.endpoint
        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(
            cluster.name, cluster.endpoint, cluster.certificate_authority.data, cluster.arn,
        ).apply(lambda a: _kubeconfig(*a)))
        self.node_groups = pulumi.Output.all(*[g.node_group_name for g in groups])
        self.node_group_arns = pulumi.Output.all(*[g.arn for g in groups])
        self.node_role_name = node_role.name
        self.register_outputs({"clusterName": self.cluster_name, "endpoint": self.endpoint,
                               "nodeGroups": self.node_groups})

    def _node_group(self, name, pool: NodePoolArgs, cluster, node_role, key, cluster_sg, efa_sg, node_image,
                    offerings, subnet_by_zone, tags) -> aws.eks.NodeGroup:
        child = pulumi.ResourceOptions(parent=self)
        pool_name = f"{name}-{pool['name']}"
        pool_tags = {**tags, "newinfra.io/workload": pool["workload"], "newinfra.io/pool": pool["name"]}
        n_efa = efa_interfaces(pool["instance_type"])
        market_options = {}
        placement = {}
        if pool["market"] == "capacity-block":
            # Capacity Blocks and cluster placement groups do not mix; the block is already co-located.
            reservation = aws.ec2.CapacityBlockReservation(
                pool_name, capacity_block_offering_id=offerings[pool["name"]], instance_platform="Linux/UNIX",
                tags=pool_tags, opts=child)
            market_options = {
                "instance_market_options": {"market_type": "capacity-block"},
                "capacity_reservation_specification": {
                    "capacity_reservation_target": {"capacity_reservation_id": reservation.id}},
            }
        elif pool["compact"] and n_efa and not is_local_zone("aws", pool["zones"][0]):  # Local Zones have none
            group = aws.ec2.PlacementGroup(pool_name, strategy="cluster", tags=pool_tags, opts=child)
            placement = {"placement": {"group_name": group.name}}

        security_groups = [cluster_sg] + ([efa_sg.id] if n_efa and efa_sg is not None else [])
        interfaces = [{
            "device_index": 0 if i == 0 else 1,
            "network_card_index": i,
            "associate_public_ip_address": "false",
            "delete_on_termination": "true",
            "security_groups": security_groups,
            **({"interface_type": "efa"} if n_efa else {}),
        } for i in range(max(1, n_efa))]
        template = aws.ec2.LaunchTemplate(
            pool_name,
            description=f"{pool['workload']} ({pool['accelerator']}) nodes",
            update_default_version=True,
            metadata_options={"http_endpoint": "enabled", "http_tokens": "required",
                              "http_put_response_hop_limit": 1, "instance_metadata_tags": "disabled"},
            block_device_mappings=[{
                "device_name": "/dev/xvda",
                "ebs": {"volume_size": ROOT_VOLUME_GIB, "volume_type": "gp3", "encrypted": "true",
                        "kms_key_id": key.arn, "delete_on_termination": "true"},
            }],
            network_interfaces=interfaces,
            monitoring={"enabled": True},
            # The instance also carries the termination handler's managed tag: it drains only what is tagged.
            tag_specifications=[{"resource_type": kind,
                                 "tags": {**pool_tags, NTH_MANAGED_TAG: "true"} if kind == "instance" else pool_tags}
                                for kind in ("instance", "volume", "network-interface")],
            tags=pool_tags,
            **market_options, **placement,
            opts=child)
        # Multi-node training stays in one zone (EFA and placement groups do not span zones).
        zones = pool["zones"][:1] if pool["compact"] else pool["zones"]
        subnets = pulumi.Output.from_input(subnet_by_zone).apply(
            lambda by_zone: [by_zone[z] for z in zones])
        return aws.eks.NodeGroup(
            pool_name, cluster_name=cluster.name, node_group_name=physical("aws:eks:node-group", pool_name),
            node_role_arn=node_role.arn,
            subnet_ids=subnets, instance_types=[pool["instance_type"]],
            ami_type=ami_type(pool["instance_type"], node_image),
            capacity_type=CAPACITY_TYPE[pool["market"]],
            scaling_config={"min_size": pool["min_size"], "max_size": pool["max_size"],
                            "desired_size": pool["desired_size"]},
            update_config={"max_unavailable": 1},
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels=pool["labels"],
            taints=[{"key": t["key"], "value": t["value"], "effect": TAINT_EFFECT[t["effect"]]}
                    for t in pool["taints"]],
            tags=pool_tags,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["scalingConfig.desiredSize"]))


def _efa_security_group(parent, name: str, vpc_id, tags) -> aws.ec2.SecurityGroup:
    """EFA needs all traffic between the group's members, and nothing else."""
    child = pulumi.ResourceOptions(parent=parent)
    sg = aws.ec2.SecurityGroup(f"{name}-efa", vpc_id=vpc_id, description="EFA: all traffic within the group",
                               tags=tags, opts=child)
    aws.vpc.SecurityGroupIngressRule(f"{name}-efa-in", security_group_id=sg.id, ip_protocol="-1",
                                     referenced_security_group_id=sg.id, tags=tags, opts=child)
    aws.vpc.SecurityGroupEgressRule(f"{name}-efa-out", security_group_id=sg.id, ip_protocol="-1",
                                    referenced_security_group_id=sg.id, tags=tags, opts=child)
    return sg


def _kubeconfig(cluster_name: str, endpoint: str, ca_data: str, arn: str) -> str:
    region = arn.split(":")[3]
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
        }}}],
    }, sort_keys=True)
