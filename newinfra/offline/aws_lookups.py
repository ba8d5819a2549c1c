"""AWS look-ups answered by moto's backends, in-process.

moto is imported only here and only when an invoke needs it (importing it costs over a second), so a plan
whose program reads no AWS image, VPC or SSM parameter never loads it. Every backend belongs to moto's
default account (123456789012, the account the offline engine reports) and to the invoke's region.

What moto's tables know is answered: public AMIs (moto's ``ec2/resources`` tables, owners and filters as
DescribeImages applies them), the default VPC moto creates per region with its subnets (one per zone) and
its default security group, and the public SSM parameters moto ships (``/aws/service/ami-amazon-linux-latest``,
``/aws/service/ecs/optimized-ami``, ``/aws/service/global-infrastructure``). Anything else raises NotKnown:
the result is unknown, as a preview shows a value not yet known.
"""

from __future__ import annotations

import re
import threading
import zlib
from functools import cache
from typing import Any

ACCOUNT_ID = "123456789012"  # moto.core.DEFAULT_ACCOUNT_ID

# SSM parameter paths moto's SSM backend fills from its own tables (moto/ssm/models.py, _load_... calls).
MOTO_SSM_PATHS = ("/aws/service/ami-amazon-linux-latest", "/aws/service/ecs/optimized-ami",
                  "/aws/service/global-infrastructure/regions", "/aws/service/global-infrastructure/services")

_lock = threading.Lock()


class NotKnown(LookupError):
    """No emulator or table knows this answer: the invoke's result is unknown."""


@cache
def _ec2(region: str) -> Any:
    """moto's EC2 backend for the region, with ids seeded by the region so every run gets the same default
    VPC, subnet and security-group ids (moto draws them from its own random generator)."""
    from moto.ec2.models import ec2_backends
    from moto.moto_api._internal import mock_random

    with _lock:
        if region not in ec2_backends[ACCOUNT_ID].regions:
            raise NotKnown(f"no AWS region {region!r}")
        mock_random.seed(zlib.crc32(f"ec2:{region}".encode()))
        return ec2_backends[ACCOUNT_ID][region]


@cache
def _ssm(region: str) -> Any:
    from moto.ssm.models import ssm_backends

    with _lock:
        return ssm_backends[ACCOUNT_ID][region]


def _filters(args: dict) -> dict[str, list[str]]:
    return {f["name"]: [str(v) for v in f.get("values") or []] for f in args.get("filters") or []}


def _tags(resource: Any) -> dict[str, str]:
    return {t["key"]: t["value"] for t in resource.get_tags()} if hasattr(resource, "get_tags") else {}


# ---- images -------------------------------------------------------------------------------------------

_DATE = re.compile(r"(20\d\d)[.\-]?(0[1-9]|1[0-2])[.\-]?([0-2]\d|3[01])")


def image_date(image: Any) -> str:
    """The date stamp in a public image's name or description (YYYYMMDD), which orders images as AWS's
    CreationDate does. moto's tables carry no creation dates (moto stamps each image with its load time),
    so the stamp AWS's image names carry is the only record of which image is newer."""
    for text in (image.name or "", image.description or ""):
        m = _DATE.search(text)
        if m:
            return "".join(m.groups())
    return ""


def _images(args: dict, region: str) -> list[Any]:
    backend = _ec2(region)
    owners = [str(o) for o in args.get("owners") or []]
    filters = _filters(args)
    ids = filters.pop("image-id", None)
    images = backend.describe_images(ami_ids=ids, owners=owners or None, filters=filters or None)
    if args.get("nameRegex"):
        pattern = re.compile(args["nameRegex"])
        images = [i for i in images if pattern.search(i.name or "")]
    # The provider sorts by CreationDate; equal dates fall back to the image id so the order is stable.
    return sorted(images, key=lambda i: (image_date(i), i.id), reverse=True)


def _image_state(image: Any, region: str, args: dict) -> dict[str, Any]:
    return {
        **{k: v for k, v in args.items() if v is not None},
        "id": image.id, "imageId": image.id, "arn": f"arn:aws:ec2:{region}::image/{image.id}",
        "name": image.name or "", "description": image.description or "", "ownerId": image.owner_id,
        "imageOwnerAlias": image.owner_alias or "", "architecture": image.architecture or "",
        "platform": image.platform or "", "platformDetails": "Windows" if image.platform == "windows" else "Linux/UNIX",
        "hypervisor": image.hypervisor or "", "imageType": image.image_type or "machine",
        "imageLocation": image.image_location or "", "rootDeviceName": image.root_device_name or "",
        "rootDeviceType": image.root_device_type or "", "virtualizationType": image.virtualization_type or "",
        "sriovNetSupport": image.sriov or "", "state": image.state or "available", "public": True,
        "tags": _tags(image),
    }


def get_ami(args: dict, region: str) -> dict[str, Any]:
    images = _images(args, region)
    if not images:
        raise NotKnown("no image in the emulator's tables matches")
    if len(images) > 1 and not args.get("mostRecent"):
        # The provider's own error: more than one match without most_recent is refused.
        from newinfra.offline.mocks import OfflineError

        raise OfflineError("aws:ec2/getAmi: Your query returned more than one result. Please try a more specific "
                           "search criteria, or set `most_recent` attribute to true.")
    return _image_state(images[0], region, args)


def get_ami_ids(args: dict, region: str) -> dict[str, Any]:
    images = _images(args, region)
    ids = [i.id for i in images]
    if args.get("sortAscending"):
        ids.reverse()
    return {**{k: v for k, v in args.items() if v is not None}, "id": region, "ids": ids}


# ---- default VPC, subnets, security groups -------------------------------------------------------------

def _vpc_state(vpc: Any, region: str) -> dict[str, Any]:
    return {
        "id": vpc.id, "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:vpc/{vpc.id}", "cidrBlock": vpc.cidr_block,
        "default": bool(vpc.is_default), "state": vpc.state, "instanceTenancy": vpc.instance_tenancy,
        "ownerId": vpc.owner_id, "enableDnsSupport": True, "enableDnsHostnames": bool(vpc.is_default),
        "dhcpOptionsId": vpc.dhcp_options.id if vpc.dhcp_options else "", "tags": _tags(vpc),
        "cidrBlockAssociations": [{"associationId": a["association_id"], "cidrBlock": a["cidr_block"],
                                   "state": "associated"} for a in vpc.get_cidr_block_association_set()],
        "ipv6AssociationId": "", "ipv6CidrBlock": "", "mainRouteTableId": _main_route_table(vpc, region),
    }


def _main_route_table(vpc: Any, region: str) -> str:
    tables = _ec2(region).describe_route_tables(filters={"vpc-id": [vpc.id], "association.main": ["true"]})
    return tables[0].id if tables else ""


def _vpc_filters(args: dict) -> dict[str, list[str]]:
    filters = _filters(args)
    for key, name in (("id", "vpc-id"), ("cidrBlock", "cidr"), ("state", "state")):
        if args.get(key):
            filters[name] = [str(args[key])]
    if args.get("default") is not None:
        filters["is-default"] = ["true" if args["default"] else "false"]
    for k, v in (args.get("tags") or {}).items():
        filters[f"tag:{k}"] = [str(v)]
    return filters


def get_vpc(args: dict, region: str) -> dict[str, Any]:
    vpcs = _ec2(region).describe_vpcs(filters=_vpc_filters(args))
    if len(vpcs) != 1:
        raise NotKnown(f"{len(vpcs)} VPCs in the emulator match")
    return {**{k: v for k, v in args.items() if v is not None}, **_vpc_state(vpcs[0], region)}


def get_vpcs(args: dict, region: str) -> dict[str, Any]:
    vpcs = _ec2(region).describe_vpcs(filters=_vpc_filters(args))
    return {**{k: v for k, v in args.items() if v is not None}, "id": region, "ids": sorted(v.id for v in vpcs)}


def _subnet_filters(args: dict) -> dict[str, list[str]]:
    filters = _filters(args)
    for key, name in (("id", "subnet-id"), ("vpcId", "vpc-id"), ("availabilityZone", "availability-zone"),
                      ("availabilityZoneId", "availability-zone-id"), ("cidrBlock", "cidr-block"),
                      ("state", "state")):
        if args.get(key):
            filters[name] = [str(args[key])]
    if args.get("defaultForAz") is not None:
        filters["default-for-az"] = ["true" if args["defaultForAz"] else "false"]
    for k, v in (args.get("tags") or {}).items():
        filters[f"tag:{k}"] = [str(v)]
    return filters


def _subnet_state(subnet: Any, region: str) -> dict[str, Any]:
    return {
        "id": subnet.id, "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:subnet/{subnet.id}",
        "vpcId": subnet.vpc_id, "cidrBlock": subnet.cidr_block, "availabilityZone": subnet.availability_zone,
        "availabilityZoneId": subnet.availability_zone_id, "defaultForAz": bool(subnet.default_for_az),
        "mapPublicIpOnLaunch": bool(subnet.map_public_ip_on_launch), "state": subnet.state,
        "availableIpAddressCount": int(subnet.available_ip_addresses), "ownerId": subnet.owner_id,
        "assignIpv6AddressOnCreation": False, "ipv6CidrBlock": "", "tags": _tags(subnet),
    }


def get_subnet(args: dict, region: str) -> dict[str, Any]:
    subnets = _ec2(region).describe_subnets(filters=_subnet_filters(args))
    if len(subnets) != 1:
        raise NotKnown(f"{len(subnets)} subnets in the emulator match")
    return {**{k: v for k, v in args.items() if v is not None}, **_subnet_state(subnets[0], region)}


def get_subnets(args: dict, region: str) -> dict[str, Any]:
    subnets = _ec2(region).describe_subnets(filters=_subnet_filters(args))
    return {**{k: v for k, v in args.items() if v is not None}, "id": region,
            "ids": [s.id for s in sorted(subnets, key=lambda s: s.availability_zone)]}


def _sg_filters(args: dict) -> dict[str, list[str]]:
    filters = _filters(args)
    for key, name in (("id", "group-id"), ("name", "group-name"), ("vpcId", "vpc-id")):
        if args.get(key):
            filters[name] = [str(args[key])]
    for k, v in (args.get("tags") or {}).items():
        filters[f"tag:{k}"] = [str(v)]
    return filters


def get_security_group(args: dict, region: str) -> dict[str, Any]:
    groups = _ec2(region).describe_security_groups(filters=_sg_filters(args))
    if len(groups) != 1:
        raise NotKnown(f"{len(groups)} security groups in the emulator match")
    g = groups[0]
    return {**{k: v for k, v in args.items() if v is not None}, "id": g.id, "name": g.name,
            "description": g.description, "vpcId": g.vpc_id, "tags": _tags(g),
            "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:security-group/{g.id}"}


def get_security_groups(args: dict, region: str) -> dict[str, Any]:
    groups = sorted(_ec2(region).describe_security_groups(filters=_sg_filters(args)), key=lambda g: g.id)
    return {**{k: v for k, v in args.items() if v is not None}, "id": region, "ids": [g.id for g in groups],
            "vpcIds": [g.vpc_id for g in groups],
            "arns": [f"arn:aws:ec2:{region}:{ACCOUNT_ID}:security-group/{g.id}" for g in groups]}


# ---- SSM ------------------------------------------------------------------------------------------------

def get_parameter(args: dict, region: str) -> dict[str, Any]:
    name = str(args.get("name") or "")
    if not name.startswith(MOTO_SSM_PATHS):
        # Without this check moto would be imported only to say it does not know the parameter.
        raise NotKnown(f"SSM parameter {name} is not in the emulator's public parameters")
    from moto.ssm.exceptions import ParameterNotFound

    try:
        p = _ssm(region).get_parameter(name)
    except ParameterNotFound:
        p = None
    if p is None:
        raise NotKnown(f"SSM parameter {name} is not in the emulator's public parameters")
    return {"id": name, "name": name, "type": p.parameter_type, "value": p.value, "insecureValue": p.value,
            "version": int(p.version), "arn": f"arn:aws:ssm:{region}::parameter{name}",
            "withDecryption": bool(args.get("withDecryption", True))}
