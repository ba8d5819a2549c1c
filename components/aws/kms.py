"""Customer-managed KMS keys: rotation on, a key policy that names the account (never a wildcard)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
from newinfra.components.physical import physical


@dataclass(frozen=True)
class KeyArgs:
    description: str
    tags: dict[str, str] = field(default_factory=dict)
    # Service principals that use the key through grants on behalf of the account (e.g. logs).
    service_principals: tuple[str, ...] = ()
    # Service-linked roles (path under :role/, e.g. Auto Scaling's) that launch resources with the key:
    # they use it and create grants for the AWS resources they launch.
    service_linked_roles: tuple[str, ...] = ()
    deletion_window_days: int = 30


def create_key(parent: pulumi.Resource, name: str, args: KeyArgs) -> aws.kms.Key:
    child = pulumi.ResourceOptions(parent=parent)
    identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    account = pulumi.Output.concat("arn:", partition.partition, ":iam::", identity.account_id)
    statements = [{
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": pulumi.Output.concat(account, ":root")},
        "Action": "kms:*",
        "Resource": "*",
    }]
    for role in args.service_linked_roles:
        principal = {"AWS": pulumi.Output.concat(account, ":role/", role)}
        statements += [
            {"Sid": "ServiceLinkedRoleUsesKey", "Effect": "Allow", "Principal": principal,
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
             "Resource": "*"},
            {"Sid": "ServiceLinkedRoleGrantsToAwsResources", "Effect": "Allow", "Principal": principal,
             "Action": "kms:CreateGrant", "Resource": "*",
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}}},
        ]
    if args.service_principals:
        statements.append({
            "Sid": "ServicesEncrypt",
            "Effect": "Allow",
            "Principal": {"Service": sorted(args.service_principals)},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": identity.account_id}},
        })
    key = aws.kms.Key(
        name, description=args.description, enable_key_rotation=True, rotation_period_in_days=365,
        deletion_window_in_days=args.deletion_window_days,
        policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
        tags=args.tags, opts=child)
    aws.kms.Alias(name, name=f"alias/{physical('aws:kms:alias', name)}", target_key_id=key.key_id, opts=child)
    return key
