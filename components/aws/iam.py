"""IAM roles that an AWS service assumes."""

import json

import pulumi
import pulumi_aws as aws


def service_role(parent: pulumi.Resource, name: str, service: str, tags: dict[str, str],
                 managed_policies: tuple[str, ...] = ()) -> aws.iam.Role:
    """A role only ``service`` (e.g. ec2.amazonaws.com) may assume, with AWS-managed policies attached."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(name, assume_role_policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}],
    }), tags=tags, opts=child)
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=parent)).partition
    for policy in managed_policies:
        aws.iam.RolePolicyAttachment(f"{name}-{policy}", role=role.name,
                                     policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", policy),
                                     opts=child)
    return role
