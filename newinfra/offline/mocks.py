"""Mocks that answer like the clouds would: realistic, deterministic ids and the computed outputs the program reads.

Ids derive from a hash of the URN, so the same program gives the same ids on every run. Invokes the program
makes are answered from real data (moto's AWS zone tables, the catalog's GCP and Alibaba zones here; moto's
backends and the look-up tables in newinfra.offline.lookups); an invoke nobody answers is unknown, as preview
shows a value not yet known (newinfra.offline.invoke_forms), never an invented value.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pulumi

from newinfra.record import digest, offline_id  # ids: one formula for the engine and the record's readers

ACCOUNT_ID = "123456789012"
GCP_PROJECT = "newinfra-offline"
GCP_PROJECT_NUMBER = "271828182845"
ALICLOUD_ACCOUNT = "5123456789012345"


class OfflineError(RuntimeError):
    """The offline engine cannot run the program faithfully; the message says why."""




# service and resource path of ARNs (type token -> (service, path template)); {id} / {name} filled in.
AWS_ARN = {
    "aws:kms/key:Key": ("kms", "key/{id}"),
    "aws:kms/alias:Alias": ("kms", "{name}"),
    "aws:s3/bucket:Bucket": ("s3", "{name}"),
    "aws:s3/bucketV2:BucketV2": ("s3", "{name}"),
    "aws:iam/role:Role": ("iam", "role/{name}"),
    "aws:iam/policy:Policy": ("iam", "policy/{name}"),
    "aws:iam/instanceProfile:InstanceProfile": ("iam", "instance-profile/{name}"),
    "aws:eks/cluster:Cluster": ("eks", "cluster/{name}"),
    "aws:eks/nodeGroup:NodeGroup": ("eks", "nodegroup/{name}"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs", "log-group:{name}"),
    "aws:autoscaling/group:Group": ("autoscaling", "autoScalingGroup:{id}:autoScalingGroupName/{name}"),
    "aws:ec2/launchTemplate:LaunchTemplate": ("ec2", "launch-template/{id}"),
    "aws:ec2/vpc:Vpc": ("ec2", "vpc/{id}"),
    "aws:ec2/subnet:Subnet": ("ec2", "subnet/{id}"),
    "aws:ec2/securityGroup:SecurityGroup": ("ec2", "security-group/{id}"),
    "aws:ec2/placementGroup:PlacementGroup": ("ec2", "placement-group/{name}"),
    "aws:fsx/lustreFileSystem:LustreFileSystem": ("fsx", "file-system/{id}"),
    "aws:ec2/flowLog:FlowLog": ("ec2", "vpc-flow-log/{id}"),
    "aws:sns/topic:Topic": ("sns", "{name}"),
    "aws:sqs/queue:Queue": ("sqs", "{name}"),
    "aws:cloudwatch/eventRule:EventRule": ("events", "rule/{name}"),
}
GLOBAL_AWS_SERVICES = {"iam", "s3"}

# The physical name a resource gets when the program sets none: the input that names it, else an
# auto-name (logical name + 7 hex characters, as the engine does).
NAME_INPUT = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:eks/cluster:Cluster": "name",
    "aws:eks/nodeGroup:NodeGroup": "nodeGroupName",
    "aws:iam/role:Role": "name",
    "aws:cloudwatch/logGroup:LogGroup": "name",
    "aws:kms/alias:Alias": "name",
    "aws:autoscaling/group:Group": "name",
    "aws:ec2/placementGroup:PlacementGroup": "name",
}


def physical_name(typ: str, name: str, inputs: dict[str, Any], urn: str) -> str:
    given = inputs.get(NAME_INPUT.get(typ, "name"))
    if isinstance(given, str) and given:
        return given
    return f"{name}-{digest(urn, size=7)}"


def _aws_state(typ: str, name: str, urn: str, inputs: dict[str, Any], region: str) -> tuple[str, dict]:
    phys = physical_name(typ, name, inputs, urn)
    rid = offline_id(typ, urn) or phys
    state: dict[str, Any] = {}
    if typ in NAME_INPUT or "name" in inputs:
        state[NAME_INPUT.get(typ, "name")] = phys
    if typ == "aws:kms/key:Key":
        rid = f"{digest(urn, size=8)}-{digest(urn, 'k', size=4)}-{digest(urn, 'e', size=4)}-" \
              f"{digest(urn, 'y', size=4)}-{digest(urn, 'id', size=12)}"
        state["keyId"] = rid
    if typ in AWS_ARN:
        service, path = AWS_ARN[typ]
        arn_region = "" if service in GLOBAL_AWS_SERVICES else region
        account = "" if service == "s3" else ACCOUNT_ID
        state["arn"] = f"arn:aws:{service}:{arn_region}:{account}:{path.format(id=rid, name=phys)}"
    extra = AWS_COMPUTED.get(typ)
    if extra:
        state.update(extra(phys, rid, region, urn))
    if typ == "aws:sqs/queue:Queue":  # a queue's id is its URL
        rid = state["url"]
    if typ == "aws:eks/cluster:Cluster":  # the engine returns the inputs plus the cluster security group
        state["vpcConfig"] = {**(inputs.get("vpcConfig") or {}),
                              "clusterSecurityGroupId": f"sg-{digest(urn, 'cluster-sg')}"}
    return rid, state


def _eks_cluster(phys: str, rid: str, region: str, urn: str) -> dict:
    ca = base64.b64encode(f"-----BEGIN CERTIFICATE-----\n{digest(urn, size=64)}\n".encode()).decode()
    return {
        "endpoint": f"https://{digest(urn, size=32).upper()}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": ca},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/"
                                             f"{digest(urn, 'oidc', size=32).upper()}"}]}],
        "status": "ACTIVE",
        "clusterId": digest(urn, "cid", size=32),
    }


AWS_COMPUTED: dict[str, Callable[[str, str, str, str], dict]] = {
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:s3/bucketV2:BucketV2": lambda phys, rid, region, urn: {
        "bucketRegionalDomainName": f"{phys}.s3.{region}.amazonaws.com", "region": region},
    "aws:s3/bucket:Bucket": lambda phys, rid, region, urn: {
        "bucketRegionalDomainName": f"{phys}.s3.{region}.amazonaws.com", "region": region},
    "aws:ec2/launchTemplate:LaunchTemplate": lambda phys, rid, region, urn: {"latestVersion": 1},
    "aws:fsx/lustreFileSystem:LustreFileSystem": lambda phys, rid, region, urn: {
        "dnsName": f"{rid}.fsx.{region}.amazonaws.com", "mountName": digest(urn, "mnt", size=8)},
    "aws:ec2/natGateway:NatGateway": lambda phys, rid, region, urn: {
        "privateIp": f"10.{int(digest(urn, size=2), 16) % 250}.0.{int(digest(urn, 'ip', size=2), 16) % 250 + 4}"},
    "aws:eks/nodeGroup:NodeGroup": lambda phys, rid, region, urn: {"status": "ACTIVE"},
    "aws:sqs/queue:Queue": lambda phys, rid, region, urn: {
        "url": f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{phys}"},
}


def _gcp_state(typ: str, name: str, urn: str, inputs: dict[str, Any]) -> tuple[str, dict]:
    phys = physical_name(typ, name, inputs, urn)
    location = inputs.get("location") or inputs.get("region") or inputs.get("zone") or "global"
    project = inputs.get("project") or GCP_PROJECT
    collection = typ.split(":")[-1][0].lower() + typ.split(":")[-1][1:] + "s"
    rid = f"projects/{project}/locations/{location}/{collection}/{phys}"
    state: dict[str, Any] = {"name": phys, "project": project,
                             "selfLink": f"https://www.googleapis.com/{rid}"}
    if typ == "gcp:container/cluster:Cluster":
        state["endpoint"] = f"10.{int(digest(urn, size=2), 16) % 250}.0.2"
        state["masterAuth"] = {"clusterCaCertificate": base64.b64encode(
            f"-----BEGIN CERTIFICATE-----\n{digest(urn, size=64)}\n".encode()).decode()}
    if typ == "gcp:kms/cryptoKey:CryptoKey":
        rid = f"{inputs.get('keyRing', f'projects/{project}/locations/global/keyRings/ring')}/cryptoKeys/{phys}"
    if typ == "gcp:kms/keyRing:KeyRing":
        rid = f"projects/{project}/locations/{location}/keyRings/{phys}"
    if typ == "gcp:serviceaccount/account:Account":
        account_id = inputs.get("accountId", phys)
        state["email"] = f"{account_id}@{project}.iam.gserviceaccount.com"
    return rid, state


def _alicloud_state(typ: str, name: str, urn: str, inputs: dict[str, Any]) -> tuple[str, dict]:
    rid = offline_id(typ, urn) or ""
    state: dict[str, Any] = {}
    octet = int(digest(urn, size=2), 16) % 250
    if typ == "alicloud:cs/managedKubernetes:ManagedKubernetes":
        # pulumi-alicloud 4.0 types both as lists
        state["connections"] = [{"apiServerIntranet": f"https://192.168.{octet}.2:6443"}]
        state["certificateAuthorities"] = [{"clusterCert": base64.b64encode(
            f"-----BEGIN CERTIFICATE-----\n{digest(urn, size=64)}\n".encode()).decode()}]
    elif typ == "alicloud:vpc/natGateway:NatGateway":
        state["snatTableIds"] = f"stb-{digest(urn, 'snat', size=20)}"
        state["forwardTableIds"] = f"ftb-{digest(urn, 'fwd', size=20)}"
    elif typ in ("alicloud:ecs/eipAddress:EipAddress", "alicloud:ecs/eip:Eip"):
        state["ipAddress"] = f"47.{octet}.{int(digest(urn, 'b', size=2), 16) % 250}.{octet % 200 + 10}"
    elif typ == "alicloud:oss/bucket:Bucket":
        state["bucket"] = inputs.get("bucket") or physical_name(typ, name, inputs, urn)
        rid = state["bucket"]
    return rid, state


class ResourceMocks(pulumi.runtime.Mocks):
    """Ids and computed outputs per cloud; invokes answered from real data."""

    def __init__(self, provider_regions: dict[str, str], defaults: dict[str, dict[str, Any]] | None = None) -> None:
        # provider reference ("urn::id") -> region, filled by the monitor as providers register
        self.provider_regions = provider_regions
        # package -> the default provider's settings (the stack's aws:region, gcp:project, ...)
        self.defaults = defaults or {}
        self.unanswered: set[str] = set()
        # type token -> the states of the resources created so far (look-ups of the stack's own resources)
        self.created: dict[str, list[dict[str, Any]]] = {}

    def region(self, package: str, provider: str | None) -> str:
        """An explicit provider's region, else the default provider's (the stack's config)."""
        if provider:
            return self.provider_regions.get(provider, "")
        return str(self.defaults.get(package, {}).get("region") or "")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        typ, inputs = args.typ, dict(args.inputs)
        urn = getattr(args, "urn", None) or f"{typ}::{args.name}"
        if typ.startswith("pulumi:providers:"):
            return f"provider-{digest(urn, size=12)}", inputs
        if not args.custom:
            return None, {}
        if typ.startswith("aws:"):
            region = inputs.get("region") or self.region("aws", args.provider) or "us-east-1"
            rid, computed = _aws_state(typ, args.name, urn, inputs, region)
        elif typ.startswith("gcp:"):
            rid, computed = _gcp_state(typ, args.name, urn, inputs)
        elif typ.startswith("alicloud:"):
            rid, computed = _alicloud_state(typ, args.name, urn, inputs)
        elif typ.startswith("kubernetes:"):
            return _kubernetes_state(typ, args.name, urn, inputs, self.defaults.get("kubernetes", {}))
        else:  # others: the logical name is the id
            rid, computed = physical_name(typ, args.name, inputs, urn), {}
        state = {**inputs, **computed}
        self.created.setdefault(typ, []).append({"id": rid, **state})
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        from newinfra.offline.invoke_forms import mark_unknown
        from newinfra.offline.lookups import ANSWERS, Context, NotKnown

        package = args.token.split(":", 1)[0]
        region = args.args.get("region") or self.region(package, args.provider)
        if not region and package == "gcp":
            region = zone_region(str(self.defaults.get("gcp", {}).get("zone") or ""))
        table, lookup = INVOKES.get(args.token), ANSWERS.get(args.token)
        try:
            if table is not None:
                return table(args.args, region), []
            if lookup is not None:
                return lookup(args.args, Context(region, self.defaults, self.created)), []
        except NotKnown:
            pass
        # No emulator or table knows: the answer is unknown (see invoke_forms for what each form receives),
        # and the engine lists every such invoke once at the end of the run instead of ending it.
        self.unanswered.add(args.token)
        mark_unknown()
        return {}, []


def zone_region(zone: str) -> str:
    head, _, tail = zone.rpartition("-")
    return head if head and len(tail) == 1 else zone


def _kubernetes_state(typ: str, name: str, urn: str, inputs: dict[str, Any],
                      defaults: dict[str, Any]) -> tuple[str, dict]:
    """A Kubernetes object as the API server returns it: the provider auto-names ``metadata.name`` (the
    logical name plus a suffix) when the program sets none, namespaced kinds land in the provider's
    namespace (``default`` unless configured), the labels and annotations given are kept; ``status`` is
    not returned, so it is unknown in a preview."""
    meta = dict(inputs.get("metadata") or {})
    if not meta.get("name"):
        meta["name"] = f"{name}-{digest(urn, size=8)}"
    kind = typ.rsplit(":", 1)[-1]
    if kind not in CLUSTER_SCOPED and not meta.get("namespace"):
        meta["namespace"] = defaults.get("namespace") or "default"
    meta.setdefault("labels", {})
    meta.setdefault("annotations", {})
    meta["uid"] = f"{digest(urn, 'uid', size=8)}-{digest(urn, 'u1', size=4)}-{digest(urn, 'u2', size=4)}-" \
                  f"{digest(urn, 'u3', size=4)}-{digest(urn, 'u4', size=12)}"
    rid = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
    return rid, {**inputs, "metadata": meta}


# Kubernetes kinds that live outside namespaces (their ids carry no namespace).
CLUSTER_SCOPED = {"Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass",
                  "CustomResourceDefinition", "PriorityClass", "RuntimeClass", "MutatingWebhookConfiguration",
                  "ValidatingWebhookConfiguration", "APIService", "CSIDriver", "IngressClass"}


def _aws_zones(args: dict, region: str) -> dict:
    from newinfra.offline.aws_zones import zones as zone_tables

    zones = zone_tables().get(region, [])
    if not zones:
        raise OfflineError(f"AWS region {region!r} is unknown to the emulator's zone tables")
    return {
        "id": region,
        "names": [z["name"] for z in zones],
        "zoneIds": [z["zoneId"] for z in zones],
        "groupNames": [region for _ in zones],
        "state": "available",
    }


def _catalog_zones(cloud: str) -> Callable[[dict, str], dict]:
    def answer(args: dict, region: str) -> dict:
        from newinfra.cost_model.catalog import load_catalog

        zones = sorted({o.zone for o in load_catalog().offers if o.cloud == cloud and o.region == region
                        and o.zone})
        if not zones:
            raise OfflineError(f"{cloud} region {region!r} has no zones in the catalog")
        if cloud == "gcp":
            return {"id": region, "names": zones, "region": region, "project": GCP_PROJECT}
        return {"id": region, "ids": zones, "zones": [{"id": z} for z in zones]}

    return answer


INVOKES: dict[str, Callable[[dict, str], dict]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _aws_zones,
    "aws:index/getPartition:getPartition": lambda a, r: {
        "id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"},
    "aws:index/getRegion:getRegion": lambda a, r: {"id": r, "name": r, "region": r},
    "gcp:compute/getZones:getZones": _catalog_zones("gcp"),
    "alicloud:index/getZones:getZones": _catalog_zones("alicloud"),
}
