"""Look-ups answered from real data (moto's backends, the provider's policy rendering, tables) or unknown."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from newinfra.offline import run_program
from newinfra.offline.policy_document import PolicyDocumentError, policy_document
from newinfra.record import UNKNOWN

PROGRAMS = Path(__file__).parent / "programs"


def _by_name(record):
    return {r["name"]: r for r in record.resources}


@pytest.fixture(scope="module")
def aws_record():
    return run_program(PROGRAMS / "aws-lookups", "dev")


def test_newest_matching_image_from_moto_tables(aws_record):
    web = _by_name(aws_record)["web"]["inputs"]
    assert web["ami"].startswith("ami-") and web["ami"] != UNKNOWN
    assert aws_record.outputs["amiName"].startswith("al2023-ami-2023.") and \
        aws_record.outputs["amiName"].endswith("-kernel-6.1-x86_64")


def test_default_vpc_and_its_subnets(aws_record):
    ids = aws_record.outputs["subnetIds"]
    assert aws_record.outputs["vpcId"].startswith("vpc-") and len(ids) == 3  # us-east-2 has three zones
    assert _by_name(aws_record)["web"]["inputs"]["subnetId"] == ids[0]
    again = run_program(PROGRAMS / "aws-lookups", "dev")  # ids are seeded: the same on every run
    assert again.outputs["subnetIds"] == ids


def test_caller_identity_and_policy_document_reach_the_role(aws_record):
    role = _by_name(aws_record)["app"]["inputs"]
    assert role["inlinePolicies"][0]["policy"] == "arn:aws:iam::123456789012:root"
    assert json.loads(role["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                       "Principal": {"Service": ["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"]},
                       "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]}
    assert aws_record.outputs["callerArn"] == "arn:aws:sts::123456789012:user/moto"


def test_ssm_public_parameter_and_unknown_zone(aws_record, capsys):
    res = _by_name(aws_record)
    assert res["ecs"]["inputs"]["ami"].startswith("ami-")
    assert res["www"]["inputs"]["zoneId"] == UNKNOWN  # output form: the whole result is unknown
    assert res["www-org"]["inputs"]["zoneId"] == UNKNOWN  # plain form: the wire's unknown marker


def test_unknown_invoke_warns_once(capsys):
    run_program(PROGRAMS / "aws-lookups", "dev")
    err = capsys.readouterr().err
    assert err.count("aws:route53/getZone:getZone") == 1


# The provider's documented example (aws_iam_policy_document, "Basic Example"), rendered as the provider does.
DOC_EXAMPLE = {
    "policyId": "",
    "statements": [
        {"sid": "1", "actions": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], "resources": ["arn:aws:s3:::*"]},
        {"actions": ["s3:ListBucket"], "resources": ["arn:aws:s3:::mybucket"],
         "conditions": [{"test": "StringLike", "variable": "s3:prefix",
                         "values": ["", "home/", "home/&{aws:username}/"]}]},
        {"actions": ["s3:*"], "resources": ["arn:aws:s3:::mybucket/home/&{aws:username}",
                                            "arn:aws:s3:::mybucket/home/&{aws:username}/*"]},
    ],
}
DOC_JSON = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "1",
      "Effect": "Allow",
      "Action": [
        "s3:ListAllMyBuckets",
        "s3:GetBucketLocation"
      ],
      "Resource": "arn:aws:s3:::*"
    },
    {
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Resource": "arn:aws:s3:::mybucket",
      "Condition": {
        "StringLike": {
          "s3:prefix": [
            "",
            "home/",
            "home/${aws:username}/"
          ]
        }
      }
    },
    {
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": [
        "arn:aws:s3:::mybucket/home/${aws:username}/*",
        "arn:aws:s3:::mybucket/home/${aws:username}"
      ]
    }
  ]
}"""


def test_policy_document_matches_the_provider_rendering():
    out = policy_document(DOC_EXAMPLE)
    assert out["json"] == DOC_JSON
    assert out["minifiedJson"] == json.dumps(json.loads(DOC_JSON), separators=(",", ":"))
    assert out["id"] == str(zlib.crc32(DOC_JSON.encode()))


def test_policy_document_principals_overrides_and_errors():
    star = policy_document({"statements": [{"actions": ["s3:GetObject"],
                                            "principals": [{"type": "*", "identifiers": ["*"]}]}]})
    assert json.loads(star["json"])["Statement"][0]["Principal"] == "*"
    aws_star = policy_document({"statements": [{"principals": [{"type": "AWS", "identifiers": ["*"]}]}]})
    assert json.loads(aws_star["json"])["Statement"][0]["Principal"] == {"AWS": "*"}
    merged = policy_document({
        "statements": [{"sid": "A", "actions": ["s3:GetObject"]}, {"sid": "B", "notActions": ["iam:*"]}],
        "overridePolicyDocuments": [json.dumps({"Statement": [{"Sid": "A", "Effect": "Deny", "Action": "*"}]})]})
    assert json.loads(merged["json"])["Statement"] == [{"Sid": "A", "Effect": "Deny", "Action": "*"},
                                                       {"Sid": "B", "Effect": "Allow", "NotAction": "iam:*"}]
    assert "\\u0026" in policy_document({"statements": [{"conditions": [
        {"test": "StringEquals", "variable": "k", "values": ["a&b"]}]}]})["json"]  # Go escapes & < >
    with pytest.raises(PolicyDocumentError, match="duplicate Sid"):
        policy_document({"statements": [{"sid": "A"}, {"sid": "A"}]})
    with pytest.raises(PolicyDocumentError, match="2008-10-17"):
        policy_document({"version": "2008-10-17", "statements": [{"resources": ["arn:&{aws:username}"]}]})


def test_gcp_lookups_from_config_and_tables():
    record = run_program(PROGRAMS / "gcp-lookups", "dev")
    vm = _by_name(record)["vm"]["inputs"]
    assert vm["zone"].startswith("us-central1-")
    assert vm["bootDisk"]["initializeParams"]["image"] == \
        "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images/family/debian-12"
    assert vm["networkInterfaces"][0]["network"].endswith("/projects/team-proj/global/networks/default")
    assert record.outputs == {"project": "team-proj", "zone": "us-central1-a"}


def test_a_gcp_plan_never_imports_moto():
    code = ("import sys; from newinfra.offline import run_program; "
            f"run_program({str(PROGRAMS / 'gcp-lookups')!r}, 'dev'); "
            "print(sorted(m for m in sys.modules if m == 'moto' or m.startswith('moto.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
