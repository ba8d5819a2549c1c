"""AWS FSx for Lustre: storage capacity (GiB in the inputs, billed per GB-month) by deployment type."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line, Unpriced
from newinfra.cost_model.pricebook.pricing import Pricer

from newinfra.props import get


def _lustre(props, ctx) -> list[Line]:
    gib = get(props, "storageCapacity")
    if not isinstance(gib, int | float):
        raise Unpriced("no storageCapacity in its inputs")
    deployment = get(props, "deploymentType", "SCRATCH_1")
    per_tib = get(props, "perUnitStorageThroughput")
    if deployment == "SCRATCH_2":
        key = "aws.fsx-lustre.scratch2"
    elif deployment == "PERSISTENT_2" and per_tib == 125:
        key = "aws.fsx-lustre.persistent2-125"
    else:
        raise Unpriced(f"no verified price for FSx for Lustre {deployment}"
                       f"{f' at {per_tib} MB/s/TiB' if per_tib else ''}")
    return [Line(f"Lustre {deployment} {gib:g} GiB", float(gib), "GB-month", ctx.service(key, "FSx for Lustre"))]


PRICERS = {"aws:fsx/lustreFileSystem:LustreFileSystem": Pricer(_lustre)}
