"""B5: storage cost hygiene: buckets expire or tier old objects; EBS uses gp3, not gp2."""

from __future__ import annotations

from newinfra.policies.rules.common import get, items, stack_rule
from newinfra.policies.rules.data_security.object_storage import AWS_BUCKETS, GCS_BUCKET, OSS_BUCKET, Buckets
from pulumi_policy import ReportViolation, StackValidationArgs

S3_LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
OSS_LIFECYCLE = ("alicloud:oss/bucketLifecycle:BucketLifecycle",)
EBS_VOLUME = "aws:ebs/volume:Volume"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


def _has_lifecycle(bucket, stack: Buckets) -> bool:
    t, p = bucket.resource_type, bucket.props
    if t in AWS_BUCKETS:
        return any(any(get(r, "status") == "Enabled" for r in items(get(c.props, "rules")))
                   for c in stack.companions(bucket, S3_LIFECYCLE))
    if t == GCS_BUCKET:
        return bool(items(get(p, "lifecycleRules")))
    if t == OSS_BUCKET:
        rules = items(get(p, "lifecycleRules"))
        return any(get(r, "enabled") is True for r in rules) or bool(stack.companions(bucket, OSS_LIFECYCLE))
    return True


def _storage(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    stack = Buckets(resources)
    for bucket in stack.buckets:
        if not _has_lifecycle(bucket, stack):
            report(f"Bucket '{bucket.name}' has no enabled lifecycle rule: old objects and versions are kept "
                   "(and billed) forever.", bucket.urn)
    for r in resources:
        if r.resource_type == EBS_VOLUME and get(r.props, "type") == "gp2":
            report(f"Volume '{r.name}' is gp2; gp3 costs about 20% less for the same baseline.", r.urn)
        if r.resource_type == LAUNCH_TEMPLATE:
            gp2 = [get(m, "deviceName", "?") for m in items(get(r.props, "blockDeviceMappings"))
                   if get(m, "ebs.volumeType") == "gp2"]
            if gp2:
                report(f"Launch template '{r.name}' maps gp2 volumes {gp2}; use gp3.", r.urn)


storage_lifecycle = stack_rule(
    "storage-lifecycle",
    "B5: buckets have an enabled lifecycle rule (expire or tier old objects and noncurrent versions) and "
    "block volumes use gp3. Fix: S3: a BucketLifecycleConfiguration with an Enabled rule; GCS: lifecycleRules; "
    "OSS: lifecycleRules; EBS: volumeType 'gp3'.",
    (*AWS_BUCKETS, GCS_BUCKET, OSS_BUCKET, *S3_LIFECYCLE, *OSS_LIFECYCLE, EBS_VOLUME, LAUNCH_TEMPLATE),
    _storage,
)
