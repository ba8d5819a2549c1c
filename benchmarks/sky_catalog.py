"""SkyPilot's catalog, pre-filtered to the offers our cost model may use under the same rules.

The fair comparison (issue 14, part 6) gives SkyPilot the rows our model would consider for the request —
the same host floor, the same opt-in rule, the same rows left out or priced without spot — instead of
blocking its picks one by one (which trapped it on one instance type). Rows are SkyPilot's own reference CSVs
(`../shared/reference/catalog`, the files our catalog is built from), filtered, never re-priced: where a
price differs from ours the comparison shows it.

Rules that cannot be made the same are a mode of their own: GCP's N1 hosts for attached GPUs (T4, V100, P100,
P4) — SkyPilot picks its own host per GPU count, ours the cheapest host that meets the floor — so
`attached_gpus=False` drops those GPU rows (and `gcp_attached_offers` gives our side the same exclusion).
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from newinfra.cost_model.catalog.opt_in import allowed
from newinfra.cost_model.exclusions import Exclusion
from newinfra.cost_model.hosts import default_floor, meets_floor

CLOUDS = ("aws", "gcp")


def _floor(accelerator: str) -> tuple[float, float] | None:
    f = default_floor(accelerator)
    return None if f is None else (float(f.vcpus), float(f.memory_gib))


def usable_offers(catalog, *, allow_local_zones: bool) -> dict[tuple[str, str, str, str], object]:
    """(cloud, region, zone, instance type) -> our offer, for offers a training workload with the default host
    floor may use (AWS and GCP, opt-in capacity only when allowed)."""
    keep = {}
    for o in catalog.offers:
        if o.cloud not in CLOUDS or not meets_floor(o, _floor(o.accelerator)):
            continue
        if not allowed(o.cloud, o.region, o.zone, allow_local_zones, ()):
            continue
        keep[(o.cloud, o.region, o.zone, o.instance_type)] = o
    return keep


def attached_accelerators(catalog) -> set[str]:
    """GPUs GCP sells only attached to an N1 host (the host is a separate choice)."""
    return {o.accelerator for o in catalog.offers if o.cloud == "gcp" and o.instance_type.startswith("n1-")}


def gcp_attached_offers(catalog) -> tuple[Exclusion, ...]:
    """Our side of `attached_gpus=False`: every GCP N1 GPU offer, as --exclude entries."""
    return tuple(sorted({Exclusion("gcp", o.region, o.zone, o.instance_type) for o in catalog.offers
                         if o.cloud == "gcp" and o.instance_type.startswith("n1-")}))


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")


def _aws(rows, usable) -> list[dict[str, str]]:
    kept = []
    for row in rows:
        o = usable.get(("aws", row["Region"], row["AvailabilityZone"], row["InstanceType"]))
        if o is None or o.on_demand_usd is None:
            continue  # a row our catalog leaves out, below the floor, or opt-in capacity not allowed
        kept.append({**row, "SpotPrice": row["SpotPrice"] if o.spot_usd is not None else ""})
    return kept


def _gcp(rows, usable, catalog, attached: set[str], keep_attached: bool) -> list[dict[str, str]]:
    gpu_hosts = {o.instance_type for o in catalog.offers if o.cloud == "gcp" and not o.instance_type.startswith("n1-")}
    by_zone_accel: dict[tuple[str, str, str], list] = {}
    for (cloud, region, zone, _itype), o in usable.items():
        if cloud == "gcp":
            by_zone_accel.setdefault((region, zone, o.accelerator), []).append(o)
    kept = []
    for row in rows:
        if row["InstanceType"]:
            if row["InstanceType"] in gpu_hosts and ("gcp", row["Region"], row["AvailabilityZone"],
                                                     row["InstanceType"]) not in usable:
                continue  # a GPU machine type our catalog does not offer there
            kept.append(row)
            continue
        name = row["AcceleratorName"]
        if name.startswith("tpu-"):
            kept.append(row)
            continue
        try:
            accel = catalog.normalise_accelerator(name)
        except (KeyError, ValueError):
            continue
        if accel in attached and not keep_attached:
            continue
        ours = by_zone_accel.get((row["Region"], row["AvailabilityZone"], accel), [])
        if not ours:
            continue
        spot = any(o.spot_usd is not None for o in ours)
        kept.append({**row, "SpotPrice": row["SpotPrice"] if spot else ""})
    return kept


def write_catalog(catalog, reference: Path, home: Path, *, allow_local_zones: bool = False,
                  attached_gpus: bool = False) -> dict[str, int]:
    """SkyPilot's v8 catalog under ``home/.sky/catalogs/v8``, filtered to our usable offers; rows kept per cloud."""
    usable = usable_offers(catalog, allow_local_zones=allow_local_zones)
    target = home / ".sky" / "catalogs" / "v8"
    counts = {}
    fields, rows = _read(reference / "aws" / "vms.csv")
    kept = _aws(rows, usable)
    _write(target / "aws" / "vms.csv", fields, kept)
    counts["aws"] = len(kept)
    fields, rows = _read(reference / "gcp" / "vms.csv")
    kept = _gcp(rows, usable, catalog, attached_accelerators(catalog), attached_gpus)
    _write(target / "gcp" / "vms.csv", fields, kept)
    counts["gcp"] = len(kept)
    (target / "common").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(reference / "common" / "accelerators.csv", target / "common" / "accelerators.csv")
    return counts
