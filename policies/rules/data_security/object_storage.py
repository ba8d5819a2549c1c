"""D1-D3: object stores encrypted with a customer key, never public, versioned and access-logged.

pulumi-aws v7 keeps these settings in separate resources that name the bucket, so each rule is a stack
policy that joins a bucket with its companions; GCS and OSS buckets carry most settings inline.
"""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get, items, stack_rule
from newinfra.policies.rules.links import Index
from pulumi_policy import ReportViolation, StackValidationArgs

AWS_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
GCS_BUCKET = "gcp:storage/bucket:Bucket"
OSS_BUCKET = "alicloud:oss/bucket:Bucket"
BUCKETS = (*AWS_BUCKETS, GCS_BUCKET, OSS_BUCKET)

S3_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
S3_PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
S3_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
S3_LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
OSS_SSE = ("alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption",)
OSS_ACL = ("alicloud:oss/bucketAcl:BucketAcl",)
OSS_VERSIONING = ("alicloud:oss/bucketVersioning:BucketVersioning",)
OSS_LOGGING = ("alicloud:oss/bucketLogging:BucketLogging",)

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_OSS_ACLS = ("public-read", "public-read-write")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
LOG_TARGET_KEYS = ("targetBucket", "logging.targetBucket", "logging.logBucket")


class Buckets:
    """Buckets of a stack with their companion resources, joined once."""

    def __init__(self, resources: list[Any]) -> None:
        self.buckets = [r for r in resources if r.resource_type in BUCKETS]
        index = Index(self.buckets)
        self._companions: dict[str, dict[str, list[Any]]] = {}
        by_type: dict[str, list[Any]] = {}
        for r in resources:
            by_type.setdefault(r.resource_type, []).append(r)
        for t, group in by_type.items():
            if t not in BUCKETS:
                self._companions[t] = index.referrers(group, "bucket")
        self.log_targets: set[str] = set()
        for key in LOG_TARGET_KEYS:
            sources = [r for r in resources if get(r.props, key)]
            self.log_targets.update(index.referrers(sources, key))

    def companions(self, bucket: Any, types: tuple[str, ...]) -> list[Any]:
        return [c for t in types for c in self._companions.get(t, {}).get(bucket.urn, [])]


def _s3_cmek(sse: Any) -> bool:
    rules = items(get(sse.props, "rules"))
    return bool(rules) and all(
        get(r, "applyServerSideEncryptionByDefault.sseAlgorithm") in KMS_ALGORITHMS
        and get(r, "applyServerSideEncryptionByDefault.kmsMasterKeyId")
        for r in rules
    )


def _cmek_problem(bucket: Any, stack: Buckets) -> str | None:
    t, p = bucket.resource_type, bucket.props
    if t in AWS_BUCKETS:
        configs = stack.companions(bucket, S3_SSE)
        if not configs:
            return "has no BucketServerSideEncryptionConfiguration"
        if bucket.urn in stack.log_targets:
            # S3 delivers server access logs only to SSE-S3 buckets: AES256 is the strongest allowed there.
            algorithms = [get(r, "applyServerSideEncryptionByDefault.sseAlgorithm")
                          for c in configs for r in items(get(c.props, "rules"))]
            return None if algorithms and all(algorithms) else "receives access logs but sets no sseAlgorithm"
        if not all(_s3_cmek(c) for c in configs):
            return "is not encrypted with sseAlgorithm aws:kms and a kmsMasterKeyId"
    elif t == GCS_BUCKET:
        if not get(p, "encryption.defaultKmsKeyName"):
            return "has no encryption.defaultKmsKeyName"
    elif t == OSS_BUCKET:
        rules = [get(p, "serverSideEncryptionRule")] + [c.props for c in stack.companions(bucket, OSS_SSE)]
        if not any(get(r, "sseAlgorithm") == "KMS" and get(r, "kmsMasterKeyId") for r in rules if r):
            return "has no server-side encryption with sseAlgorithm KMS and a kmsMasterKeyId"
    return None


def _public_problem(bucket: Any, stack: Buckets) -> str | None:
    t, p = bucket.resource_type, bucket.props
    if t in AWS_BUCKETS:
        blocks = stack.companions(bucket, S3_PUBLIC_ACCESS_BLOCK)
        if not blocks:
            return "has no BucketPublicAccessBlock"
        open_flags = sorted({f for b in blocks for f in PUBLIC_ACCESS_FLAGS if get(b.props, f) is not True})
        if open_flags:
            return f"has a BucketPublicAccessBlock without {', '.join(open_flags)} = true"
    elif t == GCS_BUCKET:
        if get(p, "publicAccessPrevention") != "enforced":
            return "does not set publicAccessPrevention = \"enforced\""
        if get(p, "uniformBucketLevelAccess") is not True:
            return "does not set uniformBucketLevelAccess = true"
    elif t == OSS_BUCKET:
        acls = [get(p, "acl")] + [get(a.props, "acl") for a in stack.companions(bucket, OSS_ACL)]
        public = sorted({a for a in acls if a in PUBLIC_OSS_ACLS})
        if public:
            return f"has acl {public[0]!r}"
    return None


def _history_problem(bucket: Any, stack: Buckets) -> str | None:
    t, p = bucket.resource_type, bucket.props
    missing = []
    if t in AWS_BUCKETS:
        versions = stack.companions(bucket, S3_VERSIONING)
        if not any(get(v.props, "versioningConfiguration.status") == "Enabled" for v in versions):
            missing.append("BucketVersioning with status Enabled")
        if not stack.companions(bucket, S3_LOGGING):
            missing.append("BucketLogging")
    elif t == GCS_BUCKET:
        if get(p, "versioning.enabled") is not True:
            missing.append("versioning.enabled = true")
        if not get(p, "logging.logBucket"):
            missing.append("logging.logBucket")
    elif t == OSS_BUCKET:
        statuses = [get(p, "versioning.status")] + [
            get(v.props, "status") for v in stack.companions(bucket, OSS_VERSIONING)]
        if "Enabled" not in statuses:
            missing.append("versioning status Enabled")
        if not get(p, "logging.targetBucket") and not stack.companions(bucket, OSS_LOGGING):
            missing.append("access logging")
    return f"lacks {' and '.join(missing)}" if missing else None


def _bucket_rule(problem, skip_log_targets: bool = False):
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        stack = Buckets(list(args.resources))
        for bucket in stack.buckets:
            if skip_log_targets and bucket.urn in stack.log_targets:
                continue
            found = problem(bucket, stack)
            if found:
                report(f"Bucket '{bucket.name}' {found}.", bucket.urn)

    return validate


bucket_customer_managed_encryption = stack_rule(
    "bucket-customer-managed-encryption",
    "D1: object stores must be encrypted with a customer-managed key. Fix: S3: add a "
    "BucketServerSideEncryptionConfiguration with sseAlgorithm 'aws:kms' and kmsMasterKeyId; GCS: set "
    "encryption.defaultKmsKeyName; OSS: serverSideEncryptionRule with sseAlgorithm 'KMS' and kmsMasterKeyId. "
    "S3 buckets that receive access logs need only SSE-S3 (S3 cannot deliver logs to SSE-KMS buckets).",
    (*BUCKETS, *S3_SSE, *OSS_SSE, *S3_LOGGING, *OSS_LOGGING, GCS_BUCKET),
    _bucket_rule(_cmek_problem),
)

bucket_no_public_access = stack_rule(
    "bucket-no-public-access",
    "D2: buckets are never public. Fix: S3: add a BucketPublicAccessBlock with blockPublicAcls, "
    "blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true; GCS: publicAccessPrevention "
    "'enforced' and uniformBucketLevelAccess true; OSS: acl 'private'.",
    (*BUCKETS, *S3_PUBLIC_ACCESS_BLOCK, *OSS_ACL),
    _bucket_rule(_public_problem),
)

bucket_versioning_and_logging = stack_rule(
    "bucket-versioning-and-access-logs",
    "D3: dataset buckets keep versions and access logs (buckets that receive logs are exempt). Fix: S3: add "
    "BucketVersioning (status Enabled) and BucketLogging; GCS: versioning.enabled and logging.logBucket; "
    "OSS: versioning status Enabled and logging.",
    (*BUCKETS, *S3_VERSIONING, *S3_LOGGING, *OSS_VERSIONING, *OSS_LOGGING),
    _bucket_rule(_history_problem, skip_log_targets=True),
)

POLICIES = [bucket_customer_managed_encryption, bucket_no_public_access, bucket_versioning_and_logging]
