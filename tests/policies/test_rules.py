"""Every rule, per cloud: a failing fixture reported on the resource that has the problem, and a passing
fixture with nothing reported. Each case runs through the offline runner (pulumi-policy's analyzer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from newinfra.policies.packs import packs

from tests.policies.builders import check, flagged, provider, res

KEY = "arn:aws:kms:us-east-1:123456789012:key/0b7c3f6e-1d2a-4c3b-9e8f-123456789abc"
GCP_KEY = "projects/team-ml/locations/us-central1/keyRings/ring/cryptoKeys/data"
STACK = "dev"  # stack-level violations are reported on the stack


@dataclass
class Case:
    policy: str
    id: str
    failing: list[dict[str, Any]]
    passing: list[dict[str, Any]]
    flagged: set[str]
    config: dict[str, Any] = field(default_factory=dict)  # stack config (newinfra:...)
    policy_config: dict[str, Any] | None = None
    environment: str = "dev"


# --- builders of typical resources -----------------------------------------------------------------
def s3(name: str, **companions: dict[str, Any]) -> list[dict[str, Any]]:
    """An S3 bucket named ``name``-bkt with v7 companion resources (type suffix -> inputs)."""
    tokens = {
        "sse": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "pab": "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "versioning": "aws:s3/bucketVersioning:BucketVersioning",
        "logging": "aws:s3/bucketLogging:BucketLogging",
        "lifecycle": "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    }
    out = [res("aws:s3/bucket:Bucket", name, {"bucket": f"{name}-bkt"})]
    for kind, inputs in companions.items():
        out.append(res(tokens[kind], f"{name}-{kind}", {"bucket": f"{name}-bkt", **inputs}))
    return out


KMS_SSE = {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}}]}
AES_SSE = {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}
PAB_ON = {f: True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}
VERSIONED = {"versioningConfiguration": {"status": "Enabled"}}
LIFECYCLE = {"rules": [{"id": "expire", "status": "Enabled", "noncurrentVersionExpiration": {"noncurrentDays": 30}}]}
GCS_GOOD = {"name": "team-data", "location": "US-CENTRAL1", "encryption": {"defaultKmsKeyName": GCP_KEY},
            "publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True, "versioning": {"enabled": True},
            "logging": {"logBucket": "team-logs"}, "lifecycleRules": [{"action": {"type": "Delete"},
                                                                       "condition": {"age": 365}}]}
OSS_GOOD = {"bucket": "team-oss", "acl": "private", "versioning": {"status": "Enabled"},
            "logging": {"targetBucket": "team-oss-logs"},
            "serverSideEncryptionRule": {"sseAlgorithm": "KMS", "kmsMasterKeyId": "key-hz1"},
            "lifecycleRules": [{"id": "old", "enabled": True, "expirations": [{"days": 365}]}]}


def eks(name: str, **inputs: Any) -> dict[str, Any]:
    base = {"name": name, "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}},
            "vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False, "subnetIds": ["subnet-1"]},
            "enabledClusterLogTypes": ["api", "audit", "authenticator"]}
    return res("aws:eks/cluster:Cluster", name, {**base, **inputs})


def gke(name: str, **inputs: Any) -> dict[str, Any]:
    base = {"location": "us-central1", "removeDefaultNodePool": True,
            "databaseEncryption": {"state": "ENCRYPTED", "keyName": GCP_KEY},
            "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True},
            "loggingConfig": {"enableComponents": ["SYSTEM_COMPONENTS", "APISERVER"]}}
    return res("gcp:container/cluster:Cluster", name, {**base, **inputs})


def ack(name: str, **inputs: Any) -> dict[str, Any]:
    base = {"encryptionProviderKey": "key-hz1", "slbInternetEnabled": False,
            "controlPlaneLogComponents": ["apiserver", "kcm", "scheduler"]}
    return res("alicloud:cs/managedKubernetes:ManagedKubernetes", name, {**base, **inputs})


def launch_template(name: str, **inputs: Any) -> dict[str, Any]:
    base = {"name": name, "instanceType": "g6.xlarge",
            "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2},
            "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY,
                                                                        "volumeType": "gp3"}}],
            "networkInterfaces": [{"deviceIndex": 0, "associatePublicIpAddress": "false"}]}
    return res("aws:ec2/launchTemplate:LaunchTemplate", name, {**base, **inputs})


def gke_pool(name: str, node_config: dict[str, Any] | None = None, **inputs: Any) -> dict[str, Any]:
    config = {"machineType": "g2-standard-8", "bootDiskKmsKey": GCP_KEY,
              "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
              "workloadMetadataConfig": {"mode": "GKE_METADATA"}, "spot": True,
              "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]}
    base = {"location": "us-central1", "cluster": "team", "nodeLocations": ["us-central1-a"],
            "autoscaling": {"minNodeCount": 0, "maxNodeCount": 1}, "nodeConfig": {**config, **(node_config or {})}}
    return res("gcp:container/nodePool:NodePool", name, {**base, **inputs})


def ack_pool(name: str, **inputs: Any) -> dict[str, Any]:
    base = {"instanceTypes": ["ecs.gn7i-c8g1.2xlarge"], "systemDiskEncrypted": True, "desiredSize": 0,
            "scalingConfig": {"enable": True, "minSize": 0, "maxSize": 1}, "spotStrategy": "SpotAsPriceGo",
            "instanceMetadataOptions": {"httpTokens": "required"}, "internetMaxBandwidthOut": 0,
            "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]}
    return res("alicloud:cs/nodePool:NodePool", name, {**base, **inputs})


def node_group(name: str, itype: str = "g6.xlarge", lo: int = 0, desired: int = 0, hi: int = 1,
               via: dict[str, Any] | None = None, **inputs: Any) -> dict[str, Any]:
    base = {"nodeGroupName": name, "instanceTypes": [itype], "capacityType": "SPOT",
            "scalingConfig": {"minSize": lo, "desiredSize": desired, "maxSize": hi},
            "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]}
    return res("aws:eks/nodeGroup:NodeGroup", name, {**base, **inputs}, via=via)


def deployment(name: str, namespace: str, privileged: bool = False, host_path: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "nvcr.io/nvidia/pytorch:25.01-py3",
                                            "securityContext": {"privileged": privileged}}]}
    if host_path:
        spec["volumes"] = [{"name": "dev", "hostPath": {"path": "/dev"}}]
    return res("kubernetes:apps/v1:Deployment", name, {"metadata": {"name": name, "namespace": namespace},
                                                       "spec": {"template": {"spec": spec}}})


VPC = "aws:ec2/vpc:Vpc"
EU_ONLY = {"newinfra:dataResidency": {"internal": ["eu-*", "europe-*"], "public": ["*"]}}
CLASSIFIED = {"tags": {"newinfra-data-classification": "internal"}}

CASES = [
    # --- D1 ---
    Case("bucket-customer-managed-encryption", "s3", s3("a", sse=AES_SSE), s3("a", sse=KMS_SSE), {"a"}),
    Case("bucket-customer-managed-encryption", "s3-missing", s3("a"), s3("a", sse=KMS_SSE), {"a"}),
    Case("bucket-customer-managed-encryption", "s3-log-target-sse-s3",
         [*s3("logs", sse={"rules": []}), *s3("a", sse=KMS_SSE, logging={"targetBucket": "logs-bkt"})],
         [*s3("logs", sse=AES_SSE), *s3("a", sse=KMS_SSE, logging={"targetBucket": "logs-bkt"})], {"logs"}),
    Case("bucket-customer-managed-encryption", "gcs",
         [res("gcp:storage/bucket:Bucket", "g", {**GCS_GOOD, "encryption": None})],
         [res("gcp:storage/bucket:Bucket", "g", GCS_GOOD)], {"g"}),
    Case("bucket-customer-managed-encryption", "oss",
         [res("alicloud:oss/bucket:Bucket", "o", {**OSS_GOOD, "serverSideEncryptionRule": {"sseAlgorithm": "AES256"}})],
         [res("alicloud:oss/bucket:Bucket", "o", OSS_GOOD)], {"o"}),
    # --- D2 ---
    Case("bucket-no-public-access", "s3", s3("a", pab={**PAB_ON, "blockPublicPolicy": False}), s3("a", pab=PAB_ON),
         {"a"}),
    Case("bucket-no-public-access", "gcs",
         [res("gcp:storage/bucket:Bucket", "g", {**GCS_GOOD, "publicAccessPrevention": "inherited"})],
         [res("gcp:storage/bucket:Bucket", "g", GCS_GOOD)], {"g"}),
    Case("bucket-no-public-access", "oss",
         [res("alicloud:oss/bucket:Bucket", "o", {**OSS_GOOD, "acl": "public-read"})],
         [res("alicloud:oss/bucket:Bucket", "o", OSS_GOOD)], {"o"}),
    # --- D3 ---
    Case("bucket-versioning-and-access-logs", "s3", s3("a", versioning=VERSIONED),
         [*s3("a", versioning=VERSIONED, logging={"targetBucket": "logs-bkt"}), *s3("logs")], {"a"}),
    Case("bucket-versioning-and-access-logs", "gcs",
         [res("gcp:storage/bucket:Bucket", "g", {**GCS_GOOD, "versioning": {"enabled": False}})],
         [res("gcp:storage/bucket:Bucket", "g", GCS_GOOD)], {"g"}),
    Case("bucket-versioning-and-access-logs", "oss",
         [res("alicloud:oss/bucket:Bucket", "o", {**OSS_GOOD, "logging": None})],
         [res("alicloud:oss/bucket:Bucket", "o", OSS_GOOD)], {"o"}),
    # --- D4 ---
    Case("kubernetes-secrets-encryption", "eks", [eks("c", encryptionConfig=None)], [eks("c")], {"c"}),
    Case("kubernetes-secrets-encryption", "gke", [gke("c", databaseEncryption={"state": "DECRYPTED"})], [gke("c")],
         {"c"}),
    Case("kubernetes-secrets-encryption", "ack", [ack("c", encryptionProviderKey=None)], [ack("c")], {"c"}),
    # --- D5 ---
    Case("kubernetes-private-control-plane", "eks",
         [eks("c", vpcConfig={"endpointPrivateAccess": True, "endpointPublicAccess": True})],
         [eks("c", vpcConfig={"endpointPrivateAccess": True, "endpointPublicAccess": True,
                              "publicAccessCidrs": ["203.0.113.0/24"]})], {"c"}),
    Case("kubernetes-private-control-plane", "gke", [gke("c", privateClusterConfig=None)], [gke("c")], {"c"}),
    Case("kubernetes-private-control-plane", "ack", [ack("c", slbInternetEnabled=True)], [ack("c")], {"c"}),
    # --- D6 ---
    Case("kubernetes-audit-logs", "eks", [eks("c", enabledClusterLogTypes=["api"])], [eks("c")], {"c"}),
    Case("kubernetes-audit-logs", "gke", [gke("c", loggingConfig={"enableComponents": ["SYSTEM_COMPONENTS"]})],
         [gke("c")], {"c"}),
    Case("kubernetes-audit-logs", "ack", [ack("c", controlPlaneLogComponents=[])], [ack("c")], {"c"}),
    # --- D7 ---
    Case("node-disk-encryption", "launch-template",
         [launch_template("lt", blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}])],
         [launch_template("lt")], {"lt"}),
    Case("node-disk-encryption", "gke-pool", [gke_pool("p", {"bootDiskKmsKey": None})], [gke_pool("p")], {"p"}),
    Case("node-disk-encryption", "ack-pool", [ack_pool("p", systemDiskEncrypted=False)], [ack_pool("p")], {"p"}),
    Case("node-disk-encryption", "gce-template",
         [res("gcp:compute/instanceTemplate:InstanceTemplate", "t", {"machineType": "g2-standard-8",
                                                                    "disks": [{"boot": True}]})],
         [res("gcp:compute/instanceTemplate:InstanceTemplate", "t", {"machineType": "g2-standard-8", "disks": [
             {"boot": True, "diskEncryptionKey": {"kmsKeySelfLink": GCP_KEY}}]})], {"t"}),
    Case("node-disk-encryption", "ess-config",
         [res("alicloud:ess/scalingConfiguration:ScalingConfiguration", "c", {"instanceType": "ecs.gn7i-c8g1.2xlarge"})],
         [res("alicloud:ess/scalingConfiguration:ScalingConfiguration", "c", {"instanceType": "ecs.gn7i-c8g1.2xlarge",
                                                                              "systemDiskEncrypted": True})], {"c"}),
    # --- D8 ---
    Case("file-system-encryption", "fsx",
         [res("aws:fsx/lustreFileSystem:LustreFileSystem", "fs", {"storageCapacity": 1200})],
         [res("aws:fsx/lustreFileSystem:LustreFileSystem", "fs", {"storageCapacity": 1200, "kmsKeyId": KEY})],
         {"fs"}),
    Case("file-system-encryption", "filestore",
         [res("gcp:filestore/instance:Instance", "fs", {"tier": "BASIC_SSD", "location": "us-central1-a"})],
         [res("gcp:filestore/instance:Instance", "fs", {"tier": "BASIC_SSD", "location": "us-central1-a",
                                                        "kmsKeyName": GCP_KEY})], {"fs"}),
    Case("file-system-encryption", "nas",
         [res("alicloud:nas/fileSystem:FileSystem", "fs", {"encryptType": 1})],
         [res("alicloud:nas/fileSystem:FileSystem", "fs", {"encryptType": 2, "kmsKeyId": "key-hz1"})], {"fs"}),
    # --- D9 ---
    Case("no-public-node-ips", "launch-template",
         [launch_template("lt", networkInterfaces=[{"deviceIndex": 0, "associatePublicIpAddress": "true"}])],
         [launch_template("lt")], {"lt"}),
    Case("no-public-node-ips", "subnet",
         [res("aws:ec2/subnet:Subnet", "s", {"cidrBlock": "10.0.0.0/20", "mapPublicIpOnLaunch": True})],
         [res("aws:ec2/subnet:Subnet", "s", {"cidrBlock": "10.0.0.0/20"})], {"s"}),
    Case("no-public-node-ips", "tpu",
         [res("gcp:tpu/v2Vm:V2Vm", "tpu", {"zone": "us-central1-a", "acceleratorType": "v5litepod-8"})],
         [res("gcp:tpu/v2Vm:V2Vm", "tpu", {"zone": "us-central1-a", "acceleratorType": "v5litepod-8",
                                           "networkConfig": {"enableExternalIps": False}})], {"tpu"}),
    Case("no-public-node-ips", "tpu-queued",
         [res("gcp:tpu/v2QueuedResource:V2QueuedResource", "q", {"zone": "us-central1-a", "tpu": {"nodeSpecs": [
             {"nodeId": "n0", "node": {"acceleratorType": "v5litepod-8"}}]}})],
         [res("gcp:tpu/v2QueuedResource:V2QueuedResource", "q", {"zone": "us-central1-a", "tpu": {"nodeSpecs": [
             {"nodeId": "n0", "node": {"acceleratorType": "v5litepod-8",
                                       "networkConfig": {"enableExternalIps": False}}}]}})], {"q"}),
    Case("no-public-node-ips", "gce-template",
         [res("gcp:compute/instanceTemplate:InstanceTemplate", "t", {"networkInterfaces": [
             {"subnetwork": "s", "accessConfigs": [{"networkTier": "PREMIUM"}]}]})],
         [res("gcp:compute/instanceTemplate:InstanceTemplate", "t", {"networkInterfaces": [{"subnetwork": "s"}]})],
         {"t"}),
    Case("no-public-node-ips", "ack-pool", [ack_pool("p", internetMaxBandwidthOut=10)], [ack_pool("p")], {"p"}),
    # --- D10 ---
    Case("hardened-instance-metadata", "launch-template",
         [launch_template("lt", metadataOptions={"httpTokens": "optional"})], [launch_template("lt")], {"lt"}),
    Case("hardened-instance-metadata", "hop-limit",
         [launch_template("lt", metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 5})],
         [launch_template("lt")], {"lt"}),
    Case("hardened-instance-metadata", "gke-pool", [gke_pool("p", {"workloadMetadataConfig": None})],
         [gke_pool("p")], {"p"}),
    Case("hardened-instance-metadata", "ack-pool", [ack_pool("p", instanceMetadataOptions=None)], [ack_pool("p")],
         {"p"}),
    # --- D11 ---
    Case("no-internet-ingress", "security-group",
         [res("aws:ec2/securityGroup:SecurityGroup", "sg",
              {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]})],
         [res("aws:ec2/securityGroup:SecurityGroup", "sg",
              {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8"]}]})],
         {"sg"}),
    Case("no-internet-ingress", "ingress-rule-allowed-port",
         [res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "r",
              {"cidrIpv4": "0.0.0.0/0", "fromPort": 8080, "toPort": 8080, "ipProtocol": "tcp"})],
         [res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "r",
              {"cidrIpv4": "0.0.0.0/0", "fromPort": 443, "toPort": 443, "ipProtocol": "tcp"})], {"r"},
         policy_config={"no-internet-ingress": {"allowedPorts": [443]}}),
    Case("no-internet-ingress", "default-security-group",
         [res("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d", {"ingress": [{"self": True, "protocol": "-1",
                                                                                       "fromPort": 0, "toPort": 0}]})],
         [res("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d", {"vpcId": "vpc-1"})], {"d"}),
    Case("no-internet-ingress", "gcp-firewall",
         [res("gcp:compute/firewall:Firewall", "fw", {"network": "n", "sourceRanges": ["0.0.0.0/0"],
                                                      "allows": [{"protocol": "tcp", "ports": ["22"]}]})],
         [res("gcp:compute/firewall:Firewall", "fw", {"network": "n", "sourceRanges": ["35.235.240.0/20"],
                                                      "allows": [{"protocol": "tcp", "ports": ["22"]}]})], {"fw"}),
    Case("no-internet-ingress", "gcp-firewall-default-source",
         [res("gcp:compute/firewall:Firewall", "fw", {"network": "n", "allows": [{"protocol": "tcp", "ports": ["22"]}]})],
         [res("gcp:compute/firewall:Firewall", "fw", {"network": "n", "sourceTags": ["bastion"],
                                                      "allows": [{"protocol": "tcp", "ports": ["22"]}]})], {"fw"}),
    Case("no-internet-ingress", "alicloud-rule",
         [res("alicloud:ecs/securityGroupRule:SecurityGroupRule", "r",
              {"type": "ingress", "ipProtocol": "tcp", "portRange": "22/22", "cidrIp": "0.0.0.0/0"})],
         [res("alicloud:ecs/securityGroupRule:SecurityGroupRule", "r",
              {"type": "ingress", "ipProtocol": "tcp", "portRange": "22/22", "cidrIp": "10.0.0.0/8"})], {"r"}),
    # --- D12 ---
    Case("vpc-flow-logs", "aws",
         [res(VPC, "net", {"cidrBlock": "10.0.0.0/16"}),
          res("aws:ec2/flowLog:FlowLog", "other-log", {"vpcId": "net2-1a2b3c4"})],
         [res(VPC, "net", {"cidrBlock": "10.0.0.0/16"}),
          res("aws:ec2/flowLog:FlowLog", "net-log", {"vpcId": "net-1a2b3c4", "trafficType": "ALL"})], {"net"}),
    Case("vpc-flow-logs", "gcp",
         [res("gcp:compute/subnetwork:Subnetwork", "sub", {"ipCidrRange": "10.0.0.0/20", "network": "n"})],
         [res("gcp:compute/subnetwork:Subnetwork", "sub", {"ipCidrRange": "10.0.0.0/20", "network": "n",
                                                           "logConfig": {"aggregationInterval": "INTERVAL_5_SEC"}})],
         {"sub"}),
    # a proxy-only subnet (GCP records no flow logs there) is passed; a regular one beside it still fails
    Case("vpc-flow-logs", "gcp-proxy-only",
         [res("gcp:compute/subnetwork:Subnetwork", "sub", {"ipCidrRange": "10.0.0.0/20", "network": "n",
                                                           "purpose": "PRIVATE"})],
         [res("gcp:compute/subnetwork:Subnetwork", "sub", {"ipCidrRange": "10.0.16.0/23", "network": "n",
                                                           "purpose": "REGIONAL_MANAGED_PROXY", "role": "ACTIVE"})],
         {"sub"}),
    Case("vpc-flow-logs", "alicloud",
         [res("alicloud:vpc/network:Network", "vpc", {"cidrBlock": "10.0.0.0/16", "vpcName": "vpc"})],
         [res("alicloud:vpc/network:Network", "vpc", {"cidrBlock": "10.0.0.0/16", "vpcName": "vpc"}),
          res("alicloud:vpc/flowLog:FlowLog", "vpc-log", {"resourceType": "VPC", "resourceId": "vpc-5d41402",
                                                          "trafficType": "All"})], {"vpc"}),
    # --- D13 ---
    Case("key-rotation-no-wildcards", "aws-rotation",
         [res("aws:kms/key:Key", "k", {"enableKeyRotation": False})],
         [res("aws:kms/key:Key", "k", {"enableKeyRotation": True})], {"k"}),
    Case("key-rotation-no-wildcards", "aws-wildcard",
         [res("aws:kms/key:Key", "k", {"enableKeyRotation": True, "policy": '{"Statement": [{"Sid": "all", '
                                        '"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*"}]}'})],
         [res("aws:kms/key:Key", "k", {"enableKeyRotation": True, "policy": '{"Statement": [{"Sid": "org", '
                                        '"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", '
                                        '"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}]}'})], {"k"}),
    Case("key-rotation-no-wildcards", "gcp",
         [res("gcp:kms/cryptoKey:CryptoKey", "k", {"keyRing": "r", "rotationPeriod": "63072000s"})],
         [res("gcp:kms/cryptoKey:CryptoKey", "k", {"keyRing": "r", "rotationPeriod": "7776000s"})], {"k"}),
    Case("key-rotation-no-wildcards", "alicloud",
         [res("alicloud:kms/key:Key", "k", {"automaticRotation": "Disabled"})],
         [res("alicloud:kms/key:Key", "k", {"automaticRotation": "Enabled", "rotationInterval": "7776000s"})],
         {"k"}),
    Case("key-rotation-no-wildcards", "alicloud-interval-days",
         [res("alicloud:kms/key:Key", "k", {"automaticRotation": "Enabled", "rotationInterval": "730d"})],
         [res("alicloud:kms/key:Key", "k", {"automaticRotation": "Enabled", "rotationInterval": "365d"})], {"k"}),
    # --- D14 ---
    Case("gke-shielded-nodes", "pool", [gke_pool("p", {"shieldedInstanceConfig": None})], [gke_pool("p")], {"p"}),
    Case("gke-shielded-nodes", "cluster", [gke("c", enableShieldedNodes=False)], [gke("c")], {"c"}),
    # --- residency ---
    Case("data-residency", "bucket-region",
         [res("aws:s3/bucket:Bucket", "b", CLASSIFIED)],
         [res("aws:s3/bucket:Bucket", "b", CLASSIFIED, via=provider("aws", "eu", region="eu-west-1"))],
         {"b"}, config=EU_ONLY),
    Case("data-residency", "tpu-zone",
         [res("gcp:tpu/v2Vm:V2Vm", "tpu", {"zone": "us-central1-a", "labels": {
             "newinfra-data-classification": "internal"}})],
         [res("gcp:tpu/v2Vm:V2Vm", "tpu", {"zone": "europe-west4-a", "labels": {
             "newinfra-data-classification": "internal"}})], {"tpu"}, config=EU_ONLY),
    Case("data-residency", "untagged-assumed",
         [res("gcp:storage/bucket:Bucket", "g", {"location": "US"})],
         [res("gcp:storage/bucket:Bucket", "g", {"location": "EUROPE-WEST1"})],
         {"g"}, config=EU_ONLY, policy_config={"data-residency": {"untaggedClassification": "internal"}}),
    Case("data-residency", "fsx-link-cross-region",
         [res("aws:s3/bucket:Bucket", "src", {"bucket": "src-bkt"}, via=provider("aws", "west", region="us-west-2")),
          res("aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation", "link",
              {"dataRepositoryPath": "s3://src-bkt/train", "fileSystemPath": "/train"})],
         [res("aws:s3/bucket:Bucket", "src", {"bucket": "src-bkt"}),
          res("aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation", "link",
              {"dataRepositoryPath": "s3://src-bkt/train", "fileSystemPath": "/train"})], {"link"}),
    # --- GPU pools ---
    Case("gpu-multi-node-interconnect", "aws-efa",
         [launch_template("p5-lt", instanceType=None), node_group("p5", "p5.48xlarge", 0, 0, 4,
                                                                  launchTemplate={"name": "p5-lt"})],
         [launch_template("p5-lt", instanceType=None,
                          networkInterfaces=[{"deviceIndex": i, "networkCardIndex": i, "interfaceType": "efa"}
                                             for i in range(4)]),
          node_group("p5", "p5.48xlarge", 0, 0, 4, launchTemplate={"name": "p5-lt"})], {"p5"}),
    Case("gpu-multi-node-interconnect", "gke-compact",
         [gke_pool("a3", {"machineType": "a3-highgpu-8g"}, autoscaling={"minNodeCount": 0, "maxNodeCount": 4})],
         [gke_pool("a3", {"machineType": "a3-highgpu-8g"}, autoscaling={"minNodeCount": 0, "maxNodeCount": 4},
                   placementPolicy={"type": "COMPACT"})], {"a3"}),
    Case("accelerator-node-taints", "eks", [node_group("g", taints=[])], [node_group("g")], {"g"}),
    Case("accelerator-node-taints", "gke", [gke_pool("p", {"taints": []})], [gke_pool("p")], {"p"}),
    Case("accelerator-node-taints", "ack", [ack_pool("p", taints=None)], [ack_pool("p")], {"p"}),
    # --- Kubernetes ---
    Case("kubernetes-workload-security", "privileged", [deployment("app", "ml", privileged=True)],
         [deployment("app", "ml"), deployment("operator", "gpu-operator", privileged=True, host_path=True)],
         {"app"}, policy_config={"kubernetes-workload-security": {"exemptWorkloads": ["gpu-operator/*"]}}),
    Case("kubernetes-workload-security", "host-path", [deployment("app", "ml", host_path=True)],
         [deployment("app", "ml")], {"app"}),
    # --- budget ---
    Case("monthly-budget", "max-size",
         [node_group("g", "p4d.24xlarge", 0, 1, 2, capacityType="ON_DEMAND")],
         [node_group("g", "p4d.24xlarge", 0, 1, 1, capacityType="ON_DEMAND")], {STACK},
         config={"newinfra:monthlyBudgetUsd": 5000}, policy_config={"monthly-budget": {"monthlyBudgetUsd": 20000}}),
    # The whole bill, not only the pools: an EKS control plane ($73.00) and a NAT gateway ($32.85) pass a
    # $100 budget alone and fail it together (price book rows aws.eks.cluster, aws.nat.hour).
    Case("monthly-budget", "whole-bill",
         [res("aws:eks/cluster:Cluster", "ml", {"roleArn": "arn:aws:iam::1:role/eks"}),
          res("aws:ec2/natGateway:NatGateway", "nat", {"subnetId": "subnet-1"})],
         [res("aws:eks/cluster:Cluster", "ml", {"roleArn": "arn:aws:iam::1:role/eks"})], {STACK},
         config={"newinfra:monthlyBudgetUsd": 100}),
    Case("monthly-budget", "unpriced-pool", [node_group("g", "p9.mega")], [node_group("g", "g6.xlarge")], {"g"},
         config={"newinfra:monthlyBudgetUsd": 5000}),
    Case("accelerator-caps", "gpus", [node_group("g", "p5.48xlarge", 0, 0, 2)], [node_group("g", "p5.48xlarge", 0, 0, 1)],
         {STACK}, policy_config={"accelerator-caps": {"maxGpus": 8}}),
    Case("accelerator-caps", "tpu-chips",
         [res("gcp:tpu/v2Vm:V2Vm", "tpu", {"zone": "us-central1-a", "acceleratorType": "v5litepod-16"})],
         [res("gcp:tpu/v2Vm:V2Vm", "tpu", {"zone": "us-central1-a", "acceleratorType": "v5litepod-8"})],
         {STACK}, policy_config={"accelerator-caps": {"maxTpuChips": 8}}),
    Case("accelerator-caps", "team-quota",
         [node_group("a", "g6.xlarge", 0, 0, 3, tags={"newinfra.io/workload": "serve"}),
          node_group("b", "g6.xlarge", 0, 0, 2, tags={"newinfra.io/workload": "serve-eu"})],
         [node_group("a", "g6.xlarge", 0, 0, 2, tags={"newinfra.io/workload": "serve"}),
          node_group("b", "g6.xlarge", 0, 0, 2, tags={"newinfra.io/workload": "serve-eu"})], {"a", "b"},
         config={"newinfra:teams": [{"name": "product", "gpuQuota": 4}],
                 "newinfra:workloads": [{"name": "serve", "team": "product"}, {"name": "serve-eu", "team": "product"}]}),
    Case("minimum-spot-share", "dev", [node_group("g", capacityType="ON_DEMAND")], [node_group("g")], {STACK}),
    Case("accelerator-scale-to-zero", "dev", [node_group("g", lo=1, desired=1, hi=2)],
         [node_group("g", lo=0, desired=1, hi=2)], {"g"}),
    Case("accelerator-instance-types", "allow-list", [node_group("g", "p5.48xlarge")], [node_group("g", "g6e.xlarge")],
         {"g"}, policy_config={"accelerator-instance-types": {"allowedInstanceTypes": ["g6.*", "g6e.*"]}}),
    Case("accelerator-instance-types", "not-offered-in-region",
         [node_group("g", "p5.48xlarge", via=provider("aws", "sa", region="sa-east-1"))],
         [node_group("g", "p5.48xlarge")], {"g"}),
    Case("cost-allocation-tags", "aws",
         [res("aws:kms/key:Key", "k", {"enableKeyRotation": True},
              via=provider("aws", "bare", defaultTags=None))],
         [res("aws:kms/key:Key", "k", {"enableKeyRotation": True, "tags": {"owner": "a", "cost-center": "b"}},
              via=provider("aws", "bare", defaultTags=None))], {"k"}),
    Case("cost-allocation-tags", "gcp-labels",
         [res("gcp:storage/bucket:Bucket", "g", {"labels": {"owner": "a"}}, via=provider("gcp", "bare",
                                                                                       defaultLabels=None))],
         [res("gcp:storage/bucket:Bucket", "g", {"labels": {"owner": "a", "cost-center": "b"}},
              via=provider("gcp", "bare", defaultLabels=None))], {"g"}),
    Case("cost-allocation-tags", "alicloud",
         [res("alicloud:oss/bucket:Bucket", "o", {"tags": {"owner": "a"}})],
         [res("alicloud:oss/bucket:Bucket", "o", {"tags": {"owner": "a", "cost-center": "b"}})], {"o"}),
    Case("storage-lifecycle", "s3", s3("a"), s3("a", lifecycle=LIFECYCLE), {"a"}),
    Case("storage-lifecycle", "gcs", [res("gcp:storage/bucket:Bucket", "g", {**GCS_GOOD, "lifecycleRules": []})],
         [res("gcp:storage/bucket:Bucket", "g", GCS_GOOD)], {"g"}),
    Case("storage-lifecycle", "ebs-gp2", [res("aws:ebs/volume:Volume", "v", {"type": "gp2", "size": 100})],
         [res("aws:ebs/volume:Volume", "v", {"type": "gp3", "size": 100})], {"v"}),
]


def _run(case: Case, resources: list[dict[str, Any]]):
    return check(resources, config=case.config, policy_config=case.policy_config, environment=case.environment)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.policy}-{c.id}" for c in CASES])
def test_failing_fixture_is_reported_on_the_resource(case: Case) -> None:
    assert flagged(_run(case, case.failing), case.policy) == case.flagged


@pytest.mark.parametrize("case", CASES, ids=[f"{c.policy}-{c.id}" for c in CASES])
def test_passing_fixture_is_clean(case: Case) -> None:
    ev = _run(case, case.passing)
    assert flagged(ev, case.policy) == set(), [v.message for v in ev.violations if v.policy == case.policy]


def test_every_policy_has_cases() -> None:
    from tests.policies.test_cache_rules import CASES as CACHE_CASES  # issue 16: dataset caches
    from tests.policies.test_coverage_rules import CASES as COVERAGE_CASES  # the issue-13 coverage rules
    from tests.policies.test_serving_rules import CASES as SERVING_CASES  # the issue-16 serving rules

    names = {p.name for pk in packs() for p in pk.policies}
    assert names == {c.policy for c in [*CASES, *COVERAGE_CASES, *SERVING_CASES, *CACHE_CASES]}


def test_whole_bill_finding_names_the_biggest_lines_and_the_unpriced():
    resources = [res("aws:eks/cluster:Cluster", "ml", {"roleArn": "arn:aws:iam::1:role/eks"}),
                 res("aws:ec2/natGateway:NatGateway", "nat", {"subnetId": "subnet-1"}),
                 res("aws:rds/instance:Instance", "db", {"instanceClass": "db.t3.micro"})]
    ev = check(resources, config={"newinfra:monthlyBudgetUsd": 100})
    [message] = [v.message for v in ev.violations if v.policy == "monthly-budget"]
    assert "$105.85 (max size) exceeds the budget $100.00" in message
    assert "Biggest lines: ml $73.00, nat $32.85" in message and "Unpriced, not counted: db" in message
