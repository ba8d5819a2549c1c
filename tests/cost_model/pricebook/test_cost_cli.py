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


def _check_output(stack: str, monthly: float, at_max: float, base: float | None, date: str) -> str:
    return json.dumps({"violations": [], "stack": stack, "cost": {"monthlyUsd": monthly, "maxMonthlyUsd": at_max,
                                                                  "priceDate": date},
                       "lock": {"baseMonthlyUsd": base}})


def test_summary_totals_the_environments_from_their_check_outputs(tmp_path):
    (tmp_path / "dev.json").write_text(_check_output("dev", 100.10, 150.0, 90.0, "2025-02-01"))
    (tmp_path / "prod.json").write_text(_check_output("prod", 1000.25, 1200.5, 1000.25, "2024-07-01"))
    md = tmp_path / "summary.md"
    args = ["cost", "--summary", str(tmp_path / "prod.json"), "--summary", str(tmp_path / "dev.json")]
    result = CliRunner().invoke(app, [*args, "--json", "--markdown", str(md)])
    assert result.exit_code == 0, result.output
    total = json.loads(result.stdout)
    assert (total["monthlyUsd"], total["maxMonthlyUsd"], total["baseMonthlyUsd"], total["deltaUsd"]) == \
        (1100.35, 1350.5, 1090.25, 10.1)
    assert total["priceDate"] == "2024-07-01" and total["complete"] is True
    text = md.read_text()
    assert text.index("| `dev` |") < text.index("| `prod` |")  # sorted by stack
    assert "| `dev` | $100.10 | $150.00 | $90.00 | +$10.10 |" in text
    assert "| **total** | **$1,100.35** | $1,350.50 | $1,090.25 | **+$10.10** |" in text
    assert "_Prices as of 2024-07-01 (the oldest price used)._" in text
    # an environment whose check could not run is listed, and the total says it leaves it out
    (tmp_path / "staging.json").write_text(json.dumps({"error": {"kind": "program", "message": "boom"}}))
    result = CliRunner().invoke(app, [*args, "--summary", str(tmp_path / "staging.json")])
    assert result.exit_code == 0, result.output
    assert "| `staging` | not priced: the check could not run |" in result.stdout
    assert "leaves out the environments that could not be checked" in result.stdout


@pytest.mark.parametrize(("content", "message"), [
    (None, "does not exist"),
    ("{not json", "is not JSON"),
    ('{"cost": {"monthlyUsd": "x"}}', "cost.monthlyUsd"),
])
def test_summary_bad_input_exits_2_and_writes_nothing(tmp_path, content, message):
    path = tmp_path / "dev.json"
    if content is not None:
        path.write_text(content)
    md = tmp_path / "summary.md"
    result = CliRunner().invoke(app, ["cost", "--summary", str(path), "--markdown", str(md)])
    assert result.exit_code == 2
    assert message in result.stderr and str(path) in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not md.exists()
    mixed = CliRunner().invoke(app, ["cost", "dev", "--summary", str(path)])
    assert mixed.exit_code == 2 and "--summary reads check outputs on its own" in mixed.stderr
