"""Read a live AWS account through boto3 into a record shaped like the offline one, so the same rules judge it.

The set of types read is fixed (``READ_TYPES``): the ones the data-security and budget rules judge that carry
most risk. Each AWS API shape becomes the Pulumi type token and the camelCase inputs pulumi-aws records and the
rules read (policies/rules/**): a bucket's settings become the companion resources pulumi-aws v7 uses
(BucketPublicAccessBlock, BucketServerSideEncryptionConfiguration, BucketVersioning, BucketLogging,
BucketPolicy, BucketLifecycleConfiguration), each naming its bucket in ``bucket`` as a program's would; a launch
template is its default version. Everything else in the account (load balancers, FSx, databases, VPCs and flow
logs, IAM policies, ...) is not read: the audit says so.

The endpoint is boto3's own: the standard AWS_ENDPOINT_URL environment variable points it at a moto server.
"""

from __future__ import annotations

from typing import Any

S3_BUCKET = "aws:s3/bucket:Bucket"
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
S3_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
S3_LOGGING = "aws:s3/bucketLogging:BucketLogging"
S3_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
EC2_INSTANCE = "aws:ec2/instance:Instance"
EBS_VOLUME = "aws:ebs/volume:Volume"
KMS_KEY = "aws:kms/key:Key"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
IAM_ROLE = "aws:iam/role:Role"
PROVIDER = "pulumi:providers:aws"

READ_TYPES = (S3_BUCKET, S3_PUBLIC_ACCESS_BLOCK, S3_SSE, S3_VERSIONING, S3_LOGGING, S3_POLICY, S3_LIFECYCLE,
              SECURITY_GROUP,
              EC2_INSTANCE, EBS_VOLUME, KMS_KEY, EKS_CLUSTER, EKS_NODE_GROUP, LAUNCH_TEMPLATE, IAM_ROLE)
# Types read once per account, not per region (IAM is global; S3 lists every region's buckets).
GLOBAL_TYPES = (IAM_ROLE,)


def urn(stack: str, project: str, type_token: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{project}::{type_token}::{name}"


def _tags(tag_list: Any) -> dict[str, str]:
    """AWS's [{Key, Value}] (or {key, value}) as the map pulumi-aws records."""
    out = {}
    for t in tag_list or []:
        # EC2/S3/IAM say Key/Value, KMS says TagKey/TagValue.
        key = t.get("Key", t.get("TagKey", t.get("key")))
        if key is not None:
            out[str(key)] = str(t.get("Value", t.get("TagValue", t.get("value", ""))))
    return dict(sorted(out.items()))


def _error_code(err: Exception) -> str:
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))


def _optional(call, missing_code: str, **kwargs: Any) -> Any:
    """The API's answer, or None when it says the setting is absent (NoSuchBucketPolicy, ...)."""
    from botocore.exceptions import ClientError

    try:
        return call(**kwargs)
    except ClientError as err:
        if _error_code(err) == missing_code:
            return None
        raise


# --- pure mappings: one AWS API shape -> pulumi-aws inputs ------------------------------------------------

def bucket_inputs(name: str, tags: dict[str, str]) -> dict[str, Any]:
    return {"bucket": name, "tags": tags}


def public_access_block_inputs(bucket: str, conf: dict[str, Any]) -> dict[str, Any]:
    return {"bucket": bucket, "blockPublicAcls": bool(conf.get("BlockPublicAcls")),
            "blockPublicPolicy": bool(conf.get("BlockPublicPolicy")),
            "ignorePublicAcls": bool(conf.get("IgnorePublicAcls")),
            "restrictPublicBuckets": bool(conf.get("RestrictPublicBuckets"))}


def sse_inputs(bucket: str, conf: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for rule in conf.get("Rules", []):
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        applied = {"sseAlgorithm": default.get("SSEAlgorithm", "")}
        if default.get("KMSMasterKeyID"):
            applied["kmsMasterKeyId"] = default["KMSMasterKeyID"]
        rules.append({"applyServerSideEncryptionByDefault": applied,
                      "bucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False))})
    return {"bucket": bucket, "rules": rules}


def versioning_inputs(bucket: str, answer: dict[str, Any]) -> dict[str, Any]:
    # A bucket never versioned answers no Status; pulumi-aws records that state as "Disabled".
    return {"bucket": bucket, "versioningConfiguration": {"status": answer.get("Status", "Disabled")}}


def logging_inputs(bucket: str, enabled: dict[str, Any]) -> dict[str, Any]:
    return {"bucket": bucket, "targetBucket": enabled.get("TargetBucket", ""),
            "targetPrefix": enabled.get("TargetPrefix", "")}


def lifecycle_inputs(bucket: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    out = []
    for rule in rules:
        entry: dict[str, Any] = {"id": rule.get("ID", ""), "status": rule.get("Status", "")}
        if "Expiration" in rule and rule["Expiration"].get("Days") is not None:
            entry["expiration"] = {"days": int(rule["Expiration"]["Days"])}
        if rule.get("Transitions"):
            entry["transitions"] = [{"days": int(t.get("Days", 0)), "storageClass": t.get("StorageClass", "")}
                                    for t in rule["Transitions"]]
        if rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") is not None:
            entry["noncurrentVersionExpiration"] = {
                "noncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])}
        out.append(entry)
    return {"bucket": bucket, "rules": sorted(out, key=lambda e: e["id"])}


def security_group_inputs(group: dict[str, Any]) -> dict[str, Any]:
    ingress = []
    for perm in group.get("IpPermissions", []):
        rule: dict[str, Any] = {
            "protocol": str(perm.get("IpProtocol", "-1")),
            "fromPort": int(perm.get("FromPort", 0)), "toPort": int(perm.get("ToPort", 0)),
            "cidrBlocks": sorted(r["CidrIp"] for r in perm.get("IpRanges", []) if r.get("CidrIp")),
            "ipv6CidrBlocks": sorted(r["CidrIpv6"] for r in perm.get("Ipv6Ranges", []) if r.get("CidrIpv6")),
            "securityGroups": sorted(p["GroupId"] for p in perm.get("UserIdGroupPairs", []) if p.get("GroupId")),
        }
        ingress.append(rule)
    ingress.sort(key=lambda r: (r["protocol"], r["fromPort"], r["toPort"], r["cidrBlocks"], r["ipv6CidrBlocks"]))
    return {"name": group.get("GroupName", ""), "description": group.get("Description", ""),
            "vpcId": group.get("VpcId", ""), "ingress": ingress, "tags": _tags(group.get("Tags"))}


def volume_inputs(volume: dict[str, Any]) -> dict[str, Any]:
    out = {"availabilityZone": volume.get("AvailabilityZone", ""), "size": int(volume.get("Size", 0)),
           "type": volume.get("VolumeType", ""), "encrypted": bool(volume.get("Encrypted")),
           "tags": _tags(volume.get("Tags"))}
    if volume.get("KmsKeyId"):
        out["kmsKeyId"] = volume["KmsKeyId"]
    if volume.get("Iops"):
        out["iops"] = int(volume["Iops"])
    return out


def instance_inputs(instance: dict[str, Any], volumes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An instance as pulumi-aws records it; its disks' encryption comes from DescribeVolumes (``volumes`` by
    id), since DescribeInstances names the volumes only."""
    root_name = instance.get("RootDeviceName")
    root: dict[str, Any] = {}
    others = []
    for mapping in instance.get("BlockDeviceMappings", []):
        vol = volumes.get(mapping.get("Ebs", {}).get("VolumeId", ""), {})
        disk = {"deviceName": mapping.get("DeviceName", ""), "encrypted": bool(vol.get("Encrypted")),
                "volumeSize": int(vol.get("Size", 0)), "volumeType": vol.get("VolumeType", "")}
        if vol.get("KmsKeyId"):
            disk["kmsKeyId"] = vol["KmsKeyId"]
        if mapping.get("DeviceName") == root_name:
            root = {k: v for k, v in disk.items() if k != "deviceName"}
        else:
            others.append(disk)
    meta = instance.get("MetadataOptions", {})
    out: dict[str, Any] = {
        "ami": instance.get("ImageId", ""), "instanceType": instance.get("InstanceType", ""),
        "associatePublicIpAddress": bool(instance.get("PublicIpAddress")),
        "metadataOptions": {"httpEndpoint": meta.get("HttpEndpoint", "enabled"),
                            # An instance whose API answer omits HttpTokens runs with IMDSv1 allowed.
                            "httpTokens": meta.get("HttpTokens", "optional"),
                            "httpPutResponseHopLimit": int(meta.get("HttpPutResponseHopLimit", 1))},
        "rootBlockDevice": root, "ebsBlockDevices": sorted(others, key=lambda d: d["deviceName"]),
        "subnetId": instance.get("SubnetId", ""),
        "vpcSecurityGroupIds": sorted(g["GroupId"] for g in instance.get("SecurityGroups", [])),
        "tags": _tags(instance.get("Tags")),
    }
    if instance.get("IamInstanceProfile", {}).get("Arn"):
        out["iamInstanceProfile"] = instance["IamInstanceProfile"]["Arn"]
    return out


def key_inputs(meta: dict[str, Any], rotation: bool | None, policy: str | None,
               tags: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": meta.get("Description", ""),
                           "customerMasterKeySpec": meta.get("KeySpec", meta.get("CustomerMasterKeySpec",
                                                                                 "SYMMETRIC_DEFAULT")),
                           "keyUsage": meta.get("KeyUsage", "ENCRYPT_DECRYPT"),
                           "enableKeyRotation": bool(rotation), "tags": tags}
    if policy is not None:
        out["policy"] = policy
    return out


def cluster_inputs(cluster: dict[str, Any]) -> dict[str, Any]:
    vpc = cluster.get("resourcesVpcConfig", {})
    logging = [t for setup in cluster.get("logging", {}).get("clusterLogging", []) if setup.get("enabled")
               for t in setup.get("types", [])]
    out: dict[str, Any] = {
        "name": cluster.get("name", ""), "roleArn": cluster.get("roleArn", ""), "version": cluster.get("version", ""),
        "vpcConfig": {"endpointPrivateAccess": bool(vpc.get("endpointPrivateAccess")),
                      "endpointPublicAccess": bool(vpc.get("endpointPublicAccess", True)),
                      "publicAccessCidrs": sorted(vpc.get("publicAccessCidrs", [])),
                      "subnetIds": sorted(vpc.get("subnetIds", [])),
                      "securityGroupIds": sorted(vpc.get("securityGroupIds", []))},
        "enabledClusterLogTypes": sorted(set(logging)), "tags": dict(sorted((cluster.get("tags") or {}).items())),
    }
    # pulumi-aws v7 records one encryptionConfig block (not a list).
    configs = cluster.get("encryptionConfig") or []
    if configs:
        first = configs[0]
        out["encryptionConfig"] = {"resources": sorted(first.get("resources", [])),
                                   "provider": {"keyArn": first.get("provider", {}).get("keyArn", "")}}
    return out


def launch_template_inputs(template: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A launch template's default version (what a node group without a version pin launches)."""
    meta = data.get("MetadataOptions") or {}
    out: dict[str, Any] = {
        "name": template.get("LaunchTemplateName", ""),
        "tags": _tags(template.get("Tags")),
        # pulumi-aws spells the EBS booleans of a launch template as strings ("true"), as EC2's API takes them
        "blockDeviceMappings": [
            {"deviceName": m.get("DeviceName", ""),
             **({"ebs": {"encrypted": str(bool(m["Ebs"].get("Encrypted"))).lower(),
                         **({"kmsKeyId": m["Ebs"]["KmsKeyId"]} if m["Ebs"].get("KmsKeyId") else {}),
                         **({"volumeSize": m["Ebs"]["VolumeSize"]} if "VolumeSize" in m["Ebs"] else {}),
                         **({"volumeType": m["Ebs"]["VolumeType"]} if "VolumeType" in m["Ebs"] else {})}}
                if isinstance(m.get("Ebs"), dict) else {})}
            for m in data.get("BlockDeviceMappings", [])],
        "networkInterfaces": [
            {"associatePublicIpAddress": str(bool(n.get("AssociatePublicIpAddress"))).lower(),
             "deviceIndex": n.get("DeviceIndex", 0)} for n in data.get("NetworkInterfaces", [])],
    }
    if meta:
        out["metadataOptions"] = {"httpTokens": meta.get("HttpTokens", "optional"),
                                  "httpEndpoint": meta.get("HttpEndpoint", "enabled"),
                                  "httpPutResponseHopLimit": meta.get("HttpPutResponseHopLimit", 1),
                                  "instanceMetadataTags": meta.get("InstanceMetadataTags", "disabled")}
    if data.get("InstanceType"):
        out["instanceType"] = data["InstanceType"]
    return out


def node_group_inputs(group: dict[str, Any]) -> dict[str, Any]:
    scaling = group.get("scalingConfig") or {}
    out: dict[str, Any] = {
        "clusterName": group.get("clusterName", ""), "nodeGroupName": group.get("nodegroupName", ""),
        "nodeRoleArn": group.get("nodeRole", ""), "instanceTypes": list(group.get("instanceTypes") or []),
        "capacityType": group.get("capacityType", "ON_DEMAND"), "amiType": group.get("amiType", ""),
        "subnetIds": sorted(group.get("subnets") or []),
        "scalingConfig": {"minSize": scaling.get("minSize", 0), "maxSize": scaling.get("maxSize", 0),
                          "desiredSize": scaling.get("desiredSize", 0)},
        "labels": dict(sorted((group.get("labels") or {}).items())),
        "taints": [{"key": t.get("key", ""), "value": t.get("value", ""), "effect": t.get("effect", "")}
                   for t in group.get("taints") or []],
        "tags": dict(sorted((group.get("tags") or {}).items())),
    }
    template = group.get("launchTemplate")
    if template:
        out["launchTemplate"] = {k: str(template[src]) for k, src in (("id", "id"), ("name", "name"),
                                                                      ("version", "version")) if src in template}
    elif group.get("diskSize") is not None:
        out["diskSize"] = group["diskSize"]
    remote = group.get("remoteAccess")
    # EKS refuses remoteAccess beside a launch template (SSH is the template's business then): an answer that
    # carries both (moto's default key) is read as AWS would have it.
    if remote and not template:
        out["remoteAccess"] = {"ec2SshKey": remote.get("ec2SshKey", ""),
                               "sourceSecurityGroupIds": sorted(remote.get("sourceSecurityGroups") or [])}
    return out


def role_inputs(role: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
    import json
    from urllib.parse import unquote

    doc = role.get("AssumeRolePolicyDocument", "")
    if isinstance(doc, str):  # the API returns it URL-encoded; boto3 decodes it to a dict
        doc = json.loads(unquote(doc)) if doc else {}
    return {"name": role.get("RoleName", ""), "path": role.get("Path", "/"),
            "assumeRolePolicy": json.dumps(doc, sort_keys=True), "tags": tags}


# --- the reader -------------------------------------------------------------------------------------------

def _entry(stack: str, project: str, type_token: str, name: str, inputs: dict[str, Any],
           provider_urn: str) -> dict[str, Any]:
    return {"urn": urn(stack, project, type_token, name), "type": type_token, "name": name, "parent": None,
            "provider": f"{provider_urn}::live", "custom": True, "inputs": inputs}


def read_region(session, region: str, stack: str, project: str, *, with_global: bool = True) -> list[dict]:
    """The live resources of READ_TYPES in ``region`` (and IAM roles when ``with_global``), sorted by urn.
    A bucket belongs to the region it lives in (GetBucketLocation), so each region reads its own."""
    provider_urn = urn(stack, project, PROVIDER, f"live-{region}")
    out = [{"urn": provider_urn, "type": PROVIDER, "name": f"live-{region}", "parent": None, "provider": None,
            "custom": True, "inputs": {"region": region}}]

    def add(type_token: str, name: str, inputs: dict[str, Any]) -> None:
        out.append(_entry(stack, project, type_token, name, inputs, provider_urn))

    _read_s3(session.client("s3", region_name=region), region, add)
    ec2 = session.client("ec2", region_name=region)
    for page in ec2.get_paginator("describe_security_groups").paginate():
        for group in page["SecurityGroups"]:
            add(SECURITY_GROUP, group["GroupId"], security_group_inputs(group))
    volumes = {}
    for page in ec2.get_paginator("describe_volumes").paginate():
        for vol in page["Volumes"]:
            volumes[vol["VolumeId"]] = vol
            if vol.get("Attachments"):
                continue  # judged as its instance's rootBlockDevice / ebsBlockDevices, not twice
            add(EBS_VOLUME, vol["VolumeId"], volume_inputs(vol))
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for inst in reservation["Instances"]:
                if inst.get("State", {}).get("Name") in ("terminated", "shutting-down"):
                    continue
                add(EC2_INSTANCE, inst["InstanceId"], instance_inputs(inst, volumes))
    _read_kms(session.client("kms", region_name=region), add)
    eks = session.client("eks", region_name=region)
    for page in eks.get_paginator("list_clusters").paginate():
        for name in page["clusters"]:
            add(EKS_CLUSTER, name, cluster_inputs(eks.describe_cluster(name=name)["cluster"]))
            for groups in eks.get_paginator("list_nodegroups").paginate(clusterName=name):
                for group in groups["nodegroups"]:
                    described = eks.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"]
                    add(EKS_NODE_GROUP, f"{name}/{group}", node_group_inputs(described))
    for page in ec2.get_paginator("describe_launch_templates").paginate():
        for template in page["LaunchTemplates"]:
            versions = ec2.describe_launch_template_versions(LaunchTemplateId=template["LaunchTemplateId"],
                                                             Versions=["$Default"])["LaunchTemplateVersions"]
            data = versions[0].get("LaunchTemplateData", {}) if versions else {}
            add(LAUNCH_TEMPLATE, template["LaunchTemplateId"], launch_template_inputs(template, data))
    if with_global:
        iam = session.client("iam", region_name=region)
        for page in iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                tags = _tags(iam.list_role_tags(RoleName=role["RoleName"]).get("Tags"))
                add(IAM_ROLE, role["RoleName"], role_inputs(role, tags))
    return sorted(out, key=lambda r: r["urn"])


def _read_s3(s3, region: str, add) -> None:
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        location = s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1"
        if location != region:
            continue
        tagging = _optional(s3.get_bucket_tagging, "NoSuchTagSet", Bucket=name)
        add(S3_BUCKET, name, bucket_inputs(name, _tags((tagging or {}).get("TagSet"))))
        pab = _optional(s3.get_public_access_block, "NoSuchPublicAccessBlockConfiguration", Bucket=name)
        if pab is not None:
            add(S3_PUBLIC_ACCESS_BLOCK, name,
                public_access_block_inputs(name, pab["PublicAccessBlockConfiguration"]))
        sse = _optional(s3.get_bucket_encryption, "ServerSideEncryptionConfigurationNotFoundError", Bucket=name)
        if sse is not None:
            add(S3_SSE, name, sse_inputs(name, sse["ServerSideEncryptionConfiguration"]))
        versioning = s3.get_bucket_versioning(Bucket=name)
        if versioning.get("Status"):
            add(S3_VERSIONING, name, versioning_inputs(name, versioning))
        logging = s3.get_bucket_logging(Bucket=name).get("LoggingEnabled")
        if logging:
            add(S3_LOGGING, name, logging_inputs(name, logging))
        lifecycle = _optional(s3.get_bucket_lifecycle_configuration, "NoSuchLifecycleConfiguration", Bucket=name)
        if lifecycle is not None:
            add(S3_LIFECYCLE, name, lifecycle_inputs(name, lifecycle.get("Rules", [])))
        policy = _optional(s3.get_bucket_policy, "NoSuchBucketPolicy", Bucket=name)
        if policy is not None:
            add(S3_POLICY, name, {"bucket": name, "policy": policy["Policy"]})


def _read_kms(kms, add) -> None:
    for page in kms.get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            key_id = key["KeyId"]
            meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
            if meta.get("KeyManager") == "AWS" or meta.get("KeyState") in ("PendingDeletion", "Disabled"):
                continue  # AWS-managed keys rotate on AWS's schedule; a disabled key protects nothing new
            symmetric = meta.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
            rotation = kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] if symmetric else None
            policy = kms.get_key_policy(KeyId=key_id, PolicyName="default").get("Policy")
            tags = _tags(kms.list_resource_tags(KeyId=key_id).get("Tags"))
            add(KMS_KEY, key_id, key_inputs(meta, rotation, policy, tags))


def read_account(regions: list[str], stack: str, project: str, session=None) -> list[dict[str, Any]]:
    """Every region's live resources (IAM once), sorted by urn."""
    if session is None:
        import boto3

        session = boto3.session.Session()
    out: list[dict[str, Any]] = []
    for i, region in enumerate(sorted(set(regions))):
        out.extend(read_region(session, region, stack, project, with_global=i == 0))
    return sorted(out, key=lambda r: r["urn"])
