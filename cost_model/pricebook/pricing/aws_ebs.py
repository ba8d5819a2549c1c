"""AWS EBS volumes: GB-month by volume type, plus provisioned IOPS / throughput above the free baseline."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line, Unpriced
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.usage import Spec

from newinfra.props import get

GP3_FREE_IOPS, GP3_FREE_MBPS = 3000, 125  # included in every gp3 volume (services.csv note)


def volume_lines(ctx, size_gb: float, vtype: str, iops: float = 0, throughput: float = 0,
                 label: str = "") -> list[Line]:
    vtype = vtype or "gp3"
    if vtype not in ("gp3", "gp2", "io2"):
        raise Unpriced(f"no price for EBS volume type {vtype!r} (priced: gp3, gp2, io2)")
    lines = [Line(f"{label}{vtype} storage {size_gb:g} GB", size_gb, "GB-month",
                  ctx.service(f"aws.ebs.{vtype}", f"EBS {vtype}"))]
    if vtype == "gp3" and iops > GP3_FREE_IOPS:
        lines.append(Line(f"{label}gp3 IOPS above {GP3_FREE_IOPS}", iops - GP3_FREE_IOPS, "IOPS-month",
                          ctx.service("aws.ebs.gp3-iops", "gp3 IOPS")))
    if vtype == "gp3" and throughput > GP3_FREE_MBPS:
        lines.append(Line(f"{label}gp3 throughput above {GP3_FREE_MBPS} MB/s", throughput - GP3_FREE_MBPS,
                          "MB/s-month", ctx.service("aws.ebs.gp3-throughput", "gp3 throughput")))
    if vtype == "io2" and iops:
        lines.append(Line(f"{label}io2 IOPS", iops, "IOPS-month", ctx.service("aws.ebs.io2-iops", "io2 IOPS")))
    return lines


def _volume(props, ctx) -> list[Line]:
    size = get(props, "size")
    if not isinstance(size, int | float):
        raise Unpriced("no size in its inputs (a size from a snapshot is not known offline)")
    return volume_lines(ctx, float(size), get(props, "type", "gp3"), float(get(props, "iops", 0) or 0),
                        float(get(props, "throughput", 0) or 0))


def _snapshot(props, ctx) -> list[Line]:
    gb = ctx.usage["gbStored"]
    return [Line(f"snapshot storage {gb:g} GB", gb, "GB-month", ctx.service("aws.ebs.snapshot-storage-standard-tier",
                                                                           "EBS snapshot storage"), usage=True)]


PRICERS = {
    "aws:ebs/volume:Volume": Pricer(_volume),
    "aws:ebs/snapshot:Snapshot": Pricer(_snapshot, {"gbStored": Spec(0, "GB of changed blocks stored")}),
}
