"""Cost-model fixtures. Small catalogs are built through the real loader: the packaged aliases, egress and
FX files with a chosen offers.csv, so tests control every price while validation and lookups stay the
product's own. Tests get the builders as session fixtures (test modules are imported in importlib mode)."""

from __future__ import annotations

import csv
import io
import warnings

import pytest
from newinfra.cost_model.catalog.loader import DATA_DIR, Catalog, read_files
from newinfra.cost_model.catalog.schema import Offer

HEADER = ["cloud", "region", "zone", "instanceType", "accelerator", "acceleratorsPerNode", "acceleratorMemoryGiB",
          "vCPUs", "memoryGiB", "efa", "nvlink", "tpuTopology", "onDemandUsd", "spotUsd", "source", "asOf"]

# (cloud, instance type) -> (accelerators per node, vCPUs): real L4 shapes on AWS (g6) and GCP (g2).
L4_SHAPES = {
    ("aws", "g6.xlarge"): (1, 4), ("aws", "g6.12xlarge"): (4, 48), ("aws", "g6.48xlarge"): (8, 192),
    ("gcp", "g2-standard-4"): (1, 4), ("gcp", "g2-standard-24"): (2, 24), ("gcp", "g2-standard-48"): (4, 48),
}


def l4_offer(cloud: str, region: str, zone: str, itype: str, od: float | None, spot: float | None) -> Offer:
    apn, vcpus = L4_SHAPES[(cloud, itype)]
    return Offer(cloud, region, zone, itype, "L4", apn, 24.0, float(vcpus), 16.0 * vcpus, False, False, None,
                 od, spot, cloud, "2025-06-01")


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def make_catalog(offers: list[Offer]) -> Catalog:
    files = read_files(DATA_DIR)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for o in sorted(offers):
        w.writerow([_cell(getattr(o, f)) for f in Offer.__slots__])
    files["offers.csv"] = buf.getvalue()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Catalog(files)


@pytest.fixture(scope="session")
def catalog_of():
    """make_catalog(offers) -> Catalog."""
    return make_catalog


@pytest.fixture(scope="session")
def l4():
    """l4_offer(cloud, region, zone, instance type, on-demand USD/h, spot USD/h or None) -> Offer."""
    return l4_offer


@pytest.fixture(scope="session")
def full_catalog():
    from newinfra.cost_model.catalog import load_catalog

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_catalog()


@pytest.fixture
def small_catalog() -> Catalog:
    """Two AWS zones and one GCP zone with L4 offers; spot cheaper in use1-az1."""
    return make_catalog([
        l4_offer("aws", "us-east-1", "use1-az1", "g6.xlarge", 1.00, 0.40),
        l4_offer("aws", "us-east-1", "use1-az1", "g6.12xlarge", 4.40, 1.80),
        l4_offer("aws", "us-east-1", "use1-az2", "g6.xlarge", 1.00, 0.50),
        l4_offer("aws", "eu-west-1", "euw1-az1", "g6.xlarge", 0.90, None),
        l4_offer("gcp", "us-central1", "us-central1-a", "g2-standard-4", 1.10, 0.45),
        l4_offer("gcp", "us-central1", "us-central1-a", "g2-standard-24", 2.00, 0.85),
    ])
