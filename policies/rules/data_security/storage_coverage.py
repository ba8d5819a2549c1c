"""File systems the D8 rule does not judge (EFS, FSx for Windows / ONTAP / OpenZFS), S3 directory buckets,
and bucket policies on any bucket, including buckets the stack does not create."""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get, of_types, stack_rule, truthy
from newinfra.policies.rules.data_security.tables import table_rule
from pulumi_policy import ReportViolation, StackValidationArgs

EFS = "aws:efs/fileSystem:FileSystem"
FSX_WINDOWS = "aws:fsx/windowsFileSystem:WindowsFileSystem"
FSX_ONTAP = "aws:fsx/ontapFileSystem:OntapFileSystem"
FSX_OPENZFS = "aws:fsx/openZfsFileSystem:OpenZfsFileSystem"
DIRECTORY_BUCKET = "aws:s3/directoryBucket:DirectoryBucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"


def _efs(p: Any, _c) -> list[str]:
    if not truthy(get(p, "encrypted")):
        return ["encrypted is not true (EFS is unencrypted by default)"]
    return [] if get(p, "kmsKeyId") else ["encrypted without kmsKeyId (AWS-managed key)"]


def _fsx(p: Any, _c) -> list[str]:
    return [] if get(p, "kmsKeyId") else ["kmsKeyId is not set (AWS-managed key)"]


more_file_systems = table_rule(
    "file-system-encryption-aws",
    "EFS and FSx for Windows, ONTAP and OpenZFS file systems are encrypted with a customer-managed key (FSx "
    "for Lustre, Filestore and NAS: file-system-encryption). Fix: EFS: encrypted true with kmsKeyId; FSx: "
    "kmsKeyId.",
    {EFS: _efs, FSX_WINDOWS: _fsx, FSX_ONTAP: _fsx, FSX_OPENZFS: _fsx},
)


def _kms_sse(sse: Any) -> bool:
    rules = [get(r, "applyServerSideEncryptionByDefault") for r in (get(sse, "rules") or [])]
    return any(get(r, "sseAlgorithm") == "aws:kms" and get(r, "kmsMasterKeyId") for r in rules)


def _directory_buckets(args: StackValidationArgs, report: ReportViolation) -> None:
    """A directory bucket's (S3 Express One Zone) default is SSE-S3; SSE-KMS needs a companion resource."""
    configs = of_types(args.resources, [SSE])
    for b in of_types(args.resources, [DIRECTORY_BUCKET]):
        name = get(b.props, "bucket")
        mine = [c for c in configs if get(c.props, "bucket") in (name, b.urn, b.name)
                or any(d.urn == b.urn for d in (getattr(c, "property_dependencies", None) or {}).get("bucket", []))]
        if not any(_kms_sse(c.props) for c in mine):
            report(f"directory bucket '{b.name}' ({name}) has no BucketServerSideEncryptionConfiguration with "
                   "sseAlgorithm 'aws:kms' and a kmsMasterKeyId.", b.urn)


directory_bucket_encryption = stack_rule(
    "s3-directory-bucket-encryption",
    "S3 directory buckets (Express One Zone) are encrypted with a customer-managed key. Fix: add a "
    "BucketServerSideEncryptionConfiguration for the bucket with sseAlgorithm 'aws:kms', kmsMasterKeyId and "
    "bucketKeyEnabled true.",
    [DIRECTORY_BUCKET, SSE],
    _directory_buckets,
)


# A public principal in a bucket policy, on any bucket, is object_storage.py's bucket-no-public-access.
POLICIES = [more_file_systems, directory_bucket_encryption]
