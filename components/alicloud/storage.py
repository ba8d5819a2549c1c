"""newinfra:alicloud:Storage — a rotating KMS key, a private OSS dataset bucket encrypted with it (versions,
lifecycle, access logs, public access blocked), and an Extreme NAS file system encrypted with it when a shared
file system is asked for (Extreme NAS is the NAS type that takes a customer key; CPFS and general-purpose NAS
only take NAS-managed keys, so they are not offered here)."""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
from newinfra.components.alicloud.keys import DEFAULT_ROTATION, check_rotation, rotating_key
from newinfra.components.physical import physical
from newinfra.components.plain import require_plain
from newinfra.components.planning.tags import with_cost_tags
from newinfra.components.tokens import python_token, with_other_form

from newinfra.cidrs import judge
from newinfra.errors import ComponentInputError

# Extreme NAS storage types and capacity bounds (GiB).
NAS_TYPE = "extreme"
NAS_STORAGE_TYPES = ("standard", "advance")
NAS_CAPACITY_GIB = (100, 262144)
NAS_CUSTOMER_KEY = 2  # encryptType: 0 none, 1 NAS-managed key, 2 customer KMS key (extreme only)


class NasArgs(TypedDict):
    vpc_id: pulumi.Input[str]
    vswitch_id: pulumi.Input[str]
    zone: str
    vpc_cidr: str  # who may mount it
    capacity_gib: int
    storage_type: NotRequired[str]  # standard (default) or advance


class StorageArgs(TypedDict):
    tags: dict[str, str]
    classification: NotRequired[str]
    rotation_interval: NotRequired[str]  # e.g. "7776000s" (90 days)
    noncurrent_version_days: NotRequired[int]
    log_retention_days: NotRequired[int]
    shared_file_system: NotRequired[NasArgs]


class Storage(pulumi.ComponentResource):
    TYPE = python_token("AlicloudStorage")
    key_id: pulumi.Output[str]
    bucket_name: pulumi.Output[str]
    log_bucket_name: pulumi.Output[str]
    file_system_id: pulumi.Output[str]

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        tags = with_cost_tags(dict(require_plain(args, "tags")), args.get("classification"))
        rotation = check_rotation(str(args.get("rotation_interval", DEFAULT_ROTATION)))
        fs = require_plain(args, "shared_file_system") if "shared_file_system" in args else None
        if fs is not None:
            _check_file_system(fs)
        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)

        key = rotating_key(name, f"newinfra {name}: datasets and file systems", tags, self, rotation)
        sse = {"sse_algorithm": "KMS", "kms_master_key_id": key.id}
        log_bucket = alicloud.oss.Bucket(
            f"{name}-logs", acl="private", server_side_encryption_rule=sse, versioning={"status": "Enabled"},
            lifecycle_rules=[{"id": "expire-logs", "enabled": True,
                              "expirations": [{"days": int(args.get("log_retention_days", 365))}]}],
            tags={**tags, "newinfra-role": "access-logs"}, opts=child)
        bucket = alicloud.oss.Bucket(
            f"{name}-data", acl="private", server_side_encryption_rule=sse, versioning={"status": "Enabled"},
            lifecycle_rules=[{
                "id": "old-versions-and-uploads", "enabled": True,
                "noncurrent_version_expirations": [{"days": int(args.get("noncurrent_version_days", 30))}],
                "abort_multipart_uploads": [{"days": 7}],
            }],
            logging={"target_bucket": log_bucket.bucket, "target_prefix": f"{name}-data/"},
            tags=tags, opts=child)
        for label, target in (("logs", log_bucket), ("data", bucket)):
            alicloud.oss.BucketPublicAccessBlock(f"{name}-{label}-public-access-block", bucket=target.bucket,
                                                 block_public_access=True, opts=child)

        self.file_system_id = pulumi.Output.from_input("")
        if fs is not None:
            self.file_system_id = self._nas(name, fs, key, tags)
        self.key_id = key.id
        self.bucket_name = bucket.bucket
        self.log_bucket_name = log_bucket.bucket
        self.register_outputs({"keyId": self.key_id, "bucketName": self.bucket_name,
                               "fileSystemId": self.file_system_id})

    def _nas(self, name: str, fs: NasArgs, key: alicloud.kms.Key, tags: dict[str, str]
             ) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        file_system = alicloud.nas.FileSystem(
            f"{name}-nas", file_system_type=NAS_TYPE, protocol_type="NFS", capacity=int(fs["capacity_gib"]),
            storage_type=fs.get("storage_type", "standard"), zone_id=fs["zone"],
            encrypt_type=NAS_CUSTOMER_KEY, kms_key_id=key.id, description=f"newinfra {name} shared data",
            tags=tags, opts=child)
        group = alicloud.nas.AccessGroup(f"{name}-nas", access_group_type="Vpc",
                                         access_group_name=physical("alicloud:nas:access-group", f"{name}-nas"),
                                         file_system_type=NAS_TYPE, description="VPC clients", opts=child)
        alicloud.nas.AccessRule(f"{name}-nas-vpc", access_group_name=group.access_group_name,
                                source_cidr_ip=fs["vpc_cidr"], rw_access_type="RDWR",
                                user_access_type="root_squash", priority=1, file_system_type=NAS_TYPE,
                                opts=child)
        alicloud.nas.MountTarget(f"{name}-nas", file_system_id=file_system.id,
                                 access_group_name=group.access_group_name, vpc_id=fs["vpc_id"],
                                 vswitch_id=fs["vswitch_id"], network_type="Vpc", opts=child)
        return file_system.id


def _check_file_system(fs: NasArgs) -> None:
    missing = [k for k in ("vpc_id", "vswitch_id", "zone", "vpc_cidr") if not fs.get(k)]
    if missing:
        raise ComponentInputError("shared_file_system", f"missing {missing}")
    storage_type = fs.get("storage_type", "standard")
    if storage_type not in NAS_STORAGE_TYPES:
        raise ComponentInputError("shared_file_system.storage_type", f"{storage_type!r} is not valid; valid: "
                                f"{list(NAS_STORAGE_TYPES)}")
    capacity = fs.get("capacity_gib")
    if not isinstance(capacity, int) or not NAS_CAPACITY_GIB[0] <= capacity <= NAS_CAPACITY_GIB[1]:
        raise ComponentInputError("shared_file_system.capacity_gib", f"{capacity!r} must be an integer from "
                                f"{NAS_CAPACITY_GIB[0]} to {NAS_CAPACITY_GIB[1]} GiB (Extreme NAS)")
    if judge([fs["vpc_cidr"]]).open:
        raise ComponentInputError("shared_file_system.vpc_cidr", f"{fs['vpc_cidr']!r} would let anyone mount it")
