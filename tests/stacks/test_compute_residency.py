"""End to end: the program tags compute with its workload's data classification (so the residency rule
judges clusters, node groups and launch templates, not only storage: tests/policies/test_residency_compute.py
has the failing and passing fixtures), and a stack cannot move its compute out of the platform's residency
by widening its own map: the platform's policy config wins, and the widening is refused by name."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from newinfra.cli.app import app
from newinfra.offline import run_program
from tests.paths import REPO_ROOT
from tests.stacks.test_bad_inputs import DEV_TEXT

# The team's stack lets internal data anywhere in the US and pins pretrain to us-west-2 (a hand-written
# placement, so no lock is consulted); the organisation's policy config keeps internal data in us-east-1.
PIN = """      team: research
      placement:
        - {cloud: aws, workload: pretrain, region: us-west-2, zones: [usw2-az1], instanceType: p4d.24xlarge,
           accelerator: A100, acceleratorsPerNode: 8, nodes: 2, minNodes: 0, maxNodes: 2, market: spot,
           nodeHourlyUsd: 7.9992, runsOn: kubernetes}
"""
POLICY_CONFIG = {"data-residency": {"residency": {"internal": ["us-east-1"], "public": ["*"]}}}
COMPUTE = ("aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:ec2/launchTemplate:LaunchTemplate")


def _project(root):
    shutil.copy(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(REPO_ROOT / "stacks", root / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    pretrain = "      dataset: web-tokens\n      hoursPerMonth: 160\n      team: research\n"
    assert DEV_TEXT.count(pretrain) == 1 and DEV_TEXT.count('internal: ["us-east-1"]') == 1
    text = DEV_TEXT.replace('internal: ["us-east-1"]', 'internal: ["us-*"]')
    text = text.replace(pretrain, pretrain.replace("      team: research\n", PIN))
    (root / "stacks" / "Pulumi.dev.yaml").write_text(text)
    (root / "policy-config.json").write_text(json.dumps(POLICY_CONFIG))


def test_compute_in_us_west_2_carries_its_data_classification(tmp_path):
    _project(tmp_path)
    record = run_program(tmp_path, "dev")
    tagged = {r["type"] for r in record.resources if r["type"] in COMPUTE and "us-west-2" in r["name"]
              and (r["inputs"].get("tags") or {}).get("newinfra-data-classification") == "internal"}
    assert tagged == set(COMPUTE)


def test_a_stack_cannot_widen_the_platforms_residency_to_move_compute(tmp_path, monkeypatch):
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "dev", "--policy-config", "policy-config.json", "--json"])
    assert result.exit_code == 2, result.output
    assert "newinfra:dataResidency.internal" in result.output and "us-east-1" in result.output
