"""The guard components' own rules (the contract test covers a bad argument registering nothing): production is
never stopped by a budget, GKE spot pools carry graceful node shutdown and on-demand pools do not."""

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pytest
from newinfra.components.aws.guards import BudgetGuard
from newinfra.components.gcp.cluster import GpuCluster
from newinfra.components.planning.guards import spot_kubelet_config

from newinfra.errors import ComponentInputError
from newinfra.offline import run_callable
from tests.components.test_contract import GCP_KEY, TAGS, gcp_pool

GUARD = {"budget_usd": 1000.0, "thresholds": [{"percent": 90}], "recipients": ["ops@example.com"],
         "scope": {"environment": "prod"}, "profile": "production",
         "stop_gpu": {"percent": 100, "roles": ["nodes"]}}


def test_a_production_guard_refuses_a_stop_action_and_registers_nothing():
    raised = []

    def body():
        with pytest.raises(ComponentInputError) as info:
            BudgetGuard("guard", GUARD, pulumi.ResourceOptions(provider=aws.Provider("use1", region="us-east-1")))
        raised.append(info.value)

    record = run_callable(body)
    assert raised[0].property_path == "stop_gpu" and "'production'" in raised[0].reason
    assert [r for r in record.resources if not r["type"].startswith("pulumi:providers:")] == []


def test_without_a_stop_action_production_gets_the_budget_only():
    args = {k: v for k, v in GUARD.items() if k != "stop_gpu"}
    record = run_callable(lambda: BudgetGuard("guard", args, pulumi.ResourceOptions(
        provider=aws.Provider("use1", region="us-east-1"))))
    assert len(record.of_type("aws:budgets/budget:Budget")) == 1
    assert not record.of_type("aws:budgets/budgetAction:BudgetAction")


def test_gke_spot_pools_shut_down_gracefully_and_on_demand_pools_are_left_alone():
    pools = [gcp_pool(), {**gcp_pool(), "name": "serve", "market": "on-demand"}]
    record = run_callable(lambda: GpuCluster("c", {
        "location": "us-central1", "network": "n", "subnetwork": "s", "kms_key": GCP_KEY, "node_pools": pools,
        "tags": TAGS, "network_cidr": "10.64.0.0/12"},
        pulumi.ResourceOptions(provider=gcp.Provider("usc1", region="us-central1", project="p"))))
    configs = {r["name"]: r["inputs"]["nodeConfig"] for r in record.of_type("gcp:container/nodePool:NodePool")}
    (spot,) = [c for name, c in configs.items() if name != "c-serve"]
    serve = configs["c-serve"]
    assert spot["spot"] is True and spot["kubeletConfig"] == {
        "shutdownGracePeriodSeconds": spot_kubelet_config()["shutdown_grace_period_seconds"],
        "shutdownGracePeriodCriticalPodsSeconds": spot_kubelet_config()["shutdown_grace_period_critical_pods_seconds"]}
    assert "kubeletConfig" not in serve
