"""Build the project's catalog data (cost_model/catalog/data/) from the reference CSVs.

    python -m newinfra.cost_model.catalog.build [--source DIR] [--out DIR]

--source defaults to the first shared/reference/catalog found in the current directory or above it (the
checkout's ../shared/reference/catalog), so the command the staleness warning prints works as written.

Reads every file by header name, turns each cloud's rows into ``Offer``s in one schema, and writes
sorted CSVs so that two builds give identical bytes. Rows with missing or implausible prices are
written to excluded.csv with the reason (see SOURCES.md's "Known oddities").
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import astuple
from pathlib import Path

from newinfra.cost_model.catalog import names, rates, shapes
from newinfra.cost_model.catalog.schema import Exclusion, Offer

from newinfra.facts import SALES_TICKET_FAMILIES, TPU_GENERATIONS, family_facts, family_of

DATA_DIR = Path(__file__).parent / "data"
OFFER_COLUMNS = ("cloud", "region", "zone", "instanceType", "accelerator", "acceleratorsPerNode",
                 "acceleratorMemoryGiB", "vCPUs", "memoryGiB", "efa", "nvlink", "tpuTopology",
                 "onDemandUsd", "spotUsd", "source", "asOf")
EXCLUDED_COLUMNS = ("cloud", "region", "zone", "instanceType", "scope", "reason")

# Source id -> provenance. Offer.source holds the id; sources.csv holds the rest.
SOURCES = {
    "aws": {"cloud": "aws", "repository": "skypilot-org/skypilot-catalog",
            "commit": "00148f2af3672e2229b4f7bf8157d5a3f36e3c35", "path": "catalogs/v8/aws/vms.csv",
            "asOf": "catalog v8", "file": "aws/vms.csv"},
    "gcp": {"cloud": "gcp", "repository": "anycloud-sh/catalog",
            "commit": "62ff0a987e0c257a89235415d2877812fb1aaf29", "path": "gcp/vms.csv",
            "asOf": "2026-05-20", "file": "gcp/vms.csv"},
    "alicloud": {"cloud": "alicloud", "repository": "cloudpilot-ai/karpenter-provider-alibabacloud",
                 "commit": "5d2e077457ab51b9feb16f01523e06c042d9a27e",
                 "path": "pkg/providers/pricing/initial-on-demand-prices.json", "asOf": "2024-12-30",
                 "file": "alicloud/vms.csv"},
    "alicloud-specs": {"cloud": "alicloud", "repository": "SpareCores/sc-data-dumps",
                       "commit": "e8749bef991dfd1c531e84f09c2882945064a18d", "path": "data/server/alicloud/",
                       "asOf": "2026-01-31", "file": "alicloud/gpu_specs.csv"},
    "aliases": {"cloud": "", "repository": "skypilot-org/skypilot-catalog",
                "commit": "001ca549aad50db24c5670b5438bea0573a2b6c0", "path": "catalogs/v8/common/accelerators.csv",
                "asOf": "catalog v8", "file": "common/accelerators.csv"},
}

SPOT_FLOOR = 0.15  # spot below 15% of on-demand is not a real market price (SOURCES.md: ~9-10% rows)
PLACEHOLDER_PRICE = 700.0  # GCP's v6e rows carry 700.0 where the price is unknown
MAX_GIB_PER_ACCELERATOR = 300  # B300 has 268 GiB; more is a wrong figure (trn2: 512 GiB per chip)


class SourceError(ValueError):
    """A reference file lacks a column or holds a value we cannot read."""


def read_rows(path: Path, required: Iterable[str]) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = sorted(set(required) - set(reader.fieldnames or ()))
        if missing:
            raise SourceError(f"{path}: missing columns {missing}; has {reader.fieldnames}")
        return list(reader)


def number(value: str) -> float | None:
    return float(value) if value.strip() else None


def check_prices(cloud: str, region: str, zone: str, itype: str, on_demand: float | None,
                 spot: float | None, out: list[Exclusion]) -> tuple[bool, float | None]:
    """Apply the price rules; returns (keep the offer, spot to keep). Reasons go to ``out``."""
    def note(scope: str, reason: str) -> None:
        out.append(Exclusion(cloud, region, zone, itype, scope, reason))

    if on_demand is None:
        note("offer", "no on-demand price in the source")
        return False, None
    if on_demand <= 0:
        note("offer", f"on-demand price {on_demand} is not positive")
        return False, None
    if on_demand == PLACEHOLDER_PRICE:
        note("offer", f"on-demand price {PLACEHOLDER_PRICE} is the source's placeholder")
        return False, None
    if spot is None or spot == on_demand:  # equal means the source had no spot data
        return True, None
    if spot == PLACEHOLDER_PRICE:
        note("spot", f"spot price {PLACEHOLDER_PRICE} is the source's placeholder; spot dropped")
        return True, None
    if spot > on_demand:
        note("spot", f"spot {spot} above on-demand {on_demand}; spot dropped")
        return True, None
    if spot < SPOT_FLOOR * on_demand:
        note("spot", f"spot {spot} below {SPOT_FLOOR:.0%} of on-demand {on_demand}; spot dropped")
        return True, None
    return True, spot


def _interconnect(cloud: str, family: str, itype: str, per_node: int) -> tuple[bool, bool]:
    facts = family_facts(cloud, family)
    if facts is None:
        return False, False
    return facts.efa(itype), facts.nvlink and per_node > 1


def _per_accelerator_memory(total_mib: float | None, count: int) -> float | None:
    return None if not total_mib or not count else round(total_mib / 1024 / count, 2)


def aws_offers(src: Path, out: list[Exclusion]) -> Iterator[Offer]:
    cols = ("InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB", "GpuInfo",
            "Price", "SpotPrice", "Region", "AvailabilityZone")
    for row in read_rows(src / "aws/vms.csv", cols):
        itype, region, zone = row["InstanceType"], row["Region"], row["AvailabilityZone"]
        count = float(row["AcceleratorCount"])
        if count < 1 or count != int(count):
            out.append(Exclusion("aws", region, zone, itype, "offer",
                                 f"fractional GPU ({count:g} of a GPU per instance): not a whole GPU"))
            continue
        # Local Zones and opt-in regions stay offers: the loader discloses them as "opt-in" (opt_in.py)
        per_node = int(count)
        info = ast.literal_eval(row["GpuInfo"]) if row["GpuInfo"].strip() else {}
        total_mib = info.get("TotalGpuMemoryInMiB") or info.get("TotalNeuronDeviceMemoryInMiB")
        if not total_mib and info.get("Gpus"):
            total_mib = info["Gpus"][0]["MemoryInfo"]["SizeInMiB"] * per_node
        mem = _per_accelerator_memory(total_mib, per_node)
        accelerator = names.canonical("aws", row["AcceleratorName"], mem)
        keep, spot = check_prices("aws", region, zone, itype, number(row["Price"]), number(row["SpotPrice"]),
                                  out)
        if accelerator is None:
            out.append(Exclusion("aws", region, zone, itype, "offer",
                                 f"unknown accelerator {row['AcceleratorName']!r}"))
            keep = False
        if mem is not None and mem > MAX_GIB_PER_ACCELERATOR:
            out.append(Exclusion("aws", region, zone, itype, "offer",
                                 f"implausible accelerator memory {mem:g} GiB per device"))
            keep = False
        if not keep:
            continue
        efa, nvlink = _interconnect("aws", family_of("aws", itype), itype, per_node)
        yield Offer("aws", region, zone, itype, accelerator, per_node, mem, number(row["vCPUs"]),
                    number(row["MemoryGiB"]), efa, nvlink, None, number(row["Price"]), spot, "aws",
                    SOURCES["aws"]["asOf"])


def _gpu_memory_mib(gpu_info: str) -> float | None:
    if not gpu_info.startswith("{"):
        return None
    return ast.literal_eval(gpu_info)["Gpus"][0]["MemoryInfo"]["SizeInMiB"]


def gcp_offers(src: Path, out: list[Exclusion]) -> Iterator[Offer]:
    cols = ("InstanceType", "vCPUs", "MemoryGiB", "AcceleratorName", "AcceleratorCount", "GpuInfo",
            "Region", "AvailabilityZone", "Price", "SpotPrice")
    rows = read_rows(src / "gcp/vms.csv", cols)
    seen: set[tuple[str, ...]] = set()
    hosts: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)  # zone -> type -> row
    accels: dict[tuple[str, str, int], dict[str, str]] = {}  # (zone, accelerator, count) -> row
    for row in rows:
        key = tuple(row[c] for c in cols)
        if key in seen:
            out.append(Exclusion("gcp", row["Region"], row["AvailabilityZone"],
                                 row["InstanceType"] or row["AcceleratorName"], "duplicate",
                                 "exact duplicate row in the source; one kept"))
            continue
        seen.add(key)
        if row["InstanceType"]:
            hosts[row["AvailabilityZone"]][row["InstanceType"]] = row
        else:
            accels[(row["AvailabilityZone"], row["AcceleratorName"], int(row["AcceleratorCount"]))] = row
    for (zone, name, count), acc in sorted(accels.items()):
        if name.startswith("tpu-"):
            yield from _gcp_tpu(acc, out)
            continue
        gib = _gpu_memory_mib(acc["GpuInfo"])
        mem = round(gib / 1024, 2) if gib else None
        accelerator = names.canonical("gcp", name, mem)
        host_types = [h for h, (a, n) in shapes.GCP_GPU_HOSTS.items() if a == name and n == count]
        n1 = {t: (float(r["vCPUs"]), float(r["MemoryGiB"])) for t, r in hosts[zone].items() if t.startswith("n1-")}
        host_types += shapes.n1_hosts_for(name, count, n1)
        for host_type in sorted(host_types):
            host = hosts[zone].get(host_type)
            if host is None:
                continue  # GCP does not offer this host in this zone
            yield from _gcp_gpu_vm(host, acc, accelerator, count, mem, out)


def _gcp_gpu_vm(host: dict[str, str], acc: dict[str, str], accelerator: str | None, count: int,
                mem: float | None, out: list[Exclusion]) -> Iterator[Offer]:
    region, zone, itype = host["Region"], host["AvailabilityZone"], host["InstanceType"]
    host_od, acc_od = number(host["Price"]), number(acc["Price"])
    if host_od is not None and host_od <= 0:
        out.append(Exclusion("gcp", region, zone, itype, "offer",
                             f"host price {host_od} is not positive: the VM cannot be priced"))
        return
    if accelerator is None:
        out.append(Exclusion("gcp", region, zone, itype, "offer", f"unknown accelerator {acc['AcceleratorName']!r}"))
        return
    on_demand = None if host_od is None or acc_od is None else round(host_od + acc_od, 6)
    host_spot, acc_spot = number(host["SpotPrice"]), number(acc["SpotPrice"])
    spot = None if host_spot is None or acc_spot is None else round(host_spot + acc_spot, 6)
    keep, spot = check_prices("gcp", region, zone, itype, on_demand, spot, out)
    if not keep:
        return
    family = family_of("gcp", itype)
    efa, nvlink = _interconnect("gcp", family, itype, count)
    if family.startswith("n1-"):
        nvlink = accelerator.startswith("V100") and count == 8  # hybrid cube-mesh on 8 × V100
    yield Offer("gcp", region, zone, itype, accelerator, count, mem, number(host["vCPUs"]),
                number(host["MemoryGiB"]), efa, nvlink, None, on_demand, spot, "gcp", SOURCES["gcp"]["asOf"])


def _gcp_tpu(row: dict[str, str], out: list[Exclusion]) -> Iterator[Offer]:
    region, zone, name = row["Region"], row["AvailabilityZone"], row["AcceleratorName"]
    try:
        accelerator, itype, chips, topology = shapes.tpu_slice(name)
    except shapes.SliceError as err:
        out.append(Exclusion("gcp", region, zone, name.removeprefix("tpu-"), "offer", str(err)))
        return
    keep, spot = check_prices("gcp", region, zone, itype, number(row["Price"]), number(row["SpotPrice"]), out)
    if keep:
        hbm = TPU_GENERATIONS[accelerator.removeprefix("tpu-")].hbm_gib
        yield Offer("gcp", region, zone, itype, accelerator, chips, float(hbm), None, None,
                    False, False, topology, number(row["Price"]), spot, "gcp", SOURCES["gcp"]["asOf"])


def alicloud_offers(src: Path, out: list[Exclusion]) -> Iterator[Offer]:
    cols = ("InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB", "GpuMemoryGiB",
            "Price", "SpotPrice", "Region", "AvailabilityZone", "Currency", "AsOf")
    usd_per = {fx["currency"]: float(fx["usdPer"]) for fx in rates.FX}
    rows = read_rows(src / "alicloud/vms.csv", cols)
    for row in rows:
        itype, region, zone = row["InstanceType"], row["Region"], row["AvailabilityZone"]
        family = family_of("alicloud", itype)
        if family in SALES_TICKET_FAMILIES:
            out.append(Exclusion("alicloud", region, zone, itype, "offer", "sold only after a sales ticket"))
            continue
        if row["Currency"] not in usd_per:
            raise SourceError(f"alicloud/vms.csv: {itype} {region}: currency {row['Currency']!r} has no rate")
        per_node = int(float(row["AcceleratorCount"]))
        total = number(row["GpuMemoryGiB"])
        mem = round(total / per_node, 2) if total and per_node else None
        accelerator = names.canonical("alicloud", row["AcceleratorName"], mem)
        price = number(row["Price"])
        on_demand = None if price is None else round(price * usd_per[row["Currency"]], 6)
        keep, _ = check_prices("alicloud", region, zone, itype, on_demand, None, out)
        if accelerator is None:
            out.append(Exclusion("alicloud", region, zone, itype, "offer",
                                 f"unknown accelerator {row['AcceleratorName']!r}"))
            keep = False
        if keep:
            efa, nvlink = _interconnect("alicloud", family, itype, per_node)
            yield Offer("alicloud", region, zone, itype, accelerator, per_node, mem, number(row["vCPUs"]),
                        number(row["MemoryGiB"]), efa, nvlink, None, on_demand, None, "alicloud", row["AsOf"])
    vgpu_cols = ("InstanceType", "Region", "AvailabilityZone")
    for row in read_rows(src / "alicloud/vgpu_vms.csv", vgpu_cols):
        out.append(Exclusion("alicloud", row["Region"], row["AvailabilityZone"], row["InstanceType"], "offer",
                             "vGPU / shared-GPU slice: not a whole GPU"))
    priced = {r["InstanceType"] for r in rows}
    for row in read_rows(src / "alicloud/gpu_specs.csv", ("InstanceType",)):
        itype = row["InstanceType"]
        family = family_of("alicloud", itype)
        if itype in priced or family.startswith(("vgn", "sgn")):
            continue
        reason = "sold only after a sales ticket; no list price" if family in SALES_TICKET_FAMILIES \
            else "specs only: no list price in the source"
        out.append(Exclusion("alicloud", "", "", itype, "offer", reason))


def aliases(src: Path, offers: list[Offer]) -> list[tuple[str, str]]:
    """alias -> canonical, for every spelling we accept; fails on a spelling that means two chips."""
    canon = sorted({o.accelerator for o in offers})
    pairs = {(a, a) for a in canon}
    pairs |= {(spelling, a) for a, spellings in names.USER_ALIASES.items() if a in canon for spelling in spellings}
    pairs |= {(source, a) for (_, source), a in names.SOURCE_NAMES.items() if a in canon}
    for row in read_rows(src / "common/accelerators.csv", ("AcceleratorName",)):
        key = names.alias_key(row["AcceleratorName"])
        match = [a for a in canon if names.alias_key(a) == key]
        if match:
            pairs.add((row["AcceleratorName"], match[0]))
    by_key: dict[str, str] = {}
    for spelling, target in sorted(pairs):
        key = names.alias_key(spelling)
        if by_key.setdefault(key, target) != target:
            raise SourceError(f"alias {spelling!r} would mean both {by_key[key]} and {target}")
    return sorted(pairs)


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def _csv(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_fmt(v) for v in row] for row in rows)
    return buf.getvalue()


def build(src: Path) -> dict[str, str]:
    """File name -> content of every data file."""
    excluded: list[Exclusion] = []
    offers = sorted({*aws_offers(src, excluded), *gcp_offers(src, excluded), *alicloud_offers(src, excluded)})
    return {
        "offers.csv": _csv(OFFER_COLUMNS, (astuple(o) for o in offers)),
        "excluded.csv": _csv(EXCLUDED_COLUMNS, (astuple(e) for e in sorted(set(excluded)))),
        "aliases.csv": _csv(("alias", "accelerator"), aliases(src, offers)),
        "fx.csv": _csv(("currency", "usdPer", "asOf", "source"), (fx.values() for fx in rates.FX)),
        "egress.csv": _csv(("cloud", "kind", "price", "currency", "asOf", "source"),
                           (e.values() for e in rates.EGRESS)),
        "sources.csv": _csv(("id", "cloud", "repository", "commit", "path", "asOf", "file"),
                            ((k, *v.values()) for k, v in sorted(SOURCES.items()))),
    }


def write(files: dict[str, str], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, content in sorted(files.items()):
        (out / name).write_text(content)


REFERENCE_DIR = Path("shared") / "reference" / "catalog"


def find_reference(start: Path | None = None) -> Path | None:
    """The first shared/reference/catalog in ``start`` (default: the current directory) or above it."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / REFERENCE_DIR / "aws").is_dir():
            return directory / REFERENCE_DIR
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m newinfra.cost_model.catalog.build", description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=None,
                        help=f"the reference catalog folder (default: the first {REFERENCE_DIR} here or above)")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="where to write (default: packaged data)")
    args = parser.parse_args(argv)
    source = args.source or find_reference()
    if source is None:
        parser.error(f"--source: no {REFERENCE_DIR} in {Path.cwd()} or above it; pass --source DIR")
    if not source.is_dir():
        parser.error(f"--source: {source} is not a directory (the reference catalog folder)")
    files = build(source)
    write(files, args.out)
    for name, content in sorted(files.items()):
        print(f"{args.out / name}: {content.count(chr(10)) - 1} rows")


if __name__ == "__main__":
    main()
