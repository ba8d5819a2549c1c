"""D1-D3: object stores encrypted with a customer key, never public, versioned and access-logged.

pulumi-aws v7 keeps these settings in separate resources that name the bucket, so each rule is a stack
policy that joins a bucket with its companions; GCS and OSS buckets carry most settings inline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from newinfra.policies.rules.common import (
    EXEMPTION_TAG,
    get,
    items,
    labels_of,
    provider_props,
    report_exempt,
    stack_rule,
    with_defaults,
)
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

from newinfra.links import Index

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
S3_WEBSITE = ("aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration",
              "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2")
S3_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
GCS_IAM = ("gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:storage/bucketIAMBinding:BucketIAMBinding")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
PUBLIC_WEBSITE = "public-website"
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


def _inline_sse(bucket: Any) -> list[Any]:
    """Rules of the deprecated inline ``serverSideEncryptionConfiguration`` (v7: one ``rule``; v6: a list)."""
    inline = get(bucket.props, "serverSideEncryptionConfiguration")
    return [r for c in items(inline) for r in items(get(c, "rule")) + items(get(c, "rules"))]


def _cmek_problem(bucket: Any, stack: Buckets) -> str | None:
    t, p = bucket.resource_type, bucket.props
    if t in AWS_BUCKETS:
        configs = stack.companions(bucket, S3_SSE)
        inline = _inline_sse(bucket)
        if inline and not configs:  # the provider applies the inline form itself
            ok = all(get(r, "applyServerSideEncryptionByDefault.sseAlgorithm") in KMS_ALGORITHMS
                     and get(r, "applyServerSideEncryptionByDefault.kmsMasterKeyId") for r in inline)
            return None if ok else "has an inline serverSideEncryptionConfiguration without sseAlgorithm aws:kms " \
                "and a kmsMasterKeyId"
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
        inline_on = get(p, "versioning.enabled") is True
        if not inline_on and not any(get(v.props, "versioningConfiguration.status") == "Enabled" for v in versions):
            missing.append("BucketVersioning with status Enabled")
        if not stack.companions(bucket, S3_LOGGING) and not get(p, "logging.targetBucket"):
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


def _website(bucket: Any, stack: Buckets) -> bool:
    return bool(get(bucket.props, "website")) or bool(stack.companions(bucket, S3_WEBSITE))


def _exemption(bucket: Any, stack: Buckets, allowed: list[str]) -> str | None:
    """Why ``bucket`` is exempt, when it asks for an exemption the platform allows and it is what it claims:
    a bucket tagged newinfra-exemption=public-website must serve a website."""
    asked = labels_of(bucket.resource_type, bucket.props, provider_props(bucket)).get(EXEMPTION_TAG)
    if asked == PUBLIC_WEBSITE and PUBLIC_WEBSITE in allowed and _website(bucket, stack):
        return ("a public website by design (tag newinfra-exemption=public-website, website configuration "
                "present): its objects are public, a customer-managed key protects nothing")
    return None


def _bucket_rule(problem, skip_log_targets: bool = False, exemptible: bool = False, extra=None):
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = list(args.resources)
        stack = Buckets(resources)
        allowed = list(with_defaults(EXEMPTION_SCHEMA, args.get_config()).get("allowedExemptions", [])) \
            if exemptible else []
        for bucket in stack.buckets:
            if skip_log_targets and bucket.urn in stack.log_targets:
                continue
            found = problem(bucket, stack)
            if not found:
                continue
            why = _exemption(bucket, stack, allowed) if exemptible else None
            if why:
                report_exempt(report, f"Bucket '{bucket.name}' {found}; exempt as {why}.", bucket.urn)
            else:
                report(f"Bucket '{bucket.name}' {found}.", bucket.urn)
        if extra is not None:
            extra(resources, stack, report)

    return validate


EXEMPTION_SCHEMA = PolicyConfigSchema(properties={"allowedExemptions": {
    "type": "array", "items": {"enum": [PUBLIC_WEBSITE]}, "default": [PUBLIC_WEBSITE],
    "description": "exemptions a bucket may claim with the newinfra-exemption tag (platform setting)"}})


def _document(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def _public_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any(v == "*" or (not isinstance(v, str) and "*" in items(v)) for v in principal.values())
    return "*" in items(principal) if not isinstance(principal, str) else False


def _public_statements(document: Any) -> list[str]:
    """Sids (or positions) of Allow statements with Principal '*' and no Condition."""
    doc = _document(document)
    if not isinstance(doc, Mapping):
        return []
    out = []
    for i, st in enumerate(items(doc.get("Statement"))):
        if isinstance(st, Mapping) and st.get("Effect") == "Allow" and _public_principal(st.get("Principal")) \
                and not st.get("Condition"):
            out.append(str(st.get("Sid") or f"#{i}"))
    return out


def _bucket_name(value: Any) -> str:
    text = str(value or "?")
    return text.removeprefix("arn:aws:s3:::").split("/", 1)[0]


def _public_policies(resources: list[Any], stack: Buckets, report: ReportViolation) -> None:
    """Bucket policies and IAM grants that make any bucket public, managed by this stack or not: the
    policy is what the stack creates, so it is judged whichever bucket it names (by name or ARN)."""
    managed = Index(stack.buckets)
    for r in resources:
        if r.resource_type == S3_POLICY:
            bad = _public_statements(get(r.props, "policy"))
            target = get(r.props, "bucket")
            known = managed.resolve(r, "bucket")
            where = f"bucket '{known[0].name}'" if known else f"bucket {_bucket_name(target)!r} (not created by " \
                "this stack)"
            if bad:
                report(f"BucketPolicy '{r.name}' on {where} allows Principal '*' without a Condition "
                       f"(statements {bad}): anyone on the internet gets the listed actions. Fix: name the "
                       "principals (accounts, roles) or add a Condition (aws:SourceVpce, aws:PrincipalOrgID).",
                       r.urn)
        elif r.resource_type in AWS_BUCKETS:
            bad = _public_statements(get(r.props, "policy"))
            if bad:
                report(f"Bucket '{r.name}' has an inline policy allowing Principal '*' without a Condition "
                       f"(statements {bad}). Fix: name the principals or add a Condition.", r.urn)
        elif r.resource_type in GCS_IAM:
            members = [m for m in [get(r.props, "member"), *items(get(r.props, "members"))] if m in PUBLIC_MEMBERS]
            if members:
                report(f"'{r.name}' grants {get(r.props, 'role')} on bucket {get(r.props, 'bucket')!r} to "
                       f"{members}: the bucket is public. Fix: grant to named users, groups or service "
                       "accounts.", r.urn)


bucket_customer_managed_encryption = stack_rule(
    "bucket-customer-managed-encryption",
    "D1: object stores must be encrypted with a customer-managed key. Fix: S3: add a "
    "BucketServerSideEncryptionConfiguration (or the bucket's inline serverSideEncryptionConfiguration) with "
    "sseAlgorithm 'aws:kms' and kmsMasterKeyId; GCS: set "
    "encryption.defaultKmsKeyName; OSS: serverSideEncryptionRule with sseAlgorithm 'KMS' and kmsMasterKeyId. "
    "S3 buckets that receive access logs need only SSE-S3 (S3 cannot deliver logs to SSE-KMS buckets). A bucket "
    "serving a public website may claim the exemption with the tag newinfra-exemption=public-website (when the "
    "platform's allowedExemptions lists it); the report shows it as exempt.",
    (*BUCKETS, *S3_SSE, *OSS_SSE, *S3_LOGGING, *OSS_LOGGING, *S3_WEBSITE, GCS_BUCKET),
    _bucket_rule(_cmek_problem, exemptible=True),
    EXEMPTION_SCHEMA,
)

bucket_no_public_access = stack_rule(
    "bucket-no-public-access",
    "D2: buckets are never public. Fix: S3: add a BucketPublicAccessBlock with blockPublicAcls, "
    "blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true; GCS: publicAccessPrevention "
    "'enforced' and uniformBucketLevelAccess true; OSS: acl 'private'. Bucket policies (aws.s3.BucketPolicy or "
    "inline) with Principal '*' and no Condition, and GCS IAM grants to allUsers, are public on any bucket, "
    "including buckets the stack does not create.",
    (*BUCKETS, *S3_PUBLIC_ACCESS_BLOCK, *OSS_ACL, S3_POLICY, *GCS_IAM),
    _bucket_rule(_public_problem, extra=_public_policies),
)

bucket_versioning_and_logging = stack_rule(
    "bucket-versioning-and-access-logs",
    "D3: dataset buckets keep versions and access logs (buckets that receive logs are exempt). Fix: S3: add "
    "BucketVersioning (status Enabled) and BucketLogging (or the bucket's inline versioning.enabled and "
    "logging.targetBucket); GCS: versioning.enabled and logging.logBucket; OSS: versioning status Enabled and "
    "logging.",
    (*BUCKETS, *S3_VERSIONING, *S3_LOGGING, *OSS_VERSIONING, *OSS_LOGGING),
    _bucket_rule(_history_problem, skip_log_targets=True),
)

POLICIES = [bucket_customer_managed_encryption, bucket_no_public_access, bucket_versioning_and_logging]
