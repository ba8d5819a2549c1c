"""Build the price book (cost_model/pricebook/data/) from the reference price and instance files.

    python -m newinfra.cost_model.pricebook.build --prices ../shared/reference/prices \
        --catalog ../shared/reference/catalog [--out DIR]

services.csv: one row per (key, region scope) of the managed-service list prices a stack pays besides its
instances, in the source's currency, with its source and as-of date. instances.csv: one on-demand (and spot
where the source has one) hourly price per (cloud, region, instance type) for instance types of every kind.
Rows that cannot be used as facts (UNVERIFIED, undated, no price, a GCP GPU host row that is only part of
the VM's price) go to excluded.csv with the reason. Files are read by header name and written sorted, so two
builds give identical bytes. The catalog build's readers and CSV writer are reused (one way to read the
sources); currencies are converted at load time through the catalog's fx.csv (one table).
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

from newinfra.cost_model.catalog import shapes
from newinfra.cost_model.catalog.build import SourceError, _csv, number, read_rows, write

DATA_DIR = Path(__file__).parent / "data"
SERVICE_COLUMNS = ("key", "cloud", "scope", "unit", "price", "currency", "asOf", "quality", "item", "source")
INSTANCE_COLUMNS = ("cloud", "region", "instanceType", "onDemand", "spot", "currency", "asOf", "source")
EXCLUDED_COLUMNS = ("file", "line", "what", "reason")

# (cloud, service, item) of services.csv -> the key a pricing function asks for. A row not named here is
# kept under a key made from its service and item, so that nothing the source verified is lost.
KEYS: dict[tuple[str, str, str], str] = {
    ("aws", "EKS", "Cluster fee, Kubernetes version in standard support"): "aws.eks.cluster",
    ("aws", "EKS", "Cluster fee, Kubernetes version in extended support (total, not add-on)"):
        "aws.eks.cluster-extended",
    ("aws", "VPC NAT Gateway", "NAT gateway hour"): "aws.nat.hour",
    ("aws", "VPC NAT Gateway", "Data processed"): "aws.nat.gb",
    ("aws", "Elastic Load Balancing", "Application Load Balancer hour"): "aws.alb.hour",
    ("aws", "Elastic Load Balancing", "ALB Load Balancer Capacity Unit"): "aws.alb.lcu",
    ("aws", "Elastic Load Balancing", "Network Load Balancer hour"): "aws.nlb.hour",
    ("aws", "Elastic Load Balancing", "NLB capacity unit (NLCU)"): "aws.nlb.lcu",
    ("aws", "EBS", "gp3 storage"): "aws.ebs.gp3",
    ("aws", "EBS", "gp3 provisioned IOPS above 3,000 baseline"): "aws.ebs.gp3-iops",
    ("aws", "EBS", "gp3 provisioned throughput above 125 MB/s baseline"): "aws.ebs.gp3-throughput",
    ("aws", "EBS", "gp2 storage"): "aws.ebs.gp2",
    ("aws", "EBS", "io2 storage"): "aws.ebs.io2",
    ("aws", "EBS", "io2 provisioned IOPS (first tier, up to 32,000)"): "aws.ebs.io2-iops",
    ("aws", "S3", "S3 Standard storage, first 50 TB/month"): "aws.s3.standard",
    ("aws", "S3", "S3 Standard PUT/COPY/POST/LIST requests"): "aws.s3.put",
    ("aws", "S3", "S3 Standard GET/SELECT/other requests"): "aws.s3.get",
    ("aws", "Data transfer", "Data transfer out to internet, first 10 TB/month"): "aws.egress.internet",
    ("aws", "FSx for Lustre", "PERSISTENT_2 SSD, 125 MB/s/TiB"): "aws.fsx-lustre.persistent2-125",
    ("aws", "FSx for Lustre", "SCRATCH_2 SSD"): "aws.fsx-lustre.scratch2",
    ("aws", "EFS", "EFS Standard storage"): "aws.efs.standard",
    ("aws", "KMS", "Customer managed key"): "aws.kms.key",
    ("aws", "CloudWatch Logs", "Log data ingested (Standard class)"): "aws.logs.ingest",
    ("aws", "CloudWatch Logs", "Log storage (archival)"): "aws.logs.storage",
    ("aws", "VPC Flow Logs", "Vended-log delivery to S3, first 10 TB/month"): "aws.flowlogs.s3",
    ("aws", "VPC public IPv4", "Public IPv4 address (EIP or auto-assigned, in use or idle)"): "aws.ipv4.hour",
    ("aws", "Secrets Manager", "Secret"): "aws.secrets.secret",
    ("aws", "ECR", "Image storage"): "aws.ecr.storage",
    ("aws", "Fargate", "vCPU (Linux/x86)"): "aws.fargate.vcpu",
    ("aws", "Fargate", "Memory (Linux/x86)"): "aws.fargate.gb",
    ("aws", "Lambda", "Duration x86, first 6B GB-s/month"): "aws.lambda.gb-second",
    ("aws", "Lambda", "Requests"): "aws.lambda.requests",
    ("aws", "Route 53", "Hosted zone (first 25)"): "aws.route53.zone",
    ("gcp", "GKE", "Cluster management fee (Standard: zonal, regional; Autopilot)"): "gcp.gke.cluster",
    ("gcp", "Cloud NAT", "Gateway uptime, per assigned VM (up to 32 VMs)"): "gcp.nat.vm-hour",
    ("gcp", "Cloud NAT", "Data processed (inbound+outbound)"): "gcp.nat.gib",
    ("gcp", "Cloud Load Balancing", "Forwarding rule, each additional beyond 5"): "gcp.lb.rule",
    ("gcp", "Cloud Load Balancing", "Data processed by load balancer (inbound; outbound same)"): "gcp.lb.gib",
    ("gcp", "Persistent Disk", "pd-balanced (zonal)"): "gcp.pd.pd-balanced",
    ("gcp", "Persistent Disk", "pd-ssd (zonal)"): "gcp.pd.pd-ssd",
    ("gcp", "Persistent Disk", "pd-standard (zonal)"): "gcp.pd.pd-standard",
    ("gcp", "Persistent Disk", "pd-extreme storage"): "gcp.pd.pd-extreme",
    ("gcp", "Cloud Storage", "Standard storage, regional"): "gcp.gcs.standard",
    ("gcp", "Cloud Storage", "Class A operations (regional Standard)"): "gcp.gcs.class-a",
    ("gcp", "Filestore", "Basic HDD"): "gcp.filestore.basic-hdd",
    ("gcp", "Network egress", "Internet egress, Premium tier, first 1 TiB/month (NA/EU destinations)"):
        "gcp.egress.internet",
    ("gcp", "Cloud KMS", "Active key version (software)"): "gcp.kms.key-version",
    ("gcp", "Cloud Logging", "Log ingestion (storage incl. 30 days)"): "gcp.logs.ingest",
    ("gcp", "External IPv4", "In use by standard VM"): "gcp.ipv4.in-use",
    ("gcp", "External IPv4", "Static address reserved but unused"): "gcp.ipv4.unused",
    ("gcp", "Parallelstore", "Instance capacity"): "gcp.parallelstore.capacity",
    ("alibaba", "ACK", "ACK managed Pro cluster management fee"): "alicloud.ack.pro-cluster",
    ("alibaba", "NAT Gateway", "Internet NAT gateway (enhanced) instance fee"): "alicloud.nat.hour",
    ("alibaba", "ALB", "ALB instance fee, Basic edition"): "alicloud.alb.basic",
    ("alibaba", "ALB", "ALB instance fee, Standard edition"): "alicloud.alb.standard",
    ("alibaba", "ALB", "ALB instance fee, WAF-enabled edition"): "alicloud.alb.waf",
    ("alibaba", "NLB", "NLB instance fee"): "alicloud.nlb.hour",
    ("alibaba", "CLB (SLB)", "CLB pay-by-usage instance fee"): "alicloud.clb.hour",
    ("alibaba", "OSS", "Standard LRS storage"): "alicloud.oss.standard",
    ("alibaba", "NAS", "General-purpose NAS, Capacity type"): "alicloud.nas.capacity",
    ("alibaba", "KMS", "KMS key (pay-as-you-go KMS instance)"): "alicloud.kms.key",
}
CLOUD = {"aws": "aws", "gcp": "gcp", "alibaba": "alicloud"}
ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
QUALITY = re.compile(r"^\[([^\]]+)\]")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def scope(region: str) -> str:
    """The region field of services.csv -> the regions a row prices: a region name, '*' (every region),
    'cn-mainland' / 'intl' (Alibaba's China and international sites)."""
    text = region.strip().lower()
    if text.startswith(("global", "any")) or "(all regions" in text:
        return "*"
    if "mainland" in text or "china site" in text or "cn-hangzhou" in text:
        return "cn-mainland"
    if text.startswith("international site"):
        return "intl"
    return text.split(" ", 1)[0]


def as_of(text: str) -> str | None:
    """The first ISO date of the as_of field: the golden file's last change, the page's update or the
    date the page was read. None when the field gives no date ('stored copy, undated')."""
    found = ISO_DATE.search(text)
    return found.group(1) if found else None


def services(src: Path, excluded: list[tuple]) -> list[tuple]:
    cols = ("cloud", "service", "item", "unit", "region", "price", "currency", "source", "as_of", "note")
    out: dict[tuple[str, str], tuple] = {}
    for line, row in enumerate(read_rows(src / "services.csv", cols), start=2):
        what = f"{row['cloud']} {row['service']}: {row['item']} ({row['region']})"
        if row["cloud"] not in CLOUD:
            raise SourceError(f"services.csv: line {line}: unknown cloud {row['cloud']!r}; valid {sorted(CLOUD)}")
        if row["price"].strip().upper() == "UNVERIFIED":
            excluded.append(("services.csv", line, what, "UNVERIFIED in the source: not used as a fact"))
            continue
        if not row["source"].strip():
            excluded.append(("services.csv", line, what, "no source"))
            continue
        date = as_of(row["as_of"])
        if date is None:
            excluded.append(("services.csv", line, what, f"no as-of date in the source ({row['as_of']!r})"))
            continue
        try:
            price = float(row["price"])
        except ValueError:
            raise SourceError(f"services.csv: line {line}, column price: bad value {row['price']!r}") from None
        cloud = CLOUD[row["cloud"]]
        key = KEYS.get((row["cloud"], row["service"], row["item"])) or \
            f"{cloud}.{slug(row['service'])}.{slug(row['item'])}"
        quality = QUALITY.match(row["note"].strip())
        entry = (key, cloud, scope(row["region"]), row["unit"], price, row["currency"], date,
                 quality.group(1) if quality else "unlabelled", row["item"], row["source"])
        if (key, entry[2]) in out:
            raise SourceError(f"services.csv: line {line}: a second row for {key} in {entry[2]}")
        out[(key, entry[2])] = entry
    return sorted(out.values())


def _fold(rows: dict[tuple[str, str, str], list[tuple[float | None, float | None]]]) -> dict[tuple, tuple]:
    """Zone rows -> one price per region: the dearest zone (an estimate errs on the budget's side)."""
    out = {}
    for key, prices in rows.items():
        od = [p for p, _ in prices if p is not None and p > 0]
        spot = [s for p, s in prices if s is not None and s > 0 and (p is None or s < p)]
        if od:
            out[key] = (max(od), max(spot) if spot else None)
    return out


def instances(src: Path, excluded: list[tuple]) -> list[tuple]:
    from newinfra.cost_model.catalog.build import SOURCES

    rows: list[tuple] = []
    # SOURCES.md dates this file "2026-04" (a month): its first day, so the price date errs older.
    aws_src = ("anycloud-sh/catalog@5134b895047c454c834c6db730af077e06bdbdca:aws/vms.csv", "2026-04-01")
    aws: dict[tuple, list] = defaultdict(list)
    for row in read_rows(src / "aws/cpu_vms.csv", ("InstanceType", "Region", "Price", "MinSpotPrice")):
        aws[("aws", row["Region"], row["InstanceType"])].append((number(row["Price"]), number(row["MinSpotPrice"])))
    for (cloud, region, itype), (od, spot) in sorted(_fold(aws).items()):
        rows.append((cloud, region, itype, od, spot, "USD", aws_src[1], aws_src[0]))
    gcp = SOURCES["gcp"]
    gcp_rows: dict[tuple, list] = defaultdict(list)
    for line, row in enumerate(read_rows(src / "gcp/vms.csv", ("InstanceType", "Region", "Price", "SpotPrice")),
                               start=2):
        itype = row["InstanceType"]
        if not itype:
            continue  # accelerator rows: priced with their host in the accelerator catalog
        if itype in shapes.GCP_GPU_HOSTS:
            excluded.append(("gcp/vms.csv", line, f"gcp {row['Region']} {itype}",
                             "host part of a GPU VM only: priced with its GPUs by the accelerator catalog"))
            continue
        gcp_rows[("gcp", row["Region"], itype)].append((number(row["Price"]), number(row["SpotPrice"])))
    for (cloud, region, itype), (od, spot) in sorted(_fold(gcp_rows).items()):
        rows.append((cloud, region, itype, od, spot, "USD", gcp["asOf"],
                     f"{gcp['repository']}@{gcp['commit']}:{gcp['path']}"))
    ali = SOURCES["alicloud"]
    for line, row in enumerate(read_rows(src / "alicloud/vms.csv", ("InstanceType", "Region", "Price", "Currency",
                                                                       "AsOf")), start=2):
        price = number(row["Price"])
        if price is None or price <= 0:
            excluded.append(("alicloud/vms.csv", line, f"alicloud {row['Region']} {row['InstanceType']}",
                             "no list price in the source"))
            continue
        rows.append(("alicloud", row["Region"], row["InstanceType"], price, None, row["Currency"], row["AsOf"],
                     f"{ali['repository']}@{ali['commit']}:{ali['path']}"))
    return sorted(set(rows))


def build(prices: Path, catalog: Path) -> dict[str, str]:
    excluded: list[tuple] = []
    svc = services(prices, excluded)
    inst = instances(catalog, excluded)
    return {
        "services.csv": _csv(SERVICE_COLUMNS, svc),
        "instances.csv": _csv(INSTANCE_COLUMNS, inst),
        "excluded.csv": _csv(EXCLUDED_COLUMNS, sorted(set(excluded))),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m newinfra.cost_model.pricebook.build",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--prices", type=Path, required=True, help="the reference prices folder (services.csv)")
    parser.add_argument("--catalog", type=Path, required=True, help="the reference catalog folder")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="where to write (default: packaged data)")
    args = parser.parse_args(argv)
    files = build(args.prices, args.catalog)
    write(files, args.out)
    for name, content in sorted(files.items()):
        print(f"{args.out / name}: {content.count(chr(10)) - 1} rows")


if __name__ == "__main__":
    main()
