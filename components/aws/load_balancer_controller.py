"""newinfra:aws:LoadBalancerControllerRole — the IAM side of one EKS cluster's AWS Load Balancer Controller: a
policy scoped to what carries the cluster's elbv2.k8s.aws/cluster tag (components/planning/serving_controllers.py
lbc_policy), a role only EKS Pod Identity may assume, and the association to the controller's service account.
The controller itself is a Helm release of ServingControllers.
"""

import json
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
from newinfra.components.planning.guards import pod_identity_trust
from newinfra.components.planning.serving_controllers import LBC_NAMESPACE, LBC_SERVICE_ACCOUNT, lbc_policy

from newinfra.errors import ComponentInputError


class LoadBalancerControllerRoleArgs(TypedDict):
    cluster_name: pulumi.Input[str]
    region: str
    tags: NotRequired[dict[str, str]]


class LoadBalancerControllerRole(pulumi.ComponentResource):
    TYPE = "newinfra:aws:LoadBalancerControllerRole"
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerControllerRoleArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not args.get("cluster_name"):
            raise ComponentInputError("cluster_name", f"{args.get('cluster_name')!r} is empty; name the EKS cluster")
        region = args.get("region") or ""
        if not region:
            raise ComponentInputError("region", f"{region!r} is empty; name the cluster's AWS region")
        tags = dict(args.get("tags") or {})
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        policy = aws.iam.Policy(
            f"{name}-policy", description="AWS Load Balancer Controller: only its cluster's load balancers",
            policy=pulumi.Output.all(partition.partition, identity.account_id, args["cluster_name"]).apply(
                lambda a: json.dumps(lbc_policy(a[0], a[1], region, a[2]), sort_keys=True)),
            tags=tags, opts=child)
        role = aws.iam.Role(f"{name}-role", assume_role_policy=json.dumps(pod_identity_trust(), sort_keys=True),
                            description="aws-load-balancer-controller (EKS Pod Identity)", tags=tags, opts=child)
        aws.iam.RolePolicyAttachment(f"{name}-policy", role=role.name, policy_arn=policy.arn, opts=child)
        self.association = aws.eks.PodIdentityAssociation(
            f"{name}-identity", cluster_name=args["cluster_name"], namespace=LBC_NAMESPACE,
            service_account=LBC_SERVICE_ACCOUNT, role_arn=role.arn, tags=tags, opts=child)
        self.role_arn = role.arn
        self.register_outputs({"roleArn": self.role_arn})
