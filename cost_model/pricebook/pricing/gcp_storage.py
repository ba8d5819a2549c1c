"""GCP storage: Cloud Storage buckets (usage), Filestore (Basic HDD), Parallelstore, Cloud KMS keys."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line, Unpriced
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.usage import Spec

from newinfra.props import get, items


def _bucket(props, ctx) -> list[Line]:
    if str(get(props, "storageClass", "STANDARD")).upper() != "STANDARD":
        raise Unpriced(f"no verified price for storage class {get(props, 'storageClass')}")
    gib, ops = ctx.usage["gibStored"], ctx.usage["classAOperations"]
    lines = [Line(f"Standard storage {gib:g} GiB", gib, "GiB-month", ctx.service("gcp.gcs.standard", "GCS storage"),
                  usage=True)]
    if ops:  # the operations row is undated in the source: asked for only when the usage file counts some
        lines.append(Line("class A operations", ops / 1000, "1,000 ops",
                          ctx.service("gcp.gcs.class-a", "GCS operations"), usage=True))
    return lines


def _filestore(props, ctx) -> list[Line]:
    tier = get(props, "tier", "")
    if tier not in ("BASIC_HDD", "STANDARD"):  # STANDARD is the old name of BASIC_HDD
        raise Unpriced(f"no verified price for Filestore tier {tier!r} (priced: BASIC_HDD)")
    gib = sum(float(get(s, "capacityGb", 0) or 0) for s in items(get(props, "fileShares")))
    return [Line(f"Basic HDD {gib:g} GiB", gib, "GiB-month", ctx.service("gcp.filestore.basic-hdd", "Filestore"))]


def _parallelstore(props, ctx) -> list[Line]:
    gib = get(props, "capacityGib")
    if gib is None:
        raise Unpriced("no capacityGib in its inputs")
    return [Line(f"capacity {float(gib):g} GiB", float(gib), "GiB-month",
                 ctx.service("gcp.parallelstore.capacity", "Parallelstore"))]


def _key(props, ctx) -> list[Line]:
    n = ctx.usage["activeVersions"]
    return [Line(f"{n:g} active key version(s)", n, "key version-month",
                 ctx.service("gcp.kms.key-version", "a Cloud KMS key version"), usage=True)]


PRICERS = {
    "gcp:storage/bucket:Bucket": Pricer(_bucket, {
        "gibStored": Spec(0, "GiB stored (Standard), monthly average"),
        "classAOperations": Spec(0, "class A operations (writes, lists) per month")}),
    "gcp:filestore/instance:Instance": Pricer(_filestore),
    "gcp:parallelstore/instance:Instance": Pricer(_parallelstore),
    "gcp:kms/cryptoKey:CryptoKey": Pricer(_key, {
        "activeVersions": Spec(1, "active key versions (rotation adds one per period until old ones are destroyed)")}),
}
