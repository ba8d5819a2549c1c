"""Pricing functions per Pulumi type token: one small module per service family, one registry.

A pricing function takes the resource's inputs and a ``bill.Context`` and returns its ``Line``s, or raises
``bill.Unpriced`` with the reason. ``usage`` declares the usage attributes the type takes, with their
documented defaults (``newinfra cost --usage-defaults``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from newinfra.cost_model.pricebook.usage import Spec


@dataclass(frozen=True)
class Pricer:
    fn: Callable[[Mapping[str, Any], Any], list]
    usage: Mapping[str, Spec] = field(default_factory=dict)
    free_when_empty: str = ""


def _registry() -> dict[str, Pricer]:
    from newinfra.cost_model.pricebook.pricing import (
        alicloud_ack,
        alicloud_ecs,
        alicloud_storage,
        aws_ebs,
        aws_ec2,
        aws_eks,
        aws_fsx,
        aws_kms,
        aws_lb,
        aws_logs,
        aws_misc,
        aws_nat,
        aws_s3,
        gcp_compute,
        gcp_gke,
        gcp_network,
        gcp_storage,
        k8s_lb,
    )

    out: dict[str, Pricer] = {}
    for module in (alicloud_ack, alicloud_ecs, alicloud_storage, aws_ebs, aws_ec2, aws_eks, aws_fsx, aws_kms,
                   aws_lb, aws_logs, aws_misc, aws_nat, aws_s3, gcp_compute, gcp_gke, gcp_network, gcp_storage, k8s_lb):
        for token, pricer in module.PRICERS.items():
            if token in out:
                raise RuntimeError(f"{token} priced twice ({module.__name__})")
            out[token] = pricer
    return dict(sorted(out.items()))


REGISTRY: dict[str, Pricer] = _registry()
USAGE: dict[str, Mapping[str, Spec]] = {t: p.usage for t, p in REGISTRY.items()}

from newinfra.cost_model.record_pools import POOL_TYPES, TEMPLATE_TYPES  # noqa: E402

POOL_OR_TEMPLATE_TYPES = (*POOL_TYPES, *TEMPLATE_TYPES)

# Types the clouds do not charge for (their cost is in what they configure or in another resource's line).
# Matched by exact token, else by module prefix ("aws:iam/").
FREE: dict[str, str] = {
    "pulumi:": "Pulumi bookkeeping (providers, stack)",
    "kubernetes:": "runs on the cluster's nodes, which are priced",
    "random:": "generated locally", "tls:": "generated locally",
    "aws:iam/": "IAM: no charge", "aws:ec2/vpc:": "VPC: no charge", "aws:ec2/subnet:": "subnet: no charge",
    "aws:ec2/securityGroup": "security group: no charge", "aws:vpc/securityGroup": "security group: no charge",
    "aws:ec2/routeTable": "route table: no charge", "aws:ec2/route:": "route: no charge",
    "aws:ec2/internetGateway": "internet gateway: no charge (data transfer is egress)",
    "aws:ec2/mainRouteTableAssociation": "no charge", "aws:ec2/defaultSecurityGroup": "no charge",
    "aws:ec2/placementGroup": "placement group: no charge", "aws:ec2/vpcEndpoint": "",
    "aws:ec2/launchTemplate:": "a template: priced with the group or node group that launches it",
    "aws:ec2/capacityBlockReservation:": "a Capacity Block: priced on the node group that runs on it, at the "
                                          "offering's quote for the whole block (newinfra:capacityBlocks)",
    "aws:eks/addon:": "EKS add-on: no charge", "aws:eks/accessEntry": "no charge",
    "aws:eks/accessPolicyAssociation": "no charge", "aws:eks/podIdentityAssociation": "no charge",
    "aws:s3/bucketPublicAccessBlock": "bucket setting: no charge",
    "aws:s3/bucketServerSideEncryptionConfiguration": "bucket setting: no charge",
    "aws:s3/bucketVersioning": "bucket setting: no charge (versions are stored GB)",
    "aws:s3/bucketLifecycleConfiguration": "bucket setting: no charge",
    "aws:s3/bucketOwnershipControls": "bucket setting: no charge", "aws:s3/bucketPolicy": "no charge",
    "aws:kms/alias:": "key alias: no charge",
    "aws:s3/bucketLogging": "bucket setting: the logs are objects, priced as storage of the log bucket",
    "aws:fsx/dataRepositoryAssociation": "link to S3: no charge of its own", "aws:ebs/encryptionByDefault": "account setting: no charge",
    "aws:ebs/defaultKmsKey": "account setting: no charge",
    "aws:budgets/budget:": "budget without actions: $0.00 per budget-day (AWS Budgets price list)",
    "aws:cloudwatch/eventRule:": "EventBridge: events from AWS services to the default bus are free",
    "aws:cloudwatch/eventTarget:": "EventBridge target: no charge of its own", "aws:sqs/queuePolicy:": "no charge",
    "aws:sns/topicPolicy:": "no charge", "gcp:billing/budget:": "Cloud Billing budgets: no charge",
    "gcp:monitoring/notificationChannel:": "no charge", "gcp:pubsub/topicIAM": "no charge",
    "gcp:projects/": "project IAM / services: no charge", "gcp:serviceaccount/": "service account: no charge",
    "gcp:compute/network:": "VPC network: no charge", "gcp:compute/subnetwork:": "subnet: no charge",
    "gcp:compute/firewall:": "firewall rule: no charge", "gcp:compute/router:": "Cloud Router: no charge",
    "gcp:compute/instanceTemplate:": "a template: priced with the group that launches it",
    "gcp:kms/keyRing:": "key ring: no charge", "gcp:kms/cryptoKeyIAM": "no charge",
    "gcp:storage/bucketIAM": "no charge", "gcp:compute/resourcePolicy": "no charge",
    "gcp:compute/globalAddress:": "", "gcp:servicenetworking/": "",
    "alicloud:vpc/network:": "VPC: no charge", "alicloud:vpc/switch:": "vSwitch: no charge",
    "alicloud:ecs/securityGroup": "security group: no charge", "alicloud:ram/": "RAM: no charge",
    "alicloud:ess/scalingConfiguration:": "a template: priced with its scaling group",
    "alicloud:vpc/snatEntry:": "SNAT entry: no charge (the NAT gateway is priced)",
    "alicloud:oss/bucketPublicAccessBlock": "no charge", "alicloud:kms/alias": "no charge",
    "alicloud:nas/mountTarget": "no charge", "alicloud:nas/accessGroup": "no charge",
    "alicloud:nas/accessRule": "no charge",
    "alicloud:ecs/eipAssociation": "binding an EIP: no charge of its own (the EIP is priced)",
}


@cache
def free_reason(token: str) -> str | None:
    """Why ``token`` costs nothing, or None when it is not known to be free (then it is unpriced)."""
    for prefix, why in FREE.items():
        if why and token.startswith(prefix):
            return why
    return None
