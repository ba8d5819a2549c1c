"""An IAM role handed to a multi-language component (pulumi-eks's Cluster is one: remote=True), written
without the pulumi_eks package so the test needs only what newinfra installs."""

import json

import pulumi
import pulumi_aws as aws


class Cluster(pulumi.ComponentResource):
    """What pulumi_eks.Cluster's constructor does: a remote registration of eks:index:Cluster."""

    kubeconfig: pulumi.Output

    def __init__(self, name: str, props: dict, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks:index:Cluster", name, {**props, "kubeconfig": None}, opts, remote=True)


role = aws.iam.Role("nodes", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
cluster = Cluster("cluster", {"instanceRoles": [role], "desiredCapacity": 2})
aws.s3.BucketV2("artifacts")
pulumi.export("kubeconfig", cluster.kubeconfig)
