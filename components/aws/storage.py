"""newinfra:aws:Storage — a customer-managed KMS key, the dataset bucket, and optionally FSx for Lustre."""


from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
from newinfra.components.aws.kms import KeyArgs, create_key
from newinfra.components.plain import require_plain
from newinfra.components.planning.tags import CLASSIFICATION_KEY
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError

# FSx for Lustre needs TCP 988 and 1018-1023 between clients and servers.
LUSTRE_PORTS = ((988, 988), (1018, 1023))


class SharedFileSystemArgs(TypedDict):
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_id: pulumi.Input[str]  # Lustre lives in one zone: the training pool's
    capacity_gib: NotRequired[int]  # multiples of 1200 for PERSISTENT_2
    throughput_per_tib: NotRequired[int]  # 125 | 250 | 500 | 1000


class StorageArgs(TypedDict):
    dataset: str
    classification: str
    tags: NotRequired[dict[str, str]]
    # Days until noncurrent object versions expire (versioning keeps them otherwise forever).
    noncurrent_days: NotRequired[int]
    shared_file_system: NotRequired[SharedFileSystemArgs]


LUSTRE_THROUGHPUTS = (125, 250, 500, 1000)


class Storage(pulumi.ComponentResource):
    TYPE = python_token("AwsStorage")
    key_arn: pulumi.Output[str]
    bucket_name: pulumi.Output[str]
    file_system_id: pulumi.Output[str] | None
    file_system_dns: pulumi.Output[str] | None

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        classification = require_plain(args, "classification")
        tags = {**(args.get("tags") or {}), CLASSIFICATION_KEY: classification,
                "newinfra.io/dataset": require_plain(args, "dataset")}
        fs_args = args.get("shared_file_system")
        if fs_args is not None:
            _check_lustre(fs_args)
        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)

        key = create_key(self, f"{name}-key", KeyArgs(description=f"newinfra {name} data", tags=tags))
        logs = self._bucket(f"{name}-access-logs", {**tags, "newinfra.io/purpose": "access-logs"},
                            kms_key_arn=None, noncurrent_days=30)
        bucket = self._bucket(f"{name}-data", tags, kms_key_arn=key.arn,
                              noncurrent_days=int(args.get("noncurrent_days", 30)))
        aws.s3.BucketLogging(f"{name}-data-logging", bucket=bucket.id, target_bucket=logs.id,
                             target_prefix="s3/", opts=child)

        self.key_arn = key.arn
        self.bucket_name = bucket.bucket
        self.file_system_id = self.file_system_dns = None
        if fs_args is not None:
            fs = self._lustre(name, fs_args, key, bucket, tags)
            self.file_system_id, self.file_system_dns = fs.id, fs.dns_name
        self.register_outputs({"keyArn": self.key_arn, "bucketName": self.bucket_name,
                               "fileSystemId": self.file_system_id})

    def _bucket(self, name: str, tags: dict[str, str], kms_key_arn: pulumi.Output[str] | None,
                noncurrent_days: int) -> aws.s3.Bucket:
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(name, force_destroy=False, tags=tags, opts=child)
        aws.s3.BucketPublicAccessBlock(name, bucket=bucket.id, block_public_acls=True, block_public_policy=True,
                                       ignore_public_acls=True, restrict_public_buckets=True, opts=child)
        aws.s3.BucketOwnershipControls(name, bucket=bucket.id,
                                       rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
        # Server access logs cannot be delivered to an SSE-KMS bucket: the log bucket uses S3-managed keys.
        by_default = {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn} if kms_key_arn is not None \
            else {"sse_algorithm": "AES256"}
        aws.s3.BucketServerSideEncryptionConfiguration(
            name, bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": by_default,
                    "bucket_key_enabled": kms_key_arn is not None}],
            opts=child)
        aws.s3.BucketVersioning(name, bucket=bucket.id, versioning_configuration={"status": "Enabled"},
                                opts=child)
        aws.s3.BucketLifecycleConfiguration(
            name, bucket=bucket.id,
            rules=[
                {"id": "abort-incomplete-uploads", "status": "Enabled", "filter": {},
                 "abort_incomplete_multipart_upload": {"days_after_initiation": 7}},
                {"id": "expire-noncurrent-versions", "status": "Enabled", "filter": {},
                 "noncurrent_version_expiration": {"noncurrent_days": noncurrent_days}},
                {"id": "intelligent-tiering", "status": "Enabled", "filter": {},
                 "transitions": [{"days": 30, "storage_class": "INTELLIGENT_TIERING"}]},
            ],
            opts=child)
        aws.s3.BucketPolicy(
            name, bucket=bucket.id,
            policy=pulumi.Output.json_dumps({
                "Version": "2012-10-17",
                "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
                               "Action": "s3:*",
                               "Resource": [bucket.arn, bucket.arn.apply(lambda a: f"{a}/*")],
                               "Condition": {"Bool": {"aws:SecureTransport": "false"}}}],
            }),
            opts=child)
        return bucket

    def _lustre(self, name: str, fs_args: SharedFileSystemArgs, key: aws.kms.Key, bucket: aws.s3.Bucket,
                tags: dict[str, str]) -> aws.fsx.LustreFileSystem:
        child = pulumi.ResourceOptions(parent=self)
        sg = aws.ec2.SecurityGroup(f"{name}-lustre", vpc_id=fs_args["vpc_id"],
                                   description="FSx for Lustre: clients in the VPC only", tags=tags, opts=child)
        for low, high in LUSTRE_PORTS:
            aws.vpc.SecurityGroupIngressRule(f"{name}-lustre-{low}", security_group_id=sg.id, ip_protocol="tcp",
                                             from_port=low, to_port=high, cidr_ipv4=fs_args["vpc_cidr"],
                                             tags=tags, opts=child)
        aws.vpc.SecurityGroupEgressRule(f"{name}-lustre-egress", security_group_id=sg.id, ip_protocol="-1",
                                        cidr_ipv4=fs_args["vpc_cidr"], tags=tags, opts=child)
        fs = aws.fsx.LustreFileSystem(
            f"{name}-lustre", storage_capacity=int(fs_args.get("capacity_gib", 1200)),
            subnet_ids=fs_args["subnet_id"], security_group_ids=[sg.id], deployment_type="PERSISTENT_2",
            per_unit_storage_throughput=int(fs_args.get("throughput_per_tib", 250)), kms_key_id=key.arn,
            data_compression_type="LZ4", file_system_type_version="2.15", tags=tags, opts=child)
        aws.fsx.DataRepositoryAssociation(
            f"{name}-lustre-s3", file_system_id=fs.id, file_system_path="/datasets",
            data_repository_path=bucket.bucket.apply(lambda b: f"s3://{b}"),
            batch_import_meta_data_on_create=True,
            s3={"auto_import_policy": {"events": ["NEW", "CHANGED", "DELETED"]},
                "auto_export_policy": {"events": ["NEW", "CHANGED", "DELETED"]}},
            tags=tags, opts=child)
        return fs


def _check_lustre(fs_args: SharedFileSystemArgs) -> None:
    capacity = int(fs_args.get("capacity_gib", 1200))
    if capacity <= 0 or capacity % 1200:
        raise ComponentInputError("shared_file_system.capacity_gib", f"{capacity} is not valid for PERSISTENT_2; use 1200, 2400, 3600, ...")
    throughput = int(fs_args.get("throughput_per_tib", 250))
    if throughput not in LUSTRE_THROUGHPUTS:
        raise ComponentInputError("shared_file_system.throughput_per_tib", f"{throughput} is not valid; valid: {list(LUSTRE_THROUGHPUTS)}")
