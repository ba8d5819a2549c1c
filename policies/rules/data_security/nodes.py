"""D7, D9, D10: GPU nodes and TPU VMs: encrypted disks, no public IPs, hardened instance metadata."""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get, items, plain, truthy
from newinfra.policies.rules.data_security.exposure import accelerated_type
from newinfra.policies.rules.data_security.tables import table_rule
from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_INSTANCE = "aws:ec2/instance:Instance"
EBS_VOLUME = "aws:ebs/volume:Volume"
SUBNET = "aws:ec2/subnet:Subnet"
GKE = "gcp:container/cluster:Cluster"
GKE_POOL = "gcp:container/nodePool:NodePool"
GCE_INSTANCE = "gcp:compute/instance:Instance"
TPU_VM = "gcp:tpu/v2Vm:V2Vm"
ACK_POOL = "alicloud:cs/nodePool:NodePool"
ECS_INSTANCE = "alicloud:ecs/instance:Instance"
GCE_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
GCE_DISK = "gcp:compute/disk:Disk"
TPU_QUEUED = "gcp:tpu/v2QueuedResource:V2QueuedResource"
ESS_CONFIG = "alicloud:ess/scalingConfiguration:ScalingConfiguration"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def _eks_default_disks(p: Any, _c) -> list[str]:
    # Without a launch template EKS builds the nodes from its own: a diskSize root volume that is
    # encrypted only when the account's EBS encryption-by-default is on, and never with a key of yours.
    if get(p, "launchTemplate") is not None:
        return []  # judged on the launch template itself
    return [f"no launchTemplate: EKS's default root volume ({get(p, 'diskSize', 20):g} GiB) is not encrypted with "
            "a customer key (encrypted at all only under the account's EBS encryption-by-default); give the node "
            "group a launch template whose blockDeviceMappings set encrypted and kmsKeyId"]


def _eks_default_metadata(p: Any, _c) -> list[str]:
    if get(p, "launchTemplate") is not None:
        return []
    return ["no launchTemplate: EKS's default launch template leaves IMDSv1 enabled (httpTokens 'optional'); "
            "give the node group a launch template with metadataOptions.httpTokens 'required'"]


def _lt_disks(p: Any, _c) -> list[str]:
    mappings = [m for m in items(get(p, "blockDeviceMappings")) if get(m, "ebs") is not None]
    if not mappings:
        return ["no blockDeviceMappings: the root volume's encryption would depend on the AMI"]
    bad = [get(m, "deviceName", "?") for m in mappings
           if not truthy(get(m, "ebs.encrypted")) or not get(m, "ebs.kmsKeyId")]
    return [f"EBS volumes {bad} are not encrypted with a kmsKeyId"] if bad else []


def _ec2_disks(p: Any, _c) -> list[str]:
    disks = [get(p, "rootBlockDevice") or {}, *items(get(p, "ebsBlockDevices"))]
    bad = [get(d, "deviceName", "root") for d in disks if not truthy(get(d, "encrypted")) or not get(d, "kmsKeyId")]
    return [f"volumes {bad} are not encrypted with a kmsKeyId"] if bad else []


def _ebs_volume(p: Any, _c) -> list[str]:
    return [] if truthy(get(p, "encrypted")) and get(p, "kmsKeyId") else ["not encrypted with a kmsKeyId"]


def _gke_pool_disks(p: Any, _c) -> list[str]:
    return [] if get(p, "nodeConfig.bootDiskKmsKey") else ["nodeConfig.bootDiskKmsKey is not set"]


def _gke_default_pool_disks(p: Any, _c) -> list[str]:
    # A cluster whose default pool is removed has no nodes of its own.
    if get(p, "removeDefaultNodePool") is True:
        return []
    return _gke_pool_disks(p, _c)


def _gce_disks(p: Any, _c) -> list[str]:
    return [] if get(p, "bootDisk.kmsKeySelfLink") else ["bootDisk.kmsKeySelfLink is not set"]


def _gce_template_disks(p: Any, _c) -> list[str]:
    bad = [i for i, d in enumerate(items(get(p, "disks"))) if not get(d, "diskEncryptionKey.kmsKeySelfLink")]
    return [f"disks {bad} have no diskEncryptionKey.kmsKeySelfLink"] if bad else []


def _gce_disk(p: Any, _c) -> list[str]:
    return [] if get(p, "diskEncryptionKey.kmsKeySelfLink") else ["diskEncryptionKey.kmsKeySelfLink is not set"]


def _ack_disks(p: Any, _c) -> list[str]:
    problems = []
    if not truthy(get(p, "systemDiskEncrypted")):
        problems.append("systemDiskEncrypted is not true")
    bad = [i for i, d in enumerate(items(get(p, "dataDisks"))) if not truthy(get(d, "encrypted"))]
    if bad:
        problems.append(f"dataDisks {bad} are not encrypted")
    return problems


def _ecs_disks(p: Any, _c) -> list[str]:
    problems = [] if truthy(get(p, "systemDiskEncrypted")) else ["systemDiskEncrypted is not true"]
    bad = [i for i, d in enumerate(items(get(p, "dataDisks"))) if not truthy(get(d, "encrypted"))]
    return problems + ([f"dataDisks {bad} are not encrypted"] if bad else [])


node_disk_encryption = table_rule(
    "node-disk-encryption",
    "D7: node and boot disks are encrypted with a customer key. Fix: AWS launch templates/instances: every "
    "EBS mapping encrypted with kmsKeyId, EBS volumes encrypted with kmsKeyId, EKS node groups a launch "
    "template (EKS's default one cannot take your key); GKE pools and a cluster's kept default pool: "
    "nodeConfig.bootDiskKmsKey; GCE instances: bootDisk.kmsKeySelfLink, instance templates and disks: "
    "diskEncryptionKey.kmsKeySelfLink; Alibaba node pools, instances and scaling configurations: "
    "systemDiskEncrypted and encrypted dataDisks.",
    {LAUNCH_TEMPLATE: _lt_disks, EC2_INSTANCE: _ec2_disks, EBS_VOLUME: _ebs_volume, GKE_POOL: _gke_pool_disks,
     GKE: _gke_default_pool_disks, GCE_INSTANCE: _gce_disks, ACK_POOL: _ack_disks, ECS_INSTANCE: _ecs_disks,
     GCE_TEMPLATE: _gce_template_disks, GCE_DISK: _gce_disk, ESS_CONFIG: _ecs_disks,
     EKS_NODE_GROUP: _eks_default_disks},
)


def _gpu_only(cloud: str, type_key: str, check):
    """``check`` for accelerator hosts only: a public web VM is not what D9 is about."""
    def scoped(p: Any, c) -> list[str]:
        return check(p, c) if accelerated_type(cloud, get(p, type_key), p) else []
    return scoped


def _lt_public_ip(p: Any, _c) -> list[str]:
    bad = [i for i, n in enumerate(items(get(p, "networkInterfaces"))) if truthy(get(n, "associatePublicIpAddress"))]
    return [f"networkInterfaces {bad} associate a public IP"] if bad else []


def _ec2_public_ip(p: Any, _c) -> list[str]:
    return ["associatePublicIpAddress is true"] if truthy(get(p, "associatePublicIpAddress")) else []


def _subnet_public_ip(p: Any, _c) -> list[str]:
    return ["mapPublicIpOnLaunch is true"] if truthy(get(p, "mapPublicIpOnLaunch")) else []


def _tpu_public_ip(p: Any, _c) -> list[str]:
    # The TPU API gives VMs external IPs unless networkConfig says otherwise.
    return [] if get(p, "networkConfig.enableExternalIps") is False else [
        "networkConfig.enableExternalIps is not false"]


def _gce_public_ip(p: Any, _c) -> list[str]:
    bad = [i for i, n in enumerate(items(get(p, "networkInterfaces"))) if items(get(n, "accessConfigs"))]
    return [f"networkInterfaces {bad} have accessConfigs (external IPs)"] if bad else []


def _tpu_queued_public_ip(p: Any, _c) -> list[str]:
    bad = [get(n, "nodeId", i) for i, n in enumerate(items(get(p, "tpu.nodeSpecs")))
           if get(n, "node.networkConfig.enableExternalIps") is not False]
    return [f"TPU nodes {bad} do not set networkConfig.enableExternalIps false"] if bad else []


def _ack_public_ip(p: Any, _c) -> list[str]:
    bw = get(p, "internetMaxBandwidthOut", 0)
    return [f"internetMaxBandwidthOut is {bw:g} (a public IP per node)"] if bw else []


no_public_ips = table_rule(
    "no-public-node-ips",
    "D9: GPU nodes and TPU VMs get no public IPs. Fix: launch templates: associatePublicIpAddress false; "
    "subnets: mapPublicIpOnLaunch false; TPU VMs: networkConfig.enableExternalIps false; GCE: no "
    "accessConfigs; Alibaba node pools: internetMaxBandwidthOut 0. Reach the internet through NAT.",
    {LAUNCH_TEMPLATE: _gpu_only("aws", "instanceType", _lt_public_ip),
     EC2_INSTANCE: _gpu_only("aws", "instanceType", _ec2_public_ip), SUBNET: _subnet_public_ip,
     TPU_VM: _tpu_public_ip, GCE_INSTANCE: _gpu_only("gcp", "machineType", _gce_public_ip),
     ACK_POOL: _ack_public_ip, ECS_INSTANCE: _gpu_only("alicloud", "instanceType", _ack_public_ip),
     GCE_TEMPLATE: _gpu_only("gcp", "machineType", _gce_public_ip), TPU_QUEUED: _tpu_queued_public_ip,
     ESS_CONFIG: _gpu_only("alicloud", "instanceType", _ack_public_ip)},
)

METADATA_SCHEMA = PolicyConfigSchema(
    properties={"maxHopLimit": {"type": "integer", "minimum": 1, "maximum": 64, "default": 2}}
)


def _imdsv2(p: Any, c) -> list[str]:
    problems = []
    if get(p, "metadataOptions.httpTokens") != "required":
        problems.append("metadataOptions.httpTokens is not 'required' (IMDSv2)")
    hops = get(p, "metadataOptions.httpPutResponseHopLimit")
    if hops is not None and hops > c.get("maxHopLimit", 2):
        problems.append(f"metadataOptions.httpPutResponseHopLimit {hops:g} exceeds {c.get('maxHopLimit', 2)}")
    return problems


def _gke_metadata(p: Any, _c) -> list[str]:
    mode = get(p, "nodeConfig.workloadMetadataConfig.mode")
    return [] if mode == "GKE_METADATA" else ["nodeConfig.workloadMetadataConfig.mode is not GKE_METADATA"]


def _gke_default_pool_metadata(p: Any, _c) -> list[str]:
    # The cluster's default pool takes the cluster's nodeConfig; a removed pool has no nodes.
    return [] if get(p, "removeDefaultNodePool") is True else _gke_metadata(p, _c)


def _ack_metadata(p: Any, _c) -> list[str]:
    ok = get(p, "instanceMetadataOptions.httpTokens") == "required"
    return [] if ok else ["instanceMetadataOptions.httpTokens is not 'required'"]


def _remediate_imdsv2(args: ResourceValidationArgs):
    """Turn on IMDSv2 where a launch template or instance leaves it optional (remediate level only)."""
    if args.resource_type not in (LAUNCH_TEMPLATE, EC2_INSTANCE):
        return None
    if get(args.props, "metadataOptions.httpTokens") == "required":
        return None
    props = plain(args.props)
    props.setdefault("metadataOptions", {})
    props["metadataOptions"]["httpTokens"] = "required"
    props["metadataOptions"].setdefault("httpEndpoint", "enabled")
    return props


hardened_metadata = table_rule(
    "hardened-instance-metadata",
    "D10: instance metadata is hardened. Fix: AWS launch templates and instances: metadataOptions {httpTokens: "
    "'required', httpPutResponseHopLimit: 2}, EKS node groups a launch template that sets them (EKS's default "
    "one leaves IMDSv1 on); GKE pools and a cluster's kept default pool: nodeConfig.workloadMetadataConfig.mode "
    "'GKE_METADATA'; Alibaba: instanceMetadataOptions.httpTokens 'required'. At level 'remediate' AWS launch "
    "templates and instances are fixed for you.",
    {LAUNCH_TEMPLATE: _imdsv2, EC2_INSTANCE: _imdsv2, GKE_POOL: _gke_metadata, ACK_POOL: _ack_metadata,
     EKS_NODE_GROUP: _eks_default_metadata, GKE: _gke_default_pool_metadata},
    METADATA_SCHEMA,
    remediate=_remediate_imdsv2,
)

POLICIES = [node_disk_encryption, no_public_ips, hardened_metadata]
