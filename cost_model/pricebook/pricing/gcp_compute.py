"""GCP Compute Engine: instances (with boot disk and external IP), managed instance groups, TPU VMs,
persistent disks, static external addresses."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line, Unpriced
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.pricing._compute import node_lines

from newinfra.props import get, items

DISK_TYPES = ("pd-balanced", "pd-ssd", "pd-standard", "pd-extreme")


def disk_lines(ctx, gib: float, dtype: str, label: str = "") -> list[Line]:
    dtype = str(dtype).rsplit("/", 1)[-1]
    if dtype not in DISK_TYPES:
        raise Unpriced(f"no verified price for disk type {dtype!r} (priced: {', '.join(DISK_TYPES)})")
    return [Line(f"{label}{dtype} {gib:g} GiB", gib, "GiB-month", ctx.service(f"gcp.pd.{dtype}", dtype))]


def _instance(props, ctx) -> list[Line]:
    lines = node_lines(props, ctx)
    size = get(props, "bootDisk.initializeParams.size")
    if isinstance(size, int | float):  # without it the image's size applies, unknown offline
        lines += disk_lines(ctx, float(size), get(props, "bootDisk.initializeParams.type", "pd-standard"), "boot ")
    if any(items(get(n, "accessConfigs")) for n in items(get(props, "networkInterfaces"))):
        lines.append(Line("external IPv4 (in use)", ctx.hours, "IP-hour", ctx.service("gcp.ipv4.in-use", "an IPv4")))
    return lines


def _disk(props, ctx) -> list[Line]:
    size = get(props, "size")
    if not isinstance(size, int | float):
        raise Unpriced("no size in its inputs (an image's size is not known offline)")
    return disk_lines(ctx, float(size), get(props, "type", "pd-standard"))


def _address(props, ctx) -> list[Line]:
    if get(props, "addressType", "EXTERNAL") != "EXTERNAL":
        return []
    # Offline we cannot see whether a VM uses it: priced at the dearer reserved-but-unused rate.
    return [Line("static external IPv4 (reserved rate)", ctx.hours, "IP-hour",
                 ctx.service("gcp.ipv4.unused", "a static IPv4"))]


PRICERS = {
    "gcp:compute/instance:Instance": Pricer(_instance),
    "gcp:compute/instanceGroupManager:InstanceGroupManager": Pricer(node_lines),
    "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager": Pricer(node_lines),
    "gcp:tpu/v2Vm:V2Vm": Pricer(node_lines),
    "gcp:tpu/v2QueuedResource:V2QueuedResource": Pricer(node_lines),
    "gcp:compute/disk:Disk": Pricer(_disk),
    "gcp:compute/address:Address": Pricer(_address, free_when_empty="internal address: no charge"),
}
