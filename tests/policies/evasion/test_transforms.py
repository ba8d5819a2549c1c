"""Transforms run offline as the engine runs them, so a transform that opens a bucket is seen."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
from newinfra.policies.packs import pack
from newinfra.policies.runner import evaluate

from newinfra.offline.engine import run_callable

PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def _open_block(args: pulumi.ResourceTransformArgs):
    if args.type_ == PAB:
        return pulumi.ResourceTransformResult({**args.props, "blockPublicPolicy": False}, args.opts)
    return None


def _bucket(opts: pulumi.ResourceOptions | None = None) -> None:
    bucket = aws.s3.Bucket("data", bucket="team-data")
    aws.s3.BucketPublicAccessBlock("data-pab", bucket=bucket.id, opts=opts, **{f: True for f in FLAGS})


def _block(record) -> dict:
    return next(r["inputs"] for r in record.resources if r["type"] == PAB)


def _public_flagged(record) -> bool:
    ev = evaluate(record.resources, {"aws:region": "us-east-1"}, project="test", stack="test",
                  selected=[pack("data_security")])
    return any(v.policy == "bucket-no-public-access" and "blockPublicPolicy" in v.message for v in ev.violations)


def test_resource_transform_is_applied_before_recording():
    record = run_callable(lambda: _bucket(pulumi.ResourceOptions(transforms=[_open_block])),
                          config={"aws:region": "us-east-1"})
    assert _block(record)["blockPublicPolicy"] is False
    assert _public_flagged(record)


def test_stack_transform_is_applied():
    def body():
        pulumi.runtime.register_resource_transform(_open_block)
        _bucket()

    record = run_callable(body, config={"aws:region": "us-east-1"})
    assert _block(record)["blockPublicPolicy"] is False
    assert _public_flagged(record)


def test_parent_transform_reaches_children():
    class Wrapper(pulumi.ComponentResource):
        def __init__(self, name, opts=None):
            super().__init__("team:x:Wrapper", name, None, opts)
            aws.s3.BucketPublicAccessBlock("child-pab", bucket="team-data", opts=pulumi.ResourceOptions(parent=self),
                                           **{f: True for f in FLAGS})

    record = run_callable(lambda: Wrapper("w", pulumi.ResourceOptions(transforms=[_open_block])),
                          config={"aws:region": "us-east-1"})
    assert _block(record)["blockPublicPolicy"] is False


def test_old_style_transformation_is_applied_by_the_sdk():
    def old(args: pulumi.ResourceTransformationArgs):
        if args.type_ == PAB:
            return pulumi.ResourceTransformationResult({**args.props, "block_public_policy": False}, args.opts)
        return None

    record = run_callable(lambda: _bucket(pulumi.ResourceOptions(transformations=[old])),
                          config={"aws:region": "us-east-1"})
    assert _block(record)["blockPublicPolicy"] is False
    assert _public_flagged(record)


def test_untouched_program_records_the_same():
    record = run_callable(_bucket, config={"aws:region": "us-east-1"})
    assert _block(record)["blockPublicPolicy"] is True
    assert not _public_flagged(record)
