"""Pure planning for the controllers an InferenceService's objects need on its cluster: KEDA (ScaledObject),
LeaderWorkerSet (the LWS CRD), on EKS the AWS Load Balancer Controller (the ALB Ingress) with the IAM policy
its Pod Identity role gets, on GKE the Gateway API (a cluster setting, not a chart).

A controller is needed exactly where a planned service has an object of its kind (``controllers_needed``), so
a cluster that serves nothing keeps its record unchanged. No resources here; tested on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from newinfra.components.planning.serving import ServingPlan

from newinfra.errors import ComponentInputError

KEDA = "keda"
LWS = "lws"
AWS_LBC = "aws-load-balancer-controller"
GATEWAY_API = "gateway-api"

# Pinned charts. KEDA: kedacore/charts "keda" (Apache-2.0), chart 2.17.2 = KEDA 2.17.2 (the version teams pin in
# helm_release / Flux HelmRelease in public repositories read 2026-11; kedacore/keda releases).
KEDA_REPO = "https://kedacore.github.io/charts"
KEDA_CHART = "keda"
KEDA_VERSION = "2.17.2"
KEDA_NAMESPACE = "keda"
# LeaderWorkerSet: kubernetes-sigs/lws charts/lws, published as an OCI chart; 0.8.0 (pinned by NVIDIA/aicr #2500,
# "chart lws from oci://registry.k8s.io/lws/charts, pinned v0.8.0, namespace lws-system").
LWS_CHART = "oci://registry.k8s.io/lws/charts/lws"
LWS_VERSION = "0.8.0"
LWS_NAMESPACE = "lws-system"
# AWS Load Balancer Controller: aws/eks-charts stable/aws-load-balancer-controller, chart 1.14.0 (controller
# v2.14.0; the version EKS blueprints-style helm_release pins read 2026-11). Its service account gets the role
# below through EKS Pod Identity (the cluster runs the eks-pod-identity-agent add-on).
LBC_REPO = "https://aws.github.io/eks-charts"
LBC_CHART = "aws-load-balancer-controller"
LBC_VERSION = "1.14.0"
LBC_NAMESPACE = "kube-system"
LBC_SERVICE_ACCOUNT = "aws-load-balancer-controller"
# What the controller tags every load balancer, target group and security group it creates with (value: the
# cluster name); the policy lets it create only with this tag and change only what carries it.
LBC_CLUSTER_TAG = "elbv2.k8s.aws/cluster"
# GKE's Gateway API channel (google_container_cluster gateway_api_config.channel).
GKE_GATEWAY_CHANNEL = "CHANNEL_STANDARD"


def controllers_needed(plans: Iterable[ServingPlan]) -> tuple[str, ...]:
    """The controllers the planned services' objects need, sorted: KEDA for a ScaledObject, LWS for a
    LeaderWorkerSet, the AWS Load Balancer Controller for an ``alb`` Ingress, the Gateway API for a Gateway."""
    need: set[str] = set()
    for plan in plans:
        if plan.scaled_objects:
            need.add(KEDA)
        if any(w.kind == "LeaderWorkerSet" for w in plan.workloads):
            need.add(LWS)
        for kind, _, _, spec in plan.exposure:
            if kind == "Ingress" and spec.get("ingressClassName") == "alb":
                need.add(AWS_LBC)
            elif kind == "Gateway":
                need.add(GATEWAY_API)
    return tuple(sorted(need))


def keda_values() -> dict[str, Any]:
    """KEDA's operator, metrics server and admission webhooks (the chart's values.yaml names)."""
    return {"crds": {"install": True}, "rbac": {"create": True},
            # the webhooks refuse a ScaledObject that targets a workload another autoscaler already scales
            "webhooks": {"enabled": True}}


def lws_values() -> dict[str, Any]:
    # the chart's own self-signed certificates for the webhook; no cert-manager needed
    return {"enableCertManager": False}


def lbc_values(cluster_name: Any, region: str, vpc_id: Any) -> dict[str, Any]:
    """The controller on one EKS cluster: its name (the tag value it scopes itself to), region and VPC given,
    not looked up from IMDS (IMDSv2 with hop limit 1 keeps pods from the node's metadata)."""
    if not region:
        raise ComponentInputError("load_balancer_controller.region", f"{region!r} is empty; name the cluster's "
                                  "AWS region")
    return {
        "clusterName": cluster_name, "region": region, "vpcId": vpc_id,
        "serviceAccount": {"create": True, "name": LBC_SERVICE_ACCOUNT},
        "replicaCount": 2,
        # WAF, WAFv2 and Shield are not used by our Ingresses: off, so the role needs none of their actions
        "enableShield": False, "enableWaf": False, "enableWafv2": False,
    }


# The controller's documented policy (kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json,
# v2.14), narrowed: resources in the cluster's account and region, the cluster tag's *value* (not only its
# presence) on every create and every change, no WAF / Shield / Cognito (disabled in lbc_values).
LBC_READ_ACTIONS = (
    "acm:DescribeCertificate", "acm:ListCertificates",
    "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
    "ec2:DescribeCoipPools", "ec2:DescribeInstances", "ec2:DescribeInternetGateways", "ec2:DescribeIpamPools",
    "ec2:DescribeNetworkInterfaces", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets", "ec2:DescribeTags", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeVpcs",
    "ec2:GetCoipPoolUsage", "ec2:GetSecurityGroupsForVpc",
    "elasticloadbalancing:DescribeCapacityReservation", "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeListenerCertificates", "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeSSLPolicies",
    "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTrustStores",
)
LBC_MODIFY_ACTIONS = (
    "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:ModifyCapacityReservation", "elasticloadbalancing:ModifyListenerAttributes",
    "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:SetIpAddressType",
    "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
)
LBC_LISTENER_ACTIONS = (
    "elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:CreateListener",
    "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:DeleteRule",
    "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule",
    "elasticloadbalancing:RemoveListenerCertificates",
)


def lbc_policy(partition: str, account: str, region: str, cluster_name: str) -> dict[str, Any]:
    """The IAM policy of one cluster's AWS Load Balancer Controller. Creation only with the request tag
    ``elbv2.k8s.aws/cluster = <cluster>``; modification, deletion, re-tagging and security-group changes only on
    resources carrying that tag with that value; everything in the cluster's account and region."""
    for key, value in (("partition", partition), ("account", account), ("region", region),
                       ("cluster_name", cluster_name)):
        if not value:
            raise ComponentInputError(f"load_balancer_controller.{key}", f"{value!r} is empty")
    elb = f"arn:{partition}:elasticloadbalancing:{region}:{account}"
    ec2 = f"arn:{partition}:ec2:{region}:{account}"
    lbs = [f"{elb}:loadbalancer/app/*/*", f"{elb}:loadbalancer/net/*/*", f"{elb}:targetgroup/*/*"]
    listeners = [f"{elb}:listener/app/*/*/*", f"{elb}:listener/net/*/*/*", f"{elb}:listener-rule/app/*/*/*/*",
                 f"{elb}:listener-rule/net/*/*/*/*"]
    request_tag = {"StringEquals": {f"aws:RequestTag/{LBC_CLUSTER_TAG}": cluster_name}}
    resource_tag = {"StringEquals": {f"aws:ResourceTag/{LBC_CLUSTER_TAG}": cluster_name}}
    statements = [
        {"Sid": "ElbServiceLinkedRole", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
         "Resource": f"arn:{partition}:iam::{account}:role/aws-service-role/elasticloadbalancing.amazonaws.com/*",
         "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}},
        # Describe/Get/List calls have no resource-level permissions: "*" is the only form IAM accepts.
        {"Sid": "Read", "Effect": "Allow", "Action": list(LBC_READ_ACTIONS), "Resource": "*"},
        {"Sid": "CreateTaggedSecurityGroup", "Effect": "Allow", "Action": "ec2:CreateSecurityGroup",
         "Resource": [f"{ec2}:security-group/*", f"{ec2}:vpc/*"]},
        {"Sid": "TagSecurityGroupOnCreate", "Effect": "Allow", "Action": "ec2:CreateTags",
         "Resource": f"{ec2}:security-group/*",
         "Condition": {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup",
                                        f"aws:RequestTag/{LBC_CLUSTER_TAG}": cluster_name}}},
        {"Sid": "ChangeOwnSecurityGroups", "Effect": "Allow",
         "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:CreateTags", "ec2:DeleteSecurityGroup",
                    "ec2:DeleteTags", "ec2:RevokeSecurityGroupIngress"],
         "Resource": f"{ec2}:security-group/*", "Condition": resource_tag},
        {"Sid": "CreateTaggedLoadBalancers", "Effect": "Allow",
         "Action": ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
         "Resource": lbs, "Condition": request_tag},
        {"Sid": "TagLoadBalancersOnCreate", "Effect": "Allow", "Action": "elasticloadbalancing:AddTags",
         "Resource": lbs + listeners,
         "Condition": {"StringEquals": {
             "elasticloadbalancing:CreateAction": ["CreateListener", "CreateLoadBalancer", "CreateRule",
                                                   "CreateTargetGroup"],
             f"aws:RequestTag/{LBC_CLUSTER_TAG}": cluster_name}}},
        {"Sid": "ChangeOwnLoadBalancers", "Effect": "Allow",
         "Action": [*LBC_MODIFY_ACTIONS, "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
         "Resource": lbs, "Condition": resource_tag},
        {"Sid": "OwnTargets", "Effect": "Allow",
         "Action": ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
         "Resource": f"{elb}:targetgroup/*/*", "Condition": resource_tag},
        # Listeners and rules are created on a load balancer the statements above already confine; a listener
        # made by an older controller carries no tag, so a tag condition here would strand it.
        {"Sid": "ListenersOfTheRegion", "Effect": "Allow", "Action": list(LBC_LISTENER_ACTIONS),
         "Resource": lbs + listeners},
    ]
    return {"Version": "2012-10-17", "Statement": statements}
