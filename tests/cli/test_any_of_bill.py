"""An any-of workload's pool runs the chosen accelerator's hours (hoursPerMonth / speed): the bill (`newinfra
cost`, hence check, the plan summary and the lock's totals) prices that variant, as the lock's placement did."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from newinfra.cli.app import app
from tests.paths import REPO_ROOT


def test_the_bill_prices_the_chosen_variant_s_hours(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy2(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(REPO_ROOT / "stacks", root / "stacks",
                    ignore=shutil.ignore_patterns("__pycache__", ".*.lock", "deployments"))
    config = root / "stacks" / "Pulumi.dev.yaml"
    text = config.read_text()
    assert "      accelerator: A100\n" in text  # dev's pretrain: 160 h a month on A100
    config.write_text(text.replace("      accelerator: A100\n", "      accelerators: {A100: 0.5, H100: 1.0}\n", 1))
    monkeypatch.chdir(root)
    runner = CliRunner()
    assert runner.invoke(app, ["place", "dev"]).exit_code == 0
    lock = json.loads((root / "stacks" / "placements" / "dev.json").read_text())
    entry = lock["workloads"]["pretrain"]
    speed = entry["anyOf"]["speed"]
    assert entry["anyOf"]["hoursPerMonth"] == 160 / speed != 160  # the chosen card runs longer (or shorter)

    cost = runner.invoke(app, ["cost", "dev", "--json"])
    assert cost.exit_code == 0, cost.output
    bill = json.loads(cost.stdout)
    pools = [r for r in bill["resources"] if r["name"].startswith("aws-us-east-1-gpu-pretrain") and r.get("lines")]
    assert pools and all(line["item"].endswith(f"x {160 / speed:g} h") for r in pools for line in r["lines"])
    assert round(sum(r["monthlyUsd"] for r in pools), 2) == entry["monthlyUsd"]
    assert bill["monthlyUsd"] == lock["totals"]["monthlyUsd"]
