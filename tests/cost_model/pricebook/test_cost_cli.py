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


def test_a_real_preview_json_is_priced_like_a_record(tmp_path):
    prov = "urn:pulumi:dev::team::pulumi:providers:aws::use1"
    steps = [
        {"op": "create", "urn": prov, "newState": {"urn": prov, "type": "pulumi:providers:aws", "custom": True,
                                                   "inputs": {"region": "us-east-1"}}},
        {"op": "create", "urn": "urn:pulumi:dev::team::aws:ec2/instance:Instance::web",
         "newState": {"urn": "urn:pulumi:dev::team::aws:ec2/instance:Instance::web", "type": "aws:ec2/instance:Instance",
                      "custom": True, "provider": f"{prov}::04da6b54", "inputs": {"instanceType": "t3.micro"}}},
        {"op": "delete", "urn": "urn:pulumi:dev::team::aws:ec2/instance:Instance::old",
         "oldState": {"urn": "urn:pulumi:dev::team::aws:ec2/instance:Instance::old"}},
    ]
    preview = tmp_path / "preview.json"
    preview.write_text(json.dumps({"steps": steps}))
    result = CliRunner().invoke(app, ["cost", "--preview", str(preview), "--json"])
    assert result.exit_code == 0, result.output
    bill = json.loads(result.stdout)
    # instances.csv: aws,us-east-1,t3.micro,0.0104 x 730 h
    assert bill["monthlyUsd"] == round(0.0104 * 730, 2) and [r["type"] for r in bill["resources"]] == [
        "aws:ec2/instance:Instance"]
    preview.write_text("{}")
    bad = CliRunner().invoke(app, ["cost", "--preview", str(preview)])
    assert bad.exit_code == 2 and "no 'steps' list" in bad.output
