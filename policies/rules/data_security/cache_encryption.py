"""Dataset caches are encrypted with a customer key, the dataset's own where the cloud lets us see it:

- an FSx for Lustre file system linked to a bucket by a data repository association holds a copy of that bucket,
  so it is encrypted with a customer key, and with the bucket's own key when the bucket's default encryption
  names one (a copy under another key widens who can read the data);
- a NAS / CPFS file system that an OSS data flow fills holds a copy of the bucket, so it is encrypted with a
  customer key (encryptType 2 with kmsKeyId; only Extreme NAS offers that).

Caches on the nodes' own disks (Mountpoint for S3, Cloud Storage FUSE) are covered by the node disk rules.
"""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get, stack_rule
from pulumi_policy import ReportViolation, StackValidationArgs

from newinfra.links import Index, bucket_name_from_path, names
from newinfra.props import items

FSX = "aws:fsx/lustreFileSystem:LustreFileSystem"
DRA = "aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation"
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
NAS = "alicloud:nas/fileSystem:FileSystem"
DATA_FLOW = "alicloud:nas/dataFlow:DataFlow"
NAS_CUSTOMER_KEY = 2  # encryptType: 0 none, 1 NAS-managed key, 2 customer KMS key


def bucket_keys(resources: list[Any]) -> dict[str, str]:
    """Bucket physical name -> the KMS key its default encryption names."""
    buckets = [r for r in resources if r.resource_type in S3_BUCKETS]
    index = Index(buckets)
    out: dict[str, str] = {}
    for sse in (r for r in resources if r.resource_type == S3_SSE):
        key = next((get(rule, "applyServerSideEncryptionByDefault.kmsMasterKeyId")
                    for rule in items(get(sse.props, "rules"))
                    if get(rule, "applyServerSideEncryptionByDefault.kmsMasterKeyId")), None)
        for bucket in index.resolve(sse, "bucket"):
            if key:
                out.update({n: key for n in names(bucket)})
    return out


def _cache_encryption(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    keys = bucket_keys(resources)
    file_systems = Index([r for r in resources if r.resource_type == FSX])
    for link in (r for r in resources if r.resource_type == DRA):
        bucket = bucket_name_from_path(get(link.props, "dataRepositoryPath")) or ""
        for fs in file_systems.resolve(link, "fileSystemId"):
            fs_key = get(fs.props, "kmsKeyId")
            if not fs_key:
                report(f"'{fs.name}' caches bucket {bucket!r} without a customer key (kmsKeyId is not set).", fs.urn)
            elif keys.get(bucket) and fs_key != keys[bucket]:
                report(f"'{fs.name}' caches bucket {bucket!r} under key {fs_key!r}, not the bucket's "
                       f"{keys[bucket]!r}.", fs.urn)
    nas = Index([r for r in resources if r.resource_type == NAS])
    for flow in (r for r in resources if r.resource_type == DATA_FLOW):
        for fs in nas.resolve(flow, "fileSystemId"):
            if get(fs.props, "encryptType") != NAS_CUSTOMER_KEY or not get(fs.props, "kmsKeyId"):
                report(f"'{fs.name}' caches {get(flow.props, 'sourceStorage')!r} with encryptType "
                       f"{get(fs.props, 'encryptType', 0)!r}, not a customer key (2 with kmsKeyId; CPFS offers "
                       "none).", fs.urn)


dataset_cache_encryption = stack_rule(
    "dataset-cache-encryption",
    "A dataset cache is encrypted with a customer key: an FSx for Lustre file system linked to a bucket uses "
    "the bucket's own KMS key, a NAS file system filled by an OSS data flow uses encryptType 2 with kmsKeyId. "
    "Fix: kmsKeyId = the dataset bucket's key (newinfra DatasetCache does this).",
    (FSX, DRA, *S3_BUCKETS, S3_SSE, NAS, DATA_FLOW),
    _cache_encryption,
)

POLICIES = [dataset_cache_encryption]
