"""newinfra:aws:DatasetCache — a dataset's S3 bytes next to its GPUs.

- ``fsx``: FSx for Lustre PERSISTENT_2, encrypted with the dataset's KMS key, linked to the dataset bucket by
  data repository associations (at most 8 per file system; lazy import, changes imported and exported).
- ``mountpoint``: the EKS add-on ``aws-mountpoint-s3-csi-driver`` (its role through EKS Pod Identity: read
  the bucket, decrypt with the dataset's key) and a read-only PersistentVolume + claim whose mount options give
  each node a bounded local cache and a metadata TTL.

The plan and its checks are components/planning/dataset_cache.py; this class only registers resources.
"""

from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
from newinfra.components.aws.storage import LUSTRE_PORTS
from newinfra.components.k8s.dataset_volume import DATASET_LABEL, dataset_claim
from newinfra.components.planning.dataset_cache import mountpoint_options, plan_cache_args
from newinfra.components.planning.tags import CLASSIFICATION_KEY
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError

MOUNTPOINT_ADDON = "aws-mountpoint-s3-csi-driver"
MOUNTPOINT_DRIVER = "s3.csi.aws.com"
MOUNTPOINT_SERVICE_ACCOUNT = "s3-csi-driver-sa"  # the add-on's controller and node service account
POD_IDENTITY_ADDON = "eks-pod-identity-agent"


class DatasetCacheArgs(TypedDict):
    dataset: str
    size_gb: float
    classification: str
    region: str  # where the cache sits: the GPUs' region
    bucket_region: NotRequired[str]  # where the dataset's bucket is (default: region)
    residency: dict[str, list[str]]  # newinfra:dataResidency ({} when the stack has none)
    bucket_name: pulumi.Input[str]
    key_arn: pulumi.Input[str]  # the dataset's key: the one its bucket is encrypted with
    tags: dict[str, str]
    cache: NotRequired[dict[str, Any]]  # kind, associations, throughput_per_tib, local_cache_gb, metadata_ttl_s
    # fsx
    vpc_id: NotRequired[pulumi.Input[str]]
    vpc_cidr: NotRequired[str]
    subnet_id: NotRequired[pulumi.Input[str]]  # Lustre lives in one zone: the training pool's
    # mountpoint
    cluster_name: NotRequired[pulumi.Input[str]]
    kubeconfig: NotRequired[pulumi.Input[str]]  # the cluster's: the claim is applied through it
    namespace: NotRequired[str]  # of the claim: the namespace of the workloads that read the dataset


class DatasetCache(pulumi.ComponentResource):
    TYPE = python_token("AwsDatasetCache")
    kind: str
    file_system_id: pulumi.Output[str] | None
    file_system_dns: pulumi.Output[str] | None
    claim_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: DatasetCacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        plan = plan_cache_args("aws", args)
        needed = ("vpc_id", "vpc_cidr", "subnet_id") if plan["kind"] == "fsx" else \
            ("cluster_name", "kubeconfig")
        missing = [k for k in needed if args.get(k) is None]
        if missing:
            raise ComponentInputError(missing[0], f"required by a {plan['kind']} cache (also needed: {missing[1:]})")
        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        self.kind = plan["kind"]
        tags = {**args["tags"], CLASSIFICATION_KEY: plan["classification"], DATASET_LABEL: plan["dataset"],
                "newinfra.io/purpose": "dataset-cache"}
        self.file_system_id = self.file_system_dns = self.claim_name = None
        if plan["kind"] == "fsx":
            fs = self._fsx(name, plan, args, tags)
            self.file_system_id, self.file_system_dns = fs.id, fs.dns_name
        else:
            self.claim_name = self._mountpoint(name, plan, args, tags)
        self.register_outputs({"kind": self.kind, "fileSystemId": self.file_system_id, "claimName": self.claim_name})

    def _fsx(self, name: str, plan: dict[str, Any], args: DatasetCacheArgs, tags: dict[str, str]
             ) -> aws.fsx.LustreFileSystem:
        child = pulumi.ResourceOptions(parent=self)
        sg = aws.ec2.SecurityGroup(f"{name}-lustre", vpc_id=args["vpc_id"],
                                   description="FSx for Lustre cache: clients in the VPC only", tags=tags, opts=child)
        for low, high in LUSTRE_PORTS:
            aws.vpc.SecurityGroupIngressRule(f"{name}-lustre-{low}", security_group_id=sg.id, ip_protocol="tcp",
                                             from_port=low, to_port=high, cidr_ipv4=args["vpc_cidr"], tags=tags,
                                             opts=child)
        aws.vpc.SecurityGroupEgressRule(f"{name}-lustre-egress", security_group_id=sg.id, ip_protocol="-1",
                                        cidr_ipv4=args["vpc_cidr"], tags=tags, opts=child)
        fs = aws.fsx.LustreFileSystem(
            f"{name}-lustre", storage_capacity=plan["capacity_gib"], subnet_ids=args["subnet_id"],
            security_group_ids=[sg.id], deployment_type="PERSISTENT_2",
            per_unit_storage_throughput=plan["throughput_per_tib"], kms_key_id=args["key_arn"],
            data_compression_type="LZ4", file_system_type_version="2.15", tags=tags, opts=child)
        bucket = pulumi.Output.from_input(args["bucket_name"])
        for i, link in enumerate(plan["associations"]):
            aws.fsx.DataRepositoryAssociation(
                f"{name}-dra-{i}", file_system_id=fs.id, file_system_path=link["path"],
                data_repository_path=pulumi.Output.concat("s3://", bucket, "/", link["prefix"]),
                batch_import_meta_data_on_create=True,
                s3={"auto_import_policy": {"events": ["NEW", "CHANGED", "DELETED"]},
                    "auto_export_policy": {"events": ["NEW", "CHANGED", "DELETED"]}},
                tags=tags, opts=child)
        return fs

    def _mountpoint(self, name: str, plan: dict[str, Any], args: DatasetCacheArgs, tags: dict[str, str]
                    ) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        bucket = pulumi.Output.from_input(args["bucket_name"])
        role = aws.iam.Role(f"{name}-mountpoint", description="Mountpoint for S3 CSI driver: read the dataset",
                            assume_role_policy=pulumi.Output.json_dumps({
                                "Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                                               "Action": ["sts:AssumeRole", "sts:TagSession"]}]}),
                            tags=tags, opts=child)
        aws.iam.RolePolicy(f"{name}-mountpoint", role=role.id, policy=pulumi.Output.json_dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "ListDataset", "Effect": "Allow", "Action": "s3:ListBucket",
                 "Resource": bucket.apply(lambda b: f"arn:aws:s3:::{b}")},
                {"Sid": "ReadDataset", "Effect": "Allow", "Action": "s3:GetObject",
                 "Resource": bucket.apply(lambda b: f"arn:aws:s3:::{b}/*")},
                {"Sid": "DecryptDataset", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": args["key_arn"]},
            ]}), opts=child)
        agent = aws.eks.Addon(f"{name}-pod-identity", cluster_name=args["cluster_name"],
                              addon_name=POD_IDENTITY_ADDON, tags=tags, opts=child)
        addon = aws.eks.Addon(f"{name}-mountpoint", cluster_name=args["cluster_name"], addon_name=MOUNTPOINT_ADDON,
                              pod_identity_associations=[{"role_arn": role.arn,
                                                          "service_account": MOUNTPOINT_SERVICE_ACCOUNT}],
                              tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[agent]))
        return dataset_claim(self, name, plan, bucket, args, MOUNTPOINT_DRIVER, mountpoint_options(plan),
                      {"bucketName": bucket}, addon)

