"""Data residency: data-bearing resources only in regions allowed for their data's classification, and
FSx data links to buckets in the file system's own region.

The classification comes from the ``newinfra-data-classification`` tag/label that newinfra's components
set on buckets, file systems, clusters, node pools, TPU VMs and VM pools' templates; another team's program sets it itself.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from newinfra.policies.rules.common import (
    CLASSIFICATION_TAG,
    classification_of,
    get,
    provider_props,
    region_of,
    setting,
    stack_rule,
    with_defaults,
)
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

from newinfra.links import bucket_name_from_path, names

DATA_TYPES = (
    "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "gcp:storage/bucket:Bucket", "alicloud:oss/bucket:Bucket",
    "aws:fsx/lustreFileSystem:LustreFileSystem", "gcp:filestore/instance:Instance", "alicloud:nas/fileSystem:FileSystem",
    "aws:eks/cluster:Cluster", "gcp:container/cluster:Cluster", "alicloud:cs/managedKubernetes:ManagedKubernetes",
    "aws:eks/nodeGroup:NodeGroup", "gcp:container/nodePool:NodePool", "alicloud:cs/nodePool:NodePool",
    "gcp:tpu/v2Vm:V2Vm",
    # GPU VM pools: the template every VM (and its disks) is launched from carries the pool's classification.
    "aws:ec2/launchTemplate:LaunchTemplate", "gcp:compute/instanceTemplate:InstanceTemplate",
    "alicloud:ess/scalingConfiguration:ScalingConfiguration",
)
# Where the data itself is stored: an unclassified one is judged as the strictest classification. Compute
# (clusters, pools, TPU VMs) only holds what it reads, so untagged compute is judged only when a
# classification is assumed (untaggedClassification) or required (requireClassification).
STORES = DATA_TYPES[:7]
FSX = "aws:fsx/lustreFileSystem:LustreFileSystem"
FSX_LINK = "aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation"

RESIDENCY_SCHEMA = PolicyConfigSchema(
    properties={
        "residency": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "description": "classification -> region patterns (fnmatch); default: newinfra:dataResidency",
        },
        "untaggedClassification": {
            "type": "string", "default": "",
            "description": "classification assumed for data resources without the tag ('' = the strictest: the "
                           "region must be allowed for every classification)",
        },
        "requireClassification": {
            "type": "boolean", "default": False,
            "description": "report data resources that carry no classification tag (when none is assumed)",
        },
    }
)


def _check_region(r: Any, region: str | None, classification: str, residency: dict, report) -> None:
    patterns = residency.get(classification)
    if patterns is None:
        report(f"'{r.name}' is classified {classification!r}, which has no residency entry; known: "
               f"{sorted(residency)}.", r.urn)
    elif region is None:
        report(f"'{r.name}' ({classification}) has no region the policy can see (set region/location or the "
               "provider's region).", r.urn)
    elif not any(fnmatch.fnmatchcase(region, p) for p in patterns):
        report(f"'{r.name}' holds {classification!r} data in {region}; allowed regions: {list(patterns)}.", r.urn)


def _check_strictest(r: Any, region: str | None, residency: dict, report) -> None:
    """Unclassified data may be anything, so it is judged as the strictest classification: its region must
    be allowed for every classification the residency map knows."""
    refusing = sorted(c for c, patterns in residency.items()
                      if region is None or not any(fnmatch.fnmatchcase(region, p) for p in patterns))
    if refusing:
        report(f"'{r.name}' has no {CLASSIFICATION_TAG} tag/label, so it is judged as the strictest "
               f"classification; {region or 'its unknown region'} is not allowed for {refusing}. Fix: tag it "
               "with its classification.", r.urn)


def _residency(args: StackValidationArgs, report: ReportViolation) -> None:
    config = with_defaults(RESIDENCY_SCHEMA, args.get_config())
    residency = setting(config, "residency", "dataResidency") or {}
    resources = list(args.resources)
    regions = {r.urn: region_of(r.resource_type, r.props, provider_props(r)) for r in resources}
    if residency:
        for r in resources:
            if r.resource_type not in DATA_TYPES:
                continue
            classification = classification_of(r.resource_type, r.props, provider_props(r)) or \
                config["untaggedClassification"]
            if classification:
                _check_region(r, regions[r.urn], classification, dict(residency), report)
            elif config["requireClassification"]:
                report(f"'{r.name}' holds data but has no {CLASSIFICATION_TAG} tag/label.", r.urn)
            elif r.resource_type in STORES:
                _check_strictest(r, regions[r.urn], dict(residency), report)
    _fsx_links(resources, regions, report)


def _fsx_links(resources: list[Any], regions: dict[str, str | None], report) -> None:
    buckets = {n: b for b in resources if b.resource_type in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
               for n in names(b)}
    for r in resources:
        if r.resource_type == FSX:
            paths = [get(r.props, "importPath"), get(r.props, "exportPath")]
        elif r.resource_type == FSX_LINK:
            paths = [get(r.props, "dataRepositoryPath")]
        else:
            continue
        for path in paths:
            bucket = buckets.get(bucket_name_from_path(path) or "")
            if bucket is None:
                continue
            here, there = regions[r.urn], regions[bucket.urn]
            if here and there and here != there:
                report(f"'{r.name}' in {here} links {path} in {there}: every read crosses regions (egress cost, "
                       "data leaves its region).", r.urn)


data_residency = stack_rule(
    "data-residency",
    "Buckets, file systems, clusters, node pools, TPU VMs and GPU VM pools' templates stay in regions allowed "
    "for their data's classification (tag newinfra-data-classification); a bucket or file system without the "
    "tag is judged as the strictest classification (untaggedClassification assumes one, "
    "requireClassification reports it); FSx data links stay in-region. Fix: place the resource in an allowed "
    "region (newinfra place honours newinfra:dataResidency), or tag it with its classification.",
    (*DATA_TYPES, FSX_LINK),
    _residency,
    RESIDENCY_SCHEMA,
)

POLICIES = [data_residency]
