"""Look-ups the way public AWS programs make them: the newest Amazon Linux image, the default VPC and its
subnets, the caller's account in an ARN, a role's trust policy from getPolicyDocument, the ECS-optimized AMI
from SSM, and a Route 53 zone the stack does not create (unknown offline)."""

import pulumi
import pulumi_aws as aws

ami = aws.ec2.get_ami(most_recent=True, owners=["amazon"],
                      filters=[{"name": "name", "values": ["al2023-ami-2023.*-kernel-6.1-x86_64"]},
                               {"name": "architecture", "values": ["x86_64"]}])
vpc = aws.ec2.get_vpc(default=True)
subnets = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc.id]}])
identity = aws.get_caller_identity()
assume = aws.iam.get_policy_document(statements=[{
    "actions": ["sts:AssumeRole"],
    "principals": [{"type": "Service", "identifiers": ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]}],
    "conditions": [{"test": "StringEquals", "variable": "aws:SourceAccount", "values": [identity.account_id]}],
}])
ecs_ami = aws.ssm.get_parameter_output(name="/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id")
zone = aws.route53.get_zone_output(name="example.com.")
plain_zone = aws.route53.get_zone(name="example.org.")

role = aws.iam.Role("app", assume_role_policy=assume.json,
                    inline_policies=[{"name": "read", "policy": f"arn:aws:iam::{identity.account_id}:root"}])
aws.ec2.Instance("web", ami=ami.id, instance_type="t3.micro", subnet_id=subnets.ids[0])
aws.ec2.Instance("ecs", ami=ecs_ami.value, instance_type="t3.micro", subnet_id=subnets.ids[1])
aws.route53.Record("www", zone_id=zone.zone_id, name="www.example.com", type="A", ttl=300, records=["10.0.0.1"])
aws.route53.Record("www-org", zone_id=plain_zone.zone_id, name="www.example.org", type="A", ttl=300,
                   records=["10.0.0.2"])

pulumi.export("vpcId", vpc.id)
pulumi.export("subnetIds", subnets.ids)
pulumi.export("amiName", ami.name)
pulumi.export("callerArn", identity.arn)
