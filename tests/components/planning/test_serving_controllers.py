"""The controllers an InferenceService needs, planned from its objects, and the AWS Load Balancer Controller's
IAM policy: creation only with this cluster's tag, changes only to what carries it, nothing outside the account
and region."""

from __future__ import annotations

import pytest
from newinfra.components.planning.serving import plan_serving
from newinfra.components.planning.serving_controllers import (
    AWS_LBC,
    GATEWAY_API,
    KEDA,
    LBC_CLUSTER_TAG,
    LWS,
    controllers_needed,
    lbc_policy,
    lbc_values,
)

from newinfra.errors import ComponentInputError
from tests.components.k8s.test_serving import args, pools

CLUSTER = "newinfra-prod-aws-us-east-2-gpu"


def test_each_cloud_needs_its_load_balancer_controller_and_keda_for_the_burst():
    assert controllers_needed([plan_serving(args())]) == (AWS_LBC, KEDA)
    gcp = args(cloud="gcp", node_pools=pools(("us-central1-a", "us-central1-b")),
               exposure={"tls_certificate": "chat-cert"})
    assert controllers_needed([plan_serving(gcp)]) == (GATEWAY_API, KEDA)
    ali = args(cloud="alicloud", node_pools=pools(("cn-beijing-h", "cn-beijing-i")),
               exposure={"tls_certificate": "cert-1"})
    assert controllers_needed([plan_serving(ali)]) == (KEDA,)  # ACK's own cloud controller makes the SLB


def test_lws_only_for_a_replica_over_nodes_and_keda_only_with_a_burst():
    assert controllers_needed([plan_serving(args(nodes_per_replica=2))]) == (AWS_LBC, KEDA, LWS)
    fixed = plan_serving(args(min_replicas=2, max_replicas=2))  # no burst: nothing for KEDA to scale
    assert fixed.scaled_objects == () and controllers_needed([fixed]) == (AWS_LBC,)
    assert controllers_needed([]) == ()


def _statements():
    return {s["Sid"]: s for s in lbc_policy("aws", "123456789012", "us-east-2", CLUSTER)["Statement"]}


def test_creation_needs_the_clusters_own_request_tag():
    s = _statements()
    create = s["CreateTaggedLoadBalancers"]
    assert create["Condition"] == {"StringEquals": {f"aws:RequestTag/{LBC_CLUSTER_TAG}": CLUSTER}}
    assert sorted(create["Action"]) == ["elasticloadbalancing:CreateLoadBalancer",
                                        "elasticloadbalancing:CreateTargetGroup"]
    tag_sg = s["TagSecurityGroupOnCreate"]["Condition"]["StringEquals"]
    assert tag_sg == {"ec2:CreateAction": "CreateSecurityGroup", f"aws:RequestTag/{LBC_CLUSTER_TAG}": CLUSTER}
    on_create = s["TagLoadBalancersOnCreate"]["Condition"]["StringEquals"]
    assert on_create[f"aws:RequestTag/{LBC_CLUSTER_TAG}"] == CLUSTER
    assert "elasticloadbalancing:CreateAction" in on_create


def test_changes_only_to_resources_carrying_the_clusters_tag():
    s = _statements()
    own = {"StringEquals": {f"aws:ResourceTag/{LBC_CLUSTER_TAG}": CLUSTER}}
    for sid in ("ChangeOwnLoadBalancers", "ChangeOwnSecurityGroups", "OwnTargets"):
        assert s[sid]["Condition"] == own, sid
    destructive = {"elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:DeleteTargetGroup",
                   "ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupIngress", "elasticloadbalancing:RemoveTags"}
    for statement in s.values():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if destructive & set(actions):
            assert statement["Condition"] == own, statement["Sid"]


def test_nothing_outside_the_account_and_region_and_only_describes_on_star():
    for statement in _statements().values():
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if resources == ["*"]:
            actions = statement["Action"]
            assert all(a.split(":")[1].startswith(("Describe", "Get", "List")) for a in actions), statement["Sid"]
            continue
        for arn in resources:
            assert arn.startswith(("arn:aws:elasticloadbalancing:us-east-2:123456789012:",
                                   "arn:aws:ec2:us-east-2:123456789012:", "arn:aws:iam::123456789012:")), arn
    actions = {a for s in _statements().values()
               for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert not any(a.startswith(("waf", "shield", "cognito")) for a in actions)  # disabled in the values


def test_values_name_the_cluster_region_and_vpc_and_turn_off_waf_and_shield():
    values = lbc_values(CLUSTER, "us-east-2", "vpc-1")
    assert (values["clusterName"], values["region"], values["vpcId"]) == (CLUSTER, "us-east-2", "vpc-1")
    assert not (values["enableWaf"] or values["enableWafv2"] or values["enableShield"])
    with pytest.raises(ComponentInputError, match="load_balancer_controller.region"):
        lbc_values(CLUSTER, "", "vpc-1")
    with pytest.raises(ComponentInputError, match="load_balancer_controller.cluster_name"):
        lbc_policy("aws", "123456789012", "us-east-2", "")
