"""ServingControllers (pinned Helm releases), LoadBalancerControllerRole (Pod Identity role with the scoped
policy) and InferenceService's objects waiting for what the service depends on."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
from newinfra.components.planning.serving_controllers import (
    KEDA_REPO,
    KEDA_VERSION,
    LBC_CLUSTER_TAG,
    LBC_SERVICE_ACCOUNT,
    LBC_VERSION,
    LWS_CHART,
    LWS_VERSION,
)

from newinfra.errors import ComponentInputError
from newinfra.offline import run_callable
from tests.components.k8s.test_serving import KUBECONFIG, args

LBC = {"cluster_name": "prod-gpu", "region": "us-east-2", "vpc_id": "vpc-1"}


def controllers(wanted, lbc=None):
    from newinfra.components.k8s.serving_controllers import ServingControllers

    def body():
        provider = k8s.Provider("cluster", kubeconfig=KUBECONFIG)
        ServingControllers("serving", {"controllers": wanted, **({"load_balancer_controller": lbc} if lbc else {})},
                           pulumi.ResourceOptions(provider=provider))

    return run_callable(body)


def test_one_pinned_release_per_controller():
    record = controllers(["aws-load-balancer-controller", "keda", "lws"], LBC)
    releases = {r["inputs"]["name"]: r["inputs"] for r in record.of_type("kubernetes:helm.sh/v3:Release")}
    assert sorted(releases) == ["aws-load-balancer-controller", "keda", "lws"]
    assert (releases["keda"]["version"], releases["keda"]["repositoryOpts"]["repo"]) == (KEDA_VERSION, KEDA_REPO)
    assert (releases["lws"]["chart"], releases["lws"]["version"]) == (LWS_CHART, LWS_VERSION)
    lbc = releases["aws-load-balancer-controller"]
    assert lbc["version"] == LBC_VERSION and lbc["namespace"] == "kube-system"
    assert lbc["values"]["clusterName"] == "prod-gpu" and lbc["values"]["vpcId"] == "vpc-1"
    assert lbc["values"]["serviceAccount"]["name"] == LBC_SERVICE_ACCOUNT


def test_only_what_is_asked_and_the_gateway_api_is_no_chart():
    record = controllers(["gateway-api", "keda"])
    assert [r["inputs"]["name"] for r in record.of_type("kubernetes:helm.sh/v3:Release")] == ["keda"]


@pytest.mark.parametrize("wanted, lbc, key", [
    (["nginx"], None, "controllers"),
    (["aws-load-balancer-controller"], None, "load_balancer_controller"),
    (["aws-load-balancer-controller"], {**LBC, "region": ""}, "load_balancer_controller.region"),
])
def test_bad_input_registers_nothing(wanted, lbc, key):
    with pytest.raises(ComponentInputError, match=key.replace(".", r"\.")):
        controllers(wanted, lbc)


def test_lbc_role_is_assumed_only_through_pod_identity_with_the_scoped_policy():
    from newinfra.components.aws.load_balancer_controller import LoadBalancerControllerRole

    def body():
        LoadBalancerControllerRole("lbc", {"cluster_name": "prod-gpu", "region": "us-east-2"},
                                   pulumi.ResourceOptions(provider=aws.Provider("use2", region="us-east-2")))

    record = run_callable(body)
    (role,) = record.of_type("aws:iam/role:Role")
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    (policy,) = record.of_type("aws:iam/policy:Policy")
    doc = json.loads(policy["inputs"]["policy"])
    create = next(s for s in doc["Statement"] if s["Sid"] == "CreateTaggedLoadBalancers")
    assert create["Condition"]["StringEquals"] == {f"aws:RequestTag/{LBC_CLUSTER_TAG}": "prod-gpu"}
    (assoc,) = record.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert (assoc["inputs"]["namespace"], assoc["inputs"]["serviceAccount"]) == ("kube-system", LBC_SERVICE_ACCOUNT)


def test_every_object_of_a_service_waits_for_what_the_service_depends_on():
    from newinfra.components.k8s.serving import InferenceService

    def body():
        provider = k8s.Provider("cluster", kubeconfig=KUBECONFIG)
        gate = k8s.core.v1.ConfigMap("controllers-ready", opts=pulumi.ResourceOptions(provider=provider))
        InferenceService("chat", args(), pulumi.ResourceOptions(providers=[provider], depends_on=[gate]))

    record = run_callable(body)
    (gate,) = record.of_type("kubernetes:core/v1:ConfigMap")
    children = [r for r in record.resources if r["custom"] and r["type"].startswith("kubernetes:")
                and r["type"] != "kubernetes:core/v1:ConfigMap"]
    assert len(children) >= 5
    assert all(gate["urn"] in r["dependencies"] for r in children), [r["type"] for r in children]
