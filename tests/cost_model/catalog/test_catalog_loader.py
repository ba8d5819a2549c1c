"""The packaged catalog: validated, indexed, versioned, fast; corrupt copies fail naming the place."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import warnings

import pytest
from newinfra.cost_model.catalog import Catalog, CatalogError, StaleCatalogWarning, load_catalog
from newinfra.cost_model.catalog.loader import DATA_DIR, FILES, read_files, warn_if_stale


@pytest.fixture(scope="module")
def cat() -> Catalog:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleCatalogWarning)
        return load_catalog()


def test_offers_sorted_priced_and_versioned(cat):
    assert cat.offers == tuple(sorted(cat.offers)) and len(cat.offers) > 5000
    assert {o.cloud for o in cat.offers} == {"aws", "gcp", "alicloud"}
    assert all(o.on_demand_usd > 0 for o in cat.offers)
    assert re.fullmatch(r"sha256:[0-9a-f]{12}", cat.version)
    assert cat.accelerators == tuple(sorted(cat.accelerators))
    assert {"H100", "A100-80GB", "L4", "T4", "tpu-v5litepod", "tpu-v5p", "tpu-v6e"} <= set(cat.accelerators)
    assert {e.scope for e in cat.excluded} == {"offer", "spot", "duplicate"}
    assert sum(e.scope == "duplicate" for e in cat.excluded) == 154  # SOURCES.md: 154 duplicate TPU rows


def test_loaded_once_and_rebuilt_the_same(cat):
    # Load time is a benchmark's business (benchmarks/cost_model_bench.py), not a timed assertion here.
    assert load_catalog() is cat
    again = Catalog(read_files(DATA_DIR))
    assert again.offers == cat.offers and again.version == cat.version


def test_offers_for_and_instances(cat):
    h100 = cat.offers_for("H100")
    assert h100 and {o.accelerator for o in h100} == {"H100"} and cat.offers_for("nvidia-h100-80gb") == h100
    p5 = cat.instance("aws", "p5.48xlarge")
    assert (p5.accelerator, p5.accelerators_per_node, p5.vcpus, p5.efa, p5.nvlink) == ("H100", 8, 192.0, True, True)
    assert "use1-az1" in p5.zones_in("us-east-1") and p5.regions == tuple(sorted(p5.regions))
    slice_ = cat.instance("gcp", "v5litepod-16")
    assert (slice_.accelerator, slice_.accelerators_per_node, slice_.tpu_topology) == ("tpu-v5litepod", 16, "4x4")
    assert cat.instance("aws", "m5.large") is None
    with pytest.raises(ValueError, match=r"n1-standard-8 carries several accelerators; pass one of \['P100 x1'"):
        cat.instance("gcp", "n1-standard-8")
    assert cat.instance("gcp", "n1-standard-8", "t4", 2).accelerators_per_node == 2


def test_offered(cat):
    o = cat.offers_for("H100")[0]
    assert cat.offered(o.cloud, o.region, o.zone, o.instance_type)
    assert not cat.offered(o.cloud, o.region, "nowhere-az9", o.instance_type)
    ali = next(o for o in cat.offers if o.cloud == "alicloud")
    assert ali.zone == "" and cat.offered("alicloud", ali.region, f"{ali.region}-a", ali.instance_type)


def test_egress_and_fx(cat):
    assert cat.egress_usd_per_gb("aws", "us-east-1", "aws", "us-east-1") == 0.0
    assert cat.egress_usd_per_gb("aws", "us-east-1", "aws", "us-west-2") == 0.02
    assert cat.egress_usd_per_gb("aws", "us-east-1", "gcp", "us-central1") == 0.09
    assert cat.egress_usd_per_gb("gcp", "us-central1", "gcp", "europe-west4") == 0.08
    assert cat.egress_usd_per_gb("alicloud", "cn-beijing", "aws", "us-east-1") == pytest.approx(0.8 * cat.usd_per_cny)
    assert cat.usd_per_cny == 0.137 and cat.fx_as_of == dt.date(2024, 12, 31)
    with pytest.raises(ValueError, match=r"unknown cloud 'azure'; valid: \['alicloud', 'aws', 'gcp'\]"):
        cat.egress_usd_per_gb("azure", "x", "aws", "us-east-1")


def test_stale_catalog_warns_and_logs(cat, caplog):
    assert cat.as_of == dt.date(2024, 10, 9)  # the oldest Alibaba rows
    with pytest.warns(StaleCatalogWarning, match=r"is 100 days old \(oldest source 2024-10-09, limit 90\)"):
        warn_if_stale(cat, today=cat.as_of + dt.timedelta(days=100))
    assert "100 days old" in caplog.text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_stale(cat, today=cat.as_of + dt.timedelta(days=90))  # not yet


def test_with_offers_marks_the_version(cat):
    fewer = cat.with_offers(cat.offers[:10], label="live")
    assert fewer.version == f"{cat.version}+live" and len(fewer.offers) == 10
    assert fewer.offers_for(cat.offers[0].accelerator) and not fewer.offers_for("tpu-v6e")
    assert len(cat.offers) > 10  # the cached catalog is untouched


# --- corrupt or malformed copies ------------------------------------------------------------------

def _copy(tmp_path, name: str, edit) -> str:
    dst = tmp_path / "data"
    shutil.copytree(DATA_DIR, dst)
    path = dst / name
    path.write_bytes(edit(path.read_bytes()))
    return str(dst)


def _line(name: str, n: int) -> bytes:
    return (DATA_DIR / name).read_bytes().splitlines(keepends=True)[n - 1]


def _replace_in_line(name: str, n: int, old: bytes, new: bytes):
    line = _line(name, n)
    return lambda b: b.replace(line, line.replace(old, new, 1), 1)


CORRUPTIONS = {
    "bad price": ("offers.csv", None, r"offers.csv: line 2, column onDemandUsd: bad value 'abc'"),
    "missing column": ("offers.csv", lambda b: b.replace(b"spotUsd", b"spot", 1),
                       r"offers.csv: line 1: missing column\(s\) \['spotUsd'\]"),
    "short row": ("offers.csv", lambda b: b.replace(_line("offers.csv", 3), b"aws,us-east-1\n", 1),
                  r"offers.csv: line 3: 2 fields, header has 16"),
    "bad bool": ("offers.csv", None, r"offers.csv: line 2, column efa: bad value 'yes'"),
    "unknown cloud": ("excluded.csv", lambda b: b.replace(_line("excluded.csv", 2),
                                                          b"azure" + _line("excluded.csv", 2)[_line("excluded.csv", 2).index(b","):], 1),
                      r"excluded.csv: line 2, column cloud: bad value 'azure'"),
    "binary junk": ("aliases.csv", lambda b: b"\xff\xfe\x00" + b, r"aliases.csv: not UTF-8 text at byte 0"),
    "empty": ("fx.csv", lambda b: b"", r"fx.csv: empty file"),
    "no CNY": ("fx.csv", lambda b: b.replace(b"\nCNY,", b"\nEUR,"), r"fx.csv: needs a CNY row"),
    "unknown accelerator": ("aliases.csv", lambda b: re.sub(rb"(?m)^.*,H100\n", b"", b),
                            r"column accelerator: 'H100' is not in aliases.csv"),
    "duplicate": ("offers.csv", lambda b: b.replace(_line("offers.csv", 2), _line("offers.csv", 2) * 2, 1),
                  r"offers.csv: line 3 \(alicloud/ap-northeast-1/-/ecs\.[^)]+\): duplicate offer"),
    "out of order": ("offers.csv", lambda b: b + _line("offers.csv", 2),
                     r"offers.csv: line \d+ \(alicloud/.*\): out of order \(the build writes offers sorted"),
    "unknown egress kind": ("egress.csv", lambda b: b.replace(b",internet,", b",satellite,", 1),
                            r"egress.csv: line 2, column kind: bad value 'satellite'"),
}


def _edit_first_offer(column: str, value: bytes):
    header = _line("offers.csv", 1).decode().strip().split(",")
    row = _line("offers.csv", 2)
    fields = row.rstrip(b"\n").split(b",")
    fields[header.index(column)] = value
    return lambda b: b.replace(row, b",".join(fields) + b"\n", 1)


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_corrupt_catalog_names_the_place(tmp_path, case):
    name, edit, message = CORRUPTIONS[case]
    if case == "bad price":
        edit = _edit_first_offer("onDemandUsd", b"abc")
    if case == "bad bool":
        edit = _edit_first_offer("efa", b"yes")
    with pytest.raises(CatalogError, match=message):
        load_catalog(_copy(tmp_path, name, edit))


def test_spot_above_on_demand_is_refused(tmp_path):
    edit = _edit_first_offer("spotUsd", b"99999")
    with pytest.raises(CatalogError, match=r"column spotUsd: 99999.0 exceeds onDemandUsd"):
        load_catalog(_copy(tmp_path, "offers.csv", edit))


def test_missing_file(tmp_path):
    dst = tmp_path / "data"
    shutil.copytree(DATA_DIR, dst)
    (dst / "egress.csv").unlink()
    with pytest.raises(CatalogError, match=rf"egress.csv: missing catalog file .*{re.escape(str(list(FILES)))}"):
        load_catalog(dst)


def test_local_zones_are_offered_and_disclosed_as_opt_in():
    from newinfra.cost_model.catalog import load_catalog
    from newinfra.cost_model.catalog.opt_in import is_opt_in_region

    from newinfra.placement import LOCAL_ZONE_ID

    catalog = load_catalog()
    local = {(o.region, o.zone, o.instance_type) for o in catalog.offers if LOCAL_ZONE_ID.match(o.zone)}
    assert ("us-east-1", "use1-atl2-az1", "p5.48xlarge") in local
    assert not [e for e in catalog.excluded if LOCAL_ZONE_ID.match(e.zone) and e.scope == "offer"]
    disclosed = {(e.region, e.zone, e.instance_type): e for e in catalog.opt_in}
    assert local <= set(disclosed)
    assert all(e.scope == "opt-in" and e.reason.startswith("opt-in: ") and "allowLocalZones" in e.reason
               for k, e in disclosed.items() if k in local)
    regions = {(o.region, o.zone, o.instance_type) for o in catalog.offers if is_opt_in_region(o.cloud, o.region)}
    assert regions and regions <= set(disclosed)
    assert all("optInRegions" in disclosed[k].reason for k in regions)
    assert len(disclosed) == len(local | regions)
    assert LOCAL_ZONE_ID.match("usw2-lax1-az1") and not LOCAL_ZONE_ID.match("use1-az1")
