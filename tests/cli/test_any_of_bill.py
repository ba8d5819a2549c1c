"""An any-of workload's pool runs the chosen accelerator's hours (hoursPerMonth / speed): the bill (`newinfra
cost`, hence check, the plan summary and the lock's totals) prices that variant, as the lock's placement did."""

from __future__ import annotations

import json
import re
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


def test_the_bill_prices_a_capacity_block_for_its_whole_duration(tmp_path: Path, monkeypatch) -> None:
    """A Capacity Block is paid up front for the whole block at the offering's quote: the bill's node-group line
    says so, equals the lock's entry, and counts among the accelerator nodes; the reservation itself is free
    (priced on its node group, not twice)."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy2(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(REPO_ROOT / "stacks", root / "stacks",
                    ignore=shutil.ignore_patterns("__pycache__", ".*.lock", "deployments"))
    config = root / "stacks" / "Pulumi.dev.yaml"
    text = config.read_text()
    pretrain = ("      accelerator: A100\n      count: 16\n      perNode: 8\n      nodes: {min: 0, max: 2}\n"
                "      spot: true\n")
    assert pretrain in text and "      hoursPerMonth: 160\n" in text
    text = text.replace(pretrain, pretrain.replace("A100", "H100").replace("spot: true", "spot: false")
                        + "      capacityBlockOfferingId: cb-0123456789abcdef0\n", 1)
    text = text.replace("      hoursPerMonth: 160\n", "      hoursPerMonth: 300\n", 1)
    text = text.replace("  newinfra:workloads:\n", "  newinfra:capacityBlocks:\n    - {region: us-east-1, instanceType: "
                        "p5.48xlarge, count: 2, hourlyPriceUsd: 31.5, durationHours: 336, start: "
                        "'2026-12-07T11:30:00Z'}\n  newinfra:workloads:\n", 1)
    config.write_text(re.sub(r"(?m)^  newinfra:monthlyBudgetUsd: .*$", "  newinfra:monthlyBudgetUsd: 40000", text))
    monkeypatch.chdir(root)
    runner = CliRunner()
    assert runner.invoke(app, ["place", "dev"]).exit_code == 0
    lock = json.loads((root / "stacks" / "placements" / "dev.json").read_text())
    entry = lock["workloads"]["pretrain"]
    assert [p["market"] for p in entry["placements"]] == ["capacity-block"]
    assert entry["monthlyUsd"] == 2 * 336 * 31.5

    cost = runner.invoke(app, ["cost", "dev", "--json"])
    assert cost.exit_code == 0, cost.output
    bill = json.loads(cost.stdout)
    (group,) = [r for r in bill["resources"] if r["type"] == "aws:eks/nodeGroup:NodeGroup" and "pretrain" in r["name"]]
    (line,) = group["lines"]
    assert line["item"] == "p5.48xlarge capacity block, 2 node(s) x 336 h (the whole block)"
    assert (line["unitUsd"], group["monthlyUsd"]) == (31.5, entry["monthlyUsd"])
    # the reservation is free of charge (the JSON lists priced and unpriced resources only): never billed twice
    assert not [r for r in bill["resources"] if r["type"].endswith("capacityBlockReservation:CapacityBlockReservation")]
    assert bill["acceleratorMonthlyUsd"] >= entry["monthlyUsd"]
    assert bill["monthlyUsd"] == lock["totals"]["monthlyUsd"]
