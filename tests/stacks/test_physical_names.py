"""Two stacks in one account and region never ask a cloud for the same name.

dev, and a copy of dev called qa (same cloud, region and account, dev's placements pinned so no lock is
needed), planned with the offline engine: every physical-name input of every cloud resource of one record
is absent from the other. dev and prod share none either.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml

from newinfra.offline import run_program
from tests.paths import REPO_ROOT

# Inputs that name a resource to its cloud (or reference such a name). Kubernetes objects are left out:
# their names live inside one stack's own cluster.
NAME_KEY = re.compile(r"(^name$|^namePrefix$|^baseInstanceName$|^accountId$|^nodeId$|^bucket$|Name$)")
# Keys ending in "Name" that are not a resource's name: a runtime, an AWS service endpoint, a free-text
# label shown in consoles (GCP display names need not be unique), an EKS add-on's catalogue name (one per
# cluster: the cluster's own name scopes it).
NOT_NAMES = {"runtimeName", "serviceName", "displayName", "addonName"}


def physical_names(resources: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    out: set[tuple[str, str, str]] = set()

    def walk(typ: str, value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(typ, v, k)
        elif isinstance(value, list):
            for v in value:
                walk(typ, v, key)
        elif isinstance(value, str) and NAME_KEY.search(key) and key not in NOT_NAMES:
            out.add((typ, key, value))

    for r in resources:
        if r["custom"] and not r["type"].startswith("kubernetes:"):
            for key, value in r["inputs"].items():
                # nested names: TPU queued resources name their node inside "tpu.nodeSpecs[].nodeId"
                if isinstance(value, dict | list):
                    if key == "tpu":
                        walk(r["type"], value)
                    continue
                walk(r["type"], value, key)
    return out


def _stack_config(stack: str) -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


def _qa_config() -> dict[str, Any]:
    """dev's config under another name, dev's locked placements pinned (qa has no lock of its own)."""
    import json

    config = copy.deepcopy(_stack_config("dev"))
    config["newinfra:environment"] = "qa"
    lock = json.loads((REPO_ROOT / "stacks" / "placements" / "dev.json").read_text())
    for workload in config["newinfra:workloads"]:
        workload["placement"] = lock["workloads"][workload["name"]]["placements"]
    return config


@pytest.fixture(scope="module")
def records() -> dict[str, list[dict[str, Any]]]:
    return {
        "dev": run_program(REPO_ROOT, "dev").resources,
        "qa": run_program(REPO_ROOT, "qa", config=_qa_config()).resources,
        "prod": run_program(REPO_ROOT, "prod").resources,
    }


def _values(names: set[tuple[str, str, str]]) -> set[str]:
    return {value for _, _, value in names}


def test_a_copy_of_dev_shares_no_physical_name(records):
    dev, qa = physical_names(records["dev"]), physical_names(records["qa"])
    # The same program: as many named inputs, of the same types and keys, only the names differ.
    assert {(t, k) for t, k, _ in dev} == {(t, k) for t, k, _ in qa}
    assert len(dev) >= 10 and len(dev) == len(qa)
    assert not _values(dev) & _values(qa)
    assert {t for t, _, _ in dev} >= {"aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup",
                                      "aws:kms/alias:Alias", "aws:cloudwatch/logGroup:LogGroup"}


def test_dev_and_prod_share_no_physical_name(records):
    assert not _values(physical_names(records["dev"])) & _values(physical_names(records["prod"]))

