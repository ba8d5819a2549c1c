"""Residency judges compute as it judges storage: a node group, node pool or GPU VM pool of an ``internal``
workload (tagged with its dataset's classification by the components) is reported in a region the residency
map forbids — naming the resource, its region and the allowed regions — and passes in an allowed one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.builders import check, provider, res
from tests.policies.test_rules import ack_pool, gke_pool, node_group

US_EAST_ONLY = {"newinfra:dataResidency": {"internal": ["us-east-1"], "cn-resident": ["cn-*"], "public": ["*"]}}
INTERNAL = {"newinfra-data-classification": "internal"}
CN_ONLY = {"newinfra:dataResidency": {"internal": ["cn-beijing"], "public": ["*"]}}

AWS_WEST = provider("aws", "west", region="us-west-2")
ALI_BEIJING = provider("alicloud", "beijing", region="cn-beijing")


def _cases() -> list[tuple[str, dict[str, Any], dict[str, Any], str, dict[str, Any]]]:
    """(id, forbidden resource, allowed resource, forbidden region, config)."""
    ali_tags = {"owner": "ml-platform", "cost-center": "cc-4120", **INTERNAL}
    return [
        ("eks-node-group", node_group("train", tags=INTERNAL, via=AWS_WEST), node_group("train", tags=INTERNAL),
         "us-west-2", US_EAST_ONLY),
        ("gke-node-pool", gke_pool("train", {"resourceLabels": INTERNAL}),
         gke_pool("train", {"resourceLabels": INTERNAL}, location="us-east1"), "us-central1",
         {"newinfra:dataResidency": {"internal": ["us-east1"]}}),
        ("ack-node-pool", ack_pool("train", tags=ali_tags),
         res("alicloud:cs/nodePool:NodePool", "train", {**ack_pool("train")["inputs"], "tags": ali_tags}, via=ALI_BEIJING),
         "cn-hangzhou", CN_ONLY),
        ("aws-vm-pool", res("aws:ec2/launchTemplate:LaunchTemplate", "hosts", {"tags": INTERNAL}, via=AWS_WEST),
         res("aws:ec2/launchTemplate:LaunchTemplate", "hosts", {"tags": INTERNAL}), "us-west-2", US_EAST_ONLY),
        ("gcp-vm-pool", res("gcp:compute/instanceTemplate:InstanceTemplate", "hosts", {"labels": INTERNAL}),
         res("gcp:compute/instanceTemplate:InstanceTemplate", "hosts", {"labels": INTERNAL},
             via=provider("gcp", "east", region="us-east1")), "us-central1",
         {"newinfra:dataResidency": {"internal": ["us-east1"]}}),
        ("ecs-vm-pool", res("alicloud:ess/scalingConfiguration:ScalingConfiguration", "hosts", {"tags": ali_tags}),
         res("alicloud:ess/scalingConfiguration:ScalingConfiguration", "hosts", {"tags": ali_tags},
             via=ALI_BEIJING), "cn-hangzhou", CN_ONLY),
    ]


CASES = _cases()


@pytest.mark.parametrize(("forbidden", "region", "config"), [(c[1], c[3], c[4]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_compute_in_a_forbidden_region_is_reported(forbidden, region, config):
    ev = check([forbidden], config=config)
    found = [v for v in ev.violations if v.policy == "data-residency"]
    assert [v.resource for v in found] == [forbidden["name"]]
    allowed = config["newinfra:dataResidency"]["internal"]
    message = found[0].message
    assert f"'{forbidden['name']}'" in message and "'internal'" in message, message
    assert region in message and all(pattern in message for pattern in allowed), message


@pytest.mark.parametrize(("allowed", "config"), [(c[2], c[4]) for c in CASES], ids=[c[0] for c in CASES])
def test_compute_in_an_allowed_region_is_clean(allowed, config):
    ev = check([allowed], config=config)
    assert [v.message for v in ev.violations if v.policy == "data-residency"] == []


def test_compute_without_a_classification_is_not_judged():
    """A pool whose workload reads no dataset carries no classification: nothing to judge it by."""
    ev = check([node_group("train", via=AWS_WEST)], config=US_EAST_ONLY)
    assert [v.message for v in ev.violations if v.policy == "data-residency"] == []
