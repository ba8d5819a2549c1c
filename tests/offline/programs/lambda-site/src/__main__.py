"""A team's Lambda behind a bucket, written the way public examples are: relative asset paths, a look-up
of the newest AMI, a secret token, and a guard that only `pulumi up` needs a real domain."""

import json

import pulumi
import pulumi_aws as aws

cfg = pulumi.Config()
if not pulumi.runtime.is_dry_run() and cfg.get("domain") == "example.org":
    raise ValueError("configure a real domain before pulumi up")
token = cfg.require_secret("apiToken")

zones = aws.get_availability_zones(state="available")
ami = aws.ec2.get_ami(most_recent=True, owners=["amazon"],
                      filters=[{"name": "name", "values": ["al2023-ami-*-x86_64"]}])

role = aws.iam.Role("fn-role", assume_role_policy=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}]}))
fn = aws.lambda_.Function(
    "fn", role=role.arn, runtime="python3.12", handler="handler.handler",
    code=pulumi.AssetArchive({"handler.py": pulumi.FileAsset("handler.py"),
                              "config.json": pulumi.StringAsset('{"debug": false}')}),
    environment={"variables": {"API_TOKEN": token}})
bucket = aws.s3.BucketV2("site", tags={"owner": "web", "cost-center": "cc-1"})
aws.s3.BucketObject("index", bucket=bucket.id, source=pulumi.FileAsset("site/index.html"))
aws.s3.BucketObject("bundle", bucket=bucket.id, source=pulumi.FileArchive("site"))
aws.ec2.Instance("web", ami=ami.id, instance_type="t3.micro", availability_zone=zones.names[0])

pulumi.export("zone", zones.names[0])
pulumi.export("functionArn", fn.arn)
pulumi.export("token", token)
