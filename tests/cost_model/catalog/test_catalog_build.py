"""The build: every oddity of the reference data handled explicitly, and reproducible output."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from newinfra.cost_model.catalog import build
from newinfra.cost_model.catalog.loader import Catalog

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "catalog"


@pytest.fixture(scope="module")
def built(reference_source) -> dict[str, str]:
    return build.build(reference_source)


@pytest.fixture(scope="module")
def cat(built) -> Catalog:
    return Catalog(built)


def offer(cat: Catalog, cloud: str, zone: str, itype: str, accelerator: str | None = None):
    found = [o for o in cat.offers if (o.cloud, o.zone, o.instance_type) == (cloud, zone, itype)
             and (accelerator is None or o.accelerator == accelerator)]
    assert len(found) <= 1
    return found[0] if found else None


def reasons(cat: Catalog, itype: str, zone: str | None = None) -> list[tuple[str, str]]:
    return [(e.scope, e.reason) for e in cat.excluded if e.instance_type == itype and (zone is None or e.zone == zone)]


def test_aws_prices_and_spot_rules(cat):
    real = offer(cat, "aws", "use1-az1", "p5.48xlarge")
    assert (real.on_demand_usd, real.spot_usd, real.accelerator, real.accelerators_per_node) == (98.32, 40.0, "H100", 8)
    assert real.accelerator_memory_gib == 80.0 and real.efa and real.nvlink
    assert offer(cat, "aws", "use1-az2", "p5.48xlarge").spot_usd is None  # equal to on-demand: no data
    assert reasons(cat, "p5.48xlarge", "use1-az2") == []
    low = offer(cat, "aws", "use1-az4", "p5.48xlarge")
    assert low.spot_usd is None and low.on_demand_usd == 98.32
    assert reasons(cat, "p5.48xlarge", "use1-az4") == [("spot", "spot 9.832 below 15% of on-demand 98.32; spot dropped")]
    assert offer(cat, "aws", "use1-az1", "g4dn.xlarge").spot_usd is None
    assert reasons(cat, "g4dn.xlarge") == [("spot", "spot 0.6 above on-demand 0.526; spot dropped")]


def test_aws_exclusions(cat):
    assert offer(cat, "aws", "use2-az1", "p5e.48xlarge") is None
    assert reasons(cat, "p5e.48xlarge") == [("offer", "no on-demand price in the source")]
    assert offer(cat, "aws", "use2-az3", "trn2.48xlarge") is None
    assert reasons(cat, "trn2.48xlarge") == [("offer", "implausible accelerator memory 512 GiB per device")]
    assert reasons(cat, "g6f.large") == [("offer", "fractional GPU (0.125 of a GPU per instance): not a whole GPU")]


def test_gcp_gpu_vm_is_host_plus_accelerators(cat):
    vm = offer(cat, "gcp", "us-central1-a", "a3-highgpu-8g")
    assert (vm.on_demand_usd, vm.spot_usd, vm.accelerator, vm.accelerators_per_node) == (43.6, 20.0, "H100", 8)
    assert vm.vcpus == 208.0 and vm.nvlink and not vm.efa
    assert offer(cat, "gcp", "us-central1-b", "a4-highgpu-8g") is None
    assert reasons(cat, "a4-highgpu-8g") == [
        ("offer", "host price 0.0 is not positive: the VM cannot be priced")]


def test_gcp_n1_takes_gpus_within_its_limits(cat):
    vm = offer(cat, "gcp", "us-central1-a", "n1-standard-8", "T4")
    assert (vm.on_demand_usd, vm.spot_usd, vm.accelerators_per_node) == (0.73, 0.2454, 1)
    assert offer(cat, "gcp", "us-central1-a", "n1-standard-64") is None  # 64 vCPUs > 48 allowed with 1 × T4
    assert not any(o.instance_type.startswith("e2-") for o in cat.offers)  # CPU-only hosts are not offers


def test_gcp_tpu_slices(cat):
    v5p = offer(cat, "gcp", "us-east5-a", "v5p-16")
    assert (v5p.accelerator, v5p.accelerators_per_node, v5p.tpu_topology) == ("tpu-v5p", 8, "2x2x2")
    assert (v5p.on_demand_usd, v5p.spot_usd, v5p.accelerator_memory_gib) == (33.6, 12.8, 95.0)
    assert reasons(cat, "tpu-v5p-16") == [("duplicate", "exact duplicate row in the source; one kept")]
    assert offer(cat, "gcp", "us-east5-a", "v5p-24") is None
    assert reasons(cat, "v5p-24")[0][1].startswith("tpu-v5p-24: 12 chips has no standard v5p topology")
    v6e = offer(cat, "gcp", "us-central1-b", "v6e-8")
    assert (v6e.accelerators_per_node, v6e.tpu_topology, v6e.spot_usd) == (8, "2x4", None)
    assert reasons(cat, "v6e-8") == [("spot", "spot price 700.0 is the source's placeholder; spot dropped")]
    assert reasons(cat, "v6e-16") == [("offer", "on-demand price 700.0 is the source's placeholder")]


def test_alicloud_cny_conversion_and_exclusions(cat):
    a10 = offer(cat, "alicloud", "", "ecs.gn7i-c8g1.2xlarge")
    assert a10.on_demand_usd == round(10.0 * cat.usd_per_cny, 6) and a10.spot_usd is None and a10.zone == ""
    assert a10.as_of == "2024-12-30"
    assert offer(cat, "alicloud", "", "ecs.gn7e-c16g1.4xlarge").accelerator == "A100-80GB"  # 80 GiB A100
    assert reasons(cat, "ecs.sgn7i-vws-m2.xlarge") == [("offer", "vGPU / shared-GPU slice: not a whole GPU")]
    assert reasons(cat, "ecs.gn8v.4xlarge") == [("offer", "sold only after a sales ticket; no list price")]
    assert reasons(cat, "ecs.gn9g.4xlarge") == [("offer", "specs only: no list price in the source")]
    assert reasons(cat, "ecs.gn7i-c8g1.2xlarge") == []


def test_every_offer_is_priced_and_plausible(cat):
    for o in cat.offers:
        assert o.on_demand_usd > 0
        assert o.spot_usd is None or build.SPOT_FLOOR * o.on_demand_usd <= o.spot_usd <= o.on_demand_usd


def test_missing_source_column_names_file_and_column(tmp_path, reference_source):
    src = tmp_path / "src"
    shutil.copytree(reference_source, src)
    text = (src / "aws/vms.csv").read_text().replace("SpotPrice", "Spot")
    (src / "aws/vms.csv").write_text(text)
    with pytest.raises(build.SourceError, match=r"aws/vms.csv: missing columns \['SpotPrice'\]"):
        build.build(src)


def test_output_is_sorted_and_deterministic(built, reference_source):
    again = build.build(reference_source)
    assert again == built
    rows = list(csv.reader(io.StringIO(built["offers.csv"])))
    assert rows[0] == list(build.OFFER_COLUMNS)


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="needs ../shared/reference/catalog")
def test_committed_data_is_what_the_build_writes(tmp_path):
    """Rebuild from the reference data into a temp dir: a stale or hand-edited data file fails here."""
    build.main(["--source", str(REFERENCE), "--out", str(tmp_path)])
    committed = sorted(p.name for p in build.DATA_DIR.iterdir())
    assert committed == sorted(p.name for p in tmp_path.iterdir())
    for name in committed:
        assert (tmp_path / name).read_text() == (build.DATA_DIR / name).read_text(), \
            f"cost_model/catalog/data/{name} is stale: run python -m newinfra.cost_model.catalog.build --source {REFERENCE}"


@given(st.one_of(st.none(), st.floats(-1, 1000, allow_nan=False)), st.one_of(st.none(), st.floats(0, 1000)))
def test_price_rules_keep_only_plausible_prices(on_demand, spot):
    notes: list = []
    keep, kept_spot = build.check_prices("aws", "r", "z", "t", on_demand, spot, notes)
    if not keep:
        assert kept_spot is None and [n.scope for n in notes] == ["offer"]
        return
    assert on_demand > 0 and on_demand != build.PLACEHOLDER_PRICE
    if kept_spot is not None:
        assert build.SPOT_FLOOR * on_demand <= kept_spot < on_demand and not notes
    elif spot is not None and spot != on_demand:
        assert [n.scope for n in notes] == ["spot"]  # a dropped spot price always says why
