"""Dataset caches obey the residency of the data they copy: a Kubernetes volume that mounts an object store
through a caching CSI driver (Mountpoint for S3, Cloud Storage FUSE) keeps its cache on the nodes it is
mounted on, so its node affinity must pin it to a region the dataset's classification allows.

The classification is the mounted bucket's (its newinfra-data-classification tag/label), else the volume's own
label. FSx for Lustre caches and their links are judged by data-residency (a file system is a store).
"""

from __future__ import annotations

import fnmatch
from typing import Any

from newinfra.policies.rules.common import (
    CLASSIFICATION_TAG,
    classification_of,
    get,
    provider_props,
    setting,
    stack_rule,
    with_defaults,
)
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

from newinfra.links import names
from newinfra.props import items

PV = "kubernetes:core/v1:PersistentVolume"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "gcp:storage/bucket:Bucket")
# CSI drivers that mount an object store and cache its bytes on the node -> the attribute naming the bucket.
CACHING_DRIVERS = {"s3.csi.aws.com": "volumeAttributes.bucketName", "gcsfuse.csi.storage.gke.io": "volumeHandle"}
REGION_KEYS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")


def cache_bucket(pv: Any) -> str | None:
    """The bucket a caching volume mounts, None when the volume is not one."""
    csi = get(pv.props, "spec.csi") or {}
    path = CACHING_DRIVERS.get(get(csi, "driver") or "")
    if path is None:
        return None
    value: Any = csi
    for part in path.split("."):
        value = get(value, part)
    return value if isinstance(value, str) else ""


def pinned_regions(pv: Any) -> list[str] | None:
    """Regions the volume's required node affinity allows (every term must name some), None when unpinned."""
    terms = items(get(pv.props, "spec.nodeAffinity.required.nodeSelectorTerms"))
    regions: list[str] = []
    for term in terms:
        found = [v for e in items(get(term, "matchExpressions"))
                 if get(e, "key") in REGION_KEYS and get(e, "operator") == "In" for v in items(get(e, "values"))]
        if not found:
            return None
        regions.extend(found)
    return sorted(set(regions)) or None


SCHEMA = PolicyConfigSchema(properties={
    "residency": {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "description": "classification -> region patterns (fnmatch); default: newinfra:dataResidency",
    },
})


def _cache_residency(args: StackValidationArgs, report: ReportViolation) -> None:
    config = with_defaults(SCHEMA, args.get_config())
    residency = dict(setting(config, "residency", "dataResidency") or {})
    if not residency:
        return
    buckets = {n: b for b in args.resources if b.resource_type in BUCKETS for n in names(b)}
    for pv in (r for r in args.resources if r.resource_type == PV):
        bucket_name = cache_bucket(pv)
        if bucket_name is None:
            continue
        bucket = buckets.get(bucket_name)
        classification = (classification_of(bucket.resource_type, bucket.props, provider_props(bucket))
                          if bucket is not None else None) or get(pv.props, f"metadata.labels.{CLASSIFICATION_TAG}")
        if not classification:
            report(f"'{pv.name}' caches bucket {bucket_name!r}, whose classification the policy cannot see; tag "
                   f"the bucket or label the volume {CLASSIFICATION_TAG}.", pv.urn)
            continue
        patterns = residency.get(classification)
        if patterns is None:
            report(f"'{pv.name}' caches {classification!r} data, which has no residency entry; known: "
                   f"{sorted(residency)}.", pv.urn)
            continue
        regions = pinned_regions(pv)
        if regions is None:
            report(f"'{pv.name}' caches {classification!r} data on any node: pin it with a required node affinity "
                   f"on topology.kubernetes.io/region to regions in {list(patterns)}.", pv.urn)
            continue
        outside = [r for r in regions if not any(fnmatch.fnmatchcase(r, p) for p in patterns)]
        if outside:
            report(f"'{pv.name}' caches {classification!r} data in {outside}; allowed regions: {list(patterns)}.",
                   pv.urn)


dataset_cache_residency = stack_rule(
    "dataset-cache-residency",
    "A dataset cache is a copy: a volume that mounts a bucket through a caching CSI driver (Mountpoint for S3, "
    "Cloud Storage FUSE) is pinned by required node affinity to regions the bucket's classification allows. Fix: "
    "set a cache region the dataset's residency allows (newinfra DatasetCache pins its volume there).",
    (PV, *BUCKETS),
    _cache_residency,
    SCHEMA,
)

POLICIES = [dataset_cache_residency]
