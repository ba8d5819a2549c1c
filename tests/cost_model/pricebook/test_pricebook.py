"""The price book refuses unsourced, undated or unknown-currency rows; UNVERIFIED rows are excluded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from newinfra.cost_model.pricebook import PriceBookError, load_pricebook
from newinfra.cost_model.pricebook.loader import DATA_DIR, PriceBook
from newinfra.cost_model.pricebook.usage import UsageError, check_usage, read_usage


def test_unverified_rows_are_excluded_with_the_reason():
    book = load_pricebook()
    unverified = [r for r in book.excluded if r["reason"].startswith("UNVERIFIED")]
    assert len(unverified) == 19  # the reference services.csv marks 19 rows UNVERIFIED
    assert "aws.fsx-lustre.persistent2-250" not in book.keys()


def test_every_instance_kind_has_an_hourly_price():
    book = load_pricebook()
    assert book.instance("aws", "us-east-1", "t3.micro").usd == 0.0104
    assert book.instance("gcp", "us-central1", "e2-medium") is not None
    ali = book.instance("alicloud", "cn-hangzhou", "ecs.gn7i-c8g1.2xlarge")
    assert ali is None or ali.usd > 0


def _copy(tmp_path: Path) -> Path:
    out = tmp_path / "book"
    shutil.copytree(DATA_DIR, out)
    return out


@pytest.mark.parametrize("column,value,message", [
    ("source", "", "no source"),
    ("asOf", "stored copy, undated", "is not a date"),
    ("currency", "EUR", "currency 'EUR' has no rate"),
])
def test_bad_rows_are_refused_naming_file_line_and_key(tmp_path, column, value, message):
    book = _copy(tmp_path)
    path = book / "services.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    import csv
    import io

    rows = list(csv.reader(io.StringIO(path.read_text())))
    rows[1][header.index(column)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue())
    with pytest.raises(PriceBookError) as err:
        PriceBook(book)
    assert "services.csv: line 2, key " + rows[1][0] in str(err.value) and message in str(err.value)


def test_usage_file_refuses_unknown_keys_and_negative_values(tmp_path):
    specs = {"aws:s3/bucketV2:BucketV2": {"gbStored": None}}
    resources = [{"urn": "urn:a::b", "name": "data", "type": "aws:s3/bucketV2:BucketV2"}]
    bad = tmp_path / "usage.yml"
    bad.write_text("data: {gbStored: -5}\n")
    with pytest.raises(UsageError, match=r"usage.yml: key data.gbStored: value -5"):
        read_usage(bad)
    bad.write_text("data: {gbStord: 5}\n")
    with pytest.raises(UsageError, match=r"key data.gbStord: unknown usage attribute"):
        check_usage(read_usage(bad), resources, specs)
    bad.write_text("nobody: {gbStored: 5}\n")
    with pytest.raises(UsageError, match=r"key 'nobody' is no resource"):
        check_usage(read_usage(bad), resources, specs)
