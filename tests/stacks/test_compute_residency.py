"""End to end: the program tags compute with its workload's data classification, so `newinfra check` reports
a cluster, node group and launch template that hold `internal` data in a region the residency policy forbids,
while the dataset's bucket in its allowed home region stays clean."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from newinfra.cli.app import app
from tests.paths import REPO_ROOT
from tests.stacks.test_bad_inputs import DEV_TEXT

# The team's stack config lets its internal data's compute anywhere in the US and pins pretrain to us-west-2
# (a hand-written placement, so no lock is consulted for it); the organisation's policy config keeps
# internal data in us-east-1. Only compute breaks that: the bucket stays in its home region, us-east-1.
PIN = """      team: research
      placement:
        - {cloud: aws, workload: pretrain, region: us-west-2, zones: [usw2-az1], instanceType: p4d.24xlarge,
           accelerator: A100, acceleratorsPerNode: 8, nodes: 2, minNodes: 0, maxNodes: 2, market: spot,
           nodeHourlyUsd: 7.9992, runsOn: kubernetes}
"""
POLICY_CONFIG = {"data-residency": {"residency": {"internal": ["us-east-1"], "public": ["*"]}}}


def _project(root):
    shutil.copy(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(REPO_ROOT / "stacks", root / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    pretrain = "      dataset: web-tokens\n      hoursPerMonth: 160\n      team: research\n"
    assert DEV_TEXT.count(pretrain) == 1 and DEV_TEXT.count('internal: ["us-east-1"]') == 1
    text = DEV_TEXT.replace('internal: ["us-east-1"]', 'internal: ["us-*"]')
    text = text.replace(pretrain, pretrain.replace("      team: research\n", PIN))
    (root / "stacks" / "Pulumi.dev.yaml").write_text(text)
    (root / "policy-config.json").write_text(json.dumps(POLICY_CONFIG))


def test_check_reports_compute_in_a_region_its_data_may_not_be(tmp_path, monkeypatch):
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "dev", "--policy-config", "policy-config.json", "--json"])
    assert result.exit_code == 1, result.output  # mandatory violations
    report = json.loads(result.output[result.output.index("{"):])
    found = sorted((v["urn"].split("$")[-1].split("::")[0], v["resource"], v["message"])
                   for v in report["violations"] if v["policy"] == "data-residency")
    types = [t for t, _, _ in found]
    assert types == ["aws:ec2/launchTemplate:LaunchTemplate", "aws:eks/cluster:Cluster",
                     "aws:eks/nodeGroup:NodeGroup"], found
    for _, name, message in found:
        assert name.startswith("aws-us-west-2-gpu-"), name
        # the message names the resource, its data, its region and the allowed regions (wording aside)
        assert all(part in message for part in (name, "internal", "us-west-2", "us-east-1")), message
    # nothing else is reported: the buckets in us-east-1 are where their data may be
    assert {v["policy"] for v in report["violations"]} == {"data-residency"}
