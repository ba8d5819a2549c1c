"""Alibaba Cloud storage and keys: OSS buckets, General-purpose NAS (Capacity), KMS instances."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line, Unpriced
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.usage import Spec

from newinfra.props import get


def _oss(props, ctx) -> list[Line]:
    gb = ctx.usage["gbStored"]
    return [Line(f"Standard LRS storage {gb:g} GB", gb, "GB-month", ctx.service("alicloud.oss.standard", "OSS"),
                 usage=True)]


def _nas(props, ctx) -> list[Line]:
    kind = get(props, "storageType", "")
    if kind != "Capacity":
        raise Unpriced(f"no verified price for NAS storage type {kind!r} (priced: Capacity)")
    gib = ctx.usage["gibStored"]
    return [Line(f"Capacity NAS {gib:g} GiB", gib, "GiB-month", ctx.service("alicloud.nas.capacity", "NAS"),
                 usage=True)]


def _kms(props, ctx) -> list[Line]:
    return [Line("KMS key (pay-as-you-go)", ctx.hours / 24, "key-day", ctx.service("alicloud.kms.key", "a KMS key"))]


PRICERS = {
    "alicloud:oss/bucket:Bucket": Pricer(_oss, {"gbStored": Spec(0, "GB stored (Standard LRS), monthly average")}),
    "alicloud:nas/fileSystem:FileSystem": Pricer(_nas, {"gibStored": Spec(0, "GiB stored, monthly average")}),
    "alicloud:kms/key:Key": Pricer(_kms),
}
