"""`newinfra audit` against an in-process moto account seeded with clean resources and planted problems."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from newinfra.audit import aws_reader as r
from newinfra.audit.aws_reader import read_account
from newinfra.audit.drift import base_name, drift, unmanaged_accelerators
from newinfra.audit.run import audit, not_covered
from newinfra.cli.app import app
from newinfra.exits import BAD_INPUT, OK, VIOLATION
from newinfra.record import Record

from .seed import REGION, SUFFIX, TAGS, seed

PROJECT, STACK = "newinfra", "dev"
CONFIG = {"aws:region": REGION, "newinfra:environment": "dev", "newinfra:tags": TAGS,
          "newinfra:monthlyBudgetUsd": 12000}
GPU_NODE_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]}


def planned(type_token: str, name: str, inputs: dict) -> dict:
    return {"urn": r.urn(STACK, PROJECT, type_token, name), "type": type_token, "name": name, "parent": None,
            "provider": None, "custom": True, "inputs": inputs}


# The last plan: the chat-weights bucket (live, auto-named) with its public access block, the node role whose
# trust the account has widened (changed), and the web-tokens bucket nobody created (missing).
PLAN = [
    planned(r.S3_BUCKET, "aws-us-east-1-chat-weights-data", {"tags": TAGS}),
    planned(r.S3_PUBLIC_ACCESS_BLOCK, "aws-us-east-1-chat-weights-data",
            {"bucket": "aws-us-east-1-chat-weights-data-63017bc", "blockPublicAcls": True, "blockPublicPolicy": True,
             "ignorePublicAcls": True, "restrictPublicBuckets": True}),
    planned(r.S3_VERSIONING, "aws-us-east-1-chat-weights-data",
            {"bucket": "aws-us-east-1-chat-weights-data-63017bc", "versioningConfiguration": {"status": "Enabled"}}),
    planned(r.IAM_ROLE, "aws-us-east-1-gpu-node", {"assumeRolePolicy": json.dumps(GPU_NODE_TRUST), "tags": TAGS}),
    planned(r.S3_BUCKET, "aws-us-east-1-web-tokens-data", {"tags": TAGS}),
    planned("gcp:storage/bucket:Bucket", "gcp-us-central1-weights", {}),
]


@pytest.fixture()
def account(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        session = boto3.session.Session()
        ids = seed(session)
        iam = session.client("iam")
        widened = {**GPU_NODE_TRUST, "Statement": [*GPU_NODE_TRUST["Statement"], {
            "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}
        iam.create_role(RoleName=f"aws-us-east-1-gpu-node-{SUFFIX}", AssumeRolePolicyDocument=json.dumps(widened),
                        Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()])
        yield session, ids


PLANTED = ("public_bucket", "open_ssh_sg", "imdsv1_instance", "unencrypted_volume", "unmanaged_gpu")
CLEAN = ("good_sg", "good_instance", "good_volume", "key")


def test_audit_finds_every_planted_problem_and_no_clean_resource(account):
    session, ids = account
    live = read_account([REGION], STACK, PROJECT, session=session)
    result = audit(PLAN, live, CONFIG, project=PROJECT, stack=STACK)
    by_resource: dict[str, set[str]] = {}
    for v in result.evaluation.violations:
        by_resource.setdefault(v.resource, set()).add(v.policy)
    assert {"bucket-no-public-access"} <= by_resource[ids["public_bucket"]]
    assert "no-internet-ingress" in by_resource[ids["open_ssh_sg"]]
    assert "hardened-instance-metadata" in by_resource[ids["imdsv1_instance"]]
    assert "node-disk-encryption" in by_resource[ids["unencrypted_volume"]]
    assert {v.policy for v in result.evaluation.mandatory} == {
        "bucket-no-public-access", "no-internet-ingress", "hardened-instance-metadata", "node-disk-encryption"}
    # Nothing else: resource findings only on planted resources; the stack's own findings (its budget and spot
    # share) come from the unmanaged p4d alone, the one accelerator in the account.
    planted = {ids[k] for k in PLANTED}
    assert set(by_resource) - {STACK} <= planted
    assert by_resource.get(STACK, set()) <= {"minimum-spot-share", "monthly-budget"}
    for clean in CLEAN + ("good_instance",):
        assert ids[clean] not in by_resource
    assert not any(name.startswith("aws-us-east-1-chat-weights") for name in by_resource)
    kinds = {(d.kind, d.type, d.name) for d in result.drift}
    assert kinds == {
        ("unmanaged", r.EC2_INSTANCE, ids["unmanaged_gpu"]),
        ("missing", r.S3_BUCKET, "aws-us-east-1-web-tokens-data"),
        ("changed", r.IAM_ROLE, "aws-us-east-1-gpu-node"),
    }
    assert result.not_covered == ["not covered: gcp (no live reader)"]
    assert result.exit_code == VIOLATION


def test_the_live_record_maps_aws_shapes_to_the_inputs_the_rules_read(account):
    session, ids = account
    records = read_account([REGION], STACK, PROJECT, session=session)
    live = {x["name"]: x for x in records if not x["type"].startswith("aws:s3/")}
    sg = live[ids["open_ssh_sg"]]["inputs"]
    assert sg["ingress"] == [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"],
                              "ipv6CidrBlocks": [], "securityGroups": []}]
    inst = live[ids["good_instance"]]["inputs"]
    assert inst["metadataOptions"]["httpTokens"] == "required"
    assert inst["rootBlockDevice"]["encrypted"] is True and inst["rootBlockDevice"]["kmsKeyId"]
    assert inst["associatePublicIpAddress"] is False and inst["tags"] == dict(sorted(TAGS.items()))
    assert live[ids["unencrypted_volume"]]["inputs"]["encrypted"] is False
    assert live[ids["key"]]["inputs"]["enableKeyRotation"] is True
    public = {x["type"]: x["inputs"] for x in records if x["name"] == ids["public_bucket"]}
    assert r.S3_PUBLIC_ACCESS_BLOCK not in public and json.loads(public[r.S3_POLICY]["policy"])["Statement"][0][
        "Principal"] == "*"
    assert public[r.S3_SSE]["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert public[r.S3_VERSIONING] == {"bucket": ids["public_bucket"], "versioningConfiguration": {"status": "Enabled"}}
    assert records == sorted(records, key=lambda x: x["urn"])


def test_a_clean_account_passes(account):
    """With the planted problems removed, nothing mandatory is left and the exit status is 0."""
    session, ids = account
    ec2, s3 = session.client("ec2", region_name=REGION), session.client("s3", region_name=REGION)
    ec2.terminate_instances(InstanceIds=[ids["imdsv1_instance"], ids["unmanaged_gpu"]])
    # moto keeps a terminated instance's root volume (AWS deletes it: DeleteOnTermination defaults to true).
    for vol in ec2.describe_volumes()["Volumes"]:
        if not vol["Attachments"] and vol["VolumeId"] != ids["good_volume"]:
            ec2.delete_volume(VolumeId=vol["VolumeId"])
    ec2.delete_security_group(GroupId=ids["open_ssh_sg"])
    s3.delete_bucket_policy(Bucket=ids["public_bucket"])
    s3.put_public_access_block(Bucket=ids["public_bucket"], PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True})
    live = read_account([REGION], STACK, PROJECT, session=session)
    result = audit(PLAN[:3], live, CONFIG, project=PROJECT, stack=STACK)
    assert result.evaluation.violations == []
    assert result.drift == []
    assert result.exit_code == OK


def test_cli_audit_json_and_exit_status(account, tmp_path):
    Record(PROJECT, STACK, PLAN, {}, CONFIG).write(tmp_path / "dev")
    out = CliRunner().invoke(app, ["audit", "dev", "--record", str(tmp_path / "dev"), "--json"])
    assert out.exit_code == VIOLATION, out.output
    payload = json.loads(out.stdout)
    assert payload["regions"] == [REGION] and payload["passed"] is False
    assert {d["kind"] for d in payload["drift"]} == {"missing", "changed", "unmanaged"}
    assert payload["notCovered"] == ["not covered: gcp (no live reader)"]
    assert out.stdout == json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize(("args", "message"), [
    (["audit", "nosuch"], "ENV: 'nosuch' is not an environment"),
    (["audit", "dev", "--record", "/nonexistent/dev"], "--record:"),
    (["audit", "dev", "--record", "{record}", "--region", "mars"], "--region: 'mars' is not an AWS region"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    Record(PROJECT, STACK, PLAN, {}, CONFIG).write(tmp_path / "dev")
    out = CliRunner().invoke(app, [a.replace("{record}", str(tmp_path / "dev")) for a in args])
    assert out.exit_code == BAD_INPUT
    assert out.stderr.startswith(f"newinfra audit: {message}") and out.stderr.count("\n") == 1


def test_drift_matching_rules():
    assert base_name("aws-us-east-1-web-tokens-data-3542e3a") == "aws-us-east-1-web-tokens-data"
    assert base_name("newinfra-dev-gpu") == "newinfra-dev-gpu"
    other_stack = {**TAGS, "environment": "staging"}
    live = [planned(r.S3_BUCKET, f"aws-us-east-1-web-tokens-data-{SUFFIX}",
                    {"bucket": f"aws-us-east-1-web-tokens-data-{SUFFIX}", "tags": other_stack})]
    # Another stack's bucket of the same logical name is not this stack's.
    assert [d.kind for d in drift(PLAN[4:5], live, TAGS)] == ["missing"]
    assert drift(PLAN[4:5], live, other_stack) == []


def test_unmanaged_accelerators_only_counts_accelerator_instances_without_any_stacks_tags():
    def inst(name, itype, tags):
        return planned(r.EC2_INSTANCE, name, {"instanceType": itype, "tags": tags})

    live = [inst("i-cpu", "m5.large", {}), inst("i-ours", "p5.48xlarge", TAGS),
            inst("i-staging", "g5.xlarge", {**TAGS, "environment": "staging"}), inst("i-nobody", "trn1.32xlarge", {})]
    found = unmanaged_accelerators(live, [TAGS])
    assert [d.name for d in found] == ["i-nobody", "i-staging"]
    assert [d.name for d in unmanaged_accelerators(live, [TAGS, {**TAGS, "environment": "staging"}])] == ["i-nobody"]


def test_not_covered_names_each_cloud_without_a_reader():
    assert not_covered([{"type": "alicloud:oss/bucket:Bucket"}, {"type": "gcp:storage/bucket:Bucket"},
                        {"type": "aws:s3/bucket:Bucket"}]) == ["not covered: alicloud (no live reader)",
                                                              "not covered: gcp (no live reader)"]
    assert not_covered([{"type": "aws:s3/bucket:Bucket"}]) == []


def test_eks_iam_and_kms_shapes_are_judged(account):
    """A public EKS endpoint without audit logs or secrets encryption, a role anyone may assume and a key that
    never rotates: each is found on the live record, and the seeded key (rotating) is not."""
    session, ids = account
    iam, kms = session.client("iam"), session.client("kms", region_name=REGION)
    role = iam.create_role(RoleName="public-trust", Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()],
                           AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                               {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "*"}}]}))
    eks = session.client("eks", region_name=REGION)
    subnet = session.client("ec2", region_name=REGION).describe_subnets()["Subnets"][0]["SubnetId"]
    eks.create_cluster(name="open-cluster", roleArn=role["Role"]["Arn"], tags=TAGS,
                       resourcesVpcConfig={"subnetIds": [subnet], "endpointPublicAccess": True,
                                           "endpointPrivateAccess": False})
    stale = kms.create_key(Description="never rotated", Tags=[{"TagKey": k, "TagValue": v} for k, v in TAGS.items()])
    live = read_account([REGION], STACK, PROJECT, session=session)
    cluster = next(x["inputs"] for x in live if x["type"] == r.EKS_CLUSTER)
    assert cluster["vpcConfig"]["endpointPublicAccess"] is True and cluster["enabledClusterLogTypes"] == []
    found = {(v.policy, v.resource) for v in audit([], live, CONFIG, project=PROJECT, stack=STACK).evaluation.violations}
    assert {("kubernetes-private-control-plane", "open-cluster"), ("kubernetes-audit-logs", "open-cluster"),
            ("kubernetes-secrets-encryption", "open-cluster"), ("iam-no-public-trust", "public-trust"),
            ("key-rotation-no-wildcards", stale["KeyMetadata"]["KeyId"])} <= found
    assert not any(resource == ids["key"] for _, resource in found)


@pytest.mark.slow
def test_cli_against_a_moto_server_through_aws_endpoint_url(tmp_path, monkeypatch):
    """The audit reaches the account the standard way: AWS_ENDPOINT_URL points boto3 at a moto server."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": f"http://{host}:{port}"}.items():
            monkeypatch.setenv(k, v)
        ids = seed(boto3.session.Session())
        Record(PROJECT, STACK, PLAN[:1], {}, CONFIG).write(tmp_path / "dev")
        out = CliRunner().invoke(app, ["audit", "dev", "--record", str(tmp_path / "dev"), "--json"])
        assert out.exit_code == VIOLATION, out.output
        payload = json.loads(out.stdout)
        assert {v["resource"] for v in payload["violations"] if v["level"] == "mandatory"} == {
            ids["public_bucket"], ids["open_ssh_sg"], ids["imdsv1_instance"], ids["unencrypted_volume"]}
        assert [d["name"] for d in payload["drift"] if d["kind"] == "unmanaged"] == [ids["unmanaged_gpu"]]
    finally:
        server.stop()


def test_launch_templates_and_node_groups_are_read_and_judged(account):
    """A GPU launch template with IMDSv1 and an unencrypted disk, a node group on it with no GPU taint and SSH
    open to anyone, and a clean template: the planted ones are found, the clean one is not."""
    session, ids = account
    ec2 = session.client("ec2", region_name=REGION)
    key_arn = session.client("kms", region_name=REGION).describe_key(KeyId=ids["key"])["KeyMetadata"]["Arn"]

    def template(name: str, tokens: str, disk: dict) -> str:
        return ec2.create_launch_template(LaunchTemplateName=name, TagSpecifications=[
            {"ResourceType": "launch-template", "Tags": [{"Key": k, "Value": v} for k, v in TAGS.items()]}],
            LaunchTemplateData={"InstanceType": "p4d.24xlarge", "MetadataOptions": {"HttpTokens": tokens},
                                "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": disk}]},
        )["LaunchTemplate"]["LaunchTemplateId"]

    good = template("gpu-good", "required", {"Encrypted": True, "KmsKeyId": key_arn, "VolumeSize": 200})
    bad = template("gpu-imdsv1", "optional", {"Encrypted": False, "VolumeSize": 200})
    iam = session.client("iam")
    role = iam.create_role(RoleName="eks-cluster", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "eks.amazonaws.com"}}]}))["Role"]["Arn"]
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    eks = session.client("eks", region_name=REGION)
    eks.create_cluster(name="gpu", roleArn=role, tags=TAGS, resourcesVpcConfig={"subnetIds": [subnet]})
    eks.create_nodegroup(clusterName="gpu", nodegroupName="a100", nodeRole=role, subnets=[subnet],
                         instanceTypes=["p4d.24xlarge"], scalingConfig={"minSize": 0, "maxSize": 2, "desiredSize": 0},
                         launchTemplate={"id": bad}, tags=TAGS)
    # EKS refuses remoteAccess beside a launch template: SSH is planted on a node group on EKS's own template
    eks.create_nodegroup(clusterName="gpu", nodegroupName="debug", nodeRole=role, subnets=[subnet],
                         instanceTypes=["g5.xlarge"], scalingConfig={"minSize": 0, "maxSize": 1, "desiredSize": 0},
                         remoteAccess={"ec2SshKey": "ops"}, tags=TAGS)
    live = read_account([REGION], STACK, PROJECT, session=session)
    by_name = {x["name"]: x["inputs"] for x in live}
    assert by_name[bad]["metadataOptions"]["httpTokens"] == "optional"
    assert by_name[bad]["blockDeviceMappings"] == [{"deviceName": "/dev/xvda",
                                                    "ebs": {"encrypted": "false", "volumeSize": 200}}]
    group = by_name["gpu/a100"]
    assert group["launchTemplate"]["id"] == bad and group["instanceTypes"] == ["p4d.24xlarge"]
    assert "remoteAccess" not in group, group
    assert by_name["gpu/debug"]["remoteAccess"] == {"ec2SshKey": "ops", "sourceSecurityGroupIds": []}
    found = {(v.policy, v.resource) for v in audit([], live, CONFIG, project=PROJECT, stack=STACK).evaluation.violations}
    assert {("hardened-instance-metadata", bad), ("node-disk-encryption", bad), ("no-internet-ingress", "gpu/debug"),
            ("hardened-instance-metadata", "gpu/debug"), ("node-disk-encryption", "gpu/debug")} <= found
    assert not any(resource == good for _, resource in found)
