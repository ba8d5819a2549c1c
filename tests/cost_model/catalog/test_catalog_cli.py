"""`newinfra catalog`: tables and JSON, exit 2 with the valid values on bad input."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from newinfra.cli.catalog import register


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """newinfra (test shell)"""

    register(app)
    return app


def run(app, *args: str):
    return CliRunner().invoke(app, ["catalog", *args])


def test_json_offers_filtered_and_sorted(app):
    result = run(app, "--accelerator", "nvidia-h100-80gb", "--cloud", "aws", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    offers = data["offers"]
    assert offers and {(o["cloud"], o["accelerator"]) for o in offers} == {("aws", "H100")}
    per_gpu = [o["onDemandUsd"] / o["acceleratorsPerNode"] for o in offers]
    assert per_gpu == sorted(per_gpu)
    assert data["version"].startswith("sha256:")


def test_table(app):
    result = run(app, "--accelerator", "v5e", "--cloud", "gcp")
    assert result.exit_code == 0
    assert "tpu-v5litepod" in result.stdout and "v5litepod-8" in result.stdout and "2x4" in result.stdout
    assert "days old" in result.stderr  # the stale-catalog warning, once
    assert result.stderr.count("days old") == 1


def test_excluded(app):
    result = run(app, "--excluded", "--cloud", "alicloud", "--json")
    assert result.exit_code == 0
    reasons = {e["reason"] for e in json.loads(result.stdout)["excluded"]}
    assert "vGPU / shared-GPU slice: not a whole GPU" in reasons


def test_bad_accelerator_exits_2_naming_valid(app):
    result = run(app, "--accelerator", "h1000")
    assert result.exit_code == 2
    assert "--accelerator: unknown accelerator 'h1000'; valid: A10, A100" in result.stderr


def test_bad_cloud_exits_2(app):
    result = run(app, "--cloud", "azure")
    assert result.exit_code == 2
    assert "--cloud: unknown cloud 'azure'; valid: alicloud, aws, gcp" in result.stderr


def test_region_pattern(app):
    result = run(app, "--accelerator", "l4", "--region", "europe-*", "--json")
    assert result.exit_code == 0
    regions = {o["region"] for o in json.loads(result.stdout)["offers"]}
    assert regions and all(r.startswith("europe-") for r in regions)
