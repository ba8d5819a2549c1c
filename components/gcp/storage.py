"""newinfra:gcp:Storage — a Cloud KMS key that rotates, a CMEK dataset bucket that can never be public
(with versions, lifecycle and access logs), and a CMEK Filestore share when a shared file system is asked for."""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_gcp as gcp
from newinfra.components.gcp.identity import grant_key_to_agents
from newinfra.components.gcp.keys import DEFAULT_ROTATION, check_rotation, rotating_key
from newinfra.components.plain import require_plain
from newinfra.components.planning.gcp import gcp_labels
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError

# Filestore tiers that take a customer-managed key, with their smallest share (GiB).
FILESTORE_CMEK_TIERS: dict[str, int] = {"ZONAL": 1024, "REGIONAL": 1024, "ENTERPRISE": 1024}


class FilestoreArgs(TypedDict):
    network: pulumi.Input[str]  # VPC network id the share is reachable from
    capacity_gib: int
    tier: NotRequired[str]  # ZONAL (default), REGIONAL, ENTERPRISE
    zone: NotRequired[str]  # ZONAL tier: the zone; other tiers live in the region


class StorageArgs(TypedDict):
    location: str  # region of the key ring, bucket and file system (keep data next to the GPUs)
    tags: dict[str, str]
    classification: NotRequired[str]
    rotation_period: NotRequired[str]  # e.g. "7776000s" (90 days)
    noncurrent_version_days: NotRequired[int]  # delete old object versions after this many days
    nearline_after_days: NotRequired[int]  # move objects not read for this long to NEARLINE
    log_retention_days: NotRequired[int]
    shared_file_system: NotRequired[FilestoreArgs]


class Storage(pulumi.ComponentResource):
    TYPE = python_token("GcpStorage")
    key_id: pulumi.Output[str]
    bucket_name: pulumi.Output[str]
    bucket_url: pulumi.Output[str]
    log_bucket_name: pulumi.Output[str]
    file_system_name: pulumi.Output[str]

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        location = str(require_plain(args, "location")).lower()
        labels = gcp_labels(dict(require_plain(args, "tags")), args.get("classification"))
        rotation = check_rotation(str(args.get("rotation_period", DEFAULT_ROTATION)))
        fs_args = require_plain(args, "shared_file_system") if "shared_file_system" in args else None
        fs_tier = _check_file_system(fs_args) if fs_args else None
        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        project = gcp.organizations.get_project_output(opts=pulumi.InvokeOutputOptions(parent=self))

        key = rotating_key(name, location, labels, self, rotation)
        agents = ["gcs", "filestore"] if fs_args else ["gcs"]
        grants = grant_key_to_agents(name, key.id, project.number, agents, self)
        after_grants = pulumi.ResourceOptions(parent=self, depends_on=grants)

        common = {
            "location": location.upper(),
            "encryption": {"default_kms_key_name": key.id},
            "uniform_bucket_level_access": True,
            "public_access_prevention": "enforced",
            "versioning": {"enabled": True},
            "force_destroy": False,
        }
        log_bucket = gcp.storage.Bucket(
            f"{name}-logs", labels={**labels, "newinfra-role": "access-logs"},
            lifecycle_rules=[{"action": {"type": "Delete"},
                              "condition": {"age": int(args.get("log_retention_days", 365))}}],
            **common, opts=after_grants)
        bucket = gcp.storage.Bucket(
            f"{name}-data", labels=labels, lifecycle_rules=_lifecycle(args),
            logging={"log_bucket": log_bucket.name, "log_object_prefix": f"{name}-data/"},
            **common, opts=after_grants)

        self.file_system_name = pulumi.Output.from_input("")
        if fs_args:
            self.file_system_name = self._filestore(name, location, fs_args, fs_tier or "ZONAL", key, labels,
                                                    after_grants)
        self.key_id = key.id
        self.bucket_name = bucket.name
        self.bucket_url = bucket.url
        self.log_bucket_name = log_bucket.name
        self.register_outputs({"keyId": self.key_id, "bucketName": self.bucket_name,
                               "fileSystemName": self.file_system_name})

    def _filestore(self, name: str, location: str, fs: FilestoreArgs, tier: str, key: gcp.kms.CryptoKey,
                   labels: dict[str, str], opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        instance = gcp.filestore.Instance(
            f"{name}-fs", tier=tier, location=fs.get("zone") if tier == "ZONAL" else location,
            file_shares={"name": "data", "capacity_gb": int(fs["capacity_gib"])},
            networks=[{"network": fs["network"], "modes": ["MODE_IPV4"], "connect_mode": "DIRECT_PEERING"}],
            kms_key_name=key.id, labels=labels, deletion_protection_enabled=True, opts=opts)
        return instance.name


def _check_file_system(fs: FilestoreArgs) -> str:
    tier = fs.get("tier", "ZONAL")
    if tier not in FILESTORE_CMEK_TIERS:
        raise ComponentInputError("shared_file_system.tier", f"{tier!r} cannot use a customer-managed key; valid: {sorted(FILESTORE_CMEK_TIERS)}")
    capacity = fs.get("capacity_gib")
    if not isinstance(capacity, int) or capacity < FILESTORE_CMEK_TIERS[tier]:
        raise ComponentInputError("shared_file_system.capacity_gib", f"{capacity!r} is below the {tier} minimum of "
            f"{FILESTORE_CMEK_TIERS[tier]} GiB")
    if tier == "ZONAL" and not fs.get("zone"):
        raise ComponentInputError("shared_file_system.zone", "required for tier ZONAL (e.g. 'us-central1-a')")
    if not fs.get("network"):
        raise ComponentInputError("shared_file_system.network", "required (the VPC network id the share serves)")
    return tier


def _lifecycle(args: StorageArgs) -> list[dict]:
    """Old versions expire, half-finished uploads are dropped, cold objects may move to NEARLINE."""
    rules: list[dict] = [
        {"action": {"type": "Delete"},
         "condition": {"days_since_noncurrent_time": int(args.get("noncurrent_version_days", 30)),
                       "with_state": "ARCHIVED"}},
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
    ]
    if "nearline_after_days" in args:
        rules.append({"action": {"type": "SetStorageClass", "storage_class": "NEARLINE"},
                      "condition": {"age": int(args["nearline_after_days"]), "with_state": "LIVE"}})
    return rules
