"""`newinfra cost` over the reference stacks: every line has a source and a date; bad usage exits 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from newinfra.cli.app import app
from tests.paths import REPO_ROOT as ROOT


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_cost_of_each_reference_stack_has_a_source_on_every_line(env, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    md = tmp_path / "bill.md"
    result = CliRunner().invoke(app, ["cost", env, "--json", "--markdown", str(md)])
    assert result.exit_code == 0, result.output
    bill = json.loads(result.stdout)
    assert bill["monthlyUsd"] > 0 and bill["maxMonthlyUsd"] >= bill["monthlyUsd"]
    assert len(bill["priceDate"]) == 10
    assert 0 < bill["acceleratorMonthlyUsd"] <= bill["monthlyUsd"]
    lines = [line for r in bill["resources"] for line in r["lines"]]
    assert lines and all(line["source"] and line["asOf"] for line in lines)
    assert set(bill["unpriced"]) == set(bill["unpricedReasons"])
    assert "coverage:" in md.read_text()


def test_bad_usage_file_exits_2_and_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    usage = tmp_path / "usage.yml"
    usage.write_text("aws:s3/bucketV2:BucketV2: {gbStored: -1}\n")
    md = tmp_path / "bill.md"
    result = CliRunner().invoke(app, ["cost", "dev", "--usage", str(usage), "--markdown", str(md)])
    assert result.exit_code == 2 and "gbStored: value -1" in result.output
    assert not md.exists()
