"""Pure planning of a dataset cache: which kind a cloud offers, where it may sit, how big it is, and the
mount options its CSI driver takes. The components (components/<cloud>/dataset_cache.py) only turn a plan
into resources; every check here raises before any resource exists.

A cache is a copy of the dataset: it obeys the dataset's residency like the bucket does, and it is encrypted
with the dataset's key (the one its bucket uses).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping, Sequence
from typing import Any

from newinfra.errors import ComponentInputError

# Cache kinds per cloud. Alibaba Cloud offers none: pulumi-alicloud 4.0 links OSS to CPFS only
# (nas.Fileset + nas.DataFlow), and CPFS takes no customer key (encryptType 2 is Extreme NAS only), so a cache
# there could not be encrypted with the dataset's key (README: Dataset caches).
KINDS: dict[str, tuple[str, ...]] = {"aws": ("fsx", "mountpoint"), "gcp": ("gcsfuse",), "alicloud": ()}

# FSx for Lustre: at most 8 data repository associations per file system (AWS FSx quotas); PERSISTENT_2 sizes
# are 1.2 TiB, 2.4 TiB, then steps of 2.4 TiB; throughput tiers in MB/s per TiB.
FSX_MAX_ASSOCIATIONS = 8
FSX_FIRST_GIB = 1200
FSX_STEP_GIB = 2400
FSX_THROUGHPUTS = (125, 250, 500, 1000)
# A dataset up to this size fits the local cache of one node (Mountpoint / GCS FUSE caches live on each
# node); a bigger one is shared from one FSx file system instead of being fetched again by every node.
NODE_CACHE_MAX_GB = 1000
DEFAULT_LOCAL_CACHE_GB = 100
DEFAULT_METADATA_TTL_S = 60
# On the node's root volume (the launch template's, encrypted with the cluster's customer key); one per dataset.
MOUNTPOINT_CACHE_DIR = "/tmp/newinfra-cache-{dataset}"
GB_PER_GIB = 2**30 / 1e9


def default_kind(cloud: str, size_gb: float, same_region: bool) -> str:
    """AWS: FSx for a dataset too big for one node's cache when the bucket is in the cache's region (a data
    repository association across regions would send every read across them), else Mountpoint."""
    kinds = KINDS.get(cloud, ())
    if not kinds:
        raise ComponentInputError("cloud", f"{cloud!r} has no dataset cache; clouds with one: "
                                           f"{sorted(c for c, k in KINDS.items() if k)}")
    if cloud == "aws":
        return "fsx" if size_gb > NODE_CACHE_MAX_GB and same_region else "mountpoint"
    return kinds[0]


def check_kind(cloud: str, kind: str | None, size_gb: float, region: str, bucket_region: str) -> str:
    if kind is None:
        return default_kind(cloud, size_gb, region == bucket_region)
    if kind not in KINDS.get(cloud, ()):
        raise ComponentInputError("kind", f"{kind!r} is not a cache on {cloud}; valid: {list(KINDS.get(cloud, ()))}")
    if kind == "fsx" and region != bucket_region:
        raise ComponentInputError("kind", f"'fsx' in {region} would link the dataset's bucket in {bucket_region} "
                                          "across regions; valid there: mountpoint (or a cache region "
                                          f"{bucket_region!r})")
    return kind


def check_region(region: str, classification: str, residency: Mapping[str, Sequence[str]]) -> None:
    """A cache is a copy: its region must be one the dataset's classification allows (newinfra:dataResidency,
    fnmatch patterns as the data-residency rule reads them). No residency map: nothing to obey."""
    if not residency:
        return
    patterns = residency.get(classification)
    if patterns is None:
        raise ComponentInputError("classification", f"{classification!r} has no residency entry; known: "
                                                    f"{sorted(residency)}")
    if not any(fnmatch.fnmatchcase(region, p) for p in patterns):
        raise ComponentInputError("region", f"{region!r} is outside the residency of {classification!r} data "
                                            f"(a cache is a copy); allowed: {list(patterns)}")


def fsx_capacity_gib(size_gb: float) -> int:
    """The smallest PERSISTENT_2 capacity that holds the dataset (GB -> GiB)."""
    gib = size_gb / GB_PER_GIB
    return FSX_FIRST_GIB if gib <= FSX_FIRST_GIB else math.ceil(gib / FSX_STEP_GIB) * FSX_STEP_GIB


def check_associations(associations: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """(file system path, S3 prefix) pairs; none given: the whole bucket under /<dataset>."""
    if len(associations) > FSX_MAX_ASSOCIATIONS:
        raise ComponentInputError("associations", f"{len(associations)} data repository associations; an FSx "
                                                  f"for Lustre file system takes at most {FSX_MAX_ASSOCIATIONS}")
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, a in enumerate(associations):
        path, prefix = str(a.get("path", "")).rstrip("/"), str(a.get("prefix", ""))
        # FSx: paths may not overlap (/a and /a/b), and each links its own prefix.
        if not path.startswith("/") or any(path == p or path.startswith(f"{p}/") or p.startswith(f"{path}/")
                                           for p in seen):
            raise ComponentInputError(f"associations[{i}].path", f"{a.get('path')!r} must be an absolute path "
                                                                 "other than / that overlaps no other (e.g. /corpus)")
        if prefix in {o["prefix"] for o in out}:
            raise ComponentInputError(f"associations[{i}].prefix", f"{prefix!r} is linked twice; each association "
                                                                   "links its own S3 prefix")
        if prefix.startswith("/"):
            raise ComponentInputError(f"associations[{i}].prefix", f"{prefix!r} is an S3 key prefix: no "
                                                                   "leading / (e.g. shards/)")
        seen.add(path)
        out.append({"path": path, "prefix": prefix})
    return sorted(out, key=lambda a: a["path"])


def plan_cache(*, cloud: str, dataset: str, size_gb: float, classification: str, region: str,
               bucket_region: str, residency: Mapping[str, Sequence[str]],
               spec: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The whole cache plan from the dataset and its `cache` settings (snake_case keys), checked."""
    spec = dict(spec or {})
    check_region(region, classification, residency)
    kind = check_kind(cloud, spec.get("kind"), size_gb, region, bucket_region)
    plan: dict[str, Any] = {"cloud": cloud, "kind": kind, "dataset": dataset, "region": region,
                            "bucket_region": bucket_region, "classification": classification}
    if kind == "fsx":
        throughput = int(spec.get("throughput_per_tib", FSX_THROUGHPUTS[0]))
        if throughput not in FSX_THROUGHPUTS:
            raise ComponentInputError("throughput_per_tib", f"{throughput} is not a PERSISTENT_2 tier; valid: "
                                                            f"{list(FSX_THROUGHPUTS)}")
        associations = check_associations(spec.get("associations") or ()) or [{"path": f"/{dataset}", "prefix": ""}]
        plan.update(capacity_gib=fsx_capacity_gib(size_gb), throughput_per_tib=throughput,
                    associations=associations)
        return plan
    if spec.get("associations"):
        raise ComponentInputError("associations", f"only an fsx cache has data repository associations, not {kind}")
    local_gb = spec.get("local_cache_gb", DEFAULT_LOCAL_CACHE_GB)
    if isinstance(local_gb, bool) or not isinstance(local_gb, int | float) or not 1 <= local_gb <= 100_000:
        raise ComponentInputError("local_cache_gb", f"{local_gb!r} must be a number of GB from 1 to 100000")
    ttl = spec.get("metadata_ttl_s", DEFAULT_METADATA_TTL_S)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= 86_400:
        raise ComponentInputError("metadata_ttl_s", f"{ttl!r} must be whole seconds from 0 to 86400")
    plan.update(local_cache_gb=float(local_gb), metadata_ttl_s=ttl)
    return plan


def mountpoint_options(plan: Mapping[str, Any]) -> list[str]:
    """Mountpoint for S3 mount options: read-only, a local cache directory bounded in size, metadata TTL, and the
    bucket's region (which may not be the cache's)."""
    cache_mib = int(plan["local_cache_gb"] * 1e9 / 2**20)  # --max-cache-size counts MiB
    return sorted(["allow-other", f"cache {MOUNTPOINT_CACHE_DIR.format(dataset=plan['dataset'])}", f"max-cache-size {cache_mib}",
                   f"metadata-ttl {plan['metadata_ttl_s']}", "read-only", f"region {plan['bucket_region']}"])


def gcsfuse_options(plan: Mapping[str, Any]) -> list[str]:
    """Cloud Storage FUSE mount options: a bounded file cache that also serves ranged reads, metadata TTL."""
    # max-size-mb counts MiB
    return sorted([f"file-cache:max-size-mb:{int(plan['local_cache_gb'] * 1e9 / 2**20)}",
                   "file-cache:cache-file-for-range-read:true",
                   f"metadata-cache:ttl-secs:{plan['metadata_ttl_s']}", "implicit-dirs"])


def plan_cache_args(cloud: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """`plan_cache` over a DatasetCache component's arguments (both clouds' components), errors under `cache`."""
    from newinfra.components.plain import require_plain

    try:
        return plan_cache(cloud=cloud, dataset=require_plain(args, "dataset"),
                          size_gb=float(require_plain(args, "size_gb")),
                          classification=require_plain(args, "classification"),
                          region=require_plain(args, "region"),
                          bucket_region=str(args.get("bucket_region") or args["region"]),
                          residency=args.get("residency") or {}, spec=args.get("cache"))
    except ComponentInputError as exc:
        raise exc.under("cache") from None
