"""A moto account seeded with clean and planted-problem resources, for the audit tests."""

from __future__ import annotations

import json

REGION = "us-east-1"
TAGS = {"owner": "ml-platform", "cost-center": "cc-4120", "environment": "dev"}
SUFFIX = "1a2b3c4"  # the auto-name suffix Pulumi would have added


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def clean_bucket(s3, name: str, key_arn: str, log_target: str | None) -> None:
    s3.create_bucket(Bucket=name)
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list(TAGS)})
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True})
    algorithm = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn} if log_target else {"SSEAlgorithm": "AES256"}
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": algorithm, "BucketKeyEnabled": True}]})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
        {"ID": "expire-noncurrent-versions", "Status": "Enabled", "Filter": {"Prefix": ""},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]})
    if log_target:
        s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": log_target, "TargetPrefix": f"{name}/"}})


def seed(session) -> dict[str, str]:
    """Clean resources and one of each planted problem; returns the ids of what the tests name."""
    ids: dict[str, str] = {}
    kms = session.client("kms", region_name=REGION)
    key = kms.create_key(Description="data key", Tags=[{"TagKey": k, "TagValue": v} for k, v in TAGS.items()])
    key_arn = key["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=key["KeyMetadata"]["KeyId"])
    ids["key"] = key["KeyMetadata"]["KeyId"]
    s3 = session.client("s3", region_name=REGION)
    logs = f"aws-us-east-1-chat-weights-access-logs-{SUFFIX}"
    clean_bucket(s3, logs, key_arn, None)
    s3.put_bucket_policy(Bucket=logs, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "S3ServerAccessLogs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{logs}/*"}]}))
    clean_bucket(s3, f"aws-us-east-1-chat-weights-data-{SUFFIX}", key_arn, logs)
    # Planted: a public bucket (no public access block, a policy granting everyone read).
    public = "team-public-share"
    clean_bucket(s3, public, key_arn, logs)
    s3.delete_public_access_block(Bucket=public)
    s3.put_bucket_policy(Bucket=public, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{public}/*"}]}))
    ids["public_bucket"] = public

    ec2 = session.client("ec2", region_name=REGION)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    # A private subnet: moto's default subnets map public IPs on launch, as AWS's do.
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="172.31.240.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    default_sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])
    ec2.create_tags(Resources=[g["GroupId"] for g in default_sg["SecurityGroups"]], Tags=tag_list(TAGS))
    good_sg = ec2.create_security_group(GroupName="internal-https", Description="https from the VPC", VpcId=vpc,
                                        TagSpecifications=[{"ResourceType": "security-group", "Tags": tag_list(TAGS)}])
    ec2.authorize_security_group_ingress(GroupId=good_sg["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    ids["good_sg"] = good_sg["GroupId"]
    # Planted: SSH open to the world.
    bad_sg = ec2.create_security_group(GroupName="debug-ssh", Description="ssh", VpcId=vpc,
                                       TagSpecifications=[{"ResourceType": "security-group", "Tags": tag_list(TAGS)}])
    ec2.authorize_security_group_ingress(GroupId=bad_sg["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ids["open_ssh_sg"] = bad_sg["GroupId"]

    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    disk = [{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 50, "VolumeType": "gp3", "Encrypted": True, "KmsKeyId": key_arn}}]

    def run(itype: str, tags: dict[str, str], tokens: str) -> str:
        spec = [{"ResourceType": kind, "Tags": tag_list(tags)} for kind in ("instance", "volume")]
        out = ec2.run_instances(ImageId=ami, InstanceType=itype, MinCount=1, MaxCount=1, SubnetId=subnet,
                                BlockDeviceMappings=disk, TagSpecifications=spec, SecurityGroupIds=[good_sg["GroupId"]],
                                MetadataOptions={"HttpTokens": tokens, "HttpEndpoint": "enabled",
                                                 "HttpPutResponseHopLimit": 2})
        return out["Instances"][0]["InstanceId"]

    ids["good_instance"] = run("m5.large", TAGS, "required")
    ids["imdsv1_instance"] = run("m5.large", TAGS, "optional")  # planted: IMDSv1
    ids["unmanaged_gpu"] = run("p4d.24xlarge", {"owner": "someone"}, "required")  # planted: no stack's tags
    zone = f"{REGION}a"
    good_vol = ec2.create_volume(AvailabilityZone=zone, Size=100, VolumeType="gp3", Encrypted=True, KmsKeyId=key_arn,
                                 TagSpecifications=[{"ResourceType": "volume", "Tags": tag_list(TAGS)}])
    ids["good_volume"] = good_vol["VolumeId"]
    bad_vol = ec2.create_volume(AvailabilityZone=zone, Size=100, VolumeType="gp3", Encrypted=False,
                                TagSpecifications=[{"ResourceType": "volume", "Tags": tag_list(TAGS)}])
    ids["unencrypted_volume"] = bad_vol["VolumeId"]  # planted: unencrypted
    return ids
