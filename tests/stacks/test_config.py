"""Every config mistake: one message with the key path, the bad value and what is valid; exit 2, no file."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from newinfra.cli.app import app
from newinfra.config import ConfigError, load_env_config, parse_config
from tests.paths import REPO_ROOT

DEV = yaml.safe_load((REPO_ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"]


def dev_raw() -> dict:
    return {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in DEV.items() if k.startswith("newinfra:")}


def test_reference_dev_config_is_valid():
    cfg = load_env_config("dev")
    assert cfg.environment == "dev"
    assert cfg.allowed_clouds == ("aws",)
    assert {w.name for w in cfg.workloads} == {"pretrain", "chat-serve"}


def _mutate(path: list, value=None, delete=False) -> dict:
    raw = dev_raw()
    node = raw
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return raw


CASES = {
    "unknown key": (_mutate(["workloads", 0, "gpus"], 8), ["newinfra:workloads[0].gpus", "unknown key", "perNode"]),
    "wrong type": (_mutate(["workloads", 0, "count"], "sixteen"), ["newinfra:workloads[0].count", "'sixteen'"]),
    "negative count": (_mutate(["workloads", 0, "count"], -4), ["newinfra:workloads[0].count", "-4", "greater than 0"]),
    "zero count": (_mutate(["workloads", 1, "count"], 0), ["newinfra:workloads[1].count", "0"]),
    "perNode not dividing": (_mutate(["workloads", 0, "perNode"], 3),
                             ["newinfra:workloads[0]", "perNode (3) must divide count (16)", "values: 1, 2, 4, 8, 16"]),
    "unknown accelerator": (_mutate(["workloads", 0, "accelerator"], "H900"),
                            ["newinfra:workloads[0].accelerator", "H900", "H100"]),
    "missing dataset": (_mutate(["workloads", 0, "dataset"], "nope"),
                        ["workloads[0].dataset", "'nope'", "web-tokens"]),
    "region outside the allowed set": (
        _mutate(["workloads", 0, "placement"], [{
            "workload": "pretrain", "cloud": "aws", "region": "eu-west-1", "zones": ["euw1-az1"],
            "instanceType": "p4d.24xlarge", "accelerator": "A100", "acceleratorsPerNode": 8, "nodes": 2,
            "minNodes": 0, "maxNodes": 2}]),
        ["newinfra:workloads[0].placement[0].region", "eu-west-1", "'internal'", "us-east-1"]),
    "unknown instance type": (
        _mutate(["workloads", 1, "placement"], [{
            "workload": "chat-serve", "cloud": "aws", "region": "us-east-1", "zones": ["use1-az1"],
            "instanceType": "g6.huge", "accelerator": "L4", "acceleratorsPerNode": 1, "nodes": 1,
            "minNodes": 1, "maxNodes": 1}]),
        ["newinfra:workloads[1].placement[0].instanceType", "g6.huge"]),
    "instance type not offered in the zone": (
        _mutate(["workloads", 1, "placement"], [{
            "workload": "chat-serve", "cloud": "aws", "region": "us-east-1", "zones": ["use1-az3"],
            "instanceType": "g6.xlarge", "accelerator": "L4", "acceleratorsPerNode": 1, "nodes": 1,
            "minNodes": 1, "maxNodes": 1}]),
        ["newinfra:workloads[1].placement[0].zones", "use1-az3"]),
    "missing cost tag": (_mutate(["tags", "cost-center"], delete=True), ["newinfra:tags", "cost-center"]),
    "open API endpoint": (_mutate(["clusterPublicCidrs"], ["0.0.0.0/0"]), ["newinfra:clusterPublicCidrs", "0.0.0.0/0"]),
    "bad environment name": (_mutate(["environment"], "Prod_EU"),
                             ["newinfra:environment", "'Prod_EU'", "^[a-z][a-z0-9-]{0,30}$", "prod-eu"]),
    "environment name too long": (_mutate(["environment"], "e" * 32), ["newinfra:environment", "'" + "e" * 32]),
    "unknown profile": (_mutate(["profile"], "prod"), ["newinfra:profile", "'prod'", "'production'", "'development'"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_names_key_value_and_valid(case):
    raw, expected = CASES[case]
    with pytest.raises(ConfigError) as err:
        parse_config(raw, "Pulumi.dev.yaml")
    message = str(err.value)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_cli_exits_2_and_writes_nothing(tmp_path: Path, monkeypatch):
    stacks_dir = tmp_path / "stacks"
    stacks_dir.mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: newinfra\nruntime: python\nmain: stacks/\nstackConfigDir: stacks\n")
    bad = _mutate(["workloads", 0, "count"], -1)
    (stacks_dir / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": {f"newinfra:{k}": v for k, v in bad.items()}}))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", "dev", "--out", str(out)])
    assert result.exit_code == 2
    assert "newinfra:workloads[0].count" in result.output
    assert not out.exists()


@pytest.mark.parametrize("name", ["qa", "prod-eu", "e2e", "a" * 31])
def test_any_sane_environment_name_is_valid(name):
    cfg = parse_config(_mutate(["environment"], name), f"Pulumi.{name}.yaml")
    assert cfg.environment == name and cfg.profile == "development"


def test_profile_is_declared_not_derived_from_the_name():
    assert load_env_config("prod").profile == "production"
    assert load_env_config("staging").profile == "development"
    raw = _mutate(["profile"], "production")
    del raw["budgetAlerts"]["stopGpuAtPercent"]  # a production profile is never stopped by a budget
    assert parse_config(raw, "Pulumi.dev.yaml").profile == "production"


def test_unknown_environment_lists_valid_ones():
    with pytest.raises(ConfigError, match=r"valid environments: dev, prod, staging$"):
        load_env_config("qa")
