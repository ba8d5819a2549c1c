"""Which look-up answers which invoke, from real data; NotKnown where nothing here knows the answer.

AWS answers come from moto's backends (newinfra.offline.aws_lookups, imported on first use), the zone table
extracted from moto (aws_zones), and the provider's own computation (policy_document); GCP and Alibaba answers
from the stack's config and the tables below. A look-up of something the stack itself creates (a Route 53
zone, an ECR repository, an EKS cluster, an S3 bucket) is answered from that resource's recorded state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from newinfra.offline.aws_lookups import ACCOUNT_ID, NotKnown

# GCP public image families (project, family, architecture). Source: `gcloud compute images list` and
# https://cloud.google.com/compute/docs/images/os-details (public image projects and families).
GCP_IMAGE_FAMILIES: dict[tuple[str, str], str] = {
    ("debian-cloud", "debian-11"): "X86_64",
    ("debian-cloud", "debian-12"): "X86_64",
    ("debian-cloud", "debian-12-arm64"): "ARM64",
    ("ubuntu-os-cloud", "ubuntu-2204-lts"): "X86_64",
    ("ubuntu-os-cloud", "ubuntu-2204-lts-arm64"): "ARM64",
    ("ubuntu-os-cloud", "ubuntu-2404-lts-amd64"): "X86_64",
    ("ubuntu-os-cloud", "ubuntu-2404-lts-arm64"): "ARM64",
    ("cos-cloud", "cos-stable"): "X86_64",
    ("cos-cloud", "cos-arm64-stable"): "ARM64",
    ("rocky-linux-cloud", "rocky-linux-9"): "X86_64",
    ("centos-cloud", "centos-stream-9"): "X86_64",
}
COMPUTE = "https://www.googleapis.com/compute/v1"


def _echo(args: dict) -> dict[str, Any]:
    return {k: v for k, v in args.items() if v is not None}


def _gcp_project(ctx: Context, args: dict) -> str:
    from newinfra.offline.mocks import GCP_PROJECT

    return str(args.get("project") or ctx.defaults.get("gcp", {}).get("project") or GCP_PROJECT)


class Context:
    """What a look-up may read besides its arguments: the invoke's region, the default providers' settings
    (the stack's config) and the resources the program created so far (type token -> states)."""

    def __init__(self, region: str, defaults: dict[str, dict[str, Any]], created: dict[str, list[dict]]) -> None:
        self.region, self.defaults, self.created = region, defaults, created

    def find(self, typ: str, **match: Any) -> dict[str, Any]:
        found = [s for s in self.created.get(typ, []) if all(s.get(k) == v for k, v in match.items() if v)]
        if len(found) != 1:
            raise NotKnown(f"the stack creates no single {typ} matching {match}")
        return found[0]


def _aws(name: str) -> Callable[[dict, Context], dict]:
    def answer(args: dict, ctx: Context) -> dict:
        from newinfra.offline import aws_lookups

        return getattr(aws_lookups, name)(args, ctx.region)

    return answer


def _policy_document(args: dict, ctx: Context) -> dict:
    from newinfra.offline.policy_document import policy_document

    return policy_document(args)


def _caller_identity(args: dict, ctx: Context) -> dict:
    # moto's STS GetCallerIdentity for its default credentials (moto/sts/responses.py).
    return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:sts::{ACCOUNT_ID}:user/moto", "id": ACCOUNT_ID,
            "userId": "AKIAIOSFODNN7EXAMPLE"}


def _regions(args: dict, ctx: Context) -> dict:
    from newinfra.offline.aws_zones import zones

    names = sorted(zones())
    return {**_echo(args), "id": "aws", "names": names}


def _managed_policy(args: dict, ctx: Context) -> dict:
    """An AWS-managed policy, from moto's copy of AWS's list (moto/iam/aws_managed_policies.py): its ARN in
    the invoke's partition, path and default document. Customer-managed policies are unknown."""
    import json

    from moto.iam.aws_managed_policies import aws_managed_policies_data

    arn, name = str(args.get("arn") or ""), str(args.get("name") or "")
    if arn:
        if arn.split(":")[4:5] != ["aws"]:
            raise NotKnown("only AWS-managed policies are known offline")
        name = arn.rsplit("/", 1)[-1]
    policy = json.loads(aws_managed_policies_data).get(name)
    if policy is None:
        raise NotKnown(f"{name} is not an AWS-managed policy moto lists")
    partition = "aws-cn" if ctx.region.startswith("cn-") else "aws-us-gov" if ctx.region.startswith("us-gov-") \
        else "aws"
    arn = f"arn:{partition}:iam::aws:policy{policy['Path']}{name}"
    document = policy["Document"]
    return {**_echo(args), "arn": arn, "id": arn, "name": name, "path": policy["Path"], "description": "",
            "policy": document if isinstance(document, str) else json.dumps(document), "tags": {},
            "attachmentCount": int(policy.get("AttachmentCount") or 0)}


def _route53_zone(args: dict, ctx: Context) -> dict:
    name = str(args.get("name") or "").rstrip(".")
    zone = ctx.find("aws:route53/zone:Zone", name=name) if name else ctx.find(
        "aws:route53/zone:Zone", zoneId=args.get("zoneId"))
    return {**_echo(args), "id": zone.get("zoneId"), "zoneId": zone.get("zoneId"), "name": zone.get("name"),
            "privateZone": bool(zone.get("vpcs")), "nameServers": zone.get("nameServers") or []}


def _created(typ: str, key: str, arg: str) -> Callable[[dict, Context], dict]:
    """A look-up of a resource the stack creates, answered from the state the offline engine gave it."""
    def answer(args: dict, ctx: Context) -> dict:
        state = ctx.find(typ, **{key: args.get(arg)})
        return {**_echo(args), **{k: v for k, v in state.items() if not isinstance(v, dict) or k == "tags"}}

    return answer


def _gcp_client_config(args: dict, ctx: Context) -> dict:
    gcp = ctx.defaults.get("gcp", {})
    return {"id": f"projects/{_gcp_project(ctx, args)}/regions/{gcp.get('region', '')}/zones/{gcp.get('zone', '')}",
            "project": _gcp_project(ctx, args), "region": str(gcp.get("region") or ""),
            "zone": str(gcp.get("zone") or ""), "accessToken": "", "defaultLabels": {}}


def _gcp_project_lookup(args: dict, ctx: Context) -> dict:
    from newinfra.offline.mocks import GCP_PROJECT, GCP_PROJECT_NUMBER

    # The offline project (its number is the engine's own); the stack's gcp:project is not consulted here so
    # the reference stacks' records stay as they were.
    project = GCP_PROJECT
    return {**_echo(args), "id": f"projects/{project}", "projectId": project, "number": GCP_PROJECT_NUMBER,
            "name": project}


def _gcp_image(args: dict, ctx: Context) -> dict:
    family, project = args.get("family"), args.get("project") or ""
    if not family or (project, family) not in GCP_IMAGE_FAMILIES:
        raise NotKnown("only public image families in the table are known offline")
    # The family's link: Compute Engine resolves it to the family's newest image when a disk is created,
    # which is what the concrete image link would name. The image's own name and id are unknown offline.
    return {**_echo(args), "family": family, "project": project, "status": "READY",
            "architecture": GCP_IMAGE_FAMILIES[(project, family)],
            "selfLink": f"{COMPUTE}/projects/{project}/global/images/family/{family}"}


def _gcp_network(args: dict, ctx: Context) -> dict:
    if args.get("name") != "default":
        raise NotKnown("only the default network exists in a new project")
    project = _gcp_project(ctx, args)
    return {**_echo(args), "id": f"projects/{project}/global/networks/default", "name": "default",
            "project": project, "selfLink": f"{COMPUTE}/projects/{project}/global/networks/default",
            "description": "Default network for the project", "subnetworksSelfLinks": []}


def _catalog_regions(cloud: str) -> Callable[[dict, Context], dict]:
    def answer(args: dict, ctx: Context) -> dict:
        from newinfra.cost_model.catalog import load_catalog

        regions = sorted({o.region for o in load_catalog().offers if o.cloud == cloud and o.region})
        if args.get("current"):
            regions = [r for r in regions if r == ctx.region]
        return {**_echo(args), "id": ctx.region or cloud, "ids": regions,
                "regions": [{"id": r, "regionId": r, "localName": r} for r in regions]}

    return answer


ANSWERS: dict[str, Callable[[dict, Context], dict]] = {
    "aws:ec2/getAmi:getAmi": _aws("get_ami"),
    "aws:ec2/getAmiIds:getAmiIds": _aws("get_ami_ids"),
    "aws:ec2/getVpc:getVpc": _aws("get_vpc"),
    "aws:ec2/getVpcs:getVpcs": _aws("get_vpcs"),
    "aws:ec2/getSubnet:getSubnet": _aws("get_subnet"),
    "aws:ec2/getSubnets:getSubnets": _aws("get_subnets"),
    "aws:ec2/getSecurityGroup:getSecurityGroup": _aws("get_security_group"),
    "aws:ec2/getSecurityGroups:getSecurityGroups": _aws("get_security_groups"),
    "aws:ssm/getParameter:getParameter": _aws("get_parameter"),
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getRegions:getRegions": _regions,
    "aws:iam/getPolicyDocument:getPolicyDocument": _policy_document,
    "aws:iam/getPolicy:getPolicy": _managed_policy,
    "aws:route53/getZone:getZone": _route53_zone,
    "aws:ecr/getRepository:getRepository": _created("aws:ecr/repository:Repository", "name", "name"),
    "aws:eks/getCluster:getCluster": _created("aws:eks/cluster:Cluster", "name", "name"),
    "aws:s3/getBucket:getBucket": _created("aws:s3/bucketV2:BucketV2", "bucket", "bucket"),
    "gcp:organizations/getClientConfig:getClientConfig": _gcp_client_config,
    "gcp:organizations/getProject:getProject": _gcp_project_lookup,
    "gcp:compute/getImage:getImage": _gcp_image,
    "gcp:compute/getNetwork:getNetwork": _gcp_network,
    "alicloud:index/getRegions:getRegions": _catalog_regions("alicloud"),
}
